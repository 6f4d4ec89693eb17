"""mantis-server's command line: --help and --version, every kind of bad flag (exit 2 with a message
naming it, nothing started), a port already in use (exit 1), and --benchmark-only running the
mantis-bench built beside it (or, in builds without benchmarks, a clear "not found").

    python3 options_test.py path/to/mantis-server
"""
import os
import socket
import subprocess
import sys

from harness import Checks, Server

checks = Checks()
binary = sys.argv[1]


def run(*args, timeout=60):
    result = subprocess.run([binary, *args], capture_output=True, timeout=timeout, text=True)
    return result.returncode, result.stdout, result.stderr


rc, out, _ = run("--help")
checks.check("--help: exit 0 and every flag listed", rc == 0 and all(
    f in out for f in ("--port", "--resp-port", "--data-dir", "--durability", "--cache-size", "--workers",
                       "--benchmark-only", "--max-clients", "--max-bulk-bytes", "--idle-timeout-ms")), out)
rc, out, _ = run("--version")
checks.check("--version: exit 0 with the version", rc == 0 and out.strip().count(".") == 2, out)

bad = [
    (["--no-such-flag"], "no-such-flag"),
    (["--resp-port", "70000"], "resp-port"),
    (["--port", "-1"], "port"),
    (["--workers", "0"], "workers"),
    (["--workers", "many"], "workers"),
    (["--durability", "always"], "durability"),
    (["--durability", "sync"], "--data-dir"),  # durability without a directory
    (["--sync-interval-ms", "5"], "--data-dir"),
    (["--cache-size", "lots"], "cache-size"),
    (["--max-bulk-bytes", "10"], "max-bulk-bytes"),
    (["--max-clients", "0"], "max-clients"),
    (["--idle-timeout-ms", "99999999999999"], "idle-timeout-ms"),
    (["--", "stray"], "unexpected arguments"),
]
for args, mention in bad:
    rc, out, err = run("--bind", "127.0.0.1", *args, timeout=10)
    checks.check(f"{' '.join(args)}: exit 2 naming '{mention}'", rc == 2 and mention in (out + err),
                 f"rc {rc}\n{out}{err}")

server = Server(binary)
rc, out, err = run("--resp-port", str(server.resp_port), "--port", "0", timeout=10)
checks.check("a RESP port in use: exit 1 naming the address", rc == 1 and f"127.0.0.1:{server.resp_port}" in err,
             f"rc {rc}\n{err}")
rc, out, err = run("--resp-port", "0", "--port", str(server.http_port), timeout=10)
checks.check("an HTTP port in use: exit 1 naming the address", rc == 1 and f"127.0.0.1:{server.http_port}" in err,
             f"rc {rc}\n{err}")
rc, out, err = run("--resp-port", "0", "--port", "0", "--bind", "not-an-address", timeout=10)
checks.check("a bad --bind: exit 1 naming it", rc == 1 and "not-an-address" in err, f"rc {rc}\n{err}")
checks.equal("the first server is unaffected and stops cleanly", server.stop(), 0)

bench = os.environ.get("MANTIS_BENCH", "")
rc, out, err = run("--benchmark-only", "--", "--help")
if bench and os.access(bench, os.X_OK):
    checks.check("--benchmark-only runs mantis-bench (its --help)", rc == 0 and "mantis-bench" in (out + err),
                 f"rc {rc}\n{out[:500]}{err[:500]}")
else:
    checks.check("--benchmark-only without a mantis-bench: exit 127 and a clear message",
                 rc == 127 and "mantis-bench" in err and "not found" in err, f"rc {rc}\n{err}")
checks.finish()
