"""mantis-server driven by redis-py (Debian python3-redis), a second real client: binary keys and
values, pipelines, MSET/MGET, expiry that really expires, SCAN iteration (also while other keys
change), KEYS, DBSIZE, INFO, FLUSHDB, SET NX racing from threads (exactly one wins)
and INCR racing from threads (none lost).

    python3 python_client_test.py path/to/mantis-server
"""
import sys
import threading
import time

from harness import Checks, Server, skip

try:
    import redis
except ImportError:
    skip("redis-py is not installed (Debian package python3-redis; scripts/install-deps.sh installs it)")

checks = Checks()
server = Server(sys.argv[1], "--workers", "2")
r = redis.Redis(host="127.0.0.1", port=server.resp_port, socket_timeout=30)

checks.check("ping", r.ping())
all_bytes = bytes(range(256))
checks.check("set a value holding every byte value", r.set(b"bin\x00key\xff", all_bytes))
checks.equal("get it back", r.get(b"bin\x00key\xff"), all_bytes)
big = bytes(i % 251 for i in range(3 << 20))
checks.check("set a 3 MiB value", r.set("big", big))
checks.equal("get the 3 MiB value", r.get("big"), big)
checks.equal("get a missing key", r.get("missing"), None)

pipe = r.pipeline(transaction=False)
for i in range(1000):
    pipe.set(f"p:{i:04d}", f"value {i}".encode())
checks.check("a pipeline of 1000 SETs", all(pipe.execute()))
pipe = r.pipeline(transaction=False)
for i in range(1000):
    pipe.get(f"p:{i:04d}")
checks.equal("a pipeline of 1000 GETs", pipe.execute(), [f"value {i}".encode() for i in range(1000)])

checks.check("mset", r.mset({"m1": b"a", "m2": b"b", b"m\x003": b"c\x00"}))
checks.equal("mget", r.mget(["m1", "nope", b"m\x003"]), [b"a", None, b"c\x00"])
checks.equal("exists counts", r.exists("m1", "m2", "nope"), 2)
checks.equal("delete counts what existed", r.delete("m1", "m2", "nope"), 2)

checks.check("set with px", r.set("short", "lived", px=300))
ttl_ms = r.pttl("short")
checks.check("pttl is within (0, 300]", 0 < ttl_ms <= 300, ttl_ms)
deadline = time.monotonic() + 5
while r.get("short") is not None and time.monotonic() < deadline:
    time.sleep(0.05)
checks.equal("the key expires", r.get("short"), None)
checks.equal("ttl of the expired key", r.ttl("short"), -2)
checks.check("setex", r.setex("sx", 100, "v"))
checks.check("ttl after setex", 99 <= r.ttl("sx") <= 100, r.ttl("sx"))
checks.check("expire", r.expire("p:0000", 50))
checks.check("persist", r.persist("p:0000"))
checks.equal("ttl after persist", r.ttl("p:0000"), -1)
checks.check("pexpire to 1 ms", r.pexpire("p:0001", 1))
time.sleep(0.05)
checks.equal("gone after pexpire", r.get("p:0001"), None)

checks.equal("set nx on an existing key", r.set("p:0002", "x", nx=True), None)
checks.equal("set xx on a missing key", r.set("nope", "x", xx=True), None)
checks.equal("set get returns the old value", r.set("p:0002", "new", get=True), b"value 2")

scanned = list(r.scan_iter(match="p:*", count=7))
checks.equal("scan_iter: every p: key once", sorted(scanned), [f"p:{i:04d}".encode() for i in range(1000) if i != 1])
checks.equal("scan_iter returns in key order", scanned, sorted(scanned))
checks.equal("keys with a pattern", sorted(r.keys("p:000?")), [f"p:000{i}".encode() for i in range(10) if i != 1])

# SCAN while another thread inserts and deletes other keys: it terminates and returns every key
# that was present for the whole scan exactly once.
stop = threading.Event()


def churn():
    c = redis.Redis(host="127.0.0.1", port=server.resp_port, socket_timeout=30)
    i = 0
    while not stop.is_set():
        c.set(f"p:{i % 997:04d}x", "churn")
        c.delete(f"p:{(i * 7) % 997:04d}x")
        i += 1


thread = threading.Thread(target=churn)
thread.start()
try:
    seen = [k for k in r.scan_iter(match="p:*", count=5)]
finally:
    stop.set()
    thread.join(30)
stable = [k for k in seen if not k.endswith(b"x")]
checks.equal("scan under churn: the stable keys exactly once",
             stable, [f"p:{i:04d}".encode() for i in range(1000) if i != 1])

# SET NX from 8 threads on 50 keys: every key has exactly one winner.
wins = [0] * 50
lock = threading.Lock()


def racer(n):
    c = redis.Redis(host="127.0.0.1", port=server.resp_port, socket_timeout=30)
    for k in range(50):
        if c.set(f"race:{k}", f"thread {n}", nx=True):
            with lock:
                wins[k] += 1


threads = [threading.Thread(target=racer, args=(n,)) for n in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join(60)
checks.equal("SET NX: exactly one winner per key", wins, [1] * 50)

# INCR from 8 threads, 200 each, on one key: no increment is lost.
def incrementer():
    c = redis.Redis(host="127.0.0.1", port=server.resp_port, socket_timeout=30)
    for _ in range(200):
        c.incr("shared-counter")


threads = [threading.Thread(target=incrementer) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join(60)
checks.equal("INCR: no increment lost", r.get("shared-counter"), b"1600")

info = r.info()
checks.check("info parses into a dict with the server's port", info.get("tcp_port") == server.resp_port, info)
checks.check("info counts commands", info.get("total_commands_processed", 0) > 2000, info)
checks.equal("dbsize", r.dbsize(), len(r.keys("*")))
checks.check("flushdb", r.flushdb())
checks.equal("dbsize after flushdb", r.dbsize(), 0)
checks.equal("get after flushdb", r.get("big"), None)
try:
    r.execute_command("NOSUCH")
    checks.check("an unknown command raises", False)
except redis.ResponseError as e:
    checks.check("an unknown command raises ResponseError", "unknown command" in str(e), e)
checks.check("the connection still works after an error", r.ping())
r.close()

checks.equal("SIGTERM: clean exit", server.stop(), 0)
checks.finish()
