// The RESP listener: acceptor, workers and per-connection sessions (the design is in the header).
#include "resp_server.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <future>
#include <system_error>
#include <thread>
#include <unordered_set>
#include <utility>

#include <asio.hpp>

#include "commands.hpp"
#include "resp_writer.hpp"

namespace mantis::server {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kInitialInput = 16u << 10;    // per connection, allocated at the first read
constexpr std::size_t kMinReadSpace = 4u << 10;     // free bytes a read may fill at least
constexpr std::size_t kKeepCapacity = 1u << 20;     // larger idle buffers are given back
constexpr std::size_t kMaxOutputBatch = 16u << 20;  // replies buffered before writing mid-batch

// A connection's input: bytes [begin_, end_) of data_ are unconsumed. Grows only as bytes arrive
// (doubling), never to a length a client announced.
class InputBuffer {
 public:
  std::string_view readable() const noexcept { return {data_.data() + begin_, end_ - begin_}; }
  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  // At least kMinReadSpace writable bytes at the end: moves the unconsumed bytes to the front, or grows.
  asio::mutable_buffer prepare() {
    if (data_.empty()) data_.resize(kInitialInput);
    if (data_.size() - end_ < kMinReadSpace && begin_ > 0) {
      std::memmove(data_.data(), data_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (data_.size() - end_ < kMinReadSpace) data_.resize(data_.size() * 2);
    return asio::buffer(data_.data() + end_, data_.size() - end_);
  }
  void commit(std::size_t n) noexcept { end_ += n; }
  void release_if_large_and_empty() {
    if (begin_ == end_ && data_.size() > kKeepCapacity) std::vector<char>().swap(data_);
  }

 private:
  std::vector<char> data_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace

class Session;

struct Worker {
  Worker(ServerState& state_ref, std::size_t index, const RespServerOptions& options_ref)
      : state(state_ref), options(options_ref), commands(state_ref, index) {}
  ServerState& state;
  const RespServerOptions& options;
  asio::io_context context{1};  // one thread runs it: Asio may skip its internal locking
  asio::executor_work_guard<asio::io_context::executor_type> guard = asio::make_work_guard(context);
  Commands commands;
  std::unordered_set<Session*> sessions;  // open sessions; touched on this worker's thread only
  bool stopping = false;                  // this worker's thread only
  std::thread thread;
  std::promise<void> finished;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Worker& worker, asio::ip::tcp::socket socket)
      : worker_(worker), socket_(std::move(socket)), timer_(worker.context), parser_(worker.options.limits) {}
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() {
    if (!closed_) worker_.state.connected_clients.fetch_sub(1, std::memory_order_relaxed);
  }

  void start() {
    worker_.sessions.insert(this);
    if (worker_.stopping) return close();
    asio::error_code ignored;
    socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    last_progress_ = Clock::now();
    if (worker_.options.idle_timeout.count() > 0) arm_timer();
    read();
  }

  bool writing() const noexcept { return writing_; }

  void close() {
    if (closed_) return;
    closed_ = true;
    asio::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    timer_.cancel();
    worker_.sessions.erase(this);
    worker_.state.connected_clients.fetch_sub(1, std::memory_order_relaxed);
  }

 private:
  void read() {
    socket_.async_read_some(in_.prepare(), [self = shared_from_this()](const asio::error_code& ec, std::size_t n) {
      if (ec || self->closed_) return self->close();  // EOF, reset, or closed by stop()/the timer
      self->in_.commit(n);
      self->process();
    });
  }

  // Executes every complete request buffered, then writes the replies (or reads for more).
  void process() {
    bool progressed = false;
    while (!close_after_write_ && out_.size() < kMaxOutputBatch) {
      const auto result = parser_.parse(in_.readable());
      if (result == RespParser::Result::kNeedMore) {
        in_.consume(parser_.consumed());
        break;
      }
      if (result == RespParser::Result::kError) {
        resp::append_error(&out_, "ERR " + parser_.error());
        worker_.state.protocol_errors.fetch_add(1, std::memory_order_relaxed);
        close_after_write_ = true;
        break;
      }
      bool keep_open = true;
      try {
        keep_open = worker_.commands.execute(parser_.args(), &out_, &client_);
      } catch (const std::exception& e) {
        // Only allocation failure can get here (the Engine reports expected failures by Status):
        // this client gets an error and is closed, the server and its other clients go on.
        resp::append_error(&out_, std::string("ERR internal error: ") + e.what());
        keep_open = false;
      }
      if (!keep_open) close_after_write_ = true;
      in_.consume(parser_.consumed());
      progressed = true;
    }
    if (progressed) last_progress_ = Clock::now();
    in_.release_if_large_and_empty();
    if (!out_.empty()) return write();
    if (close_after_write_ || worker_.stopping) return close();
    read();
  }

  void write() {
    writing_ = true;
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
                        self->writing_ = false;
                        if (ec || self->closed_) return self->close();
                        self->last_progress_ = Clock::now();
                        if (self->out_.capacity() > kKeepCapacity) {
                          std::string().swap(self->out_);
                        } else {
                          self->out_.clear();
                        }
                        if (self->close_after_write_ || self->worker_.stopping) return self->close();
                        self->process();  // requests left over when the output batch filled up, else a read
                      });
  }

  void arm_timer() {
    timer_.expires_at(last_progress_ + worker_.options.idle_timeout);
    timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
      if (ec || self->closed_) return;
      if (Clock::now() - self->last_progress_ >= self->worker_.options.idle_timeout) {
        self->worker_.state.idle_timeouts.fetch_add(1, std::memory_order_relaxed);
        return self->close();
      }
      self->arm_timer();  // progress since: wait for the rest of the new period
    });
  }

  Worker& worker_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  InputBuffer in_;
  std::string out_;
  RespParser parser_;
  ClientState client_;  // MULTI queue and WATCHed keys of this connection
  Clock::time_point last_progress_;  // last completed request or reply write
  bool writing_ = false;
  bool closed_ = false;
  bool close_after_write_ = false;
};

struct RespServer::Impl {
  Impl(ServerState& state_ref, const RespServerOptions& options_ref) : state(state_ref), options(options_ref) {
    for (unsigned i = 0; i < options.workers; ++i) workers.push_back(std::make_unique<Worker>(state, i, options));
    acceptor.emplace(workers[0]->context);
    retry_timer.emplace(workers[0]->context);
  }

  void accept() {
    Worker& target = *workers[next_worker];
    next_worker = (next_worker + 1) % workers.size();
    acceptor->async_accept(target.context, [this, &target](const asio::error_code& ec, asio::ip::tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
      if (ec) {  // e.g. out of file descriptors: try again shortly instead of spinning
        retry_timer->expires_after(std::chrono::milliseconds(100));
        retry_timer->async_wait([this](const asio::error_code& wait_ec) {
          if (!wait_ec && acceptor->is_open()) accept();
        });
        return;
      }
      admit(target, std::move(socket));
      accept();
    });
  }

  void admit(Worker& target, asio::ip::tcp::socket socket) {
    state.total_connections.fetch_add(1, std::memory_order_relaxed);
    // Only this thread increments, so the count cannot overshoot the limit.
    if (state.connected_clients.load(std::memory_order_relaxed) >= options.max_clients) {
      state.rejected_connections.fetch_add(1, std::memory_order_relaxed);
      static constexpr std::string_view kRefusal = "-ERR max number of clients reached\r\n";
      asio::error_code ignored;
      socket.non_blocking(true, ignored);
      socket.write_some(asio::buffer(kRefusal.data(), kRefusal.size()), ignored);  // a new socket's buffer is empty
      socket.close(ignored);
      return;
    }
    state.connected_clients.fetch_add(1, std::memory_order_relaxed);
    asio::post(target.context, [&target, s = std::move(socket)]() mutable {
      std::make_shared<Session>(target, std::move(s))->start();
    });
  }

  ServerState& state;
  const RespServerOptions options;
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<asio::ip::tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> retry_timer;
  std::size_t next_worker = 0;
  bool started = false;
  bool stopped = false;
};

RespServer::RespServer(ServerState& state, const RespServerOptions& options)
    : impl_(std::make_unique<Impl>(state, options)) {}

RespServer::~RespServer() { stop(); }

void RespServer::listen() {
  asio::error_code ec;
  const asio::ip::address address = asio::ip::make_address(impl_->options.bind, ec);
  if (ec) throw std::system_error(ec, "resp: bad --bind address '" + impl_->options.bind + "'");
  const asio::ip::tcp::endpoint endpoint(address, impl_->options.port);
  auto& acceptor = *impl_->acceptor;
  const std::string where = "resp: cannot listen on " + impl_->options.bind + ":" + std::to_string(impl_->options.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::system_error(ec, where);
  port_ = acceptor.local_endpoint().port();
}

void RespServer::start() {
  impl_->started = true;
  impl_->accept();
  for (auto& worker : impl_->workers) {
    Worker* w = worker.get();
    w->thread = std::thread([w] {
      w->context.run();
      w->finished.set_value();
    });
  }
}

void RespServer::stop(std::chrono::milliseconds grace) {
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  Impl* impl = impl_.get();
  asio::post(impl->workers[0]->context, [impl] {
    asio::error_code ignored;
    impl->acceptor->close(ignored);
    impl->retry_timer->cancel();
  });
  for (auto& worker : impl->workers) {
    Worker* w = worker.get();
    asio::post(w->context, [w] {
      w->stopping = true;
      // Sessions writing replies close when the write completes; the others close now.
      std::vector<Session*> idle;
      for (Session* session : w->sessions) {
        if (!session->writing()) idle.push_back(session);
      }
      for (Session* session : idle) session->close();
      w->guard.reset();
    });
  }
  const auto deadline = Clock::now() + grace;
  for (auto& worker : impl->workers) {
    if (worker->finished.get_future().wait_until(deadline) == std::future_status::timeout) worker->context.stop();
    worker->thread.join();
  }
}

}  // namespace mantis::server
