#include "http_api.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <httplib.h>

#include <mantis/engine.hpp>

#include "json.hpp"

namespace mantis::server {

namespace {

constexpr const char* kKeyPath = R"(/api/v1/kv/([\s\S]*))";  // [\s\S]: '.' would not match '\n' in a key

// The HTTP status of an error Status.
int http_status(const Status& status) {
  switch (status.code()) {
    case Status::Code::kNotFound:
      return 404;
    case Status::Code::kInvalidArgument:
      return 400;
    case Status::Code::kBusy:
      return 409;
    case Status::Code::kConditionFailed:  // the request's precondition on the key did not hold
      return 412;
    case Status::Code::kClosed:
      return 503;
    case Status::Code::kResourceExhausted:
      return 507;
    default:
      return 500;
  }
}

void reply_status(const Status& status, httplib::Response& res) {
  res.status = http_status(status);
  res.set_content(status.to_string() + "\n", "text/plain");
}

}  // namespace

struct HttpApi::Impl {
  Impl(ServerState& state_ref, const HttpApiOptions& options_ref) : state(state_ref), options(options_ref) {}

  void routes() {
    // httplib's default also sets SO_REUSEPORT, which would let a second server bind the same port
    // and silently share its traffic; SO_REUSEADDR alone makes "port in use" an error, as for RESP.
    server.set_socket_options([](int sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    server.set_payload_max_length(options.max_body_bytes);
    server.set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(options.read_timeout).count(),
                            (options.read_timeout.count() % 1000) * 1000);
    server.set_pre_routing_handler([this](const httplib::Request&, httplib::Response&) {
      state.http_requests.fetch_add(1, std::memory_order_relaxed);
      return httplib::Server::HandlerResponse::Unhandled;
    });
    server.Get("/health", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{\"status\":\"ok\"}\n", "application/json");
    });
    server.Get("/api/v1/stats", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(mantis::metrics_to_json(all_metrics(state)) + "\n", "application/json");
    });
    server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(mantis::metrics_to_prometheus(all_metrics(state)), "text/plain; version=0.0.4; charset=utf-8");
    });
    // A backup under --backup-dir, named by the client (letters, digits, '.', '_', '-'; not "." or
    // ".."), so a client can never name a path outside that directory.
    server.Post("/api/v1/backup", [this](const httplib::Request& req, httplib::Response& res) {
      if (state.backup_dir.empty()) {
        res.status = 403;
        res.set_content("backups are off: start mantis-server with --backup-dir DIR\n", "text/plain");
        return;
      }
      const std::string name = req.get_param_value("name");
      const bool valid = !name.empty() && name.size() <= 128 && name != "." && name != ".." &&
                         std::all_of(name.begin(), name.end(), [](char c) {
                           return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
                         });
      if (!valid) {
        res.status = 400;
        res.set_content("name must be 1 to 128 letters, digits, '.', '_' or '-' (not . or ..)\n", "text/plain");
        return;
      }
      const std::string path = state.backup_dir + "/" + name;
      const Status s = state.engine.backup(path);
      if (!s.ok()) return reply_status(s, res);
      res.status = 201;
      res.set_content("{\"backup\":" + tools::json_quote(path) + "}\n", "application/json");
    });
    server.Get(kKeyPath, [this](const httplib::Request& req, httplib::Response& res) {
      std::string value;
      const Status s = state.engine.get(req.matches[1].str(), &value);
      if (s.is_not_found()) {
        res.status = 404;
        res.set_content("not found\n", "text/plain");
      } else if (!s.ok()) {
        reply_status(s, res);
      } else {
        res.set_content(std::move(value), "application/octet-stream");
      }
    });
    server.Put(kKeyPath, [this](const httplib::Request& req, httplib::Response& res) {
      WriteOptions write_options;
      if (req.has_param("ttl_ms")) {
        const std::string text = req.get_param_value("ttl_ms");
        std::int64_t ttl_ms = -1;
        const auto result = std::from_chars(text.data(), text.data() + text.size(), ttl_ms);
        if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size() || ttl_ms < 0 ||
            ttl_ms > WriteOptions::kMaxTtl.count()) {
          res.status = 400;
          res.set_content("ttl_ms must be an integer number of milliseconds, 0 (no expiry) to " +
                              std::to_string(WriteOptions::kMaxTtl.count()) + "\n",
                          "text/plain");
          return;
        }
        write_options.ttl = std::chrono::milliseconds(ttl_ms);
      }
      const Status s = state.engine.put(req.matches[1].str(), req.body, write_options);
      if (!s.ok()) return reply_status(s, res);
      res.status = 204;
    });
    server.Delete(kKeyPath, [this](const httplib::Request& req, httplib::Response& res) {
      bool removed = false;
      const Status s = state.engine.erase(req.matches[1].str(), &removed);
      if (!s.ok()) return reply_status(s, res);
      if (!removed) {
        res.status = 404;
        res.set_content("not found\n", "text/plain");
        return;
      }
      res.status = 204;
    });
  }

  ServerState& state;
  const HttpApiOptions options;
  httplib::Server server;
  std::thread thread;
};

HttpApi::HttpApi(ServerState& state, const HttpApiOptions& options) : impl_(std::make_unique<Impl>(state, options)) {
  impl_->routes();
}

HttpApi::~HttpApi() { stop(); }

void HttpApi::listen() {
  const std::string& host = impl_->options.bind;
  bool ok = false;
  if (impl_->options.port == 0) {
    const int port = impl_->server.bind_to_any_port(host);
    ok = port > 0;
    if (ok) port_ = static_cast<std::uint16_t>(port);
  } else {
    ok = impl_->server.bind_to_port(host, impl_->options.port);
    port_ = impl_->options.port;
  }
  if (!ok) {
    throw std::runtime_error("http: cannot listen on " + host + ":" + std::to_string(impl_->options.port) + ": " +
                             std::strerror(errno));
  }
}

void HttpApi::start() {
  impl_->thread = std::thread([impl = impl_.get()] { impl->server.listen_after_bind(); });
  // httplib's stop() does nothing until the loop runs, so wait for it (bounded: it starts at once).
  for (int i = 0; i < 5000 && !impl_->server.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void HttpApi::stop() {
  if (!impl_->thread.joinable()) return;
  impl_->server.stop();
  impl_->thread.join();
}

}  // namespace mantis::server
