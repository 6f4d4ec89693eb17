"""A durable mantis-server killed with SIGKILL, then restarted on the same --data-dir: every SET it
acknowledged is there, deletes and TTLs included (async and periodic durability); a SIGTERM stop
then syncs and exits 0, and a restart after it sees the same data; SAVE writes a snapshot; a backup
taken over HTTP (POST /api/v1/backup, --backup-dir) opens as a data directory of its own.

    python3 durable_restart_test.py path/to/mantis-server
"""
import os
import signal
import shutil
import sys
import tempfile
import urllib.error
import urllib.request

from harness import Checks, RespReader, Server, command, connect, encode

checks = Checks()
binary = sys.argv[1]
work = tempfile.mkdtemp(prefix="mantis-durable-test.")
backups = os.path.join(work, "backups")
os.mkdir(backups)


def http_post(port, path):
    """(status, body) of a POST with no body."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="POST", data=b"")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
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

        server = Server(binary, "--data-dir", data_dir, "--durability", durability, "--backup-dir", backups)
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
            if durability == "async":
                backup = http_post(server.http_port, "/api/v1/backup?name=copy-1")
                checks.equal("backup over HTTP: 201", backup[0], 201)
                checks.check("backup over HTTP: names its directory", b"copy-1" in backup[1], backup)
                checks.equal("a second backup of that name: 400", http_post(server.http_port,
                                                                            "/api/v1/backup?name=copy-1")[0], 400)
                checks.equal("a name that leaves the backup dir: 400",
                             http_post(server.http_port, "/api/v1/backup?name=..")[0], 400)
                checks.equal("a name with a slash: 400",
                             http_post(server.http_port, "/api/v1/backup?name=a%2Fb")[0], 400)
        checks.equal(f"{durability}: SIGTERM exits 0", server.stop(), 0)
        checks.check(f"{durability}: 'stopped' printed", "stopped" in server.lines, server.lines)

        server = Server(binary, "--data-dir", data_dir, "--durability", durability)
        with connect(server.resp_port) as s:
            checks.equal(f"{durability}: after a clean stop, the data is there",
                         [command(s, "GET", "after"), command(s, "GET", "counter"), command(s, "DBSIZE")],
                         [b"restart", b"1", KEYS - 2 + 5])
        checks.equal(f"{durability}: SIGINT exits 0 as well", server.stop(signal.SIGINT), 0)
        if durability == "async":
            # The backup opens as a data directory: every key up to the moment it was taken.
            server = Server(binary, "--data-dir", os.path.join(backups, "copy-1"))
            with connect(server.resp_port) as s:
                checks.equal("the backup serves what was there when it was taken",
                             [command(s, "GET", "after"), command(s, "GET", "k:00002"), command(s, "DBSIZE")],
                             [b"restart", b"v\x002", KEYS - 2 + 5])
            checks.equal("the backup's server exits 0", server.stop(), 0)
            server = Server(binary)
            checks.equal("a server without --backup-dir refuses backups: 403",
                         http_post(server.http_port, "/api/v1/backup?name=x")[0], 403)
            server.stop()
finally:
    shutil.rmtree(work, ignore_errors=True)
checks.finish()
