"""bench/runtime-channel drives both bootstraps to the seed answer:
python3 bench/tests/test_runtime_channel.py"""

import os
import re
import subprocess
import unittest

TOOL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "runtime-channel")
LINE = re.compile(r"^(node|python) \((same CPU|scheduler's placement)\): [\d.]+ µs of runtime CPU "
                  r"per invocation, [\d,]+ invocations/s; last answer (.*)$")


class RuntimeChannel(unittest.TestCase):
    def run_tool(self, *args):
        out = subprocess.run([TOOL, *args, "--invocations", "50"], capture_output=True, text=True,
                             timeout=60, check=True).stdout.strip()
        match = LINE.match(out)
        self.assertIsNotNone(match, out)
        return match.groups()

    def test_node_answers_the_seed_body(self):
        self.assertEqual(self.run_tool("node"), (
            "node", "scheduler's placement",
            '{"statusCode":200,"headers":{"Content-Type":"*/*"},"body":"Hello, me!"}'))

    def test_python_on_one_cpu_answers_the_seed_body(self):
        self.assertEqual(self.run_tool("python", "--same-cpu"), (
            "python", "same CPU",
            '{"statusCode": 200, "headers": {"Content-Type": "*/*"}, "body": "Hello, me!"}'))


if __name__ == "__main__":
    unittest.main()
