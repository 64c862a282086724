"""Tests of the Lambda Invoke API section's own pieces (no Portico):
python3 bench/tests/test_lambda_bench.py"""

import base64
import http.server
import os
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness import lambda_bench as lb  # noqa: E402
from harness import procs  # noqa: E402
from harness.load import Endpoint, run_wrk, wrk_path  # noqa: E402

# As Portico's sandbox writes them (crates/sandbox/src/log.rs), tab-separated.
WARM_TAIL = (
    "START RequestId: abc Version: $LATEST\n"
    "END RequestId: abc\n"
    "REPORT RequestId: abc\tDuration: 0.09 ms\tBilled Duration: 1 ms\tMemory Size: 512 MB\t"
    "Max Memory Used: 53 MB\t\n"
)
COLD_TAIL = (
    "START RequestId: def Version: $LATEST\n"
    "hello from init\n"
    "END RequestId: def\n"
    "REPORT RequestId: def\tDuration: 3.01 ms\tBilled Duration: 4 ms\tMemory Size: 128 MB\t"
    "Max Memory Used: 36 MB\tInit Duration: 110.10 ms\t\n"
)


class ReportLines(unittest.TestCase):
    def test_duration_not_billed_nor_init(self):
        self.assertEqual(lb.parse_report(WARM_TAIL), (0.09, None))
        self.assertEqual(lb.parse_report(COLD_TAIL), (3.01, 110.1))

    def test_last_report_wins_and_its_init_only(self):
        # A tail may hold an earlier cold invoke's REPORT: its Init Duration is not this one's.
        self.assertEqual(lb.parse_report(COLD_TAIL + WARM_TAIL), (0.09, None))
        self.assertEqual(lb.parse_report(WARM_TAIL + COLD_TAIL), (3.01, 110.1))

    def test_no_report_line(self):
        self.assertIsNone(lb.parse_report("START RequestId: abc Version: $LATEST\n"))
        self.assertIsNone(lb.parse_report(""))
        # The 4 KB tail may cut a REPORT line's start: a bare "Duration:" is no REPORT.
        self.assertIsNone(lb.parse_report("Duration: 12.00 ms\tBilled Duration: 13 ms\n"))

    def test_report_without_trailing_newline(self):
        self.assertEqual(lb.parse_report(COLD_TAIL.rstrip("\n")), (3.01, 110.1))

    def test_log_result_header(self):
        header = base64.b64encode(COLD_TAIL.encode()).decode()
        self.assertEqual(lb.decode_log_result(header), COLD_TAIL)
        self.assertEqual(lb.decode_log_result(None), "")
        self.assertEqual(lb.decode_log_result("not base64!"), "")


class Figures(unittest.TestCase):
    def test_added_is_round_trip_minus_handler_in_microseconds(self):
        self.assertAlmostEqual(lb.added_us(0.25, 0.13), 120.0, places=6)
        self.assertAlmostEqual(lb.added_us(0.12, 0.24), -120.0, places=6)

    def test_verdicts(self):
        self.assertEqual(lb.verdict(99.0, 100.0, " µs"), "met")
        self.assertEqual(lb.verdict(100.0, 100.0, " µs"), "met")
        self.assertEqual(
            lb.verdict(250.0, 100.0, " µs"), "missed: 250 µs > 100 µs (2.5× the limit)"
        )
        self.assertEqual(lb.verdict(2.25, 1.5, "×"), "missed: 2.25× > 1.50× (1.5× the limit)")

    def test_cold_medians(self):
        cold = lb.Cold("/usr/bin/node", [50.0, 70.0, 60.0], [40.0, 45.0, 41.0], [30.0, 20.0, 40.0, 50.0])
        self.assertEqual((cold.cold_median, cold.init_median, cold.bare_median), (60.0, 41.0, 35.0))

    def test_tables(self):
        node = lb.Runtime(
            "node",
            "bench-invoke-node",
            warm=lb.Warm(9000.0, 12000.0, 0.21, 0.9, 2.5, 8.0, 0.13, 300, 80.0),
            cold=lb.Cold("/usr/bin/node", [60.0] * 3, [45.0] * 3, [40.0] * 3),
        )
        python = lb.Runtime(
            "python",
            "bench-invoke-python",
            warm_reason="12 of 100 answers at c=32 were errors | or non-2xx",
            cold=lb.Cold("/opt/py/bin/python3.11", [90.0] * 3, [80.0] * 3, [30.0] * 3),
        )
        warm, cold = lb.tables([node, python])
        warm = warm.splitlines()
        self.assertEqual(len(warm), 4)
        self.assertEqual(
            warm[2],
            "| nodejs20.x (bench-invoke-node) | 9,000 | 12,000 | 0.21 | 0.90 | 2.50 | 8.00 | 0.13 "
            "| 80 | met |",
        )
        self.assertEqual(
            warm[3],
            "| python3.11 (bench-invoke-python) | " + "n/a | " * 8
            + "12 of 100 answers at c=32 were errors / or non-2xx |",
        )
        cold = cold.splitlines()
        self.assertEqual(
            cold[2],
            "| nodejs20.x | 60.0 | 45.0 | 40.0 | 1.50× | 1.12× | met | `/usr/bin/node -e 0` |",
        )
        self.assertEqual(
            cold[3],
            "| python3.11 | 90.0 | 80.0 | 30.0 | 3.00× | 2.67× "
            "| missed: 3.00× > 1.50× (2.0× the limit) | `/opt/py/bin/python3.11 -c 0` |",
        )

    def test_results_json_shape(self):
        r = lb.Runtime("python", "f", warm_reason="down", cold=lb.Cold("/p", [2.0], [1.0], [1.0]))
        out = r.as_json()
        self.assertEqual(out["warm"], {"n/a": "down"})
        self.assertEqual(out["cold"]["cold_median_ms"], 2.0)
        self.assertEqual(out["cold"]["bare_ms"], [1.0])


class Interpreters(unittest.TestCase):
    def test_real_interpreters_not_shims(self):
        for runtime in ("node", "python"):
            path = lb.interpreter(runtime)
            self.assertTrue(os.path.isabs(path), path)
            self.assertNotIn("/shims/", path)
            self.assertTrue(os.access(path, os.X_OK), path)
        self.assertEqual(lb.bare_argv("node", "/n"), ["/n", "-e", "0"])
        self.assertEqual(lb.bare_argv("python", "/p"), ["/p", "-c", "0"])

    def test_spawn_times(self):
        times = lb.time_spawns([sys.executable, "-c", "0"], 3)
        self.assertEqual(len(times), 3)
        self.assertTrue(all(0 < t < 30_000 for t in times), times)

    def test_spawned_in_the_runtime_environment_not_the_bench_one(self):
        os.environ["NODE_EXTRA_CA_CERTS"] = "/nonexistent/ca.pem"
        try:
            env = lb.runtime_environment()
            self.assertEqual(sorted(env), ["LANG", "PATH", "TZ"])
            self.assertEqual((env["LANG"], env["TZ"], env["PATH"]),
                             ("en_US.UTF-8", ":UTC", os.environ["PATH"]))
            # The child fails (and time_spawns raises) if it sees anything else.
            # (LC_CTYPE is Python's own locale coercion when en_US.UTF-8 is not installed.)
            check = ("import os, sys; "
                     "sys.exit(set(os.environ) - {'LC_CTYPE'} != {'LANG', 'PATH', 'TZ'})")
            self.assertEqual(len(lb.time_spawns([sys.executable, "-c", check], 1)), 1)
        finally:
            del os.environ["NODE_EXTRA_CA_CERTS"]


class _Recorder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        _Recorder.seen.append((self.path, self.headers.get("Content-Type"), body))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@unittest.skipIf(wrk_path() is None, "wrk is not installed")
class InvokeScript(unittest.TestCase):
    def test_wrk_posts_the_event_and_reports(self):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        registry = procs.Registry()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/2015-03-31/functions/f/invocations"
            with tempfile.TemporaryDirectory() as tmp:
                load = run_wrk(registry, Endpoint(url), 1, 1, 1, os.path.join(tmp, "wrk.log"),
                               lb.INVOKE_LUA)
        finally:
            registry.stop_all()
            server.shutdown()
            server.server_close()
        self.assertGreater(load.requests, 0)
        self.assertEqual(load.errors, 0)
        self.assertEqual(
            _Recorder.seen[0],
            ("/2015-03-31/functions/f/invocations", "application/json", lb.INVOKE_EVENT),
        )


if __name__ == "__main__":
    unittest.main()
