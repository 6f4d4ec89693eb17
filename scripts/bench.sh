#!/usr/bin/env bash
# Builds and runs the benchmark binary mantis-bench (Release, in build/).
#
#   scripts/bench.sh             # the full suite
#   scripts/bench.sh --quick     # a short smoke run; every other argument also goes to mantis-bench
#   scripts/bench.sh --help      # mantis-bench's own options
#
# Installs missing Debian packages first (scripts/install-deps.sh). Environment:
#   MANTIS_BUILD_DIR  build directory (default: build)
#   MANTIS_JOBS       parallel build jobs (default: number of cores)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh"

build="${MANTIS_BUILD_DIR:-build}"
[[ "$build" = /* ]] || build="$root/$build"
jobs="${MANTIS_JOBS:-$(nproc)}"

# Benchmarks only mean something optimised and without sanitizers.
cmake_args=(-DCMAKE_BUILD_TYPE=Release -DMANTIS_SANITIZE= -DMANTIS_BUILD_BENCH=ON)
[[ -f "$build/CMakeCache.txt" ]] || cmake_args+=(-G Ninja)
cmake -S "$root" -B "$build" "${cmake_args[@]}" >/dev/null
# The target is mantis_bench; its binary is bench/mantis-bench.
if ! cmake --build "$build" --parallel "$jobs" --target mantis_bench; then
  echo "bench.sh: building the mantis_bench target failed (see above)" >&2
  exit 1
fi

bench="$build/bench/mantis-bench"
if [[ ! -x "$bench" ]]; then
  echo "bench.sh: the build produced no $bench" >&2
  exit 1
fi
exec "$bench" "$@"
