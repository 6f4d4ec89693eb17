// mantis-server: one mantis::Engine served over the Redis protocol (RESP2) and HTTP.
//
// Prints "resp listening on ADDRESS:PORT" and "http listening on ADDRESS:PORT" once both accept
// connections (with port 0 these name the ports picked), and "stopped" after a clean shutdown.
// Exit status: 0 after SIGTERM/SIGINT and a clean shutdown, 1 on a start-up or shutdown error,
// 2 on bad usage.
#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>

#include <asio.hpp>

#include <mantis/engine.hpp>

#include "bench_exec.hpp"
#include "http_api.hpp"
#include "resp_server.hpp"
#include "server_options.hpp"
#include "server_state.hpp"

namespace {

int run(const mantis::server::ServerOptions& options) {
  using namespace mantis::server;
  std::unique_ptr<mantis::Engine> engine;
  mantis::Status s = mantis::Engine::open(options.engine_options(), &engine);
  if (!s.ok()) {
    std::fprintf(stderr, "mantis-server: cannot open the engine: %s\n", s.to_string().c_str());
    return 1;
  }

  ServerState state(*engine, options.workers);
  state.bind_address = options.bind;
  state.max_clients = options.max_clients;
  state.data_dir = options.data_dir;
  state.backup_dir = options.backup_dir;
  state.durability = options.data_dir.empty() ? "memory" : options.durability;

  RespServerOptions resp_options;
  resp_options.bind = options.bind;
  resp_options.port = static_cast<std::uint16_t>(options.resp_port);
  resp_options.workers = options.workers;
  resp_options.max_clients = options.max_clients;
  resp_options.limits.max_bulk_bytes = options.max_bulk_bytes;
  resp_options.limits.max_arity = options.max_arity;
  resp_options.idle_timeout = std::chrono::milliseconds(options.idle_timeout_ms);
  HttpApiOptions http_options;
  http_options.bind = options.bind;
  http_options.port = static_cast<std::uint16_t>(options.port);
  http_options.max_body_bytes = options.max_bulk_bytes;

  // SIGTERM and SIGINT are caught from here on, whichever thread they land on (the engine's background
  // threads exist already; Asio's handler is process-wide).
  asio::io_context signals_context(1);
  asio::signal_set signals(signals_context, SIGTERM, SIGINT);
  int caught = 0;
  signals.async_wait([&caught](const asio::error_code& ec, int signal_number) {
    if (!ec) caught = signal_number;
  });

  RespServer resp(state, resp_options);
  HttpApi http(state, http_options);
  try {
    resp.listen();
    http.listen();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mantis-server: %s\n", e.what());
    return 1;
  }
  state.resp_port = resp.port();
  state.http_port = http.port();
  resp.start();
  http.start();
  std::printf("resp listening on %s:%u\nhttp listening on %s:%u\n", options.bind.c_str(), unsigned{resp.port()},
              options.bind.c_str(), unsigned{http.port()});
  std::fflush(stdout);

  signals_context.run();  // until SIGTERM or SIGINT
  std::printf("shutting down (%s)\n", caught == SIGINT ? "SIGINT" : "SIGTERM");
  std::fflush(stdout);
  resp.stop();
  http.stop();
  state.background_save.join();  // a BGSAVE still running finishes before the engine closes
  if (!options.data_dir.empty()) {
    s = engine->sync();
    if (!s.ok()) {
      std::fprintf(stderr, "mantis-server: sync at shutdown failed: %s\n", s.to_string().c_str());
      return 1;
    }
  }
  engine.reset();
  std::printf("stopped\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  mantis::server::ServerOptions options;
  if (const std::optional<int> status = mantis::server::parse_server_options(argc, argv, &options)) return *status;
  if (options.benchmark_only) return mantis::server::exec_mantis_bench(options.bench_args);
  std::signal(SIGPIPE, SIG_IGN);  // a peer gone mid-write is an error on that socket, not the end of the server
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mantis-server: %s\n", e.what());
    return 1;
  }
}
