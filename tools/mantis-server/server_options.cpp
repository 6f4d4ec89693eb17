#include "server_options.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "durability.hpp"

namespace mantis::server {

mantis::Options ServerOptions::engine_options() const {
  mantis::Options options;
  options.dir = data_dir;
  options.durability = mantis::tools::parse_durability(durability).value_or(mantis::Durability::kAsync);
  options.sync_interval = std::chrono::milliseconds(sync_interval_ms);
  options.cache_capacity = cache_size;
  // A value as long as the protocol allows (up to the engine's own hard limit).
  options.max_value_size = std::min(max_bulk_bytes, mantis::Options::kMaxValueSizeLimit);
  return options;
}

std::optional<int> parse_server_options(int argc, char** argv, ServerOptions* options) {
  CLI::App app{
      "mantis-server: a mantis::Engine served over the Redis protocol (RESP2) and HTTP.\n"
      "  RESP2: PING ECHO GET SET SETEX PSETEX SETNX GETSET GETDEL GETEX APPEND STRLEN INCR DECR INCRBY\n"
      "         DECRBY DEL EXISTS MGET MSET EXPIRE PEXPIRE TTL PTTL PERSIST SCAN KEYS DBSIZE FLUSHDB\n"
      "         FLUSHALL SAVE INFO COMMAND SELECT QUIT (pipelining, binary-safe)\n"
      "  HTTP:  GET /api/v1/stats, GET /metrics, GET /health, GET|PUT|DELETE /api/v1/kv/{key}?ttl_ms=N,\n"
      "         POST /api/v1/backup?name=NAME (with --backup-dir)\n"
      "Stops cleanly on SIGTERM or SIGINT.",
      "mantis-server"};
  app.set_version_flag("--version", MANTIS_SERVER_VERSION);
  ServerOptions& o = *options;
  app.add_option("--bind", o.bind, "Address to listen on (both protocols); there is no authentication")
      ->capture_default_str();
  app.add_option("--port", o.port, "HTTP port; 0 = any free port")->capture_default_str()->check(CLI::Range(0, 65535));
  app.add_option("--resp-port", o.resp_port, "Redis-protocol port; 0 = any free port")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  app.add_option("--data-dir", o.data_dir, "Directory of a durable engine (default: memory only)");
  auto* durability =
      mantis::tools::add_durability_option(app, &o.durability, "none|async|sync|periodic (needs --data-dir)")
          ->capture_default_str();
  app.add_option("--backup-dir", o.backup_dir,
                 "Directory under which POST /api/v1/backup?name=NAME writes backups (default: none, refused)");
  auto* sync_interval = app.add_option("--sync-interval-ms", o.sync_interval_ms, "Interval of periodic fdatasync")
                            ->capture_default_str()
                            ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{86400000}));
  app.add_option("--cache-size", o.cache_size, "Bytes of the engine's cache tier (0 disables it)")
      ->capture_default_str();
  app.add_option("--workers", o.workers, "Redis-protocol I/O threads (default: min(cores, 4))")
      ->check(CLI::Range(1u, 256u));
  app.add_option("--max-clients", o.max_clients, "Redis-protocol connections at most; more are refused")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  app.add_option("--max-bulk-bytes", o.max_bulk_bytes, "Longest bulk string (key or value) a request may carry")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1024}, mantis::Options::kMaxValueSizeLimit));
  app.add_option("--max-arity", o.max_arity, "Most arguments in one request")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{3}, std::size_t{1} << 24));
  app.add_option("--idle-timeout-ms", o.idle_timeout_ms,
                 "Close a client that completes no request and reads no reply for this long; 0 = never")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{10'000'000'000}));  // ~115 days: no clock overflow
  app.add_flag("--benchmark-only", o.benchmark_only,
               "Run mantis-bench (the benchmark suite) with the arguments after `--`, then exit");
  app.add_option("bench-args", o.bench_args, "Arguments for mantis-bench (after `--`, with --benchmark-only)");

  if (const std::optional<int> status = mantis::tools::parse_command_line(app, argc, argv)) return status;
  auto usage_error = [&app](const char* message) { return mantis::tools::usage_error(app, message); };
  if (!o.benchmark_only && !o.bench_args.empty()) {
    return usage_error("unexpected arguments (only --benchmark-only takes arguments after `--`)");
  }
  if (o.data_dir.empty() && (durability->count() > 0 || sync_interval->count() > 0)) {
    return usage_error("--durability and --sync-interval-ms need --data-dir (without it the engine is memory only)");
  }
  if (o.workers == 0) o.workers = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  return std::nullopt;
}

}  // namespace mantis::server
