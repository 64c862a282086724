"""The one load generator (wrk, bounded in time, loopback only) and the cold first request."""

import http.client
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT_LUA = os.path.join(HERE, "report.lua")
MARK = "BENCHJSON "


@dataclass(frozen=True)
class Endpoint:
    """Where a deployed scenario answers: a loopback URL and, for host-style routing, a Host."""

    url: str
    host: str | None = None


@dataclass
class Load:
    connections: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # connect/read/write errors, timeouts and non-2xx/3xx answers


def check_loopback(url):
    host = urlsplit(url).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise ValueError(f"refusing to send load to {host!r}: loopback only")


def wrk_path():
    return shutil.which("wrk")


def first_request(endpoint, timeout=120.0):
    """One GET on a fresh connection: (status, body, milliseconds)."""
    parts = urlsplit(endpoint.url)
    check_loopback(endpoint.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"Host": endpoint.host} if endpoint.host else {}
    start = time.perf_counter()
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    return resp.status, body, (time.perf_counter() - start) * 1000.0


def run_wrk(registry, endpoint, connections, seconds, threads, log_path, script=REPORT_LUA):
    """Drive endpoint with wrk for `seconds` at `connections`; returns a Load.

    `script` is the wrk Lua hook: it must print report.lua's summary line (invoke.lua POSTs).
    """
    check_loopback(endpoint.url)
    wrk = wrk_path()
    if wrk is None:
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    threads = max(1, min(threads, connections))
    argv = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        script,
    ]
    if endpoint.host:
        argv += ["-H", f"Host: {endpoint.host}"]
    argv.append(endpoint.url)
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    # Registered so that Ctrl-C during a run stops wrk too.
    registry.adopt(proc)
    try:
        out, _ = proc.communicate(timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        registry.stop(proc)
        raise RuntimeError("wrk did not finish in time") from None
    except BaseException:
        # Ctrl-C: stop wrk here, it is in a group of its own and would outlive the bench.
        registry.stop(proc)
        raise
    registry.forget(proc)
    text = out.decode("utf-8", "replace")
    with open(log_path, "a") as log:
        log.write(f"$ {' '.join(argv)}\n{text}\n")
    line = next((ln for ln in text.splitlines() if ln.startswith(MARK)), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {text.strip()[-200:]}")
    data = json.loads(line[len(MARK) :])
    elapsed = data["duration_us"] / 1e6
    errors = sum(
        data[k] for k in ("connect", "read", "write", "status", "timeout")
    )
    return Load(
        connections=connections,
        requests=data["requests"],
        seconds=elapsed,
        rps=data["requests"] / elapsed if elapsed > 0 else 0.0,
        p50_ms=data["p50_us"] / 1000.0,
        p99_ms=data["p99_us"] / 1000.0,
        errors=errors,
    )
