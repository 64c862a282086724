"""The seed walkthrough (seeds/001): a Lambda custom integration built step by step with the
AWS CLI, called over HTTP, and still there after a restart and after kill -9."""

import json
import os
import re
import signal
import time

import pytest

from conftest import ACCOUNT, AwsCli, Portico, code_sha256, write_zip, zip_bytes

INVOKE_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:123456789012:function:HelloWorld/invocations"
)
TEMPLATE = "{\"greeter\":\"$input.params('greeter')\"}"
RUNTIMES = [
    ("nodejs20.x", "index.handler"),
    ("python3.11", "lambda_function.lambda_handler"),
]


def seed_result(runtime: str, body: str) -> bytes:
    """The function's result exactly as each runtime serializes it: Node.js with
    JSON.stringify, Python with json.dumps."""
    result = {"statusCode": 200, "headers": {"Content-Type": "*/*"}, "body": body}
    if runtime.startswith("nodejs"):
        return json.dumps(result, separators=(",", ":")).encode()
    return json.dumps(result).encode()


def create_function(aws: AwsCli, tmp_path, runtime, handler):
    zip_path = write_zip(tmp_path, runtime)
    fn = aws.json(
        "lambda", "create-function", "--function-name", "HelloWorld", "--runtime", runtime,
        "--handler", handler, "--role", f"arn:aws:iam::{ACCOUNT}:role/lambda-role",
        "--zip-file", f"fileb://{zip_path}",
    )
    assert fn["FunctionName"] == "HelloWorld"
    assert fn["FunctionArn"] == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:HelloWorld"
    assert fn["Runtime"] == runtime
    assert fn["Handler"] == handler
    assert fn["Role"] == f"arn:aws:iam::{ACCOUNT}:role/lambda-role"
    assert fn["CodeSize"] == len(zip_bytes(runtime))
    assert fn["CodeSha256"] == code_sha256(zip_bytes(runtime))
    assert fn["Description"] == ""
    assert (fn["Timeout"], fn["MemorySize"], fn["Version"]) == (3, 128, "$LATEST")
    assert fn["TracingConfig"] == {"Mode": "PassThrough"}
    assert fn["PackageType"] == "Zip"
    assert fn["Architectures"] == ["x86_64"]
    assert fn["EphemeralStorage"] == {"Size": 512}
    assert fn["State"] == "Pending"
    assert fn["StateReasonCode"] == "Creating"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", fn["LastModified"])
    assert re.fullmatch(r"[0-9a-f-]{36}", fn["RevisionId"])
    got = aws.json("lambda", "get-function", "--function-name", "HelloWorld")
    assert got["Configuration"]["State"] == "Active"
    assert got["Configuration"]["LastUpdateStatus"] == "Successful"
    assert got["Code"]["RepositoryType"] == "S3"


def invoke(aws: AwsCli, tmp_path, payload: str):
    out = tmp_path / "out.json"
    meta = aws.json("lambda", "invoke", "--function-name", "HelloWorld",
                    "--payload", payload, str(out))
    return meta, out.read_bytes()


def check_invoke(aws, tmp_path, runtime):
    meta, body = invoke(aws, tmp_path, '{"greeter":"me"}')
    assert meta == {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
    assert body == seed_result(runtime, "Hello, me!")
    # A handler error is an Unhandled function error with the runtime's error document.
    payload = '{}' if runtime.startswith("nodejs") else '{"greeter":null}'
    meta, body = invoke(aws, tmp_path, payload)
    assert meta == {"StatusCode": 200, "FunctionError": "Unhandled", "ExecutedVersion": "$LATEST"}
    error = json.loads(body)
    assert error["errorMessage"] == "Missing the required greeter parameter."
    if runtime.startswith("nodejs"):
        assert error["errorType"] == "Error"
        assert error["trace"][0] == "Error: Missing the required greeter parameter."
    else:
        assert error["errorType"] == "Exception"
        assert re.fullmatch(r"[0-9a-f-]{36}", error["requestId"])
        assert any("raise Exception" in frame for frame in error["stackTrace"])


def build_api(aws: AwsCli):
    """Steps 1 to 8 of the seed, verbatim but for the endpoint."""
    w2 = {"region": "us-west-2"}
    api = aws.json("apigateway", "create-rest-api", "--name", "HelloWorld (AWS CLI)", **w2)
    api_id = api["id"]
    assert re.fullmatch(r"[a-z0-9]{10}", api_id)
    root_id = api["rootResourceId"]
    assert re.fullmatch(r"[a-z0-9]{10}", root_id)
    assert api["name"] == "HelloWorld (AWS CLI)"
    assert isinstance(api["createdDate"], int)
    assert api["apiKeySource"] == "HEADER"
    assert api["endpointConfiguration"] == {"types": ["EDGE"], "ipAddressType": "ipv4"}
    assert api["disableExecuteApiEndpoint"] is False

    resources = aws.json("apigateway", "get-resources", "--rest-api-id", api_id, **w2)
    assert resources == {"items": [{"id": root_id, "path": "/"}]}

    resource = aws.json("apigateway", "create-resource", "--rest-api-id", api_id,
                        "--parent-id", root_id, "--path-part", "greeting", **w2)
    resource_id = resource["id"]
    assert re.fullmatch(r"[a-z0-9]{6}", resource_id)
    assert resource == {"path": "/greeting", "pathPart": "greeting", "id": resource_id,
                        "parentId": root_id}

    method = aws.json("apigateway", "put-method", "--rest-api-id", api_id,
                      "--resource-id", resource_id, "--http-method", "GET",
                      "--authorization-type", "NONE",
                      "--request-parameters", "method.request.querystring.greeter=false", **w2)
    assert method == {"apiKeyRequired": False, "httpMethod": "GET", "authorizationType": "NONE",
                      "requestParameters": {"method.request.querystring.greeter": False}}

    method_response = aws.json("apigateway", "put-method-response", "--rest-api-id", api_id,
                               "--resource-id", resource_id, "--http-method", "GET",
                               "--status-code", "200", **w2)
    assert method_response == {"statusCode": "200"}

    integration = aws.json(
        "apigateway", "put-integration", "--rest-api-id", api_id, "--resource-id", resource_id,
        "--http-method", "GET", "--type", "AWS", "--integration-http-method", "POST",
        "--uri", INVOKE_URI,
        "--request-templates", json.dumps({"application/json": TEMPLATE}),
        "--credentials", f"arn:aws:iam::{ACCOUNT}:role/apigAwsProxyRole", **w2)
    assert integration == {
        "type": "AWS",
        "httpMethod": "POST",
        "uri": INVOKE_URI,
        "credentials": f"arn:aws:iam::{ACCOUNT}:role/apigAwsProxyRole",
        "requestTemplates": {"application/json": TEMPLATE},
        "passthroughBehavior": "WHEN_NO_MATCH",
        "timeoutInMillis": 29000,
        "cacheNamespace": resource_id,
        "cacheKeyParameters": [],
    }

    integration_response = aws.json(
        "apigateway", "put-integration-response", "--rest-api-id", api_id,
        "--resource-id", resource_id, "--http-method", "GET", "--status-code", "200",
        "--selection-pattern", "", **w2)
    assert integration_response == {"selectionPattern": "", "statusCode": "200"}

    deployment = aws.json("apigateway", "create-deployment", "--rest-api-id", api_id,
                          "--stage-name", "test", **w2)
    assert re.fullmatch(r"[a-z0-9]{6}", deployment["id"])
    assert set(deployment) == {"id", "createdDate"}
    return api_id, resource_id, deployment["id"]


def check_data_plane(server: Portico, api_id: str, runtime: str):
    host = f"{api_id}.execute-api.localhost:{server.port}"
    cases = [
        ("/test/greeting?greeter=me", host, "Hello, me!"),
        (f"/restapis/{api_id}/test/_user_request_/greeting?greeter=me", None, "Hello, me!"),
        ("/test/greeting?greeter=", host, "Hello, World"),
        (f"/restapis/{api_id}/test/_user_request_/greeting", None, "Hello, World"),
    ]
    for path, host_header, expected in cases:
        status, headers, body = server.request("GET", path, host=host_header)
        assert status == 200, (path, body)
        assert headers["content-type"] == "application/json"
        assert re.fullmatch(r"[0-9a-f-]{36}", headers["x-amzn-requestid"])
        assert body == seed_result(runtime, expected), path
    for path, host_header in [("/test/nothing", host), ("/test/greeting/x", host),
                              (f"/restapis/{api_id}/test/_user_request_/", None)]:
        status, headers, body = server.request("GET", path, host=host_header)
        assert status == 403
        assert body == b'{"message":"Missing Authentication Token"}'
        assert headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    status, _, body = server.request("POST", "/test/greeting", host=host)
    assert (status, body) == (403, b'{"message":"Missing Authentication Token"}')


def check_state(aws: AwsCli, api_id, resource_id, deployment_id, runtime, handler):
    w2 = {"region": "us-west-2"}
    apis = aws.json("apigateway", "get-rest-apis", **w2)
    assert [a["id"] for a in apis["items"]] == [api_id]
    stages = aws.json("apigateway", "get-stages", "--rest-api-id", api_id, **w2)
    assert [(s["stageName"], s["deploymentId"]) for s in stages["item"]] == [("test", deployment_id)]
    deployments = aws.json("apigateway", "get-deployments", "--rest-api-id", api_id, **w2)
    assert [d["id"] for d in deployments["items"]] == [deployment_id]
    method = aws.json("apigateway", "get-method", "--rest-api-id", api_id, "--resource-id",
                      resource_id, "--http-method", "GET", **w2)
    assert method["methodIntegration"]["integrationResponses"] == {
        "200": {"statusCode": "200", "selectionPattern": ""}}
    assert method["methodResponses"] == {"200": {"statusCode": "200"}}
    functions = aws.json("lambda", "list-functions")["Functions"]
    assert [(f["FunctionName"], f["Runtime"], f["Handler"]) for f in functions] == [
        ("HelloWorld", runtime, handler)]


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_gone(pids, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(process_alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if process_alive(p)]


@pytest.mark.parametrize("runtime,handler", RUNTIMES, ids=["nodejs", "python"])
def test_seed_walkthrough_survives_restarts(tmp_path, runtime, handler):
    server = Portico(tmp_path / "data")
    server.start()
    aws = AwsCli(server)
    try:
        create_function(aws, tmp_path, runtime, handler)
        check_invoke(aws, tmp_path, runtime)
        api_id, resource_id, deployment_id = build_api(aws)
        check_data_plane(server, api_id, runtime)
        check_state(aws, api_id, resource_id, deployment_id, runtime, handler)

        # A graceful stop ends every runtime process the server started.
        runtimes = server.children()
        assert runtimes, "a warm execution environment should be running"
        server.stop(signal.SIGTERM)
        assert wait_gone(runtimes) == []

        health = server.start()
        assert health["stages"] == 1
        check_data_plane(server, api_id, runtime)
        check_invoke(aws, tmp_path, runtime)
        check_state(aws, api_id, resource_id, deployment_id, runtime, handler)

        # kill -9 leaves no runtime behind and loses nothing.
        runtimes = server.children()
        assert runtimes
        server.stop(signal.SIGKILL)
        assert wait_gone(runtimes) == []
        server.start()
        check_data_plane(server, api_id, runtime)
        check_state(aws, api_id, resource_id, deployment_id, runtime, handler)
    finally:
        server.stop()
