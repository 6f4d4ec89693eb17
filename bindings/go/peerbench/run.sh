#!/usr/bin/env bash
# The mantis Go binding against Go's own embedded stores (bbolt, badger v2, goleveldb, lmdb-go), all
# built offline from Debian packages in GOPATH mode. Builds and installs mantis as bindings/go/test.sh
# does (bindings/go/prefix.sh), builds the benchmark, runs it and prints the tables.
#
#   bindings/go/peerbench/run.sh [BUILD_DIR] [-- BENCH_FLAGS]  # default build-go-peers; e.g. -- -runs 5
#   bindings/go/peerbench/run.sh --check [BUILD_DIR]           # CI: gofmt, vet, build, a --quick smoke run
# BENCH_FLAGS (peerbench -h): -keys (1000000) -seconds (1) -runs (3) -batch (100) -stores -dir
# (/var/tmp) -json FILE -quick. MANTIS_JOBS sets the C++ build's parallelism.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
check=0
build=""
bench_flags=()
while (($#)); do
  case "$1" in
    --check) check=1 ;;
    --) shift; bench_flags=("$@"); break ;;
    -h | --help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) build="$1" ;;
  esac
  shift
done
build="${build:-${MANTIS_GO_BUILD_DIR:-build-go-peers}}"
[[ "$build" = /* ]] || build="$root/$build"

# shellcheck source=../prefix.sh
source "$here/../prefix.sh"
mantis_go_prefix "$build"

# GOPATH mode: the binding and this package under a scratch GOPATH (symlinked), the Debian packages
# second on the path. Nothing is downloaded.
gopath="$build/peerbench-gopath"
mkdir -p "$gopath/src/mantis.dev"
ln -sfn "$root/bindings/go" "$gopath/src/mantis.dev/mantis"
export GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOFLAGS=
cd "$gopath/src/mantis.dev/mantis/peerbench"
bin="$build/mantis-peerbench"
echo "-- peerbench: building against $prefix ($(go version), GOPATH mode)"
if ((check)); then
  unformatted="$(gofmt -l .)"
  [[ -z "$unformatted" ]] || { echo "gofmt -l: these files need gofmt -w: $unformatted" >&2; exit 1; }
  go vet .
fi
go build -o "$bin" .
if ((check)); then
  "$bin" -quick >/dev/null
  echo "-- peerbench: built, vetted, smoke run passed"
  exit 0
fi
"$bin" "${bench_flags[@]}"
