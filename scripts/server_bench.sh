#!/usr/bin/env bash
# mantis-server against redis-server with redis-benchmark, on loopback, in the same run.
#
#   scripts/server_bench.sh [--repeats N] [--requests N] [--quick]
#
# Builds mantis-server (Release, build/), installs redis-server if missing (install-deps.sh), then,
# N times (default 3) in rotation so that machine noise spreads over all:
#   redis-benchmark -t set,get -n REQUESTS -r 1000000 -c 50 [-P 16]
# against: mantis-server --workers 1 and --workers 2 (memory only); redis-server with persistence
# off; mantis-server --workers 2 --durability periodic (fdatasync every second) and redis-server
# with appendonly yes, appendfsync everysec (the comparable durable pair). Prints every run as CSV
# (build/server_bench.csv) and a table of medians with min..max and the ratios to redis-server.
# --quick: 1 repeat of 20,000 requests (a smoke test of the script, not a measurement).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repeats=3
requests=1000000
while (($#)); do
  case "$1" in
    --repeats) repeats="$2"; shift 2 ;;
    --requests) requests="$2"; shift 2 ;;
    --quick) repeats=1; requests=20000; shift ;;
    -h | --help) sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "server_bench.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done

"$root/scripts/install-deps.sh"
build="${MANTIS_BUILD_DIR:-$root/build}"
[[ -f "$build/CMakeCache.txt" ]] || cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" --parallel "${MANTIS_JOBS:-$(nproc)}" --target mantis-server
server="$build/tools/mantis-server/mantis-server"
work="$(mktemp -d "${TMPDIR:-/tmp}/mantis-server-bench.XXXXXX")"
pid=""
cleanup() {
  [[ -z "$pid" ]] || { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT

port=$((30000 + $$ % 10000))
start() {  # start CONFIG: one server on $port, waits until it answers PING
  rm -rf "$work/data" && mkdir -p "$work/data"
  case "$1" in
    mantis-w1) "$server" --resp-port "$port" --port 0 --workers 1 > "$work/log" 2>&1 & ;;
    mantis-w2) "$server" --resp-port "$port" --port 0 --workers 2 > "$work/log" 2>&1 & ;;
    mantis-w2-periodic) "$server" --resp-port "$port" --port 0 --workers 2 --data-dir "$work/data" \
                          --durability periodic > "$work/log" 2>&1 & ;;
    redis) redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no > "$work/log" 2>&1 & ;;
    redis-aof) redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly yes --appendfsync everysec \
                 --dir "$work/data" > "$work/log" 2>&1 & ;;
  esac
  pid=$!
  for _ in $(seq 200); do
    [[ "$(redis-cli -p "$port" ping 2>/dev/null)" == PONG ]] && return 0
    sleep 0.05
  done
  echo "server_bench.sh: $1 did not start:" >&2; cat "$work/log" >&2; exit 1
}
stop() {
  kill -TERM "$pid"; wait "$pid" || true; pid=""
}

csv="$build/server_bench.csv"
echo "repeat,server,pipeline,test,rps" > "$csv"
configs=(mantis-w1 mantis-w2 redis mantis-w2-periodic redis-aof)
for ((r = 1; r <= repeats; r++)); do
  for config in "${configs[@]}"; do
    for pipeline in 1 16; do
      start "$config"
      # redis-benchmark asks CONFIG GET for its report header; mantis-server has no CONFIG (a warning).
      timeout 900 redis-benchmark -p "$port" -t set,get -n "$requests" -r 1000000 -c 50 -P "$pipeline" --csv 2>/dev/null |
        awk -F'"' -v r="$r" -v c="$config" -v p="$pipeline" '$2 == "SET" || $2 == "GET" { print r "," c "," p "," $2 "," $4 }' |
        tee -a "$csv"
      stop
    done
  done
done

echo
echo "redis-benchmark -t set,get -n $requests -r 1000000 -c 50 [-P 16], $repeats repeats, $(nproc) cores:"
echo "median requests/s (min..max); ratio = median / the same test's redis-server median"
/usr/bin/python3 - "$csv" <<'SUMMARY'
import csv, statistics, sys
runs = {}
for row in csv.DictReader(open(sys.argv[1])):
    runs.setdefault((row["server"], row["pipeline"], row["test"]), []).append(float(row["rps"]))
med = {k: statistics.median(v) for k, v in runs.items()}
print(f"{'server':<20} {'-P':<3} {'test':<4} {'median (min..max)':>26} {'ratio':>7}")
for server in ("mantis-w1", "mantis-w2", "redis", "mantis-w2-periodic", "redis-aof"):
    for pipeline in ("1", "16"):
        for test in ("SET", "GET"):
            key = (server, pipeline, test)
            if key not in runs:
                continue
            base = ("redis-aof" if server in ("mantis-w2-periodic", "redis-aof") else "redis", pipeline, test)
            ratio = med[key] / med[base] if base in med else float("nan")
            print(f"{server:<20} {pipeline:<3} {test:<4} {med[key]:>8.0f} ({min(runs[key]):>7.0f}..{max(runs[key]):>7.0f}) {ratio:>6.2f}x")
SUMMARY
echo "(durable rows compare mantis kPeriodic with redis appendfsync everysec; CSV: $csv)"
