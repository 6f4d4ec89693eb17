#!/usr/bin/env bash
# Builds one of the libFuzzer targets with clang and runs it.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET]   # SECONDS default 60; exits non-zero when the fuzzer finds a crash
#                                          # TARGET: log_reader (default) or snapshot_reader
#
# Needs Debian's clang and libclang-rt-14-dev (installed with apt-get when missing and run as root).
# Builds into build-fuzz/ (MANTIS_FUZZ_DIR overrides); the corpus grows in build-fuzz/corpus/ (log_reader)
# or build-fuzz/corpus-<TARGET>/. snapshot_reader also needs flatc (flatbuffers-compiler).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
seconds="${1:-60}"
target="${2:-log_reader}"
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

case "$target" in
  log_reader) corpus="$out/corpus" ;;
  snapshot_reader) corpus="$out/corpus-$target" ;;
  *) echo "run.sh: TARGET is log_reader or snapshot_reader, not '$target'" >&2; exit 2 ;;
esac
mkdir -p "$corpus"
flags=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I "$root/include" -I "$root/src")

if [[ "$target" == snapshot_reader ]]; then
  command -v flatc >/dev/null || { echo "run.sh: install first: sudo apt-get install -y flatbuffers-compiler" >&2; exit 1; }
  flatc --cpp --scoped-enums -o "$out/fbs_gen/store" "$root/src/store/record.fbs"
  flatc --cpp --scoped-enums -o "$out/fbs_gen/durability" "$root/src/durability/snapshot.fbs"
  clang++ "${flags[@]}" -I "$out/fbs_gen" \
    "$root/tests/fuzz/snapshot_reader_fuzz.cpp" \
    "$root/src/durability/snapshot_reader.cpp" "$root/src/durability/snapshot_writer.cpp" \
    "$root/src/durability/crc32c.cpp" "$root/src/durability/file_names.cpp" "$root/src/util/status.cpp" \
    "$root/src/env/posix_env.cpp" "$root/src/env/writable_file.cpp" "$root/src/env/mapped_file.cpp" \
    "$root/src/env/mapped_writable_file.cpp" "$root/src/env/file_lock.cpp" \
    -lisal -o "$out/snapshot_reader_fuzz"
  "$out/snapshot_reader_fuzz" -max_total_time="$seconds" -max_len=200000 -rss_limit_mb=1024 "$corpus"
  exit
fi

clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I "$root/include" -I "$root/src" \
  "$root/tests/fuzz/log_reader_fuzz.cpp" \
  "$root/src/durability/log_reader.cpp" "$root/src/durability/log_record.cpp" \
  "$root/src/durability/log_writer.cpp" "$root/src/durability/log_framing.cpp" \
  "$root/src/durability/crc32c.cpp" "$root/src/util/status.cpp" \
  -lisal -o "$out/log_reader_fuzz"
"$out/log_reader_fuzz" -max_total_time="$seconds" -max_len=200000 -rss_limit_mb=1024 "$corpus"
