"""UpdateFunctionCode, UpdateFunctionConfiguration and GetFunctionConfiguration through the
AWS CLI: what the answers say, and that the next invocation runs the new code and settings."""

import json
import time

from conftest import zip_bytes
from test_lambda_helpers import (ROLE, arn, cli_error, create, invoke, invoke_json, python_zip,
                            sha256_b64)

ENV_CODE = """
import os
def handler(event, context):
    return {
        "greeting": os.environ.get("GREETING"),
        "other": os.environ.get("OTHER"),
        "memory": os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
        "context_memory": context.memory_limit_in_mb,
        "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
    }
"""

SLEEPY_CODE = """
import time
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"slept": event.get("sleep", 0)}
"""


def marker_code(marker: str) -> bytes:
    return python_zip(f"def handler(event, context):\n    return {{'code': '{marker}'}}\n")


def test_configuration_update_reaches_the_next_invocation(aws, tmp_path):
    created = create(aws, tmp_path, "UpdEnv", python_zip(ENV_CODE),
                     "--environment", "Variables={GREETING=hello,OTHER=x}")
    _, result = invoke_json(aws, tmp_path, "UpdEnv")
    assert result == {"greeting": "hello", "other": "x", "memory": "128",
                      "context_memory": "128", "version": "$LATEST"}

    updated = aws.json("lambda", "update-function-configuration", "--function-name", "UpdEnv",
                       "--environment", "Variables={GREETING=bonjour}", "--memory-size", "256",
                       "--description", "second")
    assert updated["Environment"] == {"Variables": {"GREETING": "bonjour"}}
    assert updated["MemorySize"] == 256
    assert updated["Description"] == "second"
    assert updated["LastUpdateStatus"] == "InProgress"
    assert updated["LastUpdateStatusReason"] == "The function is being created."
    assert updated["LastUpdateStatusReasonCode"] == "Creating"
    assert updated["State"] == "Active"
    assert updated["RevisionId"] != created["RevisionId"]
    assert updated["CodeSha256"] == created["CodeSha256"]

    # The warm environment of the old configuration is retired: the whole map was replaced.
    _, result = invoke_json(aws, tmp_path, "UpdEnv")
    assert result == {"greeting": "bonjour", "other": None, "memory": "256",
                      "context_memory": "256", "version": "$LATEST"}

    config = aws.json("lambda", "get-function-configuration", "--function-name", "UpdEnv")
    assert config["LastUpdateStatus"] == "Successful"
    assert "LastUpdateStatusReason" not in config
    assert config["RevisionId"] == updated["RevisionId"]
    assert config == aws.json("lambda", "get-function", "--function-name", "UpdEnv")["Configuration"]

    # `Variables={}` empties the map.
    aws.json("lambda", "update-function-configuration", "--function-name", "UpdEnv",
             "--environment", "Variables={}")
    _, result = invoke_json(aws, tmp_path, "UpdEnv")
    assert result["greeting"] is None
    aws.run("lambda", "delete-function", "--function-name", "UpdEnv")


def test_get_function_configuration_shape(aws, tmp_path):
    code = python_zip(ENV_CODE)
    create(aws, tmp_path, "UpdShape", code, "--timeout", "7", "--description", "d")
    config = aws.json("lambda", "get-function-configuration", "--function-name", "UpdShape")
    volatile = {k: config.pop(k) for k in ("LastModified", "RevisionId", "RuntimeVersionConfig")}
    assert volatile["LastModified"].endswith("+0000")
    assert config == {
        "FunctionName": "UpdShape",
        "FunctionArn": arn("UpdShape"),
        "Runtime": "python3.11",
        "Role": ROLE,
        "Handler": "app.handler",
        "CodeSize": len(code),
        "Description": "d",
        "Timeout": 7,
        "MemorySize": 128,
        "CodeSha256": sha256_b64(code),
        "Version": "$LATEST",
        "TracingConfig": {"Mode": "PassThrough"},
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": ["x86_64"],
        "EphemeralStorage": {"Size": 512},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": "/aws/lambda/UpdShape"},
    }
    assert aws.error("lambda", "get-function-configuration", "--function-name", "UpdShape",
                     "--qualifier", "9") == cli_error(
        "GetFunctionConfiguration", "ResourceNotFoundException",
        f"Function not found: {arn('UpdShape', '9')}")
    aws.run("lambda", "delete-function", "--function-name", "UpdShape")


def test_code_update_runs_the_new_code(aws, tmp_path):
    first = marker_code("one")
    created = create(aws, tmp_path, "UpdCode", first)
    _, result = invoke_json(aws, tmp_path, "UpdCode")
    assert result == {"code": "one"}

    second = marker_code("two")
    path = tmp_path / "two.zip"
    path.write_bytes(second)
    updated = aws.json("lambda", "update-function-code", "--function-name", "UpdCode",
                       "--zip-file", f"fileb://{path}")
    assert updated["CodeSha256"] == sha256_b64(second)
    assert updated["CodeSize"] == len(second)
    assert updated["LastUpdateStatus"] == "InProgress"
    assert updated["RevisionId"] != created["RevisionId"]
    assert updated["LastModified"] >= created["LastModified"]
    _, result = invoke_json(aws, tmp_path, "UpdCode")
    assert result == {"code": "two"}

    # GetFunction's code location serves the new zip.
    location = aws.json("lambda", "get-function", "--function-name", "UpdCode")["Code"]["Location"]
    import urllib.request
    assert urllib.request.urlopen(location).read() == second

    # A stale RevisionId is refused, and the code stays.
    assert aws.error("lambda", "update-function-code", "--function-name", "UpdCode",
                     "--zip-file", f"fileb://{path}", "--revision-id", created["RevisionId"]) == cli_error(
        "UpdateFunctionCode", "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
    assert aws.error("lambda", "update-function-configuration", "--function-name", "UpdCode",
                     "--timeout", "5", "--revision-id", created["RevisionId"]) == cli_error(
        "UpdateFunctionConfiguration", "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
    # The current RevisionId is accepted.
    ok = aws.json("lambda", "update-function-configuration", "--function-name", "UpdCode",
                  "--timeout", "5", "--revision-id", updated["RevisionId"])
    assert ok["Timeout"] == 5
    aws.run("lambda", "delete-function", "--function-name", "UpdCode")


def test_update_errors(aws, tmp_path):
    assert aws.error("lambda", "update-function-configuration", "--function-name", "UpdNope",
                     "--timeout", "5") == cli_error(
        "UpdateFunctionConfiguration", "ResourceNotFoundException",
        f"Function not found: {arn('UpdNope')}")
    create(aws, tmp_path, "UpdErr", marker_code("x"))
    assert aws.error("lambda", "update-function-configuration", "--function-name", "UpdErr",
                     "--timeout", "901") == cli_error(
        "UpdateFunctionConfiguration", "ValidationException",
        "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900")
    assert aws.error("lambda", "update-function-configuration", "--function-name", "UpdErr",
                     "--environment", "Variables={AWS_REGION=x}") == cli_error(
        "UpdateFunctionConfiguration", "InvalidParameterValueException",
        "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: AWS_REGION")
    assert aws.error("lambda", "update-function-configuration", "--function-name", "UpdErr",
                     "--runtime", "python3.7") == cli_error(
        "UpdateFunctionConfiguration", "InvalidParameterValueException",
        "The runtime parameter of python3.7 is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.")
    bad = tmp_path / "bad.zip"
    # The CLI checks the zip's directory; the data behind it is garbage.
    data = bytearray(zip_bytes("nodejs20.x"))
    data[40:120] = b"\xff" * 80
    bad.write_bytes(bytes(data))
    assert aws.error("lambda", "update-function-code", "--function-name", "UpdErr",
                     "--zip-file", f"fileb://{bad}") == cli_error(
        "UpdateFunctionCode", "InvalidParameterValueException",
        "Could not unzip uploaded file. Please check your file, then try to upload again.")
    # Nothing changed.
    _, result = invoke_json(aws, tmp_path, "UpdErr")
    assert result == {"code": "x"}
    aws.run("lambda", "delete-function", "--function-name", "UpdErr")


def test_timeout_is_honoured_after_an_update(aws, tmp_path):
    create(aws, tmp_path, "UpdSleep", python_zip(SLEEPY_CODE), "--timeout", "3")
    meta, result = invoke_json(aws, tmp_path, "UpdSleep", '{"sleep": 1.5}')
    assert result == {"slept": 1.5} and "FunctionError" not in meta
    aws.json("lambda", "update-function-configuration", "--function-name", "UpdSleep",
             "--timeout", "1")
    started = time.monotonic()
    meta, body = invoke(aws, tmp_path, "UpdSleep", '{"sleep": 1.5}')
    assert meta["FunctionError"] == "Unhandled"
    error = json.loads(body)
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Error: Task timed out after 1.00 seconds")
    assert time.monotonic() - started < 10
    # The environment was replaced; the function still answers.
    _, result = invoke_json(aws, tmp_path, "UpdSleep", '{"sleep": 0}')
    assert result == {"slept": 0}
    aws.run("lambda", "delete-function", "--function-name", "UpdSleep")
