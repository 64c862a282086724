"""The one Markdown table (figures, then ratios from the same run) and the machine it ran on."""

import os
import platform
import shutil
import subprocess
from dataclasses import dataclass, field

COLUMNS = [
    "scenario",
    "target",
    "req/s c=1",
    "req/s c=32",
    "p50 c=32 (ms)",
    "p99 c=32 (ms)",
    "cold first (ms)",
    "RSS tree (MB)",
    "RSS main (MB)",
    "start-up (ms)",
    "note",
]
# The figures that ratios are taken of, and how each is read from a Measured.
FIGURES = [
    ("rps1", lambda m: m.rps1),
    ("rps32", lambda m: m.rps32),
    ("p50", lambda m: m.p50),
    ("p99", lambda m: m.p99),
    ("cold", lambda m: m.cold_ms),
    ("rss_tree", lambda m: m.rss_tree_mb),
    ("rss_main", lambda m: m.rss_main_mb),
    ("startup", lambda m: m.startup_ms),
]


@dataclass
class Measured:
    rps1: float
    rps32: float
    p50: float
    p99: float
    cold_ms: float
    rss_tree_mb: float
    rss_main_mb: float
    startup_ms: float
    notes: list = field(default_factory=list)


@dataclass
class NotMeasured:
    reason: str


def _num(value):
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _ratio(a, b):
    if b == 0:
        return "—"
    r = a / b
    if r >= 10:
        return f"{r:.1f}×"
    return f"{r:.2f}×" if r >= 0.1 else f"{r:.2g}×"


def _row(cells):
    return "| " + " | ".join(cells) + " |"


def table(scenarios, targets, results, subject="portico", baseline="baseline"):
    """results[target][scenario name] -> Measured | NotMeasured; the baseline's under "*"."""
    lines = [_row(COLUMNS), _row(["---"] * 2 + ["---:"] * 8 + ["---"])]
    base = results.get(baseline, {}).get("*")
    if base is not None:
        lines.append(_cells("any (same bytes)", baseline, base))
    for scenario in scenarios:
        measured = {}
        for target in targets:
            if target == baseline:
                continue
            result = results.get(target, {}).get(scenario.name)
            if result is None:
                continue
            lines.append(_cells(scenario.name, target, result))
            if isinstance(result, Measured):
                measured[target] = result
        # Ratios: the subject against each peer, then every measured target against the baseline.
        if subject in measured:
            for peer, other in measured.items():
                if peer != subject:
                    lines.append(_ratio_row(scenario.name, f"*{subject} ÷ {peer}*", measured[subject], other))
        if isinstance(base, Measured):
            for target, result in measured.items():
                lines.append(_ratio_row(scenario.name, f"*{target} ÷ {baseline}*", result, base))
    return "\n".join(lines)


def _cells(scenario, target, result):
    if isinstance(result, NotMeasured):
        return _row([scenario, target] + ["n/a"] * 8 + [result.reason.replace("|", "/")])
    m = result
    return _row(
        [
            scenario,
            target,
            _num(m.rps1),
            _num(m.rps32),
            _num(m.p50),
            _num(m.p99),
            _num(m.cold_ms),
            _num(m.rss_tree_mb),
            _num(m.rss_main_mb),
            _num(m.startup_ms),
            "; ".join(m.notes).replace("|", "/"),
        ]
    )


def _ratio_row(scenario, label, a, b):
    return _row([scenario, label] + [_ratio(get(a), get(b)) for _, get in FIGURES] + [""])


def _cmd(argv):
    try:
        done = subprocess.run(argv, capture_output=True, timeout=20)
        text = (done.stdout or done.stderr).decode("utf-8", "replace").strip()
        return text.splitlines()[0] if text else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "absent"


def machine():
    """A few lines describing the machine and the tools the figures depend on."""
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_kib = 0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_kib = int(line.split()[1])
    except (OSError, ValueError):
        pass
    os_name = "?"
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    os_name = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    wrk = _cmd(["wrk", "--version"]) if shutil.which("wrk") else "absent"
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    commit = _cmd(["git", "-C", repo, "log", "-1", "--format=%h %cd", "--date=iso-strict"])
    dirty = _cmd(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"])
    dirty = "" if dirty in ("?", "absent") else " plus uncommitted changes"
    return [
        f"CPU: {cpu}, {os.cpu_count()} logical cores; memory {mem_kib / 1048576:.1f} GiB",
        f"OS: {os_name}, Linux {platform.release()}",
        f"load generator: {wrk.split(' Copyright')[0]}",
        f"node {_cmd(['node', '--version'])}; {_cmd(['python3', '--version'])}; "
        f"{_cmd(['rustc', '--version'])}",
        f"checkout at run time: commit {commit}{dirty}",
    ]


LEGEND = (
    "req/s from wrk at 1 and 32 connections; p50/p99 at 32 connections; cold first = the first "
    "request after deployment on a new connection (for functions: includes starting the runtime); "
    "RSS tree = peak of the sum of VmRSS over the target's whole process tree (runtimes included), "
    "sampled every 0.25 s under load; RSS main = the same for the target's own process; start-up = spawn to first healthy "
    "answer. Ratio rows divide the first target's figure by the second's: above 1 is better for "
    "req/s, below 1 is better for the other columns."
)
