#!/usr/bin/env bash
# Starts three mantis-servers on 127.0.0.1 behind one twemproxy (nutcracker), in the foreground.
# Ctrl-C (or SIGTERM) stops the proxy and then the servers (each syncs and exits cleanly).
#
#   examples/cluster/run-cluster.sh [--server PATH] [--base-port N] [--proxy-port N]
#                                   [--stats-port N] [--data-dir DIR]
#
#   --server PATH     mantis-server binary (default: build/tools/mantis-server/mantis-server, then PATH)
#   --base-port N     servers speak RESP on N+1..N+3 and HTTP on N+11..N+13 (default 7000)
#   --proxy-port N    the proxy's client port (default 22121)
#   --stats-port N    the proxy's stats port (default 22222)
#   --data-dir DIR    durable servers in DIR/mantis1..3 (default: memory only)
#
# Then: redis-cli -p 22121 set user:1 ada; redis-cli -p 22121 get user:1
# Needs nutcracker (Debian package nutcracker). Prints "cluster ready: proxy 127.0.0.1:PORT" once
# the proxy accepts connections.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
server=""
base=7000
proxy_port=22121
stats_port=22222
data_dir=""
while (($#)); do
  case "$1" in
    --server) server="$2"; shift 2 ;;
    --base-port) base="$2"; shift 2 ;;
    --proxy-port) proxy_port="$2"; shift 2 ;;
    --stats-port) stats_port="$2"; shift 2 ;;
    --data-dir) data_dir="$2"; shift 2 ;;
    -h | --help) sed -n '2,17s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "run-cluster.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
if [[ -z "$server" ]]; then
  server="$root/build/tools/mantis-server/mantis-server"
  [[ -x "$server" ]] || server="$(command -v mantis-server || true)"
fi
[[ -n "$server" && -x "$server" ]] || { echo "run-cluster.sh: mantis-server not found (build it, or pass --server)" >&2; exit 1; }
command -v nutcracker >/dev/null || { echo "run-cluster.sh: nutcracker not found (apt-get install nutcracker)" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/mantis-cluster.XXXXXX")"
pids=()
stop_all() {
  trap - EXIT INT TERM
  # The proxy first (no new requests), then the servers: SIGTERM lets each finish and sync.
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap stop_all EXIT
trap 'exit 0' INT TERM

# The shipped config with this run's ports.
sed -e "s/127\.0\.0\.1:22121/127.0.0.1:$proxy_port/" -e "s/127\.0\.0\.1:7001:/127.0.0.1:$((base + 1)):/" \
    -e "s/127\.0\.0\.1:7002:/127.0.0.1:$((base + 2)):/" -e "s/127\.0\.0\.1:7003:/127.0.0.1:$((base + 3)):/" \
    "$here/nutcracker.yml" > "$work/nutcracker.yml"
nutcracker -t -c "$work/nutcracker.yml" >/dev/null 2>&1 || { nutcracker -t -c "$work/nutcracker.yml"; exit 1; }

server_pids=()
for i in 1 2 3; do
  args=(--bind 127.0.0.1 --resp-port $((base + i)) --port $((base + 10 + i))
        --idle-timeout-ms 0)  # the proxy keeps its server connections open while idle
  [[ -z "$data_dir" ]] || args+=(--data-dir "$data_dir/mantis$i")
  "$server" "${args[@]}" > "$work/mantis$i.log" 2>&1 &
  server_pids+=($!)
done
for i in 1 2 3; do
  for _ in $(seq 100); do grep -q "resp listening" "$work/mantis$i.log" && break; sleep 0.05; done
  grep -q "resp listening" "$work/mantis$i.log" || { echo "mantis$i did not start:" >&2; cat "$work/mantis$i.log" >&2; exit 1; }
  echo "mantis$i: RESP 127.0.0.1:$((base + i)), HTTP 127.0.0.1:$((base + 10 + i))"
done

nutcracker -c "$work/nutcracker.yml" -a 127.0.0.1 -s "$stats_port" -o "$work/nutcracker.log" &
pids=($! "${server_pids[@]}")
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$proxy_port") 2>/dev/null && break
  sleep 0.05
done
(exec 3<>"/dev/tcp/127.0.0.1/$proxy_port") 2>/dev/null || { echo "nutcracker did not start:" >&2; cat "$work/nutcracker.log" >&2; exit 1; }
echo "cluster ready: proxy 127.0.0.1:$proxy_port (stats 127.0.0.1:$stats_port)"
# Until a signal, or until any process dies (then everything is stopped and the status is 1).
wait -n "${pids[@]}" || true
echo "run-cluster.sh: a process exited; stopping the cluster" >&2
exit 1
