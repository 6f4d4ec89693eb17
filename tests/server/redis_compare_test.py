"""mantis-server against redis-server itself (Debian redis-server 7.0): the same script of commands,
over two connections, to both; every reply must be the same bytes. Covers MULTI/EXEC/DISCARD/WATCH/
UNWATCH (a WATCHed key changed by the other connection, EXECABORT), MSETNX, INCRBYFLOAT, EXPIRE
NX|XX|GT|LT and the string commands around them. Skipped (77) without redis-server; the redis-server
it starts runs on a free port with a scratch directory, no persistence, and is stopped at the end.

    python3 redis_compare_test.py path/to/mantis-server
"""
import subprocess
import sys
import tempfile

from harness import Checks, Server, connect, encode, free_port, require_tool, wait_for_port

redis_server = require_tool("redis-server", "redis-server")
checks = Checks()

# (connection, command...). Replies that depend on the clock are avoided (TTL in seconds right after
# setting it is stable; PTTL is not).
SCRIPT = [
    (0, "FLUSHALL"),
    (0, "SET", "k", "1"),
    (0, "MULTI"), (0, "INCR", "k"), (0, "GET", "k"), (0, "SET", "s", "x", "GET"), (0, "APPEND", "s", "yz"),
    (0, "INCR", "s"), (0, "DEL", "k", "nope"), (0, "EXISTS", "k", "s"), (0, "MGET", "k", "s"), (0, "EXEC"),
    (0, "MULTI"), (0, "MULTI"), (0, "SET", "n", "1"), (0, "EXEC"),
    (0, "MULTI"), (0, "SET", "a"), (0, "SET", "a", "1"), (0, "EXEC"), (0, "EXISTS", "a"),
    (0, "MULTI"), (0, "NOSUCH", "x", "y"), (0, "EXEC"),
    (0, "MULTI"), (0, "SAVE"), (0, "EXEC"),
    (0, "MULTI"), (0, "WATCH", "k"), (0, "PING"), (0, "UNWATCH"), (0, "ECHO", "e"), (0, "EXEC"),
    (0, "MULTI"), (0, "SET", "d", "1"), (0, "DISCARD"), (0, "GET", "d"),
    (0, "EXEC"), (0, "DISCARD"), (0, "MULTI"), (0, "EXEC"),
    (0, "SET", "w", "1"), (0, "WATCH", "w", "w2"), (1, "SET", "w", "2"),
    (0, "MULTI"), (0, "SET", "w", "3"), (0, "EXEC"), (0, "GET", "w"),
    (0, "WATCH", "w2"), (1, "SET", "w2", "here"), (0, "MULTI"), (0, "GET", "w2"), (0, "EXEC"),
    (0, "WATCH", "w"), (1, "GET", "w"), (0, "MULTI"), (0, "INCR", "w"), (0, "EXEC"),
    (0, "WATCH", "w"), (1, "SET", "w", "9"), (0, "UNWATCH"), (0, "MULTI"), (0, "INCR", "w"), (0, "EXEC"),
    (0, "WATCH", "w"), (1, "EXPIRE", "w", "100"), (0, "MULTI"), (0, "PING"), (0, "EXEC"),
    (0, "MSETNX", "m1", "a", "m2", "b"), (0, "MSETNX", "m2", "x", "m3", "y"), (0, "MGET", "m1", "m2", "m3"),
    (0, "MSETNX", "m4", "a", "m5"), (0, "MSETNX", "m4"),
    (0, "MULTI"), (0, "MSETNX", "m6", "1", "m7", "2"), (0, "MSETNX", "m7", "3"), (0, "MGET", "m6", "m7"), (0, "EXEC"),
    (0, "INCRBYFLOAT", "f", "10.5"), (0, "INCRBYFLOAT", "f", "0.1"), (0, "INCRBYFLOAT", "f", "-5e3"),
    (0, "INCRBYFLOAT", "f", "1e300"), (0, "INCRBYFLOAT", "f2", "3"), (0, "INCRBYFLOAT", "f2", "-3.0"),
    (0, "INCRBYFLOAT", "f3", "0x10"), (0, "INCRBYFLOAT", "f4", "1.0e1"), (0, "INCRBYFLOAT", "f5", "-0.0"),
    (0, "INCRBYFLOAT", "f6", "abc"), (0, "INCRBYFLOAT", "f6", " 1"), (0, "INCRBYFLOAT", "f6", "1 "),
    (0, "INCRBYFLOAT", "f6", "nan"), (0, "INCRBYFLOAT", "f2", "inf"), (0, "SET", "f7", "inf"),
    (0, "INCRBYFLOAT", "f7", "1"), (0, "INCRBYFLOAT", "s", "1"), (0, "INCRBYFLOAT", "f8", "5.0000000000000001"),
    (0, "INCRBYFLOAT", "f9", "1.23456789012345678901"), (0, "INCRBYFLOAT", "f10", "1e-20"),
    (0, "INCRBYFLOAT", "f11", "-1.5"), (0, "INCRBYFLOAT", "f12", "1e5000"), (0, "INCRBYFLOAT", "f"),
    (0, "SET", "e", "v"), (0, "EXPIRE", "e", "100", "XX"), (0, "EXPIRE", "e", "100", "GT"),
    (0, "EXPIRE", "e", "100", "NX"), (0, "TTL", "e"), (0, "EXPIRE", "e", "200", "NX"), (0, "EXPIRE", "e", "50", "GT"),
    (0, "EXPIRE", "e", "200", "gt"), (0, "TTL", "e"), (0, "EXPIRE", "e", "300", "LT"), (0, "EXPIRE", "e", "10", "XX", "LT"),
    (0, "TTL", "e"), (0, "PERSIST", "e"), (0, "EXPIRE", "e", "10", "GT"), (0, "EXPIRE", "e", "10", "LT"), (0, "TTL", "e"),
    (0, "EXPIRE", "e", "abc", "NX"), (0, "EXPIRE", "e", "10", "FOO"), (0, "EXPIRE", "e", "10", "NX", "XX"),
    (0, "EXPIRE", "e", "10", "GT", "LT"), (0, "EXPIRE", "e", "100", "XX", "GT", "XX"), (0, "EXPIRE", "nope", "10", "NX"),
    (0, "PEXPIRE", "e", "-1", "XX"), (0, "EXISTS", "e"), (0, "EXPIRE", "e"),
    (0, "SET", "e2", "v"), (0, "EXPIRE", "e2", "-5", "LT"), (0, "EXISTS", "e2"),
    (0, "MULTI"), (0, "SET", "t", "5", "EX", "100"), (0, "INCR", "t"), (0, "TTL", "t"), (0, "EXPIRE", "t", "50", "GT"),
    (0, "EXPIRE", "t", "50", "LT"), (0, "TTL", "t"), (0, "PERSIST", "t"), (0, "TTL", "t"), (0, "GETEX", "t", "EX", "20"),
    (0, "TTL", "t"), (0, "SETNX", "t", "z"), (0, "GETSET", "t", "6"), (0, "GETDEL", "t"), (0, "STRLEN", "s"),
    (0, "SETEX", "t2", "30", "v"), (0, "TTL", "t2"), (0, "SET", "t2", "w", "KEEPTTL"), (0, "TTL", "t2"),
    (0, "SET", "t3", "v", "NX", "GET"), (0, "SET", "t3", "w", "XX"), (0, "DECRBY", "t3", "1"), (0, "EXEC"),
    (0, "TTL", "t2"), (0, "GET", "t3"),
]


def read_raw(sock, buf):
    """Reads one whole reply; returns (its bytes, the rest of the buffer)."""
    def need(n):
        nonlocal buf
        while len(buf) < n:
            data = sock.recv(1 << 16)
            if not data:
                raise ConnectionError("closed")
            buf += data

    def one(pos):
        while True:
            end = buf.find(b"\r\n", pos)
            if end >= 0:
                break
            need(len(buf) + 1)
        kind, value = buf[pos:pos + 1], buf[pos + 1:end]
        pos = end + 2
        if kind == b"$" and int(value) >= 0:
            need(pos + int(value) + 2)
            return pos + int(value) + 2
        if kind == b"*" and int(value) > 0:
            for _ in range(int(value)):
                pos = one(pos)
        return pos

    end = one(0)
    return buf[:end], buf[end:]


def run(port):
    socks = [connect(port), connect(port)]
    bufs = [b"", b""]
    replies = []
    for conn, *args in SCRIPT:
        socks[conn].sendall(encode(*args))
        raw, bufs[conn] = read_raw(socks[conn], bufs[conn])
        replies.append(raw)
    for s in socks:
        s.close()
    return replies


with tempfile.TemporaryDirectory() as scratch:
    port = free_port()
    redis = subprocess.Popen([redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", scratch, "--daemonize", "no"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_for_port(port):
            checks.check("redis-server starts", False)
            checks.finish()
        want = run(port)
    finally:
        redis.terminate()
        try:
            redis.wait(10)
        except subprocess.TimeoutExpired:
            redis.kill()
            redis.wait()

server = Server(sys.argv[1])
got = run(server.resp_port)
for (conn, *args), w, g in zip(SCRIPT, want, got):
    checks.equal(f"[{conn}] {' '.join(args)}", g, w)
checks.equal("the server stops cleanly", server.stop(), 0)
checks.finish()
