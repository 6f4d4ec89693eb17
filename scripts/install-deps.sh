#!/usr/bin/env bash
# Makes sure the Debian 12 packages mantis needs are installed.
#
#   scripts/install-deps.sh          # build, test and benchmark dependencies (mantis-server's
#                                    # libraries and its test clients included)
#   scripts/install-deps.sh --chart  # also gnuplot-nox, for the benchmark chart script
#   scripts/install-deps.sh --go     # also golang-go, go-staticcheck and pkg-config (Go binding), and
#                                    # the Go stores its peer benchmark builds against (GOPATH mode,
#                                    # sources under /usr/share/gocode): bbolt, badger v2, goleveldb, lmdb-go
#
# Quiet when everything is present. When something is missing: as root, runs `apt-get update` and
# `apt-get install -y` for exactly the missing packages; otherwise prints the sudo line to run and
# exits 1. Nothing is downloaded except Debian packages.
set -euo pipefail

packages=(cmake ninja-build g++ libcds-dev libmimalloc-dev libflatbuffers-dev flatbuffers-compiler catch2
          libbenchmark-dev libisal-dev
          # mantis-bench's embedded-store peers (each optional for the build, installed so CI runs them)
          liblmdb-dev librocksdb-dev
          # the tools' flags (mantis-tool, mantis-server, mantis-bench) ...
          libcli11-dev
          # ... mantis-server: networking and HTTP (pkg-config finds libcpp-httplib) ...
          libasio-dev libcpp-httplib-dev pkg-config
          # ... and the real clients its tests drive it with, and redis-server, whose replies
          # tests/server/redis_compare_test.py compares with mantis-server's.
          redis-tools python3-redis nutcracker curl redis-server)
for arg in "$@"; do
  case "$arg" in
    --chart) packages+=(gnuplot-nox) ;;
    --go) packages+=(golang-go go-staticcheck pkg-config
                     # bindings/go/peerbench's peers (the binding itself needs only the standard library)
                     golang-github-coreos-bbolt-dev golang-github-dgraph-io-badger-dev
                     golang-github-syndtr-goleveldb-dev golang-github-bmatsuo-lmdb-go-dev) ;;
    -h | --help) sed -n '2,14s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "install-deps.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install-deps.sh: dpkg-query not found; this script expects Debian 12. Install these yourself:" >&2
  echo "  ${packages[*]}" >&2
  exit 1
fi

missing=()
for pkg in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
  [[ "$status" == "installed" ]] || missing+=("$pkg")
done
((${#missing[@]} == 0)) && exit 0

if ((EUID != 0)); then
  echo "mantis needs these Debian packages, which are not installed: ${missing[*]}" >&2
  echo "Install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
