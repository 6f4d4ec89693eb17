#include "server_state.hpp"

namespace mantis::server {

bool BackgroundSave::start(mantis::Engine& engine) {
  std::lock_guard lock(mutex_);
  if (state_.running) return false;
  if (thread_.joinable()) thread_.join();  // finished: its last act was to clear `running`
  state_.running = true;
  thread_ = std::thread([this, &engine] {
    const Status s = engine.checkpoint();
    std::lock_guard done(mutex_);
    state_.running = false;
    state_.last_ok = s.ok();
    ++state_.completed;
  });
  return true;
}

BackgroundSave::State BackgroundSave::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

void BackgroundSave::join() {
  std::thread finishing;
  {
    std::lock_guard lock(mutex_);
    finishing = std::move(thread_);
  }
  if (finishing.joinable()) finishing.join();
}

std::vector<mantis::Metric> server_metrics(const ServerState& state) {
  using enum mantis::Metric::Type;
  const auto uptime =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - state.started);
  auto load = [](const std::atomic<std::uint64_t>& counter) { return counter.load(std::memory_order_relaxed); };
  return {
      {"mantis_server_connected_clients", "server.connected_clients", "Redis-protocol connections open now.", kGauge,
       load(state.connected_clients)},
      {"mantis_server_connections_total", "server.connections_total", "Redis-protocol connections accepted.", kCounter,
       load(state.total_connections)},
      {"mantis_server_rejected_connections_total", "server.rejected_connections_total",
       "Connections refused by --max-clients.", kCounter, load(state.rejected_connections)},
      {"mantis_server_commands_total", "server.commands_total", "Redis-protocol requests executed.", kCounter,
       state.commands_processed()},
      {"mantis_server_protocol_errors_total", "server.protocol_errors_total",
       "Connections closed after a protocol error.", kCounter, load(state.protocol_errors)},
      {"mantis_server_idle_timeouts_total", "server.idle_timeouts_total", "Connections closed by --idle-timeout-ms.",
       kCounter, load(state.idle_timeouts)},
      {"mantis_server_http_requests_total", "server.http_requests_total", "HTTP requests received.", kCounter,
       load(state.http_requests)},
      {"mantis_server_uptime_seconds", "server.uptime_seconds", "Seconds since the server started.", kGauge,
       static_cast<std::uint64_t>(uptime.count())},
  };
}

std::vector<mantis::Metric> all_metrics(const ServerState& state) {
  std::vector<mantis::Metric> metrics = state.engine.stats().metrics();
  const std::vector<mantis::Metric> own = server_metrics(state);
  metrics.insert(metrics.end(), own.begin(), own.end());
  return metrics;
}

}  // namespace mantis::server
