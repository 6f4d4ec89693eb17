// ServerState: what every connection of one mantis-server shares: the engine, the SCAN cursors,
// and the counters INFO, /api/v1/stats and /metrics report. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <mantis/engine.hpp>
#include <mantis/stats.hpp>

#include "scan_cursors.hpp"

namespace mantis::server {

// Counters of one RESP worker thread. Only that thread writes them (relaxed), so they never bounce
// between cores on the hot path; readers sum them.
struct alignas(64) WorkerCounters {
  std::atomic<std::uint64_t> commands{0};
};

// BGSAVE's worker: Engine::checkpoint() on a thread of its own, one at a time. Thread-safe.
// REQUIRES: join() (or destruction) before the engine is destroyed.
class BackgroundSave {
 public:
  struct State {
    bool running = false;
    bool last_ok = true;         // the last finished checkpoint's outcome (true before the first)
    std::uint64_t completed = 0;  // checkpoints finished
  };
  BackgroundSave() = default;
  BackgroundSave(const BackgroundSave&) = delete;
  BackgroundSave& operator=(const BackgroundSave&) = delete;
  ~BackgroundSave() { join(); }

  // Starts engine.checkpoint() on a new thread; false (and nothing started) while one still runs.
  bool start(mantis::Engine& engine);
  State state() const;
  // Waits for a running checkpoint.
  void join();

 private:
  mutable std::mutex mutex_;
  State state_;         // guarded by mutex_
  std::thread thread_;  // started and joined under mutex_ (join() takes it out first)
};

struct ServerState {
  ServerState(mantis::Engine& engine_ref, std::size_t workers) : engine(engine_ref) {
    for (std::size_t i = 0; i < workers; ++i) worker_counters.push_back(std::make_unique<WorkerCounters>());
  }
  ServerState(const ServerState&) = delete;
  ServerState& operator=(const ServerState&) = delete;

  std::uint64_t commands_processed() const {
    std::uint64_t total = 0;
    for (const auto& counters : worker_counters) total += counters->commands.load(std::memory_order_relaxed);
    return total;
  }

  mantis::Engine& engine;
  ScanCursors cursors;
  std::vector<std::unique_ptr<WorkerCounters>> worker_counters;  // one per RESP worker
  // Written by the acceptor and by sessions as they close; relaxed: these are statistics and a
  // limit checked at accept time, nothing is published through them.
  std::atomic<std::uint64_t> connected_clients{0};
  std::atomic<std::uint64_t> total_connections{0};
  std::atomic<std::uint64_t> rejected_connections{0};
  std::atomic<std::uint64_t> protocol_errors{0};
  std::atomic<std::uint64_t> idle_timeouts{0};
  std::atomic<std::uint64_t> http_requests{0};
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // Set once before the listeners start.
  std::string bind_address;
  std::uint16_t resp_port = 0;
  std::uint16_t http_port = 0;
  std::size_t max_clients = 0;
  std::string data_dir;
  std::string backup_dir;  // empty: POST /api/v1/backup is refused
  std::string durability;
  BackgroundSave background_save;
};

// The server's own counters (mantis_server_*; in JSON, the members of object "server").
std::vector<mantis::Metric> server_metrics(const ServerState& state);
// The engine's metrics, then the server's: what /api/v1/stats and /metrics render.
std::vector<mantis::Metric> all_metrics(const ServerState& state);

}  // namespace mantis::server
