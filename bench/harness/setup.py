"""Installing what the bench needs from the ordinary package clients (apt, npm, pip) and
building the Rust targets. Every step returns None when ready, else why not, so that a missing
piece turns its target into "n/a" instead of stopping the run."""

import glob
import os
import shutil
import subprocess

from .targets import PEERS, REPO

LOCALSTACK_VENV = os.path.join(PEERS, "localstack-venv")
# localstack-core's [runtime] extra resolves to libraries too new for it; these pins make it start.
LOCALSTACK_PACKAGES = ["localstack-core[runtime]==2026.3.0"]
LOCALSTACK_PINS = ["cbor2<5.8", "cryptography==43.0.3", "pyopenssl==24.2.1", "service_identity"]


def _run(argv, log, cwd=None, timeout=900):
    """Run a setup command with output to the log; returns None or a one-line failure."""
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(argv)}\n".encode())
        out.flush()
        try:
            done = subprocess.run(
                argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                timeout=timeout,
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            return f"{argv[0]}: {err}"
    return None if done.returncode == 0 else f"`{' '.join(argv[:3])}` exited {done.returncode} (see {log})"


def ensure_wrk(log, install):
    if shutil.which("wrk"):
        return None
    if not install:
        return "wrk is not installed (apt-get install -y wrk)"
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "wrk is not installed and apt-get cannot be used here: apt-get install -y wrk"
    print("installing wrk with apt-get ...", flush=True)
    _run(["apt-get", "update", "-qq"], log)
    failure = _run(["apt-get", "install", "-y", "-qq", "wrk"], log)
    return failure if failure or shutil.which("wrk") else "apt-get installed no wrk"


def ensure_node_peers(log, install):
    if os.access(os.path.join(PEERS, "node_modules", ".bin", "serverless"), os.X_OK):
        return None
    if not install:
        return "bench/peers/node_modules is missing (npm install in bench/peers)"
    if shutil.which("npm") is None:
        return "npm is not on PATH"
    print("installing serverless + serverless-offline with npm ...", flush=True)
    verb = "ci" if os.path.exists(os.path.join(PEERS, "package-lock.json")) else "install"
    return _run(["npm", verb, "--no-audit", "--no-fund"], log, cwd=PEERS)


def _is_python313(path):
    try:
        done = subprocess.run(
            [path, "-c", "import sys; print(sys.version_info >= (3, 13))"],
            capture_output=True, timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == b"True"


def find_python313():
    """A Python >= 3.13 interpreter (a real binary, not a version-manager shim), or None."""
    candidates = [os.environ.get("BENCH_PYTHON313", "")]
    candidates += [shutil.which(name) or "" for name in ("python3.13", "python3.14")]
    home = os.path.expanduser("~")
    candidates += sorted(glob.glob(os.path.join(home, ".pyenv/versions/3.1[3-9]*/bin/python3")))
    candidates += ["/usr/bin/python3.13", "/usr/local/bin/python3.13"]
    if shutil.which("uv"):
        try:
            found = subprocess.run(
                ["uv", "python", "find", "3.13"], capture_output=True, timeout=30
            )
            candidates.append(found.stdout.decode().strip())
        except (OSError, subprocess.TimeoutExpired):
            pass
    for path in candidates:
        if path and os.access(path, os.X_OK) and _is_python313(path):
            return path
    return None


def ensure_localstack(log, install):
    """(python of the LocalStack virtualenv, None) or (None, why it cannot run here)."""
    venv_python = os.path.join(LOCALSTACK_VENV, "bin", "python")
    if os.access(venv_python, os.X_OK) and _importable(venv_python, "localstack.runtime.main"):
        return venv_python, None
    python = find_python313()
    if python is None:
        return None, "needs Python >= 3.13 and none was found (set BENCH_PYTHON313)"
    if not install:
        return None, f"not installed (bench/run installs it with {python})"
    print(f"installing LocalStack into bench/peers/localstack-venv with {python} ...", flush=True)
    failure = (
        _run([python, "-m", "venv", LOCALSTACK_VENV], log)
        or _run([venv_python, "-m", "pip", "install", "-q", *LOCALSTACK_PACKAGES], log)
        or _run([venv_python, "-m", "pip", "install", "-q", *LOCALSTACK_PINS], log)
    )
    if failure:
        return None, f"install failed: {failure}"
    return venv_python, None


def _importable(python, module):
    try:
        done = subprocess.run(
            [python, "-c", f"import importlib.util, sys; sys.exit(importlib.util.find_spec('{module}') is None)"],
            capture_output=True, timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def cargo_build(package, log):
    """cargo build --release -p package; None or why it failed."""
    if shutil.which("cargo") is None:
        return "cargo is not on PATH"
    print(f"building {package} (release) ...", flush=True)
    return _run(["cargo", "build", "--release", "-p", package], log, cwd=REPO, timeout=3600)


def release_binary(name):
    target_dir = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    return os.path.join(target_dir, "release", name)
