#!/usr/bin/env bash
# Builds mantis and runs its tests with ctest.
#
#   scripts/test.sh                      # Release build in build/ with -Werror, then every test
#   scripts/test.sh --sanitize address   # ASan+UBSan build in build-asan/, then every test
#   scripts/test.sh --sanitize thread    # TSan build in build-tsan/, then every test
#   scripts/test.sh [...] -- -R store    # anything after `--` goes to ctest
#
# Installs missing Debian packages first (scripts/install-deps.sh). Environment:
#   MANTIS_BUILD_DIR       build directory (default: build; sanitizer builds add -asan / -tsan)
#   MANTIS_JOBS            parallel build and test jobs (default: number of cores)
#   MANTIS_STRESS_SECONDS  how long each stress test runs; sanitizer builds default it to 2
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sanitize=""
ctest_args=()
while (($#)); do
  case "$1" in
    --sanitize) sanitize="${2:-}"; shift 2 || { echo "test.sh: --sanitize needs address or thread" >&2; exit 2; } ;;
    --sanitize=*) sanitize="${1#*=}"; shift ;;
    --) shift; ctest_args=("$@"); break ;;
    -h | --help) sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done

"$root/scripts/install-deps.sh"

build="${MANTIS_BUILD_DIR:-build}"
jobs="${MANTIS_JOBS:-$(nproc)}"
cmake_args=(-DMANTIS_BUILD_TESTS=ON)
case "$sanitize" in
  "")
    # Warnings are errors here: this is the developer and CI entry point.
    cmake_args+=(-DCMAKE_BUILD_TYPE=Release -DMANTIS_SANITIZE= -DMANTIS_WERROR=ON) ;;
  address | thread)
    if [[ "$sanitize" == address ]]; then build="$build-asan"; else build="$build-tsan"; fi
    # -O1 keeps sanitized stress tests fast enough; Debug keeps assertions on. The benchmarks measure
    # nothing useful under a sanitizer, so they are not built. Warnings are not errors: GCC's flow
    # analysis at -O1 with instrumentation warns where the Release build (which does use -Werror) does
    # not, and these builds are for run-time reports.
    cmake_args+=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-g -O1" "-DCMAKE_C_FLAGS_DEBUG=-g -O1"
                 "-DMANTIS_SANITIZE=$sanitize" -DMANTIS_WERROR=OFF -DMANTIS_BUILD_BENCH=OFF)
    export MANTIS_STRESS_SECONDS="${MANTIS_STRESS_SECONDS:-2}"
    # Our defaults first, so that options already in the environment win.
    export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
    export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
    # die_after_fork=0: tests fork children that open engines (threads) while the parent's RCU
    # reclaimer thread runs; TSan would otherwise kill such a child.
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:die_after_fork=0${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
    ;;
  *) echo "test.sh: --sanitize takes 'address' (ASan+UBSan) or 'thread' (TSan), not '$sanitize'" >&2; exit 2 ;;
esac
[[ "$build" = /* ]] || build="$root/$build"

# A build directory made by hand with another generator keeps it; a new one uses Ninja.
[[ -f "$build/CMakeCache.txt" ]] || cmake_args+=(-G Ninja)
cmake -S "$root" -B "$build" "${cmake_args[@]}"
cmake --build "$build" --parallel "$jobs"
ctest --test-dir "$build" --output-on-failure --parallel "$jobs" "${ctest_args[@]}"
