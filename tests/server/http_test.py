"""mantis-server's HTTP API driven by curl: /health, /api/v1/stats (JSON), /metrics (the Prometheus
text parsed line by line), and GET/PUT/DELETE /api/v1/kv/{key} with percent-encoded binary keys,
binary bodies, ttl_ms, and every error status; the same data seen through the Redis protocol.

    python3 http_test.py path/to/mantis-server
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

from harness import Checks, Server, command, connect, require_tool

curl = require_tool("curl", "curl")
checks = Checks()
server = Server(sys.argv[1])
base = f"http://127.0.0.1:{server.http_port}"
work = tempfile.mkdtemp(prefix="mantis-http-test.")


def http(method, path, body=None):
    """(status, body bytes, content type) of one request."""
    args = [curl, "-s", "-S", "--max-time", "20", "-X", method, "-o", os.path.join(work, "body"),
            "-w", "%{http_code} %{content_type}", base + path]
    if body is not None:
        with open(os.path.join(work, "request"), "wb") as f:
            f.write(body)
        args += ["--data-binary", "@" + os.path.join(work, "request"), "-H", "Content-Type: application/octet-stream"]
    result = subprocess.run(args, capture_output=True, timeout=30)
    status, _, content_type = result.stdout.decode().partition(" ")
    with open(os.path.join(work, "body"), "rb") as f:
        return int(status or 0), f.read(), content_type


status, body, ctype = http("GET", "/health")
checks.equal("/health is 200", status, 200)
checks.equal("/health says ok", json.loads(body), {"status": "ok"})

value = bytes(range(256)) * 10
status, _, _ = http("PUT", "/api/v1/kv/user%3A1", value)
checks.equal("PUT a binary value: 204", status, 204)
status, body, ctype = http("GET", "/api/v1/kv/user%3A1")
checks.equal("GET it: 200", status, 200)
checks.equal("GET it: the same bytes", body, value)
checks.equal("GET it: octet-stream", ctype, "application/octet-stream")

binary_key = b"k\x00e/y\n\xff"
encoded = "".join(f"%{b:02X}" for b in binary_key)
status, _, _ = http("PUT", "/api/v1/kv/" + encoded, b"")
checks.equal("PUT an empty value under a key with NUL, '/', LF and 0xff: 204", status, 204)
sock = connect(server.resp_port)
checks.equal("the Redis protocol sees the HTTP write under the same bytes", command(sock, "GET", binary_key), b"")
command(sock, "SET", "from-resp", "hello")
status, body, _ = http("GET", "/api/v1/kv/from-resp")
checks.equal("HTTP sees the Redis-protocol write", (status, body), (200, b"hello"))

status, _, _ = http("PUT", "/api/v1/kv/temp?ttl_ms=300", b"soon gone")
checks.equal("PUT with ttl_ms: 204", status, 204)
pttl = command(sock, "PTTL", "temp")
checks.check("the TTL is set", 0 < pttl <= 300, pttl)
deadline = time.monotonic() + 5
while http("GET", "/api/v1/kv/temp")[0] == 200 and time.monotonic() < deadline:
    time.sleep(0.05)
checks.equal("the key expires: 404", http("GET", "/api/v1/kv/temp")[0], 404)
status, _, _ = http("PUT", "/api/v1/kv/forever?ttl_ms=0", b"v")
checks.equal("ttl_ms=0 means no expiry", (status, command(sock, "TTL", "forever")), (204, -1))

for bad in ("abc", "-1", "", "1.5", "99999999999999999999"):
    status, body, _ = http("PUT", f"/api/v1/kv/bad?ttl_ms={bad}", b"v")
    checks.equal(f"ttl_ms={bad!r}: 400", status, 400)
checks.equal("a refused PUT writes nothing", http("GET", "/api/v1/kv/bad")[0], 404)
status, body, _ = http("PUT", "/api/v1/kv/" + "k" * 70000, b"v")
checks.check("a key over the engine's 64 KiB limit: 400 (or 414 from the HTTP layer)", status in (400, 414), status)

checks.equal("GET a missing key: 404", http("GET", "/api/v1/kv/missing")[0], 404)
checks.equal("DELETE an existing key: 204", http("DELETE", "/api/v1/kv/user%3A1")[0], 204)
checks.equal("GET after DELETE: 404", http("GET", "/api/v1/kv/user%3A1")[0], 404)
checks.equal("DELETE a missing key: 404", http("DELETE", "/api/v1/kv/user%3A1")[0], 404)
checks.equal("an unknown path: 404", http("GET", "/api/v1/nothing")[0], 404)
checks.check("POST on a key: not allowed", http("POST", "/api/v1/kv/x", b"v")[0] in (404, 405))

status, body, ctype = http("GET", "/api/v1/stats")
checks.equal("/api/v1/stats: 200", status, 200)
checks.equal("/api/v1/stats: JSON", ctype, "application/json")
stats = json.loads(body)
keys_now = command(sock, "DBSIZE")
checks.equal("stats: keys matches DBSIZE", stats.get("keys"), keys_now)
for field in ("bytes", "puts", "gets", "hits", "misses", "erases", "expired", "cache"):
    checks.check(f"stats has {field}", field in stats, stats)
checks.check("stats: a server member with connected clients", stats.get("server", {}).get("connected_clients") == 1,
             stats)

status, body, ctype = http("GET", "/metrics")
checks.equal("/metrics: 200", status, 200)
checks.check("/metrics: Prometheus text 0.0.4", ctype.startswith("text/plain; version=0.0.4"), ctype)
samples, types, bad_lines = {}, {}, []
for line in body.decode().splitlines():
    if line.startswith("# HELP "):
        continue
    m = re.fullmatch(r"# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|summary)", line)
    if m:
        types[m.group(1)] = m.group(2)
        continue
    # A sample: a counter's or gauge's name, or a summary's with a quantile label, _sum or _count.
    m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*?)(_sum|_count)?(\{quantile=\"[0-9.]+\"\})? (-?[0-9.eE+-]+|NaN)", line)
    plain = m and not m.group(3) and types.get(m.group(1) + (m.group(2) or "")) in ("counter", "gauge")
    of_summary = m and types.get(m.group(1)) == "summary" and bool(m.group(2)) != bool(m.group(3))
    if plain or of_summary:
        samples[m.group(1) + (m.group(2) or "") + (m.group(3) or "")] = float(m.group(4))
    else:
        bad_lines.append(line)
checks.equal("/metrics: every line is HELP, TYPE or a typed sample", bad_lines, [])
checks.check("/metrics: every metric is mantis_*", all(n.startswith("mantis_") for n in samples), list(samples))
checks.equal("/metrics: mantis_keys matches DBSIZE", samples.get("mantis_keys"), float(command(sock, "DBSIZE")))
checks.equal("/metrics: one Redis-protocol client", samples.get("mantis_server_connected_clients"), 1.0)
checks.check("/metrics: counters are counters", types.get("mantis_puts_total") == "counter"
             and types.get("mantis_server_commands_total") == "counter", types)
checks.check("/metrics: latency summaries with quantiles, _sum and _count",
             types.get("mantis_get_latency_seconds") == "summary"
             and 'mantis_get_latency_seconds{quantile="0.99"}' in samples
             and "mantis_get_latency_seconds_count" in samples and "mantis_put_latency_seconds_sum" in samples, types)
checks.check("/metrics: HTTP requests counted", samples.get("mantis_server_http_requests_total", 0) >= 20, samples)
sock.close()

checks.equal("SIGTERM: clean exit", server.stop(), 0)
checks.finish()
