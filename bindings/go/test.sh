#!/usr/bin/env bash
# Tests the Go binding against an installed mantis: builds libmantis and libmantis_c, installs them
# into a scratch prefix, points PKG_CONFIG_PATH at it, then runs gofmt, go vet, staticcheck, the
# tests under the race detector, and the example; then builds, vets and smoke-runs the peer
# benchmark (bindings/go/peerbench/run.sh --check) when its Debian packages are installed.
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
    -h | --help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) build="$arg" ;;
  esac
done
build="${build:-${MANTIS_GO_BUILD_DIR:-build-go}}"
[[ "$build" = /* ]] || build="$root/$build"
# shellcheck source=prefix.sh
source "$here/prefix.sh"
mantis_go_prefix "$build"
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
# The peer benchmark is a module of its own, built in GOPATH mode against the Debian packages of
# bbolt, badger, goleveldb and lmdb-go (installed by install-deps.sh --go): compiled, vetted and run
# on 2000 keys for a few milliseconds per phase, which checks every store's answers, not its speed.
peers=(go.etcd.io/bbolt github.com/dgraph-io/badger github.com/syndtr/goleveldb github.com/bmatsuo/lmdb-go)
missing_peers=()
for p in "${peers[@]}"; do
  [[ -d "/usr/share/gocode/src/$p" ]] || missing_peers+=("$p")
done
if ((${#missing_peers[@]} == 0)); then
  "$here/peerbench/run.sh" --check "$build"
else
  echo "-- peerbench skipped: no Debian package for ${missing_peers[*]} (scripts/install-deps.sh --go)"
fi
if ((bench)); then
  go test -run "^$" -bench . -benchmem -count 5 .
fi
echo "-- Go binding: all checks passed"
