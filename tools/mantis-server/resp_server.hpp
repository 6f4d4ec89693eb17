// RespServer: the Redis-protocol listener. Standalone Asio; one io_context per worker thread.
//
// Design: `workers` threads each run their own io_context; a connection belongs to one of them
// (round robin at accept) for its whole life, so a session's handlers never run concurrently and
// need no strand or lock, and each worker has its own Commands (scratch buffers, counters). The
// acceptor runs on worker 0. A session reads into its buffer, parses every complete request
// buffered (pipelining), appends all the replies to one output buffer and writes it with one
// async_write; it reads again only when that write has completed, so a client that does not read
// its replies stops being read (backpressure) instead of growing the server's memory.
//
// Limits: at most `max_clients` connections (the next gets "-ERR max number of clients reached"
// and is closed); RespLimits bound each request; a connection that completes no request and takes
// no reply for `idle_timeout` is closed (idle, slow-loris or not reading its replies alike); a
// protocol error gets "-ERR Protocol error: ..." and the connection is closed.
//
// Shutdown (stop()): the acceptor closes; connections waiting for input are closed; one that is
// executing a batch finishes it, writes its replies, then closes; after `grace` the remaining ones
// are dropped. Thread-safe: listen() and start() once, then stop() once from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "resp_parser.hpp"
#include "server_state.hpp"

namespace mantis::server {

struct RespServerOptions {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 6380;  // 0 = any free port
  unsigned workers = 1;
  std::size_t max_clients = 10000;
  RespLimits limits;
  std::chrono::milliseconds idle_timeout{300000};  // 0 = never
};

class RespServer {
 public:
  RespServer(ServerState& state, const RespServerOptions& options);
  ~RespServer();  // stop() if still running
  RespServer(const RespServer&) = delete;
  RespServer& operator=(const RespServer&) = delete;

  // Binds and listens. Throws std::system_error naming the address on failure.
  void listen();
  // The bound port (after listen()).
  std::uint16_t port() const noexcept { return port_; }
  // Starts the worker threads and accepting.
  void start();
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
};

}  // namespace mantis::server
