"""Black-box conformance tests: the real `portico` binary driven by real clients.

The AWS CLI (v1, from the repository's .venv) and plain HTTP clients talk to a server started
on a free loopback port with a fresh data directory. Nothing here reaches into Portico's
internals: what is asserted is what a user would see.
"""

import base64
import hashlib
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = Path(__file__).resolve().parent / "functions"
ACCOUNT = "123456789012"


def _binary() -> Path:
    explicit = os.environ.get("PORTICO_BIN")
    if explicit:
        return Path(explicit)
    return ROOT / "target" / "debug" / "portico"


def _aws_cli() -> str:
    venv = ROOT / ".venv" / "bin" / "aws"
    return str(venv) if venv.exists() else "aws"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Portico:
    """One `portico serve` process, restartable on the same port and data directory."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.log_path = data_dir.parent / f"portico-{self.port}.log"

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(_binary()), "serve", "--listen", f"127.0.0.1:{self.port}",
             "--data-dir", str(self.data_dir), "--log-level", "info"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"portico exited: {self.log_path.read_text()}")
            try:
                status, _, body = self.request("GET", "/_portico/health")
                if status == 200:
                    return json.loads(body)
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("portico did not become healthy")

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=15)
        finally:
            self.proc = None

    def request(self, method, path, body=None, headers=None, host=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        hdrs = dict(headers or {})
        if host:
            hdrs["Host"] = host
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        result = (resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        conn.close()
        return result

    def children(self):
        """PIDs of processes whose parent is the server (runtime processes)."""
        if self.proc is None:
            return []
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)],
                             capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]


class AwsCli:
    def __init__(self, portico: Portico):
        self.portico = portico

    def run(self, *args, region="us-east-1", check=True):
        env = dict(os.environ)
        env.update({
            "AWS_ACCESS_KEY_ID": "AKIDPORTICOTEST",
            "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_DEFAULT_REGION": region,
            "AWS_PAGER": "",
        })
        env.pop("AWS_PROFILE", None)
        cmd = [_aws_cli(), "--endpoint-url", self.portico.endpoint, "--region", region,
               "--output", "json", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc

    def json(self, *args, region="us-east-1"):
        out = self.run(*args, region=region).stdout
        return json.loads(out) if out.strip() else None

    def error(self, *args, region="us-east-1"):
        """Runs a command that must fail; returns its stderr."""
        proc = self.run(*args, region=region, check=False)
        assert proc.returncode != 0, f"expected failure, got: {proc.stdout}"
        return proc.stderr.strip()


@pytest.fixture(scope="session")
def portico(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("portico") / "data"
    server = Portico(data_dir)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def aws(portico):
    return AwsCli(portico)


def zip_bytes(runtime: str) -> bytes:
    """The seed handler for a runtime, zipped as a user would."""
    folder = FUNCTIONS / ("node" if runtime.startswith("nodejs") else "python")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(folder.iterdir()):
            z.write(path, path.name)
    return buf.getvalue()


def write_zip(tmp_path: Path, runtime: str) -> Path:
    path = tmp_path / f"{runtime}.zip"
    path.write_bytes(zip_bytes(runtime))
    return path


def code_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()
