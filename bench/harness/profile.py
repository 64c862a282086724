"""Where the time goes: a system-wide `perf record` (sampling, no call graphs) around a target's
32-connection run, reported by process and library, and by symbol inside the target's binary
and the function runtimes. System-wide because runtimes come and go during a run; the report
names every process, so other work on the machine shows as what it is."""

import os
import shutil
import signal
import subprocess


def available():
    """None if perf can sample here, else why not."""
    if shutil.which("perf") is None:
        return "perf is not installed (apt-get install -y linux-perf)"
    return None


class Profile:
    def __init__(self, registry, out_prefix, frequency=499):
        self.registry = registry
        self.data = out_prefix + ".perf.data"
        self.report = out_prefix + ".profile.txt"
        self.frequency = frequency
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(
            ["perf", "record", "-a", "-F", str(self.frequency), "-o", self.data, "-q"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.registry.adopt(self.proc)
        return self

    def __exit__(self, *exc):
        # SIGINT makes perf write its data out and exit.
        try:
            os.killpg(self.proc.pid, signal.SIGINT)
            self.proc.wait(timeout=30)
            self.registry.forget(self.proc)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.registry.stop(self.proc)
        if exc[0] is None and os.path.exists(self.data):
            self._write_report()
        return False

    def _write_report(self):
        sections = [
            ("share of CPU samples by process name and library",
             ["--sort", "comm,dso"]),
            ("top symbols in the target's own binary and the runtimes",
             ["--percentage", "relative", "--sort", "comm,dso,sym", "--comms", "portico,tokio-rt-worker,node,python3,python3.11"]),
        ]
        with open(self.report, "w") as out:
            for title, extra in sections:
                out.write(f"## {title}\n\n")
                out.flush()
                subprocess.run(
                    ["perf", "report", "-i", self.data, "--stdio", "--no-children",
                     "--percent-limit", "0.5", *extra],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.DEVNULL, timeout=300,
                )
                out.write("\n")
        # The raw data is large and the text is what is read.
        os.remove(self.data)
