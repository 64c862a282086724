"""Tests of the harness's own pieces (no target, no network):
python3 bench/tests/test_harness.py"""

import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness import procs, report  # noqa: E402
from harness.load import Endpoint, check_loopback  # noqa: E402
from harness.report import Measured, NotMeasured  # noqa: E402
from harness.scenarios import BY_NAME, MOCK_RESPONSE_TEMPLATE, SEED_REQUEST_TEMPLATE  # noqa: E402


class ScenarioCheck(unittest.TestCase):
    def test_seed_answer_from_node_and_python_serialisations(self):
        seed = BY_NAME["seed-node"]
        node = b'{"statusCode":200,"headers":{"Content-Type":"*/*"},"body":"Hello, me!"}'
        python = b'{"statusCode": 200, "headers": {"Content-Type": "*/*"}, "body": "Hello, me!"}'
        self.assertIsNone(seed.check(200, node))
        self.assertIsNone(seed.check(200, python))

    def test_wrong_answers_are_named(self):
        seed = BY_NAME["seed-python"]
        self.assertEqual(seed.check(502, b'{"message": "Internal server error"}'),
                         'answered 502: {"message": "Internal server error"}')
        self.assertEqual(seed.check(200, b"nope"), "answered a body that is not JSON: nope")
        self.assertEqual(BY_NAME["proxy-node"].check(200, b"Hello, you!"), "answered Hello, you!")
        self.assertIsNone(BY_NAME["httpapi-node"].check(200, b"Hello, me!"))

    def test_templates_are_the_seed_bytes(self):
        self.assertEqual(SEED_REQUEST_TEMPLATE, "{\"greeter\":\"$input.params('greeter')\"}")
        self.assertEqual(
            MOCK_RESPONSE_TEMPLATE,
            "{\"statusCode\":200,\"headers\":{\"Content-Type\":\"*/*\"},"
            "\"body\":\"Hello, $input.params('greeter')!\"}",
        )


class Report(unittest.TestCase):
    def test_ratio_formatting(self):
        self.assertEqual(report._ratio(30.0, 1.0), "30.0×")
        self.assertEqual(report._ratio(1.0, 4.0), "0.25×")
        self.assertEqual(report._ratio(1.0, 250.0), "0.004×")
        self.assertEqual(report._ratio(1.0, 0.0), "—")

    def test_number_formatting(self):
        self.assertEqual(report._num(183721.4), "183,721")
        self.assertEqual(report._num(432.4), "432")
        self.assertEqual(report._num(20.64), "20.6")
        self.assertEqual(report._num(0.134), "0.13")

    def test_table_has_rows_and_ratios(self):
        base = Measured(100000, 200000, 0.1, 1.0, 0.5, 4.0, 4.0, 5.0)
        mine = Measured(50000, 160000, 0.2, 2.0, 50.0, 40.0, 20.0, 10.0)
        peer = Measured(1000, 2000, 20.0, 100.0, 100.0, 800.0, 600.0, 2000.0)
        results = {
            "baseline": {"*": base},
            "portico": {"seed-node": mine},
            "serverless-offline": {"seed-node": peer},
            "localstack": {"seed-node": NotMeasured("no Docker | here")},
        }
        lines = report.table(
            [BY_NAME["seed-node"]],
            ["baseline", "portico", "serverless-offline", "localstack"],
            results,
        ).splitlines()
        self.assertEqual(len(lines), 9)
        self.assertEqual(
            lines[2],
            "| any (same bytes) | baseline | 100,000 | 200,000 | 0.10 | 1.00 | 0.50 | 4.00 | 4.00 | 5.00 |  |",
        )
        self.assertEqual(lines[5], "| seed-node | localstack | " + "n/a | " * 8 + "no Docker / here |")
        self.assertEqual(
            lines[6],
            "| seed-node | *portico ÷ serverless-offline* | 50.0× | 80.0× | 0.01× | 0.02× | 0.50× "
            "| 0.05× | 0.033× | 0.005× |  |",
        )
        self.assertTrue(lines[7].startswith("| seed-node | *portico ÷ baseline* | 0.50× | 0.80× | 2.00×"))
        self.assertTrue(lines[8].startswith("| seed-node | *serverless-offline ÷ baseline* | 0.01× |"))


class Loopback(unittest.TestCase):
    def test_only_loopback_targets(self):
        check_loopback("http://127.0.0.1:1/x")
        check_loopback("http://localhost:1/x")
        with self.assertRaises(ValueError):
            check_loopback("http://10.0.0.1:80/")
        with self.assertRaises(ValueError):
            check_loopback(Endpoint("http://example.com/").url)


class Processes(unittest.TestCase):
    def test_rss_of_a_tree_includes_children(self):
        # The child says when it is settled: a starting interpreter's RSS still grows.
        child = subprocess.Popen(
            [sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(30)"],
            stdout=subprocess.PIPE,
        )
        try:
            self.assertEqual(child.stdout.readline(), b"ready\n")
            tree = procs.process_tree(os.getpid())
            self.assertIn(child.pid, tree)
            self.assertEqual(tree[0], os.getpid())
            child_kib = procs.rss_kib(child.pid)
            total, own = procs.tree_rss_kib(os.getpid())
            self.assertGreater(child_kib, 1000)  # an interpreter is megabytes, not nothing
            self.assertGreater(own, 0)
            # Own and the child are read a moment apart: allow a page or two of drift.
            self.assertGreaterEqual(total - own, child_kib - 64)
        finally:
            child.kill()
            child.wait()
            child.stdout.close()

    def test_sampler_keeps_the_peak_of_a_child_that_has_ended(self):
        with procs.RssSampler(os.getpid(), interval=0.02) as rss:
            child = subprocess.Popen(
                [sys.executable, "-c", "b = bytearray(64 << 20); import time; time.sleep(0.5)"]
            )
            child.wait()
        # The 64 MiB buffer was resident for half a second, then its process ended.
        self.assertGreater(rss.peak_tree_kib, rss.peak_main_kib + 60 * 1024)
        self.assertLess(procs.tree_rss_kib(os.getpid())[0], rss.peak_tree_kib - 60 * 1024)

    def test_stop_ends_descendants_that_left_the_group(self):
        registry = procs.Registry()
        with tempfile.TemporaryDirectory() as tmp:
            # The grandchild starts a session of its own, as Portico's sandboxes do.
            script = (
                "import subprocess, sys, time;"
                "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],"
                " start_new_session=True);"
                "print(p.pid, flush=True); time.sleep(60)"
            )
            log = os.path.join(tmp, "log")
            proc = registry.start([sys.executable, "-c", script], log)
            grandchild = None
            deadline = time.monotonic() + 10
            while grandchild is None and time.monotonic() < deadline:
                with open(log) as f:
                    text = f.read().strip()
                grandchild = int(text) if text else None
                time.sleep(0.02)
            self.assertIsNotNone(grandchild)
            self.assertNotEqual(os.getpgid(grandchild), os.getpgid(proc.pid))
            registry.stop_all()
            self.assertIsNotNone(proc.poll())
            self.assertFalse(procs._alive(grandchild))


if __name__ == "__main__":
    unittest.main()
