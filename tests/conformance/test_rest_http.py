"""REST API HTTP and HTTP_PROXY integrations against a real HTTP server on loopback, built
with the AWS CLI and called over HTTP."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import AwsCli


class Echo(BaseHTTPRequestHandler):
    """Answers with a JSON echo of the request. `/status/{n}` answers status n, `/slow`
    sleeps 2 s first."""

    protocol_version = "HTTP/1.1"

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        path = self.path.split("?")[0]
        if path == "/slow":
            time.sleep(2)
        status = int(path[len("/status/"):]) if path.startswith("/status/") else 200
        echo = json.dumps({
            "method": self.command,
            "target": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
        }).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Backend", "yes")
        self.send_header("Content-Length", str(len(echo)))
        self.end_headers()
        self.wfile.write(echo)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def backend():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def new_api(aws: AwsCli, name: str):
    api = aws.json("apigateway", "create-rest-api", "--name", name)
    return api["id"], api["rootResourceId"]


def resource(aws, api_id, parent, part):
    return aws.json("apigateway", "create-resource", "--rest-api-id", api_id,
                    "--parent-id", parent, "--path-part", part)["id"]


def deploy(aws, api_id, variables=None):
    args = ["apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "test"]
    if variables:
        args += ["--variables", ",".join(f"{k}={v}" for k, v in variables.items())]
    aws.json(*args)


def call(portico, api_id, method, path, body=None, headers=None):
    return portico.request(method, f"/restapis/{api_id}/test/_user_request_{path}",
                           body=body, headers=headers)


def test_http_proxy_greedy_path_passthrough(aws, portico, backend):
    api_id, root = new_api(aws, "http-proxy")
    proxy = resource(aws, api_id, root, "{proxy+}")
    aws.json("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", proxy,
             "--http-method", "ANY", "--authorization-type", "NONE",
             "--request-parameters", "method.request.path.proxy=true")
    integration = aws.json(
        "apigateway", "put-integration", "--rest-api-id", api_id, "--resource-id", proxy,
        "--http-method", "ANY", "--type", "HTTP_PROXY", "--integration-http-method", "ANY",
        "--uri", "http://${stageVariables.backend}/{proxy}",
        "--request-parameters", json.dumps({
            "integration.request.path.proxy": "method.request.path.proxy",
            "integration.request.header.X-Api-Stage": "context.stage",
        }))
    assert integration["type"] == "HTTP_PROXY"
    assert integration["connectionType"] == "INTERNET"
    deploy(aws, api_id, {"backend": backend})

    status, headers, body = call(portico, api_id, "POST", "/items/a%20b?q=1&q=2",
                                 body=b'{"x":1}',
                                 headers={"Content-Type": "application/json", "X-Mine": "m"})
    assert status == 200
    assert headers["x-backend"] == "yes"
    assert headers["content-type"] == "application/json"
    assert headers["x-amzn-remapped-server"].startswith("BaseHTTP/")
    assert "x-amzn-remapped-date" in headers
    assert headers["x-amzn-remapped-content-length"] == str(len(body))
    assert "server" not in headers or not headers["server"].startswith("BaseHTTP/")
    echo = json.loads(body)
    assert echo["method"] == "POST"
    assert echo["target"] == "/items/a%20b?q=1&q=2"
    assert echo["body"] == '{"x":1}'
    assert echo["headers"]["x-mine"] == "m"
    assert echo["headers"]["x-api-stage"] == "test"
    assert echo["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert echo["headers"]["x-forwarded-proto"] == "http"
    assert echo["headers"]["x-amzn-apigateway-api-id"] == api_id
    assert echo["headers"]["host"] == backend
    assert echo["headers"]["x-amzn-trace-id"].startswith("Root=1-")

    # The backend's status and body reach the client unchanged.
    status, headers, body = call(portico, api_id, "DELETE", "/status/404")
    assert status == 404
    assert json.loads(body)["method"] == "DELETE"
    assert "x-amzn-errortype" not in headers


def test_http_custom_mapping_selection_and_errors(aws, portico, backend):
    api_id, root = new_api(aws, "http-custom")
    items = resource(aws, api_id, root, "items")
    item = resource(aws, api_id, items, "{id}")
    aws.json("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", item,
             "--http-method", "PUT", "--authorization-type", "NONE",
             "--request-parameters", json.dumps({
                 "method.request.path.id": True,
                 "method.request.querystring.code": False,
                 "method.request.header.X-Trace": False,
             }))
    aws.json("apigateway", "put-integration", "--rest-api-id", api_id, "--resource-id", item,
             "--http-method", "PUT", "--type", "HTTP", "--integration-http-method", "POST",
             "--uri", "http://${stageVariables.backend}/status/{code}",
             "--request-parameters", json.dumps({
                 "integration.request.path.code": "method.request.querystring.code",
                 "integration.request.header.X-Item": "method.request.path.id",
                 "integration.request.header.X-Trace-Copy": "method.request.header.X-Trace",
                 "integration.request.querystring.version": "stageVariables.version",
                 "integration.request.querystring.fixed": "'a b'",
             }),
             "--request-templates", json.dumps({
                 "application/json": "{\"id\": \"$input.params('id')\", \"in\": $input.json('$.v')}",
             }))
    for code in ("200", "400"):
        aws.json("apigateway", "put-method-response", "--rest-api-id", api_id,
                 "--resource-id", item, "--http-method", "PUT", "--status-code", code,
                 "--response-parameters", json.dumps({
                     "method.response.header.X-Backend": False,
                     "method.response.header.X-Seen-Method": False,
                 }))
    aws.json("apigateway", "put-integration-response", "--rest-api-id", api_id,
             "--resource-id", item, "--http-method", "PUT", "--status-code", "200",
             "--selection-pattern", "",
             "--response-parameters", json.dumps({
                 "method.response.header.X-Backend": "integration.response.header.X-Backend",
                 "method.response.header.X-Seen-Method": "integration.response.body.method",
             }))
    aws.json("apigateway", "put-integration-response", "--rest-api-id", api_id,
             "--resource-id", item, "--http-method", "PUT", "--status-code", "400",
             "--selection-pattern", "4\\d{2}",
             "--response-templates", json.dumps({
                 "application/json": "{\"backendTarget\": $input.json('$.target')}",
             }))
    deploy(aws, api_id, {"backend": backend, "version": "v2"})

    status, headers, body = call(portico, api_id, "PUT", "/items/42?code=201",
                                 body=b'{"v": [1, 2]}',
                                 headers={"Content-Type": "application/json", "X-Trace": "t-1",
                                          "X-Not-Forwarded": "1"})
    assert status == 200
    assert headers["x-backend"] == "yes"
    assert headers["x-seen-method"] == "POST"
    assert headers["content-type"] == "application/json"
    echo = json.loads(body)
    assert echo["target"] == "/status/201?fixed=a%20b&version=v2"
    assert echo["body"] == '{"id": "42", "in": [1,2]}'
    assert echo["headers"]["x-item"] == "42"
    assert echo["headers"]["x-trace-copy"] == "t-1"
    assert "x-not-forwarded" not in echo["headers"]
    assert echo["headers"]["user-agent"] == f"AmazonAPIGateway_{api_id}"
    assert echo["headers"]["accept"] == "application/json"

    status, headers, body = call(portico, api_id, "PUT", "/items/9?code=404",
                                 body=b"{}", headers={"Content-Type": "application/json"})
    assert status == 400
    assert body == b'{"backendTarget": "\\/status\\/404?fixed=a%20b&version=v2"}'
    assert "x-backend" not in headers


def test_http_timeout_and_unreachable_backend(aws, portico, backend):
    api_id, root = new_api(aws, "http-errors")
    for part, uri, timeout in (("slow", f"http://{backend}/slow", "100"),
                               ("dead", "http://127.0.0.1:1/nothing", "29000")):
        rid = resource(aws, api_id, root, part)
        aws.json("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", rid,
                 "--http-method", "GET", "--authorization-type", "NONE")
        aws.json("apigateway", "put-integration", "--rest-api-id", api_id, "--resource-id", rid,
                 "--http-method", "GET", "--type", "HTTP_PROXY",
                 "--integration-http-method", "GET", "--uri", uri,
                 "--timeout-in-millis", timeout)
    deploy(aws, api_id)

    status, headers, body = call(portico, api_id, "GET", "/slow")
    assert status == 504
    assert body == b'{"message": "Endpoint request timed out"}'
    assert headers["x-amzn-errortype"] == "InternalServerErrorException"
    assert headers["content-type"] == "application/json"

    status, headers, body = call(portico, api_id, "GET", "/dead")
    assert status == 500
    assert body == b'{"message": "Internal server error"}'
    assert headers["x-amzn-errortype"] == "InternalServerErrorException"
