#!/usr/bin/env bash
# Tests mantis-tool end to end: put/get/del, dump and load round trips (escapes, TTLs, prefixes),
# stats, verify, checkpoint, backup and restore, damage reported as Corruption, and the error cases (bad usage exits 2,
# a missing database exits 1 and creates nothing, NotFound exits 1). Every check runs and reports;
# the script exits 1 if any failed.
#
#   tools/mantis-tool/tool_test.sh path/to/mantis-tool
#
# Not covered here: Busy on a directory held by another engine (bash cannot hold the lock while it
# runs the tool); tests/durability_test.cpp checks Busy through the same Engine::open the tool uses.
set -u

tool="${1:?usage: tool_test.sh path/to/mantis-tool}"
work="$(mktemp -d "${TMPDIR:-/tmp}/mantis-tool-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT
db="$work/db"
passed=0
failed=0

ok() {
  passed=$((passed + 1))
  printf 'ok   - %s\n' "$1"
}
not_ok() {
  failed=$((failed + 1))
  printf 'FAIL - %s\n' "$1"
  shift
  printf '       %s\n' "$@"
}
# run CMD...: the exit status in $rc, stdout in $work/out (exact bytes) and $out, stderr in $err.
run() {
  "$@" >"$work/out" 2>"$work/err" </dev/null
  rc=$?
  out="$(cat "$work/out")"
  err="$(cat "$work/err")"
}
# expect NAME STATUS CMD...: runs CMD and checks its exit status.
expect() {
  local name="$1" want="$2"
  shift 2
  run "$@"
  if [[ "$rc" == "$want" ]]; then
    ok "$name"
    return 0
  fi
  not_ok "$name" "exit status $rc, expected $want" "stdout: ${out:0:400}" "stderr: ${err:0:400}"
  return 1
}
# check NAME CONDITION-COMMAND...: records a pass if the command succeeds.
check() {
  local name="$1"
  shift
  if "$@"; then ok "$name"; else not_ok "$name" "stdout: ${out:0:400}" "stderr: ${err:0:400}"; fi
}
contains() { [[ "$1" == *"$2"* ]]; }

echo "== usage errors exit 2"
expect "no arguments" 2 "$tool"
check "no arguments: the message says so" contains "$err" "no command"
expect "--help exits 0" 0 "$tool" --help
check "--help documents the dump format" contains "$out" "<key> TAB <value> TAB <ttl>"
expect "unknown command" 2 "$tool" frobnicate "$db"
expect "command without DIR" 2 "$tool" stats
expect "get without KEY" 2 "$tool" get "$db"
expect "put without VALUE" 2 "$tool" put "$db" k
expect "del with an extra argument" 2 "$tool" del "$db" k extra
expect "put --ttl not a number" 2 "$tool" put "$db" k v --ttl soon
expect "put --ttl 0" 2 "$tool" put "$db" k v --ttl 0
expect "--ttl on get" 2 "$tool" get "$db" k --ttl 5
expect "--prefix on get" 2 "$tool" get "$db" k --prefix p
expect "unknown option" 2 "$tool" dump "$db" --bogus
expect "bad --durability" 2 "$tool" stats "$db" --durability maybe
check "usage errors created nothing" test ! -e "$db"

echo "== a missing database: exit 1 with the Status text, nothing created"
for command in stats verify dump checkpoint "get k" "put k v" "del k"; do
  # shellcheck disable=SC2086 # the command's words split on purpose: NAME DIR ARGS...
  set -- $command
  expect "$command on a missing directory" 1 "$tool" "$1" "$db" "${@:2}"
  check "$command on a missing directory prints an error" test -n "$err"
  check "$command on a missing directory creates nothing" test ! -e "$db"
done

echo "== put, get, del"
expect "load creates a new database from empty input" 0 "$tool" load "$db"
check "load reports the count" contains "$out" "loaded 0 keys"
expect "put" 0 "$tool" put "$db" k1 v1
expect "get" 0 "$tool" get "$db" k1
check "get prints the value" test "$out" == "v1"
expect "put overwrites" 0 "$tool" put "$db" k1 v2
expect "get after overwrite" 0 "$tool" get "$db" k1
check "get prints the new value" test "$out" == "v2"
expect "get of an absent key exits 1" 1 "$tool" get "$db" nope
check "get of an absent key prints NotFound" contains "$err" "NotFound"
expect "del" 0 "$tool" del "$db" k1
expect "get after del exits 1" 1 "$tool" get "$db" k1
expect "del of an absent key" 0 "$tool" del "$db" k1
expect "put of the empty key" 0 "$tool" put "$db" "" "value of the empty key"
expect "get of the empty key" 0 "$tool" get "$db" ""
check "get of the empty key prints its value" test "$out" == "value of the empty key"
expect "-- ends options" 0 "$tool" put "$db" -- --dashed "--value"
expect "get of a key starting with --" 0 "$tool" get "$db" -- --dashed
check "the dashed key's value" test "$out" == "--value"

special_key=$'tab\there'
special_value=$'line1\nline2\\back \x01\x7f\xff'
expect "put of bytes that need escaping" 0 "$tool" put "$db" "$special_key" "$special_value"
expect "get of a key with a TAB" 0 "$tool" get "$db" "$special_key"
printf '%s\n' "$special_value" >"$work/expected"
check "get prints the exact bytes, then a newline" cmp -s "$work/out" "$work/expected"

echo "== dump"
expect "put with a ttl" 0 "$tool" put "$db" ttl-key "lives long" --ttl 100000
expect "put with a short ttl" 0 "$tool" put "$db" short-ttl "soon gone" --ttl 300
expect "dump" 0 "$tool" dump "$db"
cp "$work/out" "$work/dump1"
expected_line=$'tab\\x09here\tline1\\x0aline2\\\\back \\x01\\x7f\\xff\t-'
check "dump escapes TAB, LF, backslash, control and high bytes" grep -qxF -- "$expected_line" "$work/dump1"
check "dump writes the empty key as an empty field" grep -qxF -- $'\tvalue of the empty key\t-' "$work/dump1"
ttl_field="$(grep '^ttl-key'$'\t' "$work/dump1" | cut -f3)"
check "dump writes the remaining ttl in ms (got '$ttl_field')" test -n "$ttl_field" -a "$ttl_field" != "-" -a "${ttl_field:-0}" -gt 0 -a "${ttl_field:-0}" -le 100000
check "dump lists keys in byte order" bash -c 'LC_ALL=C sort -c -t "	" -k1,1 "$1"' _ "$work/dump1"
sleep 0.6
expect "a key whose ttl ran out is gone" 1 "$tool" get "$db" short-ttl
expect "dump after the short ttl ran out" 0 "$tool" dump "$db"
check "dump leaves out the expired key" bash -c '! grep -q "^short-ttl" "$1"' _ "$work/out"
for i in 1 2 3; do "$tool" put "$db" "user:$i" "u$i" >/dev/null 2>&1; done
"$tool" put "$db" "users" "not a prefix match" >/dev/null 2>&1
expect "dump --prefix" 0 "$tool" dump "$db" --prefix user:
check "dump --prefix lists exactly the prefixed keys" test "$(cut -f1 "$work/out" | tr '\n' ' ')" == "user:1 user:2 user:3 "

echo "== load"
expect "dump everything" 0 "$tool" dump "$db"
cp "$work/out" "$work/dump2"
check "the dump is not empty" test -s "$work/dump2"
"$tool" load "$work/db2" <"$work/dump2" >"$work/out" 2>"$work/err"
rc=$?
check "load of a dump exits 0 (exit $rc)" test "$rc" == 0
check "load reports the count" contains "$(cat "$work/out")" "loaded $(wc -l <"$work/dump2") keys"
expect "dump the loaded database" 0 "$tool" dump "$work/db2"
check "keys and values round trip exactly" cmp -s <(cut -f1,2 "$work/dump2") <(cut -f1,2 "$work/out")
check "keys without a ttl keep none" cmp -s <(grep $'\t-$' "$work/dump2") <(grep $'\t-$' "$work/out")
reloaded_ttl="$(grep '^ttl-key'$'\t' "$work/out" | cut -f3)"
check "a loaded ttl is at most the dumped one ($reloaded_ttl <= $ttl_field)" test "${reloaded_ttl:-0}" -gt 0 -a "${reloaded_ttl:-0}" -le "${ttl_field:-0}"

printf 'nul\\x00key\tA\\x00B\\\\C\\xFFD\t-\nplain\tvalue\t5000\n' >"$work/handmade"
"$tool" load "$work/db3" <"$work/handmade" >"$work/out" 2>"$work/err"
check "load accepts \\x00, \\\\ and uppercase hex (exit $?)" contains "$(cat "$work/out")" "loaded 2 keys"
expect "dump of the hand-made load" 0 "$tool" dump "$work/db3"
check "hand-made entries come back normalized" test "$(head -1 "$work/out")" == $'nul\\x00key\tA\\x00B\\\\C\\xffD\t-'

load_expect_error() {
  local name="$1" input="$2" needle="$3"
  printf '%b' "$input" | "$tool" load "$work/db4" >"$work/out" 2>"$work/err"
  rc=$?
  out="$(cat "$work/out")"
  err="$(cat "$work/err")"
  if [[ "$rc" == 1 ]] && contains "$err" "$needle"; then ok "$name"; else not_ok "$name" "exit $rc" "stderr: $err"; fi
}
load_expect_error "load refuses a line with two fields, naming the line" 'a\tb\t-\nc\td\n' "line 2"
load_expect_error "load refuses an unknown escape" 'a\\qb\tv\t-\n' "bad escape"
load_expect_error "load refuses a truncated escape" 'a\\x4\tv\t-\n' "bad escape"
load_expect_error "load refuses a raw CR" 'a\tv\r\t-\n' "raw control byte 0x0d"
load_expect_error "load refuses a bad ttl" 'a\tv\tsoon\n' "ttl"
load_expect_error "load refuses a zero ttl" 'a\tv\t0\n' "ttl"

echo "== stats, checkpoint, verify"
awk 'BEGIN { for (i = 0; i < 5000; i++) { v = sprintf("%0200d", i); printf "bulk:%06d\t%s\t-\n", i, v } }' >"$work/bulk"
"$tool" load "$db" <"$work/bulk" >"$work/out" 2>"$work/err"
check "load of 5000 keys in batches (exit $?)" contains "$(cat "$work/out")" "loaded 5000 keys"
expect "stats" 0 "$tool" stats "$db"
check "stats prints one JSON object" test "${out:0:1}" == "{"
check "stats includes the engine's counters" contains "$out" '"keys":'
check "stats lists the directory's files" contains "$out" '"files":[{"name":'
if command -v python3 >/dev/null; then
  check "stats output parses as JSON" python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$work/out" 2>/dev/null
fi
expect "verify" 0 "$tool" verify "$db"
check "verify counts every key" contains "$out" "ok: 50"
expect "checkpoint" 0 "$tool" checkpoint "$db"
expect "verify after checkpoint" 0 "$tool" verify "$db"
expect "get after checkpoint" 0 "$tool" get "$db" bulk:004999
check "the value survived" test "$out" == "$(printf '%0200d' 4999)"
expect "stats after checkpoint" 0 "$tool" stats "$db"

echo "== backup and restore"
expect "backup" 0 "$tool" backup "$db" "$work/backup"
expect "verify the backup" 0 "$tool" verify "$work/backup"
check "the backup holds every key" contains "$out" "ok: 50"
expect "backup into a non-empty directory exits 1" 1 "$tool" backup "$db" "$work/backup"
check "it says InvalidArgument" contains "$err" "InvalidArgument"
expect "backup without TARGET" 2 "$tool" backup "$db"
expect "restore" 0 "$tool" restore "$work/backup" "$work/restored"
expect "get from the restored copy" 0 "$tool" get "$work/restored" bulk:004999
check "the restored value" test "$out" == "$(printf '%0200d' 4999)"
expect "backup with --durability none exits 1 (no log)" 1 "$tool" backup "$db" "$work/none" --durability none
check "it says NotSupported" contains "$err" "NotSupported"

echo "== damage is reported, not repaired"
largest=""
if cp -a "$db" "$work/damaged" 2>/dev/null; then
  largest="$(find "$work/damaged" -type f -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2-)"
fi
if [[ -z "$largest" ]]; then
  not_ok "damage: no database to damage (the steps above failed)"
else
  size="$(stat -c %s "$largest")"
  check "the largest file holds the data ($largest, $size bytes)" test "$size" -gt 262144
  printf '\xde\xad\xbe\xef\xde\xad\xbe\xef\xde\xad\xbe\xef\xde\xad\xbe\xef' |
    dd of="$largest" bs=1 seek=$((size / 3)) count=16 conv=notrunc status=none
  expect "verify of a damaged database exits 1" 1 "$tool" verify "$work/damaged"
  check "verify says Corruption" contains "$err" "Corruption"
  check "verify names the damaged file" contains "$err" "$(basename "$largest")"
fi

printf '\nmantis-tool test: %d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
