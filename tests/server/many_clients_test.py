"""Hundreds of concurrent Redis-protocol connections against mantis-server: 400 clients, all open
at once, each pipelining SETs and GETs of its own keys over several rounds from 20 threads; every
reply is checked, INFO counts the clients, and the server's RSS stays bounded.

    python3 many_clients_test.py path/to/mantis-server
"""
import sys
import threading

from harness import Checks, RespReader, Server, command, connect, encode, sanitized

CLIENTS = 400
THREADS = 20
ROUNDS = 5
PIPELINE = 20

checks = Checks()
server = Server(sys.argv[1], "--workers", "2")
rss_start = server.rss_kib()
errors = []
ready = threading.Barrier(THREADS + 1, timeout=60)
done = threading.Barrier(THREADS + 1, timeout=120)


def client_thread(t):
    try:
        socks = [connect(server.resp_port, timeout=60) for _ in range(CLIENTS // THREADS)]
        ready.wait()
        for rnd in range(ROUNDS):
            for n, s in enumerate(socks):
                requests = []
                for i in range(PIPELINE):
                    key = f"c{t}:{n}:{i}"
                    requests.append(encode("SET", key, f"{rnd}:{key}" * 10))
                    requests.append(encode("GET", key))
                s.sendall(b"".join(requests))
            for n, s in enumerate(socks):
                reader = RespReader(s)
                for i in range(PIPELINE):
                    key = f"c{t}:{n}:{i}"
                    ok, value = reader.read(), reader.read()
                    if ok != "OK" or value != (f"{rnd}:{key}" * 10).encode():
                        errors.append((key, ok, value))
        done.wait()  # keep every connection open until all threads are through
        for s in socks:
            s.close()
    except Exception as e:  # reported below; the barriers must not hang the other threads
        errors.append(repr(e))
        ready.abort()
        done.abort()


threads = [threading.Thread(target=client_thread, args=(t,)) for t in range(THREADS)]
for t in threads:
    t.start()
try:
    ready.wait()
    with connect(server.resp_port) as s:
        info = command(s, "INFO", "clients").decode()
    checks.check(f"INFO: {CLIENTS} + 1 connected clients", f"connected_clients:{CLIENTS + 1}\r" in info, info)
    done.wait()
except threading.BrokenBarrierError:
    pass
for t in threads:
    t.join(120)
checks.equal("every reply of every client is right", errors[:5], [])
rss_peak = server.rss_kib()
budget = (512 if sanitized() else 128) * 1024
checks.check(f"RSS grew by < {budget // 1024} MiB with {CLIENTS} clients ({rss_start} -> {rss_peak} KiB)",
             rss_peak - rss_start < budget, rss_peak - rss_start)
with connect(server.resp_port) as s:
    checks.equal("all keys written", command(s, "DBSIZE"), CLIENTS * PIPELINE)
    info = command(s, "INFO", "clients").decode()
    checks.check("the clients are gone from INFO", "connected_clients:1\r" in info, info)

checks.equal("SIGTERM: clean exit", server.stop(), 0)
checks.finish()
