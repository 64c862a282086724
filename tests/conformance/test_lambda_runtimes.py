"""Runtimes as Lambda runs them: init errors answered with the runtime's own document (as the
official Python and Node.js runtimes form them), and runtime names mapped to interpreters found
on the machine or named by the operator (PORTICO_RUNTIMES), with a clear error when there is
none."""

import json
import re
import subprocess
import sys

import pytest

from conftest import Portico
from test_lambda_helpers import ROLE, make_zip


def deploy(portico, name, runtime, handler, files):
    import base64
    body = json.dumps({"FunctionName": name, "Runtime": runtime, "Handler": handler,
                       "Role": ROLE, "Code": {"ZipFile": base64.b64encode(make_zip(files)).decode()}})
    status, _, answer = portico.request("POST", "/2015-03-31/functions", body=body,
                                        headers={"Content-Type": "application/json"})
    assert status == 201, answer


def invoke(portico, name):
    status, headers, body = portico.request(
        "POST", f"/2015-03-31/functions/{name}/invocations", body=b"{}")
    return status, headers, body


PY_OK = {"app.py": "def handler(event, context):\n    return 1\n"}


@pytest.mark.parametrize("name,handler,files,expected", [
    ("InitPyNoModule", "nomod.handler", PY_OK,
     b'{"errorMessage": "Unable to import module \'nomod\': No module named \'nomod\'", '
     b'"errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": []}'),
    ("InitPyNoHandler", "app.nope", PY_OK,
     b'{"errorMessage": "Handler \'nope\' missing on module \'app\'", '
     b'"errorType": "Runtime.HandlerNotFound", "requestId": "", "stackTrace": []}'),
    ("InitPyBadName", "nodot", PY_OK,
     b'{"errorMessage": "Bad handler \'nodot\': not enough values to unpack (expected 2, got 1)", '
     b'"errorType": "Runtime.MalformedHandlerName", "requestId": "", "stackTrace": []}'),
])
def test_python_init_errors_are_the_runtimes_document(portico, name, handler, files, expected):
    deploy(portico, name, "python3.11", handler, files)
    status, headers, body = invoke(portico, name)
    assert (status, headers["x-amz-function-error"], body) == (200, "Unhandled", expected)
    # The environment is not kept: the next invocation fails the same way, in a fresh init.
    assert invoke(portico, name)[2] == expected


def test_python_syntax_error_names_the_line(portico):
    deploy(portico, "InitPySyntax", "python3.11", "app.handler",
           {"app.py": "def handler(event, context):\n    return (\n"})
    status, headers, body = invoke(portico, "InitPySyntax")
    doc = json.loads(body)
    (frame,) = doc.pop("stackTrace")
    assert re.fullmatch(r'  File "/.+/app\.py" Line 2\n        return \(\n', frame), frame
    assert (status, headers["x-amz-function-error"], doc) == (200, "Unhandled", {
        "errorMessage": "Syntax error in module 'app': '(' was never closed (app.py, line 2)",
        "errorType": "Runtime.UserCodeSyntaxError",
        "requestId": ""})


def test_python_exception_at_import_keeps_its_traceback(portico):
    deploy(portico, "InitPyRaise", "python3.11", "app.handler",
           {"app.py": "raise RuntimeError('at import')\n"})
    _, headers, body = invoke(portico, "InitPyRaise")
    doc = json.loads(body)
    trace = doc.pop("stackTrace")
    assert doc == {"errorMessage": "at import", "errorType": "RuntimeError", "requestId": ""}
    assert re.fullmatch(r'  File "/.+/app\.py", line 1, in <module>\n'
                        r"    raise RuntimeError\('at import'\)\n", trace[-1]), trace
    assert headers["x-amz-function-error"] == "Unhandled"


NODE_OK = {"index.js": "exports.handler = async () => 1;\n"}


def node_doc(portico, name, handler, files):
    deploy(portico, name, "nodejs20.x", handler, files)
    status, headers, body = invoke(portico, name)
    assert (status, headers["x-amz-function-error"]) == (200, "Unhandled")
    return json.loads(body)


def test_node_missing_module(portico):
    doc = node_doc(portico, "InitNodeNoModule", "missing.handler", NODE_OK)
    assert list(doc) == ["errorType", "errorMessage", "trace"]
    assert doc["errorType"] == "Runtime.ImportModuleError"
    assert re.fullmatch(r"Error: Cannot find module 'missing'\nRequire stack:\n- /\S+",
                        doc["errorMessage"]), doc["errorMessage"]
    message_lines = doc["errorMessage"].split("\n")
    assert doc["trace"][:3] == ["Runtime.ImportModuleError: " + message_lines[0], *message_lines[1:]]
    assert all(line.startswith("    at ") for line in doc["trace"][3:])


def test_node_handler_not_exported(portico):
    doc = node_doc(portico, "InitNodeNoHandler", "index.nope", NODE_OK)
    assert (doc["errorType"], doc["errorMessage"]) == (
        "Runtime.HandlerNotFound", "index.nope is undefined or not exported")
    assert doc["trace"][0] == "Runtime.HandlerNotFound: index.nope is undefined or not exported"
    assert all(line.startswith("    at ") for line in doc["trace"][1:])


def test_node_syntax_error(portico):
    doc = node_doc(portico, "InitNodeSyntax", "index.handler",
                   {"index.js": "exports.handler = async () => {\n"})
    assert (doc["errorType"], doc["errorMessage"]) == (
        "Runtime.UserCodeSyntaxError", "SyntaxError: Unexpected end of input")
    assert doc["trace"][0] == "Runtime.UserCodeSyntaxError: SyntaxError: Unexpected end of input"


# ------------------------------------------------------------------ interpreters

WHICH = {"app.py": "import sys\ndef handler(event, context):\n"
                   "    return {'executable': sys.executable, 'version': list(sys.version_info[:2])}\n"}


@pytest.fixture()
def mapped_server(tmp_path, monkeypatch):
    """A server of its own, started with PORTICO_RUNTIMES naming this test's Python for
    python3.11 and an interpreter that does not exist for every Node.js runtime."""
    monkeypatch.setenv("PORTICO_RUNTIMES", f"python3.11={sys.executable}, nodejs=/nonexistent/node")
    server = Portico(tmp_path / "data")
    server.start()
    yield server
    server.stop()


def test_configured_interpreters_are_used(mapped_server):
    deploy(mapped_server, "Which", "python3.11", "app.handler", WHICH)
    status, _, body = invoke(mapped_server, "Which")
    # A virtualenv's interpreter is run as named (not its resolved target), so its packages load.
    assert (status, json.loads(body)["executable"]) == (200, sys.executable)


def test_a_runtime_without_interpreter_fails_clearly(mapped_server):
    deploy(mapped_server, "NoNode", "nodejs20.x", "index.handler", NODE_OK)
    status, headers, body = invoke(mapped_server, "NoNode")
    assert (status, headers["x-amz-function-error"]) == (200, "Unhandled")
    assert json.loads(body) == {
        "errorType": "Runtime.Unknown",
        "errorMessage": f"RequestId: {headers['x-amzn-requestid']} Error: no interpreter found for "
                        "runtime nodejs20.x (/nonexistent/node: No such file or directory (os error 2)); "
                        "install one on the PATH or name it with "
                        "PORTICO_RUNTIMES=nodejs20.x=/path/to/interpreter"}


def test_an_invalid_mapping_stops_the_server(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTICO_RUNTIMES", "java21=/usr/bin/java")
    server = Portico(tmp_path / "data")
    with pytest.raises(RuntimeError) as failure:
        server.start()
    assert ("PORTICO_RUNTIMES: `java21` is not a Node.js or Python runtime id (nodejs20.x, "
            "python3.12, ...) nor `nodejs`/`python`") in str(failure.value)


def test_python_minor_version_is_preferred_when_installed(portico):
    """`python3.12` on the PATH runs python3.12 functions; without it, `python3` does."""
    def version(program):
        try:
            out = subprocess.run([program, "-c", "import sys; print(list(sys.version_info[:2]))"],
                                 capture_output=True, text=True, timeout=30)
        except OSError:
            return None
        return json.loads(out.stdout) if out.returncode == 0 else None

    expected = version("python3.12") or version("python3")
    deploy(portico, "WhichPy312", "python3.12", "app.handler", WHICH)
    status, _, body = invoke(portico, "WhichPy312")
    assert (status, json.loads(body)["version"]) == (200, expected)
