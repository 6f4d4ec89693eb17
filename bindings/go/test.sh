#!/usr/bin/env bash
# Tests the Go binding against an installed mantis: builds libmantis and libmantis_c, installs them
# into a scratch prefix, points PKG_CONFIG_PATH at it, then runs gofmt, go vet, staticcheck, the
# tests under the race detector, and the example.
#
#   bindings/go/test.sh [BUILD_DIR]   # reuses BUILD_DIR if configured (default: build-go)
#   bindings/go/test.sh --bench       # also runs the benchmarks (go test -bench, 5 runs)
# Needs the Debian packages golang-go, go-staticcheck and pkg-config (scripts/install-deps.sh --go).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bench=0
build=""
for arg in "$@"; do
  case "$arg" in
    --bench) bench=1 ;;
    -h | --help) sed -n '2,9s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) build="$arg" ;;
  esac
done
build="${build:-${MANTIS_GO_BUILD_DIR:-build-go}}"
[[ "$build" = /* ]] || build="$root/$build"
jobs="${MANTIS_JOBS:-$(nproc)}"

"$root/scripts/install-deps.sh" --go

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  # The libraries only: the install below installs whatever the build directory configured.
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMANTIS_BUILD_TESTS=OFF \
    -DMANTIS_BUILD_BENCH=OFF -DMANTIS_BUILD_EXAMPLES=OFF -DMANTIS_BUILD_TOOLS=OFF -DMANTIS_BUILD_SERVER=OFF
fi
# Everything the directory configured (a no-op for a directory already built), so that the install
# never looks for a target that was not built.
cmake --build "$build" --parallel "$jobs"
prefix="$build/go-prefix"
rm -rf "$prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
pc="$(find "$prefix" -name mantis_c.pc -print -quit)"
[[ -n "$pc" ]] || { echo "test.sh: mantis_c.pc was not installed" >&2; exit 1; }
export PKG_CONFIG_PATH="$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export GOFLAGS=-mod=mod GOPROXY=off CGO_ENABLED=1
echo "-- Go binding against $prefix ($(go version))"

cd "$here"
unformatted="$(gofmt -l .)"
if [[ -n "$unformatted" ]]; then
  echo "gofmt -l: these files need gofmt -w: $unformatted" >&2
  exit 1
fi
go vet ./...
go-staticcheck ./...
go test -race -count=1 ./...
go run ./example
if ((bench)); then
  go test -run "^$" -bench . -benchmem -count 5 .
fi
echo "-- Go binding: all checks passed"
