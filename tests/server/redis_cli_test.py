"""mantis-server driven by redis-cli (Debian redis-tools 7.0): a scripted session covering every
command, binary values, TTLs and errors, compared line by line with redis-cli's own rendering;
redis-cli --scan walking SCAN's cursor; and 20,000 pipelined requests through redis-cli --pipe.

    python3 redis_cli_test.py path/to/mantis-server
"""
import re
import subprocess
import sys

from harness import Checks, Server, require_tool

server_binary = sys.argv[1]
redis_cli = require_tool("redis-cli", "redis-tools")
checks = Checks()
server = Server(server_binary, "--workers", "2")


def cli(*args, stdin=None):
    result = subprocess.run([redis_cli, "-h", "127.0.0.1", "-p", str(server.resp_port), *args], input=stdin,
                            capture_output=True, timeout=60)
    return result.returncode, result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace")


# The session: each command with the lines redis-cli prints for its reply. "re:" lines are regular
# expressions (TTLs, counters).
SESSION = [
    ("PING", ["PONG"]),
    ('PING "hello there"', ['"hello there"']),
    ('ECHO "a\\x00b"', ['"a\\x00b"']),
    ("SET user:1 ada", ["OK"]),
    ("GET user:1", ['"ada"']),
    ("GET missing", ["(nil)"]),
    ('SET bin "\\x00\\xff\\r\\n end"', ["OK"]),
    ("GET bin", ['"\\x00\\xff\\r\\n end"']),
    ('SET "key with\\nnewline" v', ["OK"]),
    ('GET "key with\\nnewline"', ['"v"']),
    ('SET "" empty-key', ["OK"]),
    ('GET ""', ['"empty-key"']),
    ('SET empty-value ""', ["OK"]),
    ("GET empty-value", ['""']),
    ("SET user:1 grace NX", ["(nil)"]),
    ("GET user:1", ['"grace"'[:0] + '"ada"']),
    ("SET user:2 bob NX", ["OK"]),
    ("SET user:3 carol XX", ["(nil)"]),
    ("EXISTS user:3", ["(integer) 0"]),
    ("SET user:2 bobby XX", ["OK"]),
    ("SET user:2 robert GET", ['"bobby"']),
    ("SET user:2 bob NX GET", ['"robert"']),
    ("GET user:2", ['"robert"']),
    ("SET cw:4 dan NX GET", ["(nil)"]),
    ("GET cw:4", ['"dan"']),
    ("SET cw:5 eve XX GET", ["(nil)"]),
    ("EXISTS cw:5", ["(integer) 0"]),
    ("SET cw:4 daniel XX GET", ['"dan"']),
    ("SETNX cw:4 x", ["(integer) 0"]),
    ("SETNX cw:6 frank", ["(integer) 1"]),
    ("GETSET cw:6 francis", ['"frank"']),
    ("GETSET cw:7 gina", ["(nil)"]),
    ("INCR cw:counter", ["(integer) 1"]),
    ("INCRBY cw:counter 41", ["(integer) 42"]),
    ("DECR cw:counter", ["(integer) 41"]),
    ("DECRBY cw:counter -9", ["(integer) 50"]),
    ("GET cw:counter", ['"50"']),
    ("INCR cw:6", ["(error) ERR value is not an integer or out of range"]),
    ("INCRBY cw:counter x", ["(error) ERR value is not an integer or out of range"]),
    ("SET cw:big 9223372036854775807", ["OK"]),
    ("INCR cw:big", ["(error) ERR value is not an integer or out of range"]),
    ("GET cw:big", ['"9223372036854775807"']),
    ("DECRBY cw:counter -9223372036854775808", ["(error) ERR decrement would overflow"]),
    ("SET cw:spaced \" 1\"", ["OK"]),
    ("INCR cw:spaced", ["(error) ERR value is not an integer or out of range"]),
    ("SET cw:ttl 5 EX 100", ["OK"]),
    ("INCR cw:ttl", ["(integer) 6"]),
    ("TTL cw:ttl", ["re:\\(integer\\) (100|99)"]),
    ("GETDEL cw:7", ['"gina"']),
    ("GETDEL cw:7", ["(nil)"]),
    ("APPEND cw:log abc", ["(integer) 3"]),
    ("APPEND cw:log de", ["(integer) 5"]),
    ("GET cw:log", ['"abcde"']),
    ("STRLEN cw:log", ["(integer) 5"]),
    ("STRLEN missing", ["(integer) 0"]),
    ("GETEX cw:log EX 100", ['"abcde"']),
    ("TTL cw:log", ["re:\\(integer\\) (100|99)"]),
    ("APPEND cw:log f", ["(integer) 6"]),
    ("TTL cw:log", ["re:\\(integer\\) (100|99)"]),
    ("GETEX cw:log PERSIST", ['"abcdef"']),
    ("TTL cw:log", ["(integer) -1"]),
    ("GETEX cw:log PX 0", ["(error) ERR invalid expire time in 'getex' command"]),
    ("GETEX cw:log BOGUS", ["(error) ERR syntax error"]),
    ("GETEX cw:log", ['"abcdef"']),
    ("GETEX cw:log EXAT 1", ['"abcdef"']),
    ("EXISTS cw:log", ["(integer) 0"]),
    ("GETEX missing EX 10", ["(nil)"]),
    ("DEL cw:4 cw:6 cw:counter cw:big cw:spaced cw:ttl cw:5", ["(integer) 6"]),
    ("SET session:1 token EX 100", ["OK"]),
    ("TTL session:1", ["re:\\(integer\\) (100|99)"]),
    ("PTTL session:1", ["re:\\(integer\\) (100000|99\\d\\d\\d)"]),
    ("SET session:1 token2 KEEPTTL", ["OK"]),
    ("TTL session:1", ["re:\\(integer\\) (100|99)"]),
    ("SET session:2 token PX 50000", ["OK"]),
    ("PTTL session:2", ["re:\\(integer\\) (50000|49\\d\\d\\d)"]),
    ("SET x y EX 0", ["(error) ERR invalid expire time in 'set' command"]),
    ("SET x y EX notanumber", ["(error) ERR value is not an integer or out of range"]),
    ("SET x y NX XX", ["(error) ERR syntax error"]),
    ("SET x y BOGUS", ["(error) ERR syntax error"]),
    ("SETEX cache:1 30 page", ["OK"]),
    ("TTL cache:1", ["re:\\(integer\\) (30|29)"]),
    ("SETEX cache:1 -1 page", ["(error) ERR invalid expire time in 'setex' command"]),
    ("PSETEX cache:2 30000 page", ["OK"]),
    ("TTL cache:2", ["re:\\(integer\\) (30|29)"]),
    ("TTL user:1", ["(integer) -1"]),
    ("TTL missing", ["(integer) -2"]),
    ("PTTL missing", ["(integer) -2"]),
    ("EXPIRE user:1 200", ["(integer) 1"]),
    ("TTL user:1", ["re:\\(integer\\) (200|199)"]),
    ("PEXPIRE user:1 300000", ["(integer) 1"]),
    ("TTL user:1", ["re:\\(integer\\) (300|299)"]),
    ("PERSIST user:1", ["(integer) 1"]),
    ("PERSIST user:1", ["(integer) 0"]),
    ("TTL user:1", ["(integer) -1"]),
    ("EXPIRE missing 10", ["(integer) 0"]),
    ("EXPIRE user:1 ten", ["(error) ERR value is not an integer or out of range"]),
    ("SET doomed 1", ["OK"]),
    ("EXPIRE doomed 0", ["(integer) 1"]),
    ("EXISTS doomed", ["(integer) 0"]),
    ("MSET m:1 one m:2 two m:3 three", ["OK"]),
    ("MGET m:1 missing m:3", ['1) "one"', "2) (nil)", '3) "three"']),
    ("MSET m:1 odd-count m:2", ["(error) ERR wrong number of arguments for 'mset' command"]),
    ("GET m:1", ['"one"']),
    ("EXISTS m:1 m:2 missing m:1", ["(integer) 3"]),
    ("DEL m:1 m:2 missing m:1", ["(integer) 2"]),
    ("EXISTS m:1 m:2", ["(integer) 0"]),
    ("KEYS user:*", ['1) "user:1"', '2) "user:2"']),
    ("KEYS *ion:?", ['1) "session:1"', '2) "session:2"']),
    ("KEYS nothing*", ["(empty array)"]),
    ("SCAN 0 MATCH user:* COUNT 100", ['1) "0"', '2) 1) "user:1"', '   2) "user:2"']),
    ("SCAN 0 MATCH cache:* COUNT 1", ['re:1\\) "[1-9][0-9]*"', '2) 1) "cache:1"']),
    ("SCAN 12345 COUNT 1", ["(error) ERR invalid cursor"]),
    ("SCAN 0 COUNT 0", ["(error) ERR syntax error"]),
    ("DBSIZE", ["(integer) 11"]),
    ("SAVE", ["re:\\(error\\) ERR NotSupported: .*memory-only.*"]),
    ("SELECT 0", ["OK"]),
    ("SELECT 1", ["(error) ERR DB index is out of range"]),
    ("COMMAND COUNT", ["(integer) 43"]),
    ("COMMAND INFO get nosuch", ['1) 1) "get"', "   2) (integer) 2", "   3) 1) readonly", "      2) fast",
                                 "   4) (integer) 1", "   5) (integer) 1", "   6) (integer) 1", "2) (nil)"]),
    ("GET", ["(error) ERR wrong number of arguments for 'get' command"]),
    ("NOSUCHCOMMAND a b", ["(error) ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'a' 'b' "]),
    ("FLUSHDB", ["OK"]),
    ("DBSIZE", ["(integer) 0"]),
]

script = "\n".join(command for command, _ in SESSION) + "\n"
rc, out, err = cli("--no-raw", stdin=script.encode())
got = out.splitlines()
want = [line for _, lines in SESSION for line in lines]
checks.equal("the session: redis-cli exits 0", rc, 0)
checks.equal("the session: as many output lines as expected", len(got), len(want))
line = 0
for command, lines in SESSION:
    chunk = got[line:line + len(lines)]
    line += len(lines)
    ok = len(chunk) == len(lines) and all(
        re.fullmatch(w[3:], g) if w.startswith("re:") else g == w for g, w in zip(chunk, lines))
    checks.check(f"session: {command}", ok, f"got {chunk!r}\n want {lines!r}")

# INFO in its own call: every section, then one section by name.
rc, out, _ = cli("INFO")
for section in ("# Server", "# Clients", "# Stats", "# Engine", "# Keyspace"):
    checks.check(f"INFO has {section}", section in out, out)
checks.check("INFO reports the bound port", f"tcp_port:{server.resp_port}" in out, out)
rc, out, _ = cli("INFO", "engine")
checks.check("INFO engine gives only that section", "# Engine" in out and "# Server" not in out, out)

# redis-cli --scan walks the cursor to the end: every key once.
keys = [f"scan:{i:04d}" for i in range(500)]
pipe_input = b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n" % (len(k), k.encode()) for k in keys)
rc, out, err = cli("--pipe", stdin=pipe_input)
checks.check("--pipe loads 500 keys", rc == 0 and "errors: 0, replies: 500" in out, out + err)
# redis-cli 7.0 has no --count: it scans with SCAN's default COUNT (10), so 500 keys take 50 cursors.
rc, out, _ = cli("--scan", "--pattern", "scan:*")
checks.equal("--scan: every key exactly once, in order", out.splitlines(), keys)
rc, out, _ = cli("--scan", "--pattern", "scan:00?5")
checks.equal("--scan with a ? pattern", out.splitlines(), [f"scan:00{i}5" for i in range(10)])

# Pipelining: 20,000 requests in one stream (SET with binary values, then GETs), one reply each.
stream = []
for i in range(10000):
    key = b"pipe:%d" % i
    value = bytes([i % 256, 0, 13, 10]) + b"x" * (i % 50)
    stream.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(value), value))
for i in range(0, 10000, 1000):
    key = b"pipe:%d" % i
    stream.append(b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(key), key))
rc, out, err = cli("--pipe", stdin=b"".join(stream))
checks.check("--pipe: 10,010 requests, no errors", rc == 0 and "errors: 0, replies: 10010" in out, out + err)
rc, out, _ = cli("--no-raw", "GET", "pipe:258")
checks.equal("a pipelined binary value reads back", out.strip(), '"\\x02\\x00\\r\\n' + "x" * 8 + '"')
rc, out, _ = cli("DBSIZE")
checks.equal("DBSIZE after the pipelines", out.strip(), "10500")

checks.equal("SIGTERM: clean exit", server.stop(), 0)
checks.check("prints 'stopped'", "stopped" in server.lines, server.lines)
checks.finish()
