"""Custom runtimes (`provided.al2023`) through the standard HTTP Runtime API, with AWS's own
clients: a Rust function on the crates.io `lambda_runtime` crate (tests/fixtures/rust-runtime)
and a Python function run by `awslambdaric` (tests/fixtures/awslambdaric). The same suite runs
against both: success with the full invocation context, a function error as the client forms
it, a timeout, a crash, and concurrent invocations in separate environments."""

import base64
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT
from test_lambda_helpers import ROLE, arn

FIXTURES = ROOT / "tests" / "fixtures"


def _zip(files: dict) -> bytes:
    """A zip whose `bootstrap` is executable, as `zip` on Linux would make it."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o755 if name == "bootstrap" else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


def _rust_zip() -> bytes:
    """Builds the fixture (debug, into the main target directory so CI compiles the shared
    dependencies once) and zips its `bootstrap` binary."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    manifest = FIXTURES / "rust-runtime" / "Cargo.toml"
    proc = subprocess.run(
        ["cargo", "build", "--quiet", "--locked", "--manifest-path", str(manifest)],
        env={**os.environ, "CARGO_TARGET_DIR": str(target)},
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    return _zip({"bootstrap": (target / "debug" / "bootstrap").read_bytes()})


def _ric_zip() -> bytes:
    """`awslambdaric` as a custom runtime: the bootstrap AWS documents, run by the interpreter
    that has the package (the test virtualenv's, from requirements.txt)."""
    probe = subprocess.run([sys.executable, "-c", "import awslambdaric"], capture_output=True,
                           text=True)
    assert probe.returncode == 0, f"awslambdaric missing (tests/conformance/requirements.txt): {probe.stderr}"
    bootstrap = (f"#!/bin/sh\nexec {sys.executable} -m awslambdaric "
                 '"${PORTICO_RIC_HANDLER:-app.handler}"\n')
    return _zip({"bootstrap": bootstrap,
                 "app.py": (FIXTURES / "awslambdaric" / "app.py").read_text()})


def _rust_error(message: str, request_id: str) -> dict:
    # lambda_runtime names the error after the Rust type of the value it was handed.
    return {"errorType": "&alloc::boxed::Box<dyn core::error::Error + core::marker::Send + "
                         "core::marker::Sync>",
            "errorMessage": message}


def _ric_error(message: str, request_id: str) -> dict:
    return {"errorMessage": message, "errorType": "ValueError", "requestId": request_id,
            "stackTrace": ["STACK"]}


CLIENTS = {
    "rust": (_rust_zip, _rust_error),
    "awslambdaric": (_ric_zip, _ric_error),
}


def raw_invoke(portico, name, payload, headers=None):
    status, hdrs, body = portico.request(
        "POST", f"/2015-03-31/functions/{name}/invocations", body=json.dumps(payload),
        headers=headers or {})
    return status, hdrs, json.loads(body)


@pytest.fixture(scope="module", params=sorted(CLIENTS))
def function(request, aws, tmp_path_factory):
    make_zip, error_doc = CLIENTS[request.param]
    name = f"Custom-{request.param}"
    path = tmp_path_factory.mktemp(name) / "code.zip"
    path.write_bytes(make_zip())
    created = aws.json("lambda", "create-function", "--function-name", name,
                       "--runtime", "provided.al2023", "--handler", "any", "--role", ROLE,
                       "--timeout", "1", "--memory-size", "256", "--zip-file", f"fileb://{path}")
    assert (created["Runtime"], created["Handler"]) == ("provided.al2023", "any")
    yield name, request.param, error_doc
    aws.run("lambda", "delete-function", "--function-name", name, check=False)


def test_success_carries_the_whole_invocation_context(portico, aws, function):
    name, client, _ = function
    context = {"custom": {"k": "v"}, "env": {"e": "1"}}
    status, headers, body = raw_invoke(portico, name, {"hello": "world"}, {
        "X-Amz-Client-Context": base64.b64encode(json.dumps(context).encode()).decode()})
    assert status == 200
    assert "x-amz-function-error" not in headers
    assert headers["x-amz-executed-version"] == "$LATEST"
    trace = body.pop("traceEnv")
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0", trace)
    if client == "rust":
        assert body.pop("xrayTraceId") == trace
    assert body.pop("pid") > 0
    if client == "rust":
        # lambda_runtime 1.5 looks for the Mobile SDK's `env` under the name `environment`.
        context = {"custom": {"k": "v"}, "env": {}}
    assert body == {
        "event": {"hello": "world"},
        "requestId": headers["x-amzn-requestid"],
        "invokedFunctionArn": arn(name),
        "clientContext": context,
        "deadlineInFuture": True,
        "functionName": name,
        "memory": 256,
        "version": "$LATEST",
        "handlerEnv": "any",
    }
    # A qualified invocation names the qualified ARN (Lambda-Runtime-Invoked-Function-Arn).
    version = aws.json("lambda", "publish-version", "--function-name", name)["Version"]
    status, headers, body = raw_invoke(portico, f"{name}:{version}", {})
    assert (status, body["invokedFunctionArn"], body["version"], body["clientContext"]) == (
        200, arn(name, version), version, None)


def test_function_error_is_the_clients_document(portico, function):
    name, client, error_doc = function
    status, headers, body = raw_invoke(portico, name, {"action": "error", "message": "nope"})
    assert status == 200
    assert headers["x-amz-function-error"] == "Unhandled"
    expected = error_doc("nope", headers["x-amzn-requestid"])
    if client == "awslambdaric":
        (frame,) = body["stackTrace"]
        assert re.fullmatch(r'  File "/.+/app\.py", line 12, in handler\n'
                            r'    raise ValueError\(event\.get\("message", "boom"\)\)\n', frame)
        body["stackTrace"] = ["STACK"]
    assert body == expected


def test_timeout_kills_the_environment_and_the_next_invocation_is_fresh(portico, function):
    name, _, _ = function
    _, _, first = raw_invoke(portico, name, {})
    status, headers, body = raw_invoke(portico, name, {"action": "sleep", "ms": 3000})
    assert (status, headers["x-amz-function-error"]) == (200, "Unhandled")
    assert body == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {headers['x-amzn-requestid']} Error: Task timed out after 1.00 seconds",
    }
    status, _, after = raw_invoke(portico, name, {})
    assert status == 200 and after["pid"] != first["pid"]


def test_crash_fails_only_its_own_invocation(portico, function):
    name, _, _ = function
    status, headers, body = raw_invoke(portico, name, {"action": "exit", "code": 3})
    assert (status, headers["x-amz-function-error"]) == (200, "Unhandled")
    assert body == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {headers['x-amzn-requestid']} Error: Runtime exited with error: exit status 3",
    }
    status, headers, body = raw_invoke(portico, name, {"after": "crash"})
    assert (status, body["event"]) == (200, {"after": "crash"})
    assert "x-amz-function-error" not in headers


def test_concurrent_invocations_run_in_separate_environments(portico, function):
    name, _, _ = function
    results = []

    def one():
        results.append(raw_invoke(portico, name, {"action": "sleep", "ms": 600}))

    threads = [threading.Thread(target=one) for _ in range(4)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    assert [(s, b["slept"]) for s, _, b in results] == [(200, 600)] * 4
    # Four environments side by side: well under the 2.4 s one environment would need.
    assert len({b["pid"] for _, _, b in results}) == 4
    assert elapsed < 2.0, elapsed


def test_awslambdaric_init_error_goes_through_init_error(portico, aws, tmp_path):
    """The client posts `/runtime/init/error` with its document and exits; the invoke answers
    that document."""
    path = tmp_path / "code.zip"
    path.write_bytes(_ric_zip())
    aws.json("lambda", "create-function", "--function-name", "Custom-ric-init", "--runtime",
             "provided.al2", "--handler", "any", "--role", ROLE, "--zip-file", f"fileb://{path}",
             "--environment", "Variables={PORTICO_RIC_HANDLER=app.nope}")
    status, headers, body = raw_invoke(portico, "Custom-ric-init", {})
    assert (status, headers["x-amz-function-error"]) == (200, "Unhandled")
    assert body == {"errorMessage": "Handler 'nope' missing on module 'app'",
                    "errorType": "Runtime.HandlerNotFound", "requestId": "", "stackTrace": []}
