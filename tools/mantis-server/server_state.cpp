#include "server_state.hpp"

#include <string_view>

namespace mantis::server {

namespace {

struct Metric {
  std::string_view name;  // without the "mantis_server_" prefix
  std::uint64_t value;
  std::string_view help;
  bool counter;
};

std::vector<Metric> metrics(const ServerState& state) {
  const auto uptime =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - state.started);
  auto load = [](const std::atomic<std::uint64_t>& counter) { return counter.load(std::memory_order_relaxed); };
  return {
      {"connected_clients", load(state.connected_clients), "Redis-protocol connections open now.", false},
      {"connections_total", load(state.total_connections), "Redis-protocol connections accepted.", true},
      {"rejected_connections_total", load(state.rejected_connections), "Connections refused by --max-clients.", true},
      {"commands_total", state.commands_processed(), "Redis-protocol requests executed.", true},
      {"protocol_errors_total", load(state.protocol_errors), "Connections closed after a protocol error.", true},
      {"idle_timeouts_total", load(state.idle_timeouts), "Connections closed by --idle-timeout-ms.", true},
      {"http_requests_total", load(state.http_requests), "HTTP requests received.", true},
      {"uptime_seconds", static_cast<std::uint64_t>(uptime.count()), "Seconds since the server started.", false},
  };
}

}  // namespace

std::string server_metrics_prometheus(const ServerState& state) {
  std::string out;
  for (const Metric& m : metrics(state)) {
    const std::string name = "mantis_server_" + std::string(m.name);
    out += "# HELP " + name + ' ' + std::string(m.help) + '\n';
    out += "# TYPE " + name + (m.counter ? " counter\n" : " gauge\n");
    out += name + ' ' + std::to_string(m.value) + '\n';
  }
  return out;
}

std::string server_metrics_json(const ServerState& state) {
  std::string out = "{";
  for (const Metric& m : metrics(state)) {
    if (out.size() > 1) out += ',';
    out += '"' + std::string(m.name) + "\":" + std::to_string(m.value);
  }
  return out + '}';
}

}  // namespace mantis::server
