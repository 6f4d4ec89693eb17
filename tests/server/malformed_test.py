"""Hostile and broken clients against mantis-server: every protocol error gets an error reply and
that one connection is closed; an unknown command is an error and the connection lives on; claimed
lengths allocate nothing until their bytes arrive (RSS stays flat); binary junk, idle and slow
clients, clients that never read their replies, and --max-clients; the server keeps answering
throughout and exits cleanly.

    python3 malformed_test.py path/to/mantis-server
"""
import os
import random
import socket
import sys
import time

from harness import Checks, RespReader, Server, closed_by_peer, command, connect, encode, sanitized

checks = Checks()
server = Server(sys.argv[1], "--workers", "2", "--max-bulk-bytes", "1048576", "--max-arity", "1000",
                "--idle-timeout-ms", "700", "--max-clients", "50")


def alive(name):
    with connect(server.resp_port) as s:
        checks.equal(f"{name}: the server still answers", command(s, "PING"), "PONG")


def protocol_error(name, payload, expected_error):
    with connect(server.resp_port) as s:
        s.sendall(payload)
        try:
            reply = RespReader(s).read()
        except (ConnectionError, OSError) as e:
            reply = e
        checks.check(f"{name}: error reply", isinstance(reply, str) and reply.startswith(expected_error), reply)
        checks.check(f"{name}: connection closed", closed_by_peer(s))
    alive(name)


protocol_error("bad multibulk count", b"*x\r\n", "ERR Protocol error: invalid multibulk length")
protocol_error("arity over --max-arity", b"*1001\r\n", "ERR Protocol error: invalid multibulk length")
protocol_error("bulk over --max-bulk-bytes", b"*2\r\n$3\r\nSET\r\n$1048577\r\n", "ERR Protocol error: invalid bulk length")
protocol_error("negative bulk length", b"*1\r\n$-2\r\n", "ERR Protocol error: invalid bulk length")
protocol_error("not a bulk string", b"*1\r\n+PING\r\n", "ERR Protocol error: expected '$', got '+'")
protocol_error("bulk without its CRLF", b"*1\r\n$4\r\nPINGxx", "ERR Protocol error: bulk string is not followed by CRLF")
protocol_error("endless count line", b"*" + b"9" * 100, "ERR Protocol error: too big mbulk count string")
protocol_error("inline line over 64 KiB", b"A" * 70000, "ERR Protocol error: too big inline request")

# Requests before a protocol error are answered first (pipelining order is kept).
with connect(server.resp_port) as s:
    s.sendall(encode("SET", "before", "1") + encode("GET", "before") + b"*1\r\n$x\r\n")
    reader = RespReader(s)
    replies = [reader.read(), reader.read(), reader.read()]
    checks.equal("pipelined requests before the error are answered", replies[:2], ["OK", b"1"])
    checks.check("then the protocol error", replies[2].startswith("ERR Protocol error"), replies)
    checks.check("then the close", closed_by_peer(s))

# Unknown commands and wrong arity are ordinary errors: the connection stays usable.
with connect(server.resp_port) as s:
    reply = command(s, "FLUBBER", "x")
    checks.check("unknown command: an error", reply.startswith("ERR unknown command 'FLUBBER'"), reply)
    checks.check("arity error", command(s, "GET", "a", "b").startswith("ERR wrong number of arguments"))
    checks.check("an over-long key is refused with a clear error",
                 command(s, "SET", "k" * 70000, "v").startswith("ERR InvalidArgument"))
    checks.equal("the refused key was not written", command(s, "EXISTS", "k" * 70000), 0)
    checks.equal("the connection still works", command(s, "PING"), "PONG")

# Binary junk: random bytes (seeded), each batch on a new connection. The server answers an error
# or waits for more; it never crashes.
rng = random.Random(1234)
for i in range(30):
    with connect(server.resp_port) as s:
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4096)))
        if i % 3 == 0:
            junk = b"*3\r\n$3\r\nSET\r\n$" + junk
        try:
            s.sendall(junk)
            s.settimeout(0.2)
            s.recv(65536)
        except (socket.timeout, ConnectionError, OSError):
            pass
alive("after 30 connections of binary junk")

# A claimed length costs nothing until the bytes arrive: 40 connections each announce a 1 MiB bulk
# string (the limit) and an arity of 1000, then send 3 bytes. RSS must not grow by anywhere near 40 MiB.
rss_before = server.rss_kib()
held = []
for _ in range(40):
    s = connect(server.resp_port)
    s.sendall(b"*1000\r\n$3\r\nSET\r\n$1048576\r\nabc")
    held.append(s)
time.sleep(0.3)
growth_kib = server.rss_kib() - rss_before
checks.check(f"40 claimed 1 MiB bulks grow RSS by < 8 MiB (grew {growth_kib} KiB)", growth_kib < 8 * 1024, growth_kib)

# Idle and slow clients are closed after --idle-timeout-ms (700 ms): the held half-requests above,
# a connection that sends nothing, and one that sends a byte every 200 ms without completing a request.
idle = connect(server.resp_port)
slow = connect(server.resp_port)
start = time.monotonic()
slow_closed = False
partial = b"*2\r\n$3\r\nGET\r\n$100\r\n" + b"x" * 100
for i in range(len(partial)):
    try:
        slow.sendall(partial[i:i + 1])
    except OSError:
        slow_closed = True
        break
    time.sleep(0.2)
    if time.monotonic() - start > 4:
        break
checks.check("a slow-loris client is closed", slow_closed or closed_by_peer(slow, 2))
checks.check("an idle client is closed", closed_by_peer(idle, 3))
checks.check("the held half-requests are closed", all(closed_by_peer(s, 3) for s in held))
for s in held + [idle, slow]:
    s.close()
with connect(server.resp_port) as s:
    info = command(s, "INFO", "stats").decode()
    checks.check("INFO counts the idle timeouts", "idle_timeouts:" in info and "idle_timeouts:0\r" not in info, info)

# A client that pipelines GETs of a large value and never reads: the server stops reading it
# (backpressure) and closes it after the idle timeout; memory stays bounded.
with connect(server.resp_port) as s:
    command(s, "SET", "large", b"v" * 1000000)
def idle_timeouts():
    with connect(server.resp_port) as s:
        info = command(s, "INFO", "stats").decode()
    return int(info.split("idle_timeouts:")[1].split("\r")[0])


timeouts_before = idle_timeouts()
rss_before = server.rss_kib()
hog = connect(server.resp_port)
hog.settimeout(0.5)
sent = 0
try:
    for _ in range(2000):
        hog.sendall(encode("GET", "large") * 10)
        sent += 10
except (socket.timeout, OSError):
    pass
time.sleep(1.5)
growth_kib = server.rss_kib() - rss_before
# The server's replies to one client are bounded by its output batch (16 MiB, a 32 MiB string while it
# grows); unbounded, they would be `sent` MB. A sanitizer adds shadow memory for every byte touched
# (TSan about 4 bytes per byte) and keeps freed memory, so its budget is 5x.
reply_budget_mib = 96 * (5 if sanitized() else 1)
checks.check(f"a client not reading replies: RSS grows < {reply_budget_mib} MiB "
             f"(grew {growth_kib} KiB after {sent} GETs of 1 MB)", growth_kib < reply_budget_mib * 1024, growth_kib)
# Not by reading from it (that would be reading the replies, which is progress): the server counts it.
deadline = time.monotonic() + 10
while idle_timeouts() < timeouts_before + 1 and time.monotonic() < deadline:
    time.sleep(0.1)
checks.check("and it is closed after the idle timeout (INFO idle_timeouts)", idle_timeouts() >= timeouts_before + 1)
hog.close()
alive("after the client that did not read")

# --max-clients 50: the 51st connection gets Redis's error and is closed; the others work. First
# wait until the server has seen every earlier connection go (only the asking one is left).
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    with connect(server.resp_port) as s:
        if "connected_clients:1\r" in command(s, "INFO", "clients").decode():
            break
    time.sleep(0.05)
time.sleep(0.1)  # and that the asking connection itself is gone
clients = [connect(server.resp_port) for _ in range(50)]
for c in clients[:3]:
    command(c, "PING")
time.sleep(0.1)
extra = connect(server.resp_port)
extra.settimeout(5)
data = b""
try:
    data = extra.recv(1024)
except OSError:
    pass
checks.equal("the 51st client: max number of clients reached", data, b"-ERR max number of clients reached\r\n")
checks.check("and is closed", closed_by_peer(extra))
checks.equal("the 50 admitted clients work", [command(c, "PING") for c in clients[-3:]], ["PONG"] * 3)
for c in clients:
    c.close()
time.sleep(0.2)
alive("after the clients left")

# QUIT answers OK and closes.
with connect(server.resp_port) as s:
    checks.equal("QUIT: OK", command(s, "QUIT"), "OK")
    checks.check("QUIT: closed", closed_by_peer(s))

checks.equal("SIGTERM: clean exit", server.stop(), 0)
checks.finish()
