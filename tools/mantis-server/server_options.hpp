// ServerOptions: mantis-server's command line (CLI11), validated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <mantis/options.hpp>

namespace mantis::server {

struct ServerOptions {
  std::string bind = "127.0.0.1";         // address both listeners bind (no authentication: keep it local)
  int port = 8080;                        // HTTP; 0 = any free port (printed at start)
  int resp_port = 6380;                   // RESP2; 0 = any free port (printed at start)
  std::string data_dir;                   // empty = memory only
  std::string durability = "async";       // none | async | sync | periodic (only with data_dir)
  std::string backup_dir;                 // POST /api/v1/backup writes under it; empty = backups refused
  std::uint64_t sync_interval_ms = 1000;  // kPeriodic's fdatasync interval
  std::size_t cache_size = 0;             // bytes of the engine's cache tier; 0 (the engine's default) disables it
  unsigned workers = 0;                   // RESP threads; 0 = min(cores, 4)
  std::size_t max_clients = 10000;        // RESP connections beyond this get an error and are closed
  std::size_t max_bulk_bytes = std::size_t{512} << 20;  // longest bulk string a request may carry
  std::size_t max_arity = std::size_t{1} << 20;         // most arguments in one request
  std::uint64_t idle_timeout_ms = 300000;               // a client making no progress this long is closed; 0 = never
  bool benchmark_only = false;                          // run mantis-bench with bench_args, then exit
  std::vector<std::string> bench_args;

  // The engine's options these flags describe.
  mantis::Options engine_options() const;
};

// Parses and validates argv. Returns nullopt when the server should run; otherwise the process's
// exit status (0 after --help or --version, 2 after a usage error), the text already printed.
std::optional<int> parse_server_options(int argc, char** argv, ServerOptions* options);

}  // namespace mantis::server
