#!/usr/bin/env bash
# Builds the log reader's libFuzzer target with clang and runs it.
#
#   tests/fuzz/run.sh [SECONDS]    # default 60; exits non-zero when the fuzzer finds a crash
#
# Needs Debian's clang and libclang-rt-14-dev (installed with apt-get when missing and run as root).
# Builds into build-fuzz/ (MANTIS_FUZZ_DIR overrides); the corpus grows in build-fuzz/corpus/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
seconds="${1:-60}"
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "run.sh: SECONDS must be a whole number, not '$seconds'" >&2; exit 2; }
out="${MANTIS_FUZZ_DIR:-$root/build-fuzz}"

missing=()
for pkg in clang libclang-rt-14-dev libisal-dev; do
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)" == installed ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if ((EUID != 0)); then
    echo "run.sh: install first: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" ||
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; }
fi

mkdir -p "$out/corpus"
clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I "$root/include" -I "$root/src" \
  "$root/tests/fuzz/log_reader_fuzz.cpp" \
  "$root/src/durability/log_reader.cpp" "$root/src/durability/log_record.cpp" \
  "$root/src/durability/log_writer.cpp" "$root/src/durability/crc32c.cpp" "$root/src/status.cpp" \
  -lisal -o "$out/log_reader_fuzz"
"$out/log_reader_fuzz" -max_total_time="$seconds" -max_len=200000 -rss_limit_mb=1024 "$out/corpus"
