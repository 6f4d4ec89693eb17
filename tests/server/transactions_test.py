"""mantis-server's transactions and atomic commands, end to end: MULTI/EXEC/DISCARD/WATCH/UNWATCH
(queued replies, EXECABORT, reads inside EXEC that see the writes queued before them, a WATCHed key
changed by another connection -> nil, expiry of a WATCHed key), redis-py's pipeline(transaction=True)
and its WATCH retry loop from racing threads (no increment lost), a bank of transfers whose total
never changes, MSETNX (all or nothing, also racing), INCRBYFLOAT, EXPIRE NX|XX|GT|LT and BGSAVE.

    python3 transactions_test.py path/to/mantis-server
"""
import sys
import tempfile
import threading
import time

from harness import Checks, RespError, Server, command, connect, skip

try:
    import redis
except ImportError:
    skip("redis-py is not installed (Debian package python3-redis; scripts/install-deps.sh installs it)")

checks = Checks()
server = Server(sys.argv[1], "--workers", "2")
a = connect(server.resp_port)
b = connect(server.resp_port)


def err(reply, text):
    return isinstance(reply, RespError) and reply == text


# ---- MULTI / EXEC / DISCARD ---------------------------------------------------------------------
checks.equal("MULTI", command(a, "MULTI"), "OK")
checks.equal("SET is queued", command(a, "SET", "t:k", "1"), "QUEUED")
checks.equal("INCR is queued", command(a, "INCR", "t:k"), "QUEUED")
checks.equal("GET is queued", command(a, "GET", "t:k"), "QUEUED")
checks.equal("nothing is applied before EXEC", command(b, "GET", "t:k"), None)
checks.equal("EXEC: every reply in order; GET sees the queued writes", command(a, "EXEC"), ["OK", 2, b"2"])
checks.equal("applied after EXEC", command(b, "GET", "t:k"), b"2")

command(a, "SET", "t:text", "abc")
command(a, "MULTI")
command(a, "INCR", "t:text")
command(a, "SET", "t:after", "x")
checks.equal("a runtime error is one element; the rest applies",
             command(a, "EXEC"), [RespError("ERR value is not an integer or out of range"), "OK"])
checks.equal("the command after the error applied", command(b, "GET", "t:after"), b"x")

checks.equal("nested MULTI", command(a, "MULTI"), "OK")
checks.check("MULTI inside MULTI is an error", err(command(a, "MULTI"), "ERR MULTI calls can not be nested"))
checks.equal("still queuing", command(a, "SET", "t:nested", "1"), "QUEUED")
checks.equal("EXEC after a nested MULTI runs (no abort)", command(a, "EXEC"), ["OK"])

command(a, "MULTI")
checks.check("arity error while queuing",
             err(command(a, "SET", "t:abort"), "ERR wrong number of arguments for 'set' command"))
checks.equal("later commands are still queued", command(a, "SET", "t:abort", "1"), "QUEUED")
checks.check("EXECABORT", err(command(a, "EXEC"), "EXECABORT Transaction discarded because of previous errors."))
checks.equal("nothing applied after EXECABORT", command(b, "EXISTS", "t:abort"), 0)
command(a, "MULTI")
checks.check("unknown command while queuing", command(a, "NOSUCH", "x").startswith("ERR unknown command 'NOSUCH'"))
checks.check("EXECABORT after an unknown command", command(a, "EXEC").startswith("EXECABORT"))
command(a, "MULTI")
checks.check("SAVE is refused inside MULTI", err(command(a, "SAVE"), "ERR Command not allowed inside a transaction"))
checks.check("EXECABORT after SAVE", command(a, "EXEC").startswith("EXECABORT"))
command(a, "MULTI")
checks.check("WATCH inside MULTI", err(command(a, "WATCH", "x"), "ERR WATCH inside MULTI is not allowed"))
command(a, "PING")
command(a, "UNWATCH")
checks.equal("WATCH inside MULTI does not abort; PING and UNWATCH are queued", command(a, "EXEC"), ["PONG", "OK"])

command(a, "MULTI")
command(a, "SET", "t:discarded", "1")
checks.equal("DISCARD", command(a, "DISCARD"), "OK")
checks.equal("nothing applied after DISCARD", command(b, "EXISTS", "t:discarded"), 0)
checks.check("EXEC without MULTI", err(command(a, "EXEC"), "ERR EXEC without MULTI"))
checks.check("DISCARD without MULTI", err(command(a, "DISCARD"), "ERR DISCARD without MULTI"))
checks.equal("an empty EXEC", (command(a, "MULTI"), command(a, "EXEC")), ("OK", []))

# Reads, TTLs and key-range commands through the transaction's view.
command(a, "FLUSHDB")
command(a, "SET", "t:ttl", "5", "EX", "100")
command(a, "MULTI")
for request in (("INCR", "t:ttl"), ("TTL", "t:ttl"), ("SET", "t:new", "v", "PX", "50000"), ("PTTL", "t:new"),
                ("APPEND", "t:new", "w"), ("PTTL", "t:new"), ("EXPIRE", "t:new", "20", "GT"), ("KEYS", "t:*"),
                ("DEL", "t:ttl"), ("EXISTS", "t:ttl"), ("MGET", "t:ttl", "t:new"), ("SETNX", "t:new", "x"),
                ("GETDEL", "t:new"), ("DBSIZE",)):
    command(a, *request)
replies = command(a, "EXEC")
checks.equal("INCR in EXEC keeps the TTL", replies[:2], [6, 100])
checks.check("PTTL of a key SET earlier in the EXEC", 49000 < replies[3] <= 50000, replies[3])
checks.check("APPEND in EXEC keeps the TTL", 49000 < replies[5] <= 50000, replies[5])
checks.equal("EXPIRE GT against a TTL set in the same EXEC", replies[6], 0)
checks.equal("KEYS sees the queued writes", sorted(replies[7]), [b"t:new", b"t:ttl"])
checks.equal("DEL, EXISTS, MGET, SETNX, GETDEL", replies[8:13], [1, 0, [None, b"vw"], 0, b"vw"])
checks.equal("after EXEC", command(b, "KEYS", "t:*"), [])
command(a, "MSET", "t:1", "a", "t:2", "b")
checks.equal("FLUSHDB inside EXEC", (command(a, "MULTI"), command(a, "FLUSHDB"), command(a, "SET", "t:3", "c"),
                                     command(a, "EXEC")), ("OK", "QUEUED", "QUEUED", ["OK", "OK"]))
checks.equal("only what was written after the FLUSHDB stays", command(b, "KEYS", "*"), [b"t:3"])

# ---- WATCH --------------------------------------------------------------------------------------
command(a, "SET", "w:k", "1")
checks.equal("WATCH", command(a, "WATCH", "w:k", "w:absent"), "OK")
command(b, "SET", "w:k", "2")  # another connection changes the watched key
command(a, "MULTI")
command(a, "SET", "w:k", "3")
command(a, "SET", "w:other", "x")
checks.equal("EXEC after a WATCHed key changed: nil array", command(a, "EXEC"), None)
checks.equal("nothing applied", (command(b, "GET", "w:k"), command(b, "EXISTS", "w:other")), (b"2", 0))
command(a, "MULTI")
command(a, "SET", "w:k", "4")
checks.equal("EXEC dropped the watches: the next EXEC applies", command(a, "EXEC"), ["OK"])

command(a, "WATCH", "w:absent")
command(b, "SET", "w:absent", "now here")
command(a, "MULTI")
command(a, "GET", "w:absent")
checks.equal("a WATCHed absent key that appears", command(a, "EXEC"), None)

command(a, "WATCH", "w:k")
command(a, "SET", "w:k", "mine")  # the same connection, before MULTI: it counts too (as in Redis)
command(a, "MULTI")
command(a, "GET", "w:k")
checks.equal("a WATCHed key changed by the same connection", command(a, "EXEC"), None)

command(a, "WATCH", "w:k")
command(b, "GET", "w:k")
command(b, "SET", "w:unrelated", "1")
command(a, "MULTI")
command(a, "GET", "w:k")
checks.equal("reads and other keys' writes do not abort", command(a, "EXEC"), [b"mine"])

command(a, "WATCH", "w:k")
command(b, "SET", "w:k", "changed")
checks.equal("UNWATCH", command(a, "UNWATCH"), "OK")
command(a, "MULTI")
command(a, "GET", "w:k")
checks.equal("after UNWATCH the change does not matter", command(a, "EXEC"), [b"changed"])

command(a, "WATCH", "w:k")
command(b, "SET", "w:k", "again")
command(a, "MULTI")
command(a, "DISCARD")
command(a, "MULTI")
command(a, "GET", "w:k")
checks.equal("DISCARD dropped the watches", command(a, "EXEC"), [b"again"])

command(a, "SET", "w:short", "v", "PX", "100")
command(a, "WATCH", "w:short")
time.sleep(0.3)
command(a, "MULTI")
command(a, "SET", "w:x", "1")
checks.equal("a WATCHed key that expired: nil array", command(a, "EXEC"), None)

command(a, "WATCH", "w:k")
command(b, "EXPIRE", "w:k", "100")
command(a, "MULTI")
command(a, "PING")
checks.equal("a TTL change counts as a change", command(a, "EXEC"), None)

# ---- redis-py: pipeline(transaction=True) and the WATCH retry loop from racing threads -------------
r = redis.Redis(host="127.0.0.1", port=server.resp_port, socket_timeout=30)
with r.pipeline(transaction=True) as p:
    p.set("py:a", "1").incr("py:a").get("py:a")
    checks.equal("redis-py transaction pipeline", p.execute(), [True, 2, b"2"])

THREADS, ROUNDS = 4, 100
retries = [0] * THREADS


def watch_loop(index):
    client = redis.Redis(host="127.0.0.1", port=server.resp_port, socket_timeout=30)
    for _ in range(ROUNDS):
        with client.pipeline() as p:
            while True:
                try:
                    p.watch("py:counter")
                    value = int(p.get("py:counter") or 0)
                    p.multi()
                    p.set("py:counter", value + 1)
                    p.execute()
                    break
                except redis.WatchError:
                    retries[index] += 1


threads = [threading.Thread(target=watch_loop, args=(i,)) for i in range(THREADS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
checks.equal("WATCH/GET/MULTI/SET loops from 4 threads lose no increment", int(r.get("py:counter")), THREADS * ROUNDS)
print(f"       (WatchError retries: {sum(retries)})")

# A bank: transfers inside MULTI/EXEC guarded by WATCH (no overdraft), readers summing with MGET inside
# MULTI/EXEC (a consistent view): the total never changes.
ACCOUNTS, TOTAL = 8, 8000
r.mset({f"bank:{i}": TOTAL // ACCOUNTS for i in range(ACCOUNTS)})
stop = threading.Event()
bad_sums = []


def transfers(seed):
    import random
    rng = random.Random(seed)
    client = redis.Redis(host="127.0.0.1", port=server.resp_port, socket_timeout=30)
    for _ in range(150):
        src, dst = rng.sample(range(ACCOUNTS), 2)
        amount = rng.randint(1, 50)
        with client.pipeline() as p:
            while True:
                try:
                    p.watch(f"bank:{src}")
                    if int(p.get(f"bank:{src}")) < amount:
                        p.unwatch()
                        break
                    p.multi()
                    p.decrby(f"bank:{src}", amount)
                    p.incrby(f"bank:{dst}", amount)
                    p.execute()
                    break
                except redis.WatchError:
                    pass


def auditor():
    client = redis.Redis(host="127.0.0.1", port=server.resp_port, socket_timeout=30)
    while not stop.is_set():
        with client.pipeline(transaction=True) as p:
            p.mget([f"bank:{i}" for i in range(ACCOUNTS)])
            balances = [int(v) for v in p.execute()[0]]
        if sum(balances) != TOTAL or min(balances) < 0:
            bad_sums.append(balances)


workers = [threading.Thread(target=transfers, args=(i,)) for i in range(3)]
audit = threading.Thread(target=auditor)
audit.start()
for t in workers:
    t.start()
for t in workers:
    t.join()
stop.set()
audit.join()
final = [int(v) for v in r.mget([f"bank:{i}" for i in range(ACCOUNTS)])]
checks.equal("bank: no audit inside MULTI/EXEC saw a wrong total or an overdraft", bad_sums[:3], [])
checks.check("bank: the total holds and no balance is negative", sum(final) == TOTAL and min(final) >= 0, final)

# ---- MSETNX ---------------------------------------------------------------------------------------
checks.equal("MSETNX over absent keys", command(a, "MSETNX", "n:1", "a", "n:2", "b"), 1)
checks.equal("MSETNX when one exists: 0", command(a, "MSETNX", "n:2", "x", "n:3", "c"), 0)
checks.equal("... and nothing written", command(a, "MGET", "n:2", "n:3"), [b"b", None])
checks.check("MSETNX odd arguments", err(command(a, "MSETNX", "n:4", "a", "n:5"),
                                         "ERR wrong number of arguments for 'msetnx' command"))
winners = []


def msetnx_racer(index):
    client = redis.Redis(host="127.0.0.1", port=server.resp_port, socket_timeout=30)
    for round_ in range(50):
        # Overlapping key sets: in each round, at most one of them may win.
        keys = {f"race:{round_}:{(index + j) % 4}": index for j in range(2)}
        if client.msetnx(keys):
            winners.append((round_, index))


threads = [threading.Thread(target=msetnx_racer, args=(i,)) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
owners_ok = True
for round_ in range(50):
    values = r.mget([f"race:{round_}:{k}" for k in range(4)])
    won = [i for (rr, i) in winners if rr == round_]
    # Each winner wrote both its keys; no key written by a loser.
    for i in won:
        owners_ok &= values[i] == str(i).encode() and values[(i + 1) % 4] == str(i).encode()
    owners_ok &= all(v is None or int(v) in won for v in values)
    owners_ok &= 1 <= len(won) <= 2 and (len(won) < 2 or (won[0] - won[1]) % 4 == 2)
checks.check("MSETNX racing from 4 threads: all or nothing, overlapping sets never both win", owners_ok, winners[:10])

# ---- INCRBYFLOAT ----------------------------------------------------------------------------------
for args, want in [(("f:1", "10.5"), b"10.5"), (("f:1", "0.1"), b"10.6"), (("f:1", "-5e3"), b"-4989.39999999999999991"),
                   (("f:2", "3"), b"3"), (("f:2", "-3"), b"0"), (("f:3", "0x10"), b"16"),
                   (("f:4", "5.0000000000000001"), b"5.0000000000000001")]:
    checks.equal(f"INCRBYFLOAT {' '.join(args)}", command(a, "INCRBYFLOAT", *args), want)
command(a, "SET", "f:text", "abc")
checks.check("INCRBYFLOAT on a non-float", err(command(a, "INCRBYFLOAT", "f:text", "1"), "ERR value is not a valid float"))
checks.check("INCRBYFLOAT by a non-float", err(command(a, "INCRBYFLOAT", "f:1", " 1"), "ERR value is not a valid float"))
checks.check("INCRBYFLOAT to infinity",
             err(command(a, "INCRBYFLOAT", "f:1", "inf"), "ERR increment would produce NaN or Infinity"))
command(a, "SET", "f:ttl", "1", "EX", "100")
command(a, "INCRBYFLOAT", "f:ttl", "1.5")
checks.equal("INCRBYFLOAT keeps the TTL", (command(a, "GET", "f:ttl"), command(a, "TTL", "f:ttl")), (b"2.5", 100))

# ---- EXPIRE options -------------------------------------------------------------------------------
command(a, "SET", "e:k", "v")
for args, want in [(("e:k", "100", "XX"), 0), (("e:k", "100", "GT"), 0), (("e:k", "100", "NX"), 1),
                   (("e:k", "200", "NX"), 0), (("e:k", "50", "GT"), 0), (("e:k", "200", "GT"), 1),
                   (("e:k", "300", "LT"), 0), (("e:k", "10", "XX", "LT"), 1), (("e:missing", "10", "LT"), 0)]:
    checks.equal(f"EXPIRE {' '.join(args)}", command(a, "EXPIRE", *args), want)
checks.equal("TTL after the options", command(a, "TTL", "e:k"), 10)
command(a, "PERSIST", "e:k")
checks.equal("LT on a key without TTL (infinite) applies", command(a, "PEXPIRE", "e:k", "5000", "lt"), 1)
checks.check("PTTL", 4000 < command(a, "PTTL", "e:k") <= 5000)
checks.check("an unknown option", err(command(a, "EXPIRE", "e:k", "10", "FOO"), "ERR Unsupported option FOO"))
checks.check("NX with XX", err(command(a, "EXPIRE", "e:k", "10", "NX", "XX"),
                               "ERR NX and XX, GT or LT options at the same time are not compatible"))
checks.check("GT with LT", err(command(a, "EXPIRE", "e:k", "10", "GT", "LT"),
                               "ERR GT and LT options at the same time are not compatible"))
checks.equal("a TTL <= 0 with XX deletes", (command(a, "EXPIRE", "e:k", "-1", "XX"), command(a, "EXISTS", "e:k")), (1, 0))

# ---- BGSAVE ---------------------------------------------------------------------------------------
checks.check("BGSAVE on a memory-only server: NotSupported", command(a, "BGSAVE").startswith("ERR NotSupported"))
with tempfile.TemporaryDirectory() as data_dir:
    durable = Server(sys.argv[1], "--data-dir", data_dir)
    d = connect(durable.resp_port)
    command(d, "SET", "k", "v")
    checks.equal("BGSAVE", command(d, "BGSAVE"), "Background saving started")
    deadline = time.monotonic() + 20
    info = ""
    while time.monotonic() < deadline:
        info = command(d, "INFO", "persistence").decode()
        if "rdb_bgsave_in_progress:0" in info and "rdb_saves:1" in info:
            break
        time.sleep(0.02)
    checks.check("INFO persistence: the BGSAVE finished and succeeded",
                 "rdb_saves:1" in info and "rdb_last_bgsave_status:ok" in info, info)
    checks.check("BGSAVE SCHEDULE", command(d, "BGSAVE", "SCHEDULE") in ("Background saving started",
                                                                     "ERR Background save already in progress"))
    checks.check("BGSAVE junk", err(command(d, "BGSAVE", "junk"), "ERR syntax error"))
    d.close()
    checks.equal("the server stops cleanly after BGSAVE", durable.stop(), 0)

a.close()
b.close()
checks.equal("the server stops cleanly", server.stop(), 0)
checks.finish()
