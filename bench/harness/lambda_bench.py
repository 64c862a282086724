"""Lambda's own Invoke API on Portico, against issue 4's two speed targets:

- warm: requests/s and latency at 1 and 32 connections straight through
  `POST /2015-03-31/functions/{name}/invocations`, and what Portico adds to the handler's own time
  (wrk's p50 round trip at 1 connection minus the median `Duration` of the REPORT lines, which
  Portico measures around the handler): target <= 100 us;
- cold: the first invoke after UpdateFunctionConfiguration (which retires the warm environments),
  timed by the client and by the REPORT line's `Init Duration`, beside the bare interpreter's own
  start (`node -e 0`, `python3 -c 0`, resolved to the real binary as Portico resolves it): target
  <= 1.5x.

Only Portico is measured here: the peers' Lambda either cannot run functions on this machine
(LocalStack) or is not the subject of the targets.
"""

import base64
import http.client
import os
import re
import statistics
import subprocess
import time
from dataclasses import asdict, dataclass, field

from . import aws
from .aws import NotSupported
from .load import Endpoint, run_wrk
from .report import _num, _row
from .scenarios import BY_NAME

HERE = os.path.dirname(os.path.abspath(__file__))
INVOKE_LUA = os.path.join(HERE, "invoke.lua")
# The event every invoke carries (invoke.lua POSTs the same bytes); the seed handler answers it.
INVOKE_EVENT = b'{"greeter":"me"}'
# The runtimes measured: (harness runtime key, function name). Handlers are the seed's.
FUNCTIONS = [("node", "bench-invoke-node"), ("python", "bench-invoke-python")]
ADDED_TARGET_US = 100.0
COLD_TARGET_RATIO = 1.5
# Tail invokes whose REPORT Durations give the handler's own time (at 1 connection).
TAIL_SAMPLES = 300
# Cold starts, and bare interpreter starts, per runtime.
COLD_SAMPLES = 10
# Above this share of failed answers in a load run, its figures are not reported.
ERROR_SHARE = 0.01

# `REPORT RequestId: <id>\tDuration: 1.23 ms\tBilled Duration: ...\tInit Duration: 45.67 ms\t`:
# anchored on the request id so that `Billed Duration` and `Init Duration` are never taken.
_DURATION = re.compile(r"^REPORT RequestId: \S+\s+Duration: ([0-9]+(?:\.[0-9]+)?) ms", re.M)
_INIT = re.compile(r"^REPORT RequestId: .*?\tInit Duration: ([0-9]+(?:\.[0-9]+)?) ms", re.M)


@dataclass
class Warm:
    rps1: float
    rps32: float
    p50_1: float  # ms, from wrk's histogram at 1 connection
    p99_1: float
    p50_32: float
    p99_32: float
    handler_p50: float  # ms, median REPORT Duration of the Tail invokes
    handler_samples: int
    added_us: float  # p50_1 - handler_p50, in microseconds
    notes: list = field(default_factory=list)


@dataclass
class Cold:
    interpreter: str  # the real path of the interpreter timed (and run by Portico)
    cold_ms: list  # client-measured first invoke after each configuration update
    init_ms: list  # REPORT Init Duration of the same invokes
    bare_ms: list  # `node -e 0` / `python3 -c 0` spawned and waited for

    @property
    def cold_median(self):
        return statistics.median(self.cold_ms)

    @property
    def init_median(self):
        return statistics.median(self.init_ms)

    @property
    def bare_median(self):
        return statistics.median(self.bare_ms)


@dataclass
class Runtime:
    """One runtime's results; a part that could not be measured is None with its reason."""

    runtime: str
    function: str
    warm: Warm | None = None
    warm_reason: str = ""
    cold: Cold | None = None
    cold_reason: str = ""

    def as_json(self):
        out = {"runtime": self.runtime, "function": self.function}
        out["warm"] = asdict(self.warm) if self.warm else {"n/a": self.warm_reason}
        if self.cold:
            out["cold"] = asdict(self.cold) | {
                "cold_median_ms": self.cold.cold_median,
                "init_median_ms": self.cold.init_median,
                "bare_median_ms": self.cold.bare_median,
            }
        else:
            out["cold"] = {"n/a": self.cold_reason}
        return out


def parse_report(log_text):
    """(Duration ms, Init Duration ms or None) of the last REPORT line in a log tail, or None."""
    durations = list(_DURATION.finditer(log_text))
    if not durations:
        return None
    last = durations[-1]
    # The Init Duration, if any, must be on that same REPORT line.
    line_end = log_text.find("\n", last.start())
    line = log_text[last.start() : None if line_end < 0 else line_end]
    init = _INIT.search(line)
    return float(last.group(1)), (float(init.group(1)) if init else None)


def decode_log_result(header):
    """The text of an `X-Amz-Log-Result` header (base64 of the log's last 4 KB)."""
    try:
        raw = base64.b64decode(header or "", validate=True)
    except ValueError:
        return ""
    return raw.decode("utf-8", "replace")


def added_us(round_trip_p50_ms, handler_p50_ms):
    """Microseconds the round trip adds to the handler's own time (both medians, in ms)."""
    return (round_trip_p50_ms - handler_p50_ms) * 1000.0


def verdict(value, limit, unit):
    """`met` or how far over the limit value is."""
    if value <= limit:
        return "met"
    return f"missed: {_num(value)}{unit} > {_num(limit)}{unit} ({value / limit:.1f}× the limit)"


class Invoker:
    """Synchronous invokes on one kept-alive loopback connection, as an SDK client makes them."""

    def __init__(self, port, timeout=60.0):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def invoke(self, function, tail=False, fresh=False):
        """(status, body, log text, ms); `fresh` opens a new connection first (not timed apart)."""
        if fresh or self.conn is None:
            self.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        headers = {"Content-Type": "application/json"}
        if tail:
            headers["X-Amz-Log-Type"] = "Tail"
        path = f"/2015-03-31/functions/{function}/invocations"
        start = time.perf_counter()
        try:
            self.conn.request("POST", path, body=INVOKE_EVENT, headers=headers)
            resp = self.conn.getresponse()
            body = resp.read()
        except BaseException:
            self.close()
            raise
        elapsed = (time.perf_counter() - start) * 1000.0
        return resp.status, body, decode_log_result(resp.getheader("X-Amz-Log-Result")), elapsed

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def check_answer(status, body):
    """None if an invoke answered the seed handler's result, else why not."""
    # The seed scenario's check compares the same JSON value (and its bytes' spacing varies).
    return BY_NAME["seed-node"].check(status, body)


def interpreter(runtime):
    """The real path of the interpreter Portico runs for the harness runtime, or raises OSError.

    As Portico's launcher does: the interpreter is asked for its own executable, so a version
    manager's shim (pyenv) is not what gets timed; Python prefers the runtime's exact minor.
    """
    aws_runtime = aws.RUNTIMES[runtime][0]
    if runtime == "node":
        candidates = [["node", "-p", "process.execPath"]]
    else:
        probe = ["-c", "import sys; print(sys.executable)"]
        candidates = [[aws_runtime] + probe, ["python3"] + probe]
    errors = []
    for argv in candidates:
        try:
            done = subprocess.run(argv, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as err:
            errors.append(f"{argv[0]}: {err}")
            continue
        path = done.stdout.decode("utf-8", "replace").strip()
        if done.returncode == 0 and path:
            return path
        errors.append(f"{argv[0]} exited {done.returncode}")
    raise OSError("; ".join(errors))


def bare_argv(runtime, path):
    return [path, "-e", "0"] if runtime == "node" else [path, "-c", "0"]


def runtime_environment():
    """The variables a runtime process gets from Portico besides the function's own (PATH from
    the host, LANG, TZ): the bare interpreter must start in the same. The bench's own environment
    is no fit: NODE_EXTRA_CA_CERTS alone, set on this machine, doubles `node -e 0` (a CA bundle
    read at start-up), and Portico never passes it on."""
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
    }


def time_spawns(argv, count):
    """Milliseconds from spawn to exit of `argv`, `count` times (after one untimed run, so the
    interpreter's files are in the page cache as they are for Portico's cold starts)."""
    times = []
    env = runtime_environment()
    for i in range(count + 1):
        start = time.perf_counter()
        subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env=env, timeout=30, check=True)
        if i:
            times.append((time.perf_counter() - start) * 1000.0)
    return times


def _wait_updated(lam, function, deadline_s=60.0):
    deadline = time.monotonic() + deadline_s
    while True:
        config = lam.get_function_configuration(FunctionName=function)
        status = config.get("LastUpdateStatus", "Successful")
        if status == "Successful":
            return
        if status == "Failed" or time.monotonic() > deadline:
            raise NotSupported(f"configuration update {status}: {config.get('LastUpdateStatusReason', '')}")
        time.sleep(0.05)


def measure_cold(lam, invoker, runtime, function, count=COLD_SAMPLES):
    """Cold starts of function (each after a configuration update), beside the bare interpreter."""
    path = interpreter(runtime)
    cold, init = [], []
    for i in range(count):
        # A new environment variable makes a new configuration: Lambda (and Portico) retire the
        # environments of the old one, so the next invoke starts a runtime.
        try:
            lam.update_function_configuration(
                FunctionName=function, Environment={"Variables": {"BENCH_COLD_START": str(i)}}
            )
            _wait_updated(lam, function)
        except NotSupported:
            raise
        except Exception as err:  # botocore's refusal (or an unreachable server): its words
            raise NotSupported(f"UpdateFunctionConfiguration: {aws._explain(err)}") from err
        status, body, log, ms = invoker.invoke(function, tail=True, fresh=True)
        wrong = check_answer(status, body)
        if wrong:
            raise NotSupported(f"cold invoke {i + 1}: {wrong}")
        report = parse_report(log)
        if report is None or report[1] is None:
            # No Init Duration: this invoke found a warm environment, so it was no cold start.
            raise NotSupported(f"cold invoke {i + 1} has no Init Duration in its REPORT: {log[-200:]!r}")
        cold.append(ms)
        init.append(report[1])
    bare = time_spawns(bare_argv(runtime, path), count)
    return Cold(interpreter=path, cold_ms=cold, init_ms=init, bare_ms=bare)


def handler_time(invoker, function, count=TAIL_SAMPLES):
    """Median REPORT Duration (ms) over `count` Tail invokes at 1 connection, and the count."""
    durations = []
    for _ in range(count):
        status, body, log, _ms = invoker.invoke(function, tail=True)
        wrong = check_answer(status, body)
        if wrong:
            raise NotSupported(f"Tail invoke: {wrong}")
        report = parse_report(log)
        if report is None:
            raise NotSupported(f"no REPORT line in X-Amz-Log-Result: {log[-200:]!r}")
        durations.append(report[0])
    return statistics.median(durations), len(durations)


def _median_load(registry, endpoint, connections, args, wrk_log):
    loads = [
        run_wrk(registry, endpoint, connections, args.duration, args.wrk_threads, wrk_log, INVOKE_LUA)
        for _ in range(args.repeat)
    ]
    load = sorted(loads, key=lambda one: one.rps)[len(loads) // 2]
    if load.errors > ERROR_SHARE * max(load.requests, 1):
        raise NotSupported(
            f"{load.errors} of {load.requests} answers at c={connections} were errors or non-2xx"
        )
    return load


def measure_warm(registry, port, invoker, function, args, wrk_log):
    endpoint = Endpoint(f"http://127.0.0.1:{port}/2015-03-31/functions/{function}/invocations")
    if args.warmup > 0:
        run_wrk(registry, endpoint, 32, args.warmup, args.wrk_threads, wrk_log, INVOKE_LUA)
    one = _median_load(registry, endpoint, 1, args, wrk_log)
    # Right after the 1-connection run, before 32 connections spread the invokes over many
    # environments: the handler's time is then taken in the state the round trip was.
    handler_p50, samples = handler_time(invoker, function)
    many = _median_load(registry, endpoint, 32, args, wrk_log)
    notes = [
        f"{load.errors} errors/non-2xx of {load.requests} at c={load.connections}"
        for load in (one, many)
        if load.errors
    ]
    return Warm(
        rps1=one.rps,
        rps32=many.rps,
        p50_1=one.p50_ms,
        p99_1=one.p99_ms,
        p50_32=many.p50_ms,
        p99_32=many.p99_ms,
        handler_p50=handler_p50,
        handler_samples=samples,
        added_us=added_us(one.p50_ms, handler_p50),
        notes=notes,
    )


def measure_runtime(target, registry, runtime, function, args, logdir):
    """Creates function on a started Portico, then its cold starts and its warm figures."""
    result = Runtime(runtime, function)
    lam = aws.clients(f"http://127.0.0.1:{target.port}")[0]
    invoker = Invoker(target.port)
    try:
        aws.create_function(lam, function, runtime, "handler")
        status, body, _log, _ms = invoker.invoke(function)
        wrong = check_answer(status, body)
        if wrong:
            raise NotSupported(f"first invoke: {wrong}")
    except (NotSupported, OSError, http.client.HTTPException) as err:
        invoker.close()
        result.warm_reason = result.cold_reason = str(err)
        return result
    try:
        # Cold starts first: with one warm environment there is little to retire between them.
        try:
            result.cold = measure_cold(lam, invoker, runtime, function)
        except (NotSupported, OSError, http.client.HTTPException, subprocess.SubprocessError) as err:
            result.cold_reason = str(err)
        try:
            result.warm = measure_warm(
                registry, target.port, invoker, function, args, os.path.join(logdir, "wrk.log")
            )
        except (NotSupported, RuntimeError, OSError, http.client.HTTPException) as err:
            result.warm_reason = str(err)
    finally:
        invoker.close()
        # Retires its (up to 32) environments, so the next runtime is measured without them.
        try:
            lam.delete_function(FunctionName=function)
        except Exception as err:  # they stay idle, which skews nothing measured: say so only
            print(f"[portico] lambda invoke: DeleteFunction {function}: {aws._explain(err)}", flush=True)
    return result


def run(target, registry, args, logdir):
    """Starts target (a harness Portico) once, measures every runtime on it, stops it."""
    if target.unavailable:
        return [Runtime(r, f, warm_reason=target.unavailable, cold_reason=target.unavailable)
                for r, f in FUNCTIONS]
    print(f"[portico] lambda invoke: starting (load average {os.getloadavg()[0]:.2f}) ...", flush=True)
    results = []
    try:
        target.start(registry, logdir)
        for runtime, function in FUNCTIONS:
            print(f"[portico] lambda invoke: {runtime} ...", flush=True)
            results.append(measure_runtime(target, registry, runtime, function, args, logdir))
            if target.proc.poll() is not None:
                raise RuntimeError(f"exited with status {target.proc.returncode} during the run")
    except RuntimeError as err:
        done = {r.runtime for r in results}
        results += [Runtime(r, f, warm_reason=str(err), cold_reason=str(err))
                    for r, f in FUNCTIONS if r not in done]
    finally:
        target.stop(registry)
    return results


WARM_COLUMNS = [
    "function",
    "req/s c=1",
    "req/s c=32",
    "p50 c=1 (ms)",
    "p99 c=1 (ms)",
    "p50 c=32 (ms)",
    "p99 c=32 (ms)",
    "handler p50 (ms)",
    "added by Portico p50 (µs)",
    f"≤ {ADDED_TARGET_US:.0f} µs",
]
COLD_COLUMNS = [
    "runtime",
    "cold invoke (ms)",
    "Init Duration (ms)",
    "bare interpreter (ms)",
    "cold ÷ bare",
    "init ÷ bare",
    f"≤ {COLD_TARGET_RATIO}×",
    "interpreter",
]


def _label(result):
    return f"{aws.RUNTIMES[result.runtime][0]} ({result.function})"


def tables(results):
    """The warm and the cold Markdown tables, one row per runtime."""
    warm = [_row(WARM_COLUMNS), _row(["---"] + ["---:"] * 8 + ["---"])]
    cold = [_row(COLD_COLUMNS), _row(["---"] + ["---:"] * 5 + ["---"] * 2)]
    for r in results:
        if r.warm is None:
            warm.append(_row([_label(r)] + ["n/a"] * 8 + [r.warm_reason.replace("|", "/")]))
        else:
            w = r.warm
            note = "; ".join([verdict(w.added_us, ADDED_TARGET_US, " µs")] + w.notes)
            warm.append(_row([
                _label(r), _num(w.rps1), _num(w.rps32), _num(w.p50_1), _num(w.p99_1),
                _num(w.p50_32), _num(w.p99_32), _num(w.handler_p50), f"{w.added_us:,.0f}", note,
            ]))
        name = aws.RUNTIMES[r.runtime][0]
        if r.cold is None:
            cold.append(_row([name] + ["n/a"] * 5 + [r.cold_reason.replace("|", "/"), ""]))
        else:
            c = r.cold
            ratio = c.cold_median / c.bare_median
            cold.append(_row([
                name, _num(c.cold_median), _num(c.init_median), _num(c.bare_median),
                f"{ratio:.2f}×", f"{c.init_median / c.bare_median:.2f}×",
                verdict(ratio, COLD_TARGET_RATIO, "×"),
                f"`{' '.join(bare_argv(r.runtime, c.interpreter))}`",
            ]))
    return "\n".join(warm), "\n".join(cold)


LEGEND = (
    f"Lambda Invoke API (`POST /2015-03-31/functions/NAME/invocations`, event `{INVOKE_EVENT.decode()}`, "
    "the seed handlers) on one fresh Portico. Warm: req/s and latency from wrk at 1 and 32 "
    f"connections; handler p50 = median `Duration` of the REPORT lines of {TAIL_SAMPLES} "
    "`X-Amz-Log-Type: Tail` invokes at 1 connection; added by Portico = p50 at 1 connection minus "
    f"handler p50. Cold: medians of {COLD_SAMPLES} first invokes, each after an "
    "UpdateFunctionConfiguration that retires the warm environments (client-measured on a new "
    f"connection, and its REPORT `Init Duration`), beside {COLD_SAMPLES} spawns of the same "
    "interpreter running nothing; the target is judged on the client-measured cold invoke."
)
