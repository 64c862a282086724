"""Shared helpers for the Lambda conformance tests (no tests of its own): zips built from inline
sources, CLI invocations that return both the metadata and the payload, AWS's error lines."""

import base64
import hashlib
import io
import json
import zipfile

from conftest import ACCOUNT

ROLE = f"arn:aws:iam::{ACCOUNT}:role/lambda-role"
REGION = "us-east-1"


def arn(name: str, qualifier: str | None = None) -> str:
    base = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


def integration_uri(name: str) -> str:
    """The URI by which an API Gateway integration or authorizer invokes function `name`."""
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn(name)}/invocations"


def cli_error(operation: str, code: str, message: str) -> str:
    return f"An error occurred ({code}) when calling the {operation} operation: {message}"


def make_zip(files: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in sorted(files.items()):
            z.writestr(name, text)
    return buf.getvalue()


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def python_zip(body: str) -> bytes:
    """A python3.11 handler module `app.py` whose `handler` body is given."""
    return make_zip({"app.py": body})


def create(aws, tmp_path, name: str, code: bytes, *extra, runtime="python3.11",
           handler="app.handler"):
    path = tmp_path / f"{name}.zip"
    path.write_bytes(code)
    return aws.json("lambda", "create-function", "--function-name", name, "--runtime", runtime,
                    "--handler", handler, "--role", ROLE, "--zip-file", f"fileb://{path}", *extra)


def invoke(aws, tmp_path, name: str, payload: str = "{}", *extra):
    """Invokes through the CLI; returns (metadata, payload bytes)."""
    out = tmp_path / "out.json"
    meta = aws.json("lambda", "invoke", "--function-name", name, "--payload", payload, *extra,
                    str(out))
    return meta, out.read_bytes()


def invoke_json(aws, tmp_path, name: str, payload: str = "{}", *extra):
    meta, body = invoke(aws, tmp_path, name, payload, *extra)
    return meta, json.loads(body)
