"""TestInvokeMethod (the console's "Test" button) driven by the AWS CLI: the method's current
definition runs, not a deployment, and the answer carries the execution log as the console
shows it. Timestamps, request ids and latencies are matched by pattern, every other character
exactly."""

import io
import json
import re
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import ACCOUNT, write_zip

STAMP = r"[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
TRACE = r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}"
LAMBDA_URI = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
              f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{{}}/invocations")
INVOKE_URL = ("https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/"
              f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{{}}/invocations")


def log_messages(log: str):
    """The log's request id and its messages, each line's timestamp checked and removed."""
    lines = log.split("\n")
    assert lines[-1] == "", "the log ends with a newline"
    head = re.fullmatch(f"Execution log for request ({UUID})", lines[0])
    assert head, lines[0]
    messages = []
    for line in lines[1:-1]:
        match = re.fullmatch(f"{STAMP} : (.*)", line)
        assert match, line
        messages.append(match.group(1))
    return head.group(1), messages


def check_log(log: str, expected):
    """`expected` holds exact strings, or compiled patterns that must match the whole line."""
    request_id, messages = log_messages(log)
    assert messages[0] == f"Starting execution for request: {request_id}"
    assert len(messages) - 1 == len(expected), "\n".join(messages)
    for got, want in zip(messages[1:], expected):
        if isinstance(want, re.Pattern):
            assert want.fullmatch(got), (got, want.pattern)
        else:
            assert got == want
    return request_id


def allow_api(aws, function, api_id):
    """The permission the console grants when it wires a function to an API."""
    aws.json("lambda", "add-permission", "--function-name", function,
             "--statement-id", f"apigateway-{api_id}", "--action", "lambda:InvokeFunction",
             "--principal", "apigateway.amazonaws.com",
             "--source-arn", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/*/*/*")


def new_api(aws, name):
    api = aws.json("apigateway", "create-rest-api", "--name", name)
    return api["id"], api["rootResourceId"]


def resource(aws, api_id, parent, part):
    return aws.json("apigateway", "create-resource", "--rest-api-id", api_id,
                    "--parent-id", parent, "--path-part", part)["id"]


def run_test_invoke(aws, api_id, resource_id, path, *extra, method="GET"):
    return aws.json("apigateway", "test-invoke-method", "--rest-api-id", api_id,
                    "--resource-id", resource_id, "--http-method", method,
                    "--path-with-query-string", path, *extra)


def mock_pet(aws, api_id, pet, template):
    """GET on `pet` as a MOCK whose response template is `template`, with a mapped header."""
    base = ["--rest-api-id", api_id, "--resource-id", pet, "--http-method", "GET"]
    aws.json("apigateway", "put-method", *base, "--authorization-type", "NONE",
             "--api-key-required")
    aws.json("apigateway", "put-method-response", *base, "--status-code", "200",
             "--response-parameters", "method.response.header.X-Pet=false")
    aws.json("apigateway", "put-integration", *base, "--type", "MOCK",
             "--request-templates", json.dumps({"application/json": '{"statusCode": 200}'}))
    aws.json("apigateway", "put-integration-response", *base, "--status-code", "200",
             "--response-parameters", json.dumps({"method.response.header.X-Pet": "'yes'"}),
             "--response-templates", json.dumps({"application/json": template}))


PET_TEMPLATE = ('{"id": "$input.params(\'id\')", "x": "$input.params(\'x\')", '
                '"color": "$stageVariables.color"}')


def test_mock_with_templates(aws):
    api_id, root = new_api(aws, "ti-mock")
    pets = resource(aws, api_id, root, "pets")
    pet = resource(aws, api_id, pets, "{id}")
    mock_pet(aws, api_id, pet, PET_TEMPLATE)
    # Neither a deployment nor the required API key is needed.
    got = run_test_invoke(aws, api_id, pet, "/pets/1?x=y", "--headers", "Accept=application/json",
                      "--stage-variables", "color=green", "--body", "")
    assert got["status"] == 200
    assert got["body"] == '{"id": "1", "x": "y", "color": "green"}'
    assert got["headers"] == {"Content-Type": "application/json", "X-Pet": "yes"}
    assert got["multiValueHeaders"] == {"Content-Type": ["application/json"], "X-Pet": ["yes"]}
    assert isinstance(got["latency"], int) and got["latency"] >= 0
    assert set(got) == {"status", "body", "headers", "multiValueHeaders", "log", "latency"}
    check_log(got["log"], [
        "HTTP Method: GET, Resource Path: /pets/1",
        "Method request path: {id=1}",
        "Method request query string: {x=y}",
        "Method request headers: {Accept=application/json}",
        "Method request body before transformations: ",
        'Method response body after transformations: {"id": "1", "x": "y", "color": "green"}',
        "Method response headers: {Content-Type=application/json, X-Pet=yes}",
        "Successfully completed execution",
        "Method completed with status: 200",
    ])


def test_request_validation_still_applies(aws):
    api_id, root = new_api(aws, "ti-validate")
    validator = aws.json("apigateway", "create-request-validator", "--rest-api-id", api_id,
                         "--name", "params", "--validate-request-parameters")["id"]
    base = ["--rest-api-id", api_id, "--resource-id", root, "--http-method", "GET"]
    aws.json("apigateway", "put-method", *base, "--authorization-type", "NONE",
             "--request-validator-id", validator,
             "--request-parameters", "method.request.querystring.name=true")
    aws.json("apigateway", "put-method-response", *base, "--status-code", "200")
    aws.json("apigateway", "put-integration", *base, "--type", "MOCK",
             "--request-templates", json.dumps({"application/json": '{"statusCode": 200}'}))
    aws.json("apigateway", "put-integration-response", *base, "--status-code", "200",
             "--response-templates", json.dumps({"application/json": '{"ok": true}'}))
    got = run_test_invoke(aws, api_id, root, "/")
    assert got["status"] == 400
    assert got["body"] == '{"message":"Missing required request parameters: [name]"}'
    _, messages = log_messages(got["log"])
    assert messages[-1] == "Method completed with status: 400"
    got = run_test_invoke(aws, api_id, root, "/?name=x")
    assert (got["status"], got["body"]) == (200, '{"ok": true}')


def test_undeployed_change_is_tested_but_not_served(aws, portico):
    api_id, root = new_api(aws, "ti-undeployed")
    pets = resource(aws, api_id, root, "pets")
    pet = resource(aws, api_id, pets, "{id}")
    mock_pet(aws, api_id, pet, '{"version": 1}')
    aws.json("apigateway", "update-method", "--rest-api-id", api_id, "--resource-id", pet,
             "--http-method", "GET", "--patch-operations",
             "op=replace,path=/apiKeyRequired,value=false")
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "prod")
    aws.json("apigateway", "put-integration-response", "--rest-api-id", api_id,
             "--resource-id", pet, "--http-method", "GET", "--status-code", "200",
             "--response-templates", json.dumps({"application/json": '{"version": 2}'}))
    status, _, body = portico.request("GET", f"/restapis/{api_id}/prod/_user_request_/pets/1")
    assert (status, body) == (200, b'{"version": 1}')
    got = run_test_invoke(aws, api_id, pet, "/pets/1")
    assert (got["status"], got["body"]) == (200, '{"version": 2}')
    # The answer names no stage of its own: the deployed stage is untouched.
    status, _, body = portico.request("GET", f"/restapis/{api_id}/prod/_user_request_/pets/1")
    assert (status, body) == (200, b'{"version": 1}')


def test_unknown_method_resource_and_api(aws):
    api_id, root = new_api(aws, "ti-errors")
    pets = resource(aws, api_id, root, "pets")
    err = aws.error("apigateway", "test-invoke-method", "--rest-api-id", api_id,
                    "--resource-id", pets, "--http-method", "GET")
    assert err.endswith("(NotFoundException) when calling the TestInvokeMethod operation: "
                        "Invalid Method identifier specified")
    err = aws.error("apigateway", "test-invoke-method", "--rest-api-id", api_id,
                    "--resource-id", "nope00", "--http-method", "GET")
    assert err.endswith("(NotFoundException) when calling the TestInvokeMethod operation: "
                        "Invalid Resource identifier specified")
    err = aws.error("apigateway", "test-invoke-method", "--rest-api-id", "nope000000",
                    "--resource-id", pets, "--http-method", "GET")
    assert err.endswith("(NotFoundException) when calling the TestInvokeMethod operation: "
                        f"Invalid API identifier specified {ACCOUNT}:nope000000")


SEED_TEMPLATE = '{"greeter":"$input.params(\'greeter\')"}'


def test_custom_lambda_with_the_seed_function(aws, tmp_path):
    zip_path = write_zip(tmp_path, "python3.12")
    aws.json("lambda", "create-function", "--function-name", "TestInvokeHello",
             "--runtime", "python3.12", "--handler", "lambda_function.lambda_handler",
             "--role", f"arn:aws:iam::{ACCOUNT}:role/lambda-role",
             "--zip-file", f"fileb://{zip_path}")
    api_id, root = new_api(aws, "ti-seed")
    greeting = resource(aws, api_id, root, "greeting")
    base = ["--rest-api-id", api_id, "--resource-id", greeting, "--http-method", "GET"]
    aws.json("apigateway", "put-method", *base, "--authorization-type", "NONE",
             "--request-parameters", "method.request.querystring.greeter=false")
    aws.json("apigateway", "put-method-response", *base, "--status-code", "200")
    aws.json("apigateway", "put-integration", *base, "--type", "AWS",
             "--integration-http-method", "POST", "--uri", LAMBDA_URI.format("TestInvokeHello"),
             "--request-templates", json.dumps({"application/json": SEED_TEMPLATE}))
    aws.json("apigateway", "put-integration-response", *base, "--status-code", "200",
             "--selection-pattern", "")
    allow_api(aws, "TestInvokeHello", api_id)
    got = run_test_invoke(aws, api_id, greeting, "/greeting?greeter=me")
    result = '{"statusCode": 200, "headers": {"Content-Type": "*/*"}, "body": "Hello, me!"}'
    assert got["status"] == 200
    assert got["body"] == result
    assert set(got["headers"]) == {"Content-Type", "X-Amzn-Trace-Id"}
    assert got["headers"]["Content-Type"] == "application/json"
    trace = got["headers"]["X-Amzn-Trace-Id"]
    assert re.fullmatch(TRACE, trace)
    url = INVOKE_URL.format("TestInvokeHello")
    source_arn = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/test-invoke-stage/GET/greeting"
    request_id = check_log(got["log"], [
        "HTTP Method: GET, Resource Path: /greeting",
        "Method request path: {}",
        "Method request query string: {greeter=me}",
        "Method request headers: {}",
        "Method request body before transformations: ",
        f"Endpoint request URI: {url}",
        re.compile(
            r"Endpoint request headers: \{X-Amz-Date=\d{8}T\d{6}Z, "
            f"x-amzn-apigateway-api-id={api_id}, Accept=application/json, "
            f"User-Agent=AmazonAPIGateway_{api_id}, Host=lambda.us-east-1.amazonaws.com, "
            r"X-Amz-Content-Sha256=[0-9a-f]{64}, "
            f"x-amzn-lambda-integration-tag={UUID}, "
            f"X-Amz-Source-Arn={re.escape(source_arn)}" r"\}"),
        'Endpoint request body after transformations: {"greeter":"me"}',
        f"Sending request to {url}",
        re.compile(r"Received response\. Status: 200, Integration latency: \d+ ms"),
        re.compile(
            r"Endpoint response headers: \{Date=[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} "
            r"\d{2}:\d{2}:\d{2} GMT, Content-Type=application/json, "
            f"Content-Length={len(result)}, Connection=keep-alive, x-amzn-RequestId={UUID}, "
            r"x-amzn-Remapped-Content-Length=0, X-Amz-Executed-Version=\$LATEST\}"),
        f"Endpoint response body before transformations: {result}",
        f"Method response body after transformations: {result}",
        f"Method response headers: {{Content-Type=application/json, X-Amzn-Trace-Id={trace}}}",
        "Successfully completed execution",
        "Method completed with status: 200",
    ])
    assert f"x-amzn-lambda-integration-tag={request_id}," in got["log"]


def test_lambda_without_permission(aws, tmp_path):
    zip_path = write_zip(tmp_path, "python3.12")
    aws.json("lambda", "create-function", "--function-name", "TestInvokeNoGrant",
             "--runtime", "python3.12", "--handler", "lambda_function.lambda_handler",
             "--role", f"arn:aws:iam::{ACCOUNT}:role/lambda-role",
             "--zip-file", f"fileb://{zip_path}")
    api_id, root = new_api(aws, "ti-no-grant")
    base = ["--rest-api-id", api_id, "--resource-id", root, "--http-method", "GET"]
    aws.json("apigateway", "put-method", *base, "--authorization-type", "NONE")
    aws.json("apigateway", "put-integration", *base, "--type", "AWS",
             "--integration-http-method", "POST", "--uri", LAMBDA_URI.format("TestInvokeNoGrant"),
             "--request-templates", json.dumps({"application/json": SEED_TEMPLATE}))
    got = run_test_invoke(aws, api_id, root, "/?greeter=me")
    assert got["status"] == 500
    assert got["body"] == '{"message": "Internal server error"}'
    _, messages = log_messages(got["log"])
    assert messages[-2:] == [
        "Execution failed due to configuration error: Invalid permissions on Lambda function",
        "Method completed with status: 500",
    ]
    assert messages[-3] == f"Sending request to {INVOKE_URL.format('TestInvokeNoGrant')}"


PROXY_FUNCTION = '''
import json

def handler(event, context):
    if event["path"] == "/fail":
        raise Exception("boom")
    return {"statusCode": 201, "headers": {"X-Made": "yes"},
            "body": json.dumps({"path": event["path"], "resource": event["resource"],
                                "stage": event["requestContext"]["stage"],
                                "query": event["queryStringParameters"],
                                "pathParameters": event["pathParameters"],
                                "stageVariables": event["stageVariables"],
                                "apiKey": event["requestContext"]["identity"]["apiKey"],
                                "body": event["body"]})}
'''


@pytest.fixture(scope="module")
def proxy_api(aws, tmp_path_factory):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", PROXY_FUNCTION)
    path = tmp_path_factory.mktemp("ti-proxy") / "fn.zip"
    path.write_bytes(buf.getvalue())
    aws.json("lambda", "create-function", "--function-name", "TestInvokeProxy",
             "--runtime", "python3.12", "--handler", "app.handler",
             "--role", f"arn:aws:iam::{ACCOUNT}:role/lambda-role",
             "--zip-file", f"fileb://{path}")
    api_id, root = new_api(aws, "ti-proxy")
    proxy = resource(aws, api_id, root, "{proxy+}")
    base = ["--rest-api-id", api_id, "--resource-id", proxy, "--http-method", "POST"]
    aws.json("apigateway", "put-method", *base, "--authorization-type", "AWS_IAM")
    aws.json("apigateway", "put-integration", *base, "--type", "AWS_PROXY",
             "--integration-http-method", "POST",
             "--uri", LAMBDA_URI.format("${stageVariables.fn}"))
    allow_api(aws, "TestInvokeProxy", api_id)
    return api_id, proxy


def test_lambda_proxy_with_stage_variables_from_the_call(aws, proxy_api):
    api_id, proxy = proxy_api
    got = run_test_invoke(aws, api_id, proxy, "/a/b?q=1", "--body", '{"n": 1}',
                      "--stage-variables", "fn=TestInvokeProxy", method="POST")
    assert got["status"] == 201
    assert json.loads(got["body"]) == {
        "path": "/a/b", "resource": "/{proxy+}", "stage": "test-invoke-stage",
        "query": {"q": "1"}, "pathParameters": {"proxy": "a/b"},
        "stageVariables": {"fn": "TestInvokeProxy"}, "apiKey": "test-invoke-api-key",
        "body": '{"n": 1}',
    }
    # Only what the function set, and the trace id: no Content-Type of the gateway's own.
    assert set(got["headers"]) == {"X-Made", "X-Amzn-Trace-Id"}
    assert got["headers"]["X-Made"] == "yes"
    trace = got["headers"]["X-Amzn-Trace-Id"]
    url = INVOKE_URL.format("TestInvokeProxy")
    _, messages = log_messages(got["log"])
    assert messages[1:6] == [
        "HTTP Method: POST, Resource Path: /a/b",
        "Method request path: {proxy=a/b}",
        "Method request query string: {q=1}",
        "Method request headers: {}",
        'Method request body before transformations: {"n": 1}',
    ]
    assert messages[6] == f"Endpoint request URI: {url}"
    assert messages[8].startswith(
        'Endpoint request body after transformations: {"resource":"/{proxy+}","path":"/a/b",'
        '"httpMethod":"POST"')
    assert messages[9] == f"Sending request to {url}"
    assert messages[12].startswith("Endpoint response body before transformations: "
                                   '{"statusCode": 201, "headers": {"X-Made": "yes"}')
    assert messages[13:] == [
        f"Method response body after transformations: {got['body']}",
        f"Method response headers: {{X-Made=yes, X-Amzn-Trace-Id={trace}}}",
        "Successfully completed execution",
        "Method completed with status: 201",
    ]


def test_lambda_proxy_function_error(aws, proxy_api):
    api_id, proxy = proxy_api
    got = run_test_invoke(aws, api_id, proxy, "/fail", "--stage-variables", "fn=TestInvokeProxy",
                      method="POST")
    assert got["status"] == 502
    assert got["body"] == '{"message": "Internal server error"}'
    _, messages = log_messages(got["log"])
    assert re.fullmatch(
        "Lambda execution failed with status 200 due to customer function error: boom. "
        f"Lambda request id: {UUID}", messages[-2]), messages[-2]
    assert messages[-1] == "Method completed with status: 502"
    assert "Successfully completed execution" not in messages


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = json.dumps({"target": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Backend", "yes")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def backend():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_http_to_a_loopback_backend(aws, backend):
    api_id, root = new_api(aws, "ti-http")
    items = resource(aws, api_id, root, "items")
    item = resource(aws, api_id, items, "{id}")
    base = ["--rest-api-id", api_id, "--resource-id", item, "--http-method", "GET"]
    aws.json("apigateway", "put-method", *base, "--authorization-type", "NONE",
             "--request-parameters", "method.request.path.id=true")
    aws.json("apigateway", "put-method-response", *base, "--status-code", "200")
    aws.json("apigateway", "put-integration", *base, "--type", "HTTP",
             "--integration-http-method", "GET", "--uri", f"http://{backend}/backend/{{id}}",
             "--request-parameters", json.dumps({
                 "integration.request.path.id": "method.request.path.id",
                 "integration.request.querystring.from": "stageVariables.origin"}))
    aws.json("apigateway", "put-integration-response", *base, "--status-code", "200",
             "--selection-pattern", "")
    got = run_test_invoke(aws, api_id, item, "/items/42", "--stage-variables", "origin=console")
    body = '{"target": "/backend/42?from=console"}'
    assert got["status"] == 200
    assert got["body"] == body
    assert got["headers"] == {"Content-Type": "application/json"}
    url = f"http://{backend}/backend/42?from=console"
    check_log(got["log"], [
        "HTTP Method: GET, Resource Path: /items/42",
        "Method request path: {id=42}",
        "Method request query string: {}",
        "Method request headers: {}",
        "Method request body before transformations: ",
        f"Endpoint request URI: {url}",
        re.compile(
            f"Endpoint request headers: {{Accept=application/json, "
            f"User-Agent=AmazonAPIGateway_{api_id}, X-Amzn-Trace-Id={TRACE}, "
            f"x-amzn-apigateway-api-id={api_id}}}"),
        "Endpoint request body after transformations: ",
        f"Sending request to {url}",
        re.compile(r"Received response\. Status: 200, Integration latency: \d+ ms"),
        re.compile(
            r"Endpoint response headers: \{Server=[^,]+, Date=[^,]+, \d{2} [A-Z][a-z]{2} "
            r"\d{4} \d{2}:\d{2}:\d{2} GMT, Content-Type=application/json, X-Backend=yes, "
            f"Content-Length={len(body)}}}"),
        f"Endpoint response body before transformations: {body}",
        f"Method response body after transformations: {body}",
        "Method response headers: {Content-Type=application/json}",
        "Successfully completed execution",
        "Method completed with status: 200",
    ])
