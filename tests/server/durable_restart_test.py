"""A durable mantis-server killed with SIGKILL, then restarted on the same --data-dir: every SET it
acknowledged is there, deletes and TTLs included (async and periodic durability); a SIGTERM stop
then syncs and exits 0, and a restart after it sees the same data; SAVE writes a snapshot.

    python3 durable_restart_test.py path/to/mantis-server
"""
import os
import signal
import shutil
import sys
import tempfile

from harness import Checks, RespReader, Server, command, connect, encode

checks = Checks()
binary = sys.argv[1]
work = tempfile.mkdtemp(prefix="mantis-durable-test.")
KEYS = 3000

try:
    for durability in ("async", "periodic"):
        data_dir = os.path.join(work, durability)
        server = Server(binary, "--data-dir", data_dir, "--durability", durability)
        with connect(server.resp_port) as s:
            reader = RespReader(s)
            batch = b"".join(encode("SET", f"k:{i:05d}", b"v\x00" + str(i).encode()) for i in range(KEYS))
            s.sendall(batch)
            acked = [reader.read() for _ in range(KEYS)]
            checks.equal(f"{durability}: {KEYS} SETs acknowledged", acked.count("OK"), KEYS)
            s.sendall(encode("DEL", "k:00000", "k:00001") + encode("SET", "ttl", "x", "EX", "1000")
                      + encode("MSET", "m:1", "a", "m:2", "b"))
            checks.equal(f"{durability}: DEL, SET EX, MSET acknowledged",
                         [reader.read(), reader.read(), reader.read()], [2, "OK", "OK"])
        checks.equal(f"{durability}: SIGKILL", server.stop(signal.SIGKILL), -signal.SIGKILL)

        server = Server(binary, "--data-dir", data_dir, "--durability", durability)
        with connect(server.resp_port) as s:
            reader = RespReader(s)
            s.sendall(b"".join(encode("GET", f"k:{i:05d}") for i in range(KEYS)))
            values = [reader.read() for _ in range(KEYS)]
            want = [None, None] + [b"v\x00" + str(i).encode() for i in range(2, KEYS)]
            missing = [i for i in range(KEYS) if values[i] != want[i]]
            checks.equal(f"{durability}: after the kill, every acknowledged SET and DEL is there", missing[:10], [])
            ttl = command(s, "TTL", "ttl")
            checks.check(f"{durability}: the TTL survived", 990 <= ttl <= 1000, ttl)
            checks.equal(f"{durability}: the MSET survived", command(s, "MGET", "m:1", "m:2"), [b"a", b"b"])
            checks.equal(f"{durability}: DBSIZE", command(s, "DBSIZE"), KEYS - 2 + 3)
            checks.equal(f"{durability}: a write after recovery", command(s, "SET", "after", "restart"), "OK")
            checks.equal(f"{durability}: SAVE writes a snapshot", command(s, "SAVE"), "OK")
            checks.check(f"{durability}: the snapshot is in the data dir",
                         any(name.startswith("snap-") for name in os.listdir(data_dir)), os.listdir(data_dir))
            checks.equal(f"{durability}: INCR after recovery", command(s, "INCR", "counter"), 1)
        checks.equal(f"{durability}: SIGTERM exits 0", server.stop(), 0)
        checks.check(f"{durability}: 'stopped' printed", "stopped" in server.lines, server.lines)

        server = Server(binary, "--data-dir", data_dir, "--durability", durability)
        with connect(server.resp_port) as s:
            checks.equal(f"{durability}: after a clean stop, the data is there",
                         [command(s, "GET", "after"), command(s, "GET", "counter"), command(s, "DBSIZE")],
                         [b"restart", b"1", KEYS - 2 + 5])
        checks.equal(f"{durability}: SIGINT exits 0 as well", server.stop(signal.SIGINT), 0)
finally:
    shutil.rmtree(work, ignore_errors=True)
checks.finish()
