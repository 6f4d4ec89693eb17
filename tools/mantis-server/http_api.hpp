// HttpApi: the HTTP endpoints, served by cpp-httplib (its own listener thread and thread pool).
//
//   GET /health                  200 {"status":"ok"}
//   GET /api/v1/stats            200 the engine's Stats::to_json() with a "server" member added
//   GET /metrics                 200 Prometheus text: the engine's metrics, then mantis_server_*
//   GET    /api/v1/kv/{key}      200 the value (application/octet-stream), or 404
//   PUT    /api/v1/kv/{key}      204; the body is the value; ?ttl_ms=N sets a time to live (N >= 0,
//                                0 = none); a bad ttl_ms or an oversized key or value is 400
//   DELETE /api/v1/kv/{key}      204 if the key existed, 404 if not
//   POST   /api/v1/backup?name=N 201 {"backup":"<--backup-dir>/N"}: Engine::backup there; 403 without
//                                --backup-dir, 400 for a bad name or a non-empty target, 500 (NotSupported) for an
//                                engine that cannot (memory-only, durability none)
//
// {key} is percent-decoded, so any bytes can be named (%00, %2F, ...). DELETE's answer comes from the
// erase itself (one atomic engine call). Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "server_state.hpp"

namespace mantis::server {

struct HttpApiOptions {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 8080;  // 0 = any free port
  std::size_t max_body_bytes = std::size_t{512} << 20;
  std::chrono::milliseconds read_timeout{5000};
};

class HttpApi {
 public:
  HttpApi(ServerState& state, const HttpApiOptions& options);
  ~HttpApi();  // stop()
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  // Binds. Throws std::runtime_error naming the address on failure.
  void listen();
  std::uint16_t port() const noexcept { return port_; }
  // Serves on a thread of its own; returns once the server accepts connections.
  void start();
  // Stops accepting and waits for the listener thread; requests in progress finish first.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
};

}  // namespace mantis::server
