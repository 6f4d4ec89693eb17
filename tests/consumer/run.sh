#!/usr/bin/env bash
# Checks that mantis can be consumed from CMake: installs an existing build into a scratch prefix and
# builds tests/consumer/find_package against it, then builds tests/consumer/add_subdirectory over the
# source tree. Each consumer runs through ctest.
#
#   tests/consumer/run.sh [BUILD_DIR]   # BUILD_DIR: a configured and built mantis (default: build)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-${MANTIS_BUILD_DIR:-build}}"
[[ "$build" = /* ]] || build="$root/$build"
jobs="${MANTIS_JOBS:-$(nproc)}"
work="$build/consumer-tests"
rm -rf "$work"
mkdir -p "$work"

echo "-- find_package: installing $build into $work/prefix"
cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
# include/ holds the public API and nothing else (internals live under src/), so the installed headers
# must be exactly that tree: nothing internal installed, nothing public missing.
if ! diff -r "$root/include" "$work/prefix/include" >"$work/headers.diff"; then
  echo "the installed headers differ from the public include/ tree:" >&2
  cat "$work/headers.diff" >&2
  exit 1
fi
cmake -S "$root/tests/consumer/find_package" -B "$work/find_package" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  "-DCMAKE_PREFIX_PATH=$work/prefix"
cmake --build "$work/find_package" --parallel "$jobs"
ctest --test-dir "$work/find_package" --output-on-failure

echo "-- add_subdirectory: building mantis as a subproject"
# No build type: the consumer checks that mantis, as a subproject, leaves it unset.
cmake -S "$root/tests/consumer/add_subdirectory" -B "$work/add_subdirectory" -G Ninja "-DMANTIS_SOURCE_DIR=$root"
cmake --build "$work/add_subdirectory" --parallel "$jobs"
ctest --test-dir "$work/add_subdirectory" --output-on-failure
