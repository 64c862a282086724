"""HTTP APIs with HTTP_PROXY integrations: a real backend on loopback receives what the
gateway forwards (path, query, headers, body, request parameter mapping) and its answer comes
back unchanged."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Echo(BaseHTTPRequestHandler):
    def _answer(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        payload = json.dumps({
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
        }).encode()
        self.send_response(207)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Backend", "yes")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def backend():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def call(portico, api_id, method, path, body=None, headers=None):
    return portico.request(method, path, body=body, headers=headers,
                           host=f"{api_id}.execute-api.localhost:{portico.port}")


def test_quick_create_with_a_url_forwards_the_whole_request(aws, portico, backend):
    api_id = aws.json("apigatewayv2", "create-api", "--name", "proxy", "--protocol-type",
                      "HTTP", "--target", backend)["ApiId"]
    integration = aws.json("apigatewayv2", "get-integrations", "--api-id", api_id)["Items"][0]
    assert integration["IntegrationType"] == "HTTP_PROXY"
    assert integration["IntegrationMethod"] == "ANY"
    assert integration["PayloadFormatVersion"] == "1.0"
    status, headers, body = call(portico, api_id, "POST", "/store/checkout?a=1&a=2",
                                 body="hello", headers={"X-Client": "c",
                                                        "Content-Type": "text/plain"})
    assert status == 207
    assert headers["x-backend"] == "yes"
    assert headers["content-type"] == "application/json"
    assert "apigw-requestid" in headers
    seen = json.loads(body)
    assert seen["method"] == "POST"
    assert seen["path"] == "/store/checkout?a=1&a=2"
    assert seen["headers"]["x-client"] == "c"
    assert seen["body"] == "hello"


def test_greedy_route_and_parameter_mapping(aws, portico, backend):
    api_id = aws.json("apigatewayv2", "create-api", "--name", "mapped",
                      "--protocol-type", "HTTP")["ApiId"]
    integration = aws.json(
        "apigatewayv2", "create-integration", "--api-id", api_id, "--integration-type",
        "HTTP_PROXY", "--integration-method", "GET", "--integration-uri",
        f"{backend}/base/{{proxy}}", "--payload-format-version", "1.0",
        "--request-parameters", json.dumps({
            "append:header.x-client": "$request.querystring.tag",
            "overwrite:header.x-stage": "$context.stage",
            "remove:querystring.secret": "''",
            "append:querystring.added": "static-value",
        }),
    )
    assert integration["RequestParameters"]["overwrite:header.x-stage"] == "$context.stage"
    aws.json("apigatewayv2", "create-route", "--api-id", api_id, "--route-key",
             "ANY /api/{proxy+}", "--target", f"integrations/{integration['IntegrationId']}")
    aws.json("apigatewayv2", "create-stage", "--api-id", api_id, "--stage-name", "v1",
             "--auto-deploy")
    status, _, body = call(portico, api_id, "POST", "/v1/api/items/7?tag=t1&secret=s",
                           headers={"X-Client": "c"})
    assert status == 207
    seen = json.loads(body)
    assert seen["method"] == "GET"
    assert seen["path"] == "/base/items/7?tag=t1&added=static-value"
    assert seen["headers"]["x-client"] == "c,t1"
    assert seen["headers"]["x-stage"] == "v1"


def test_unreachable_backend_is_a_500(aws, portico):
    api_id = aws.json("apigatewayv2", "create-api", "--name", "down", "--protocol-type", "HTTP",
                      "--target", "http://127.0.0.1:1")["ApiId"]
    status, headers, body = call(portico, api_id, "GET", "/x")
    assert (status, body) == (500, b'{"message":"Internal Server Error"}')
    assert headers["content-type"] == "application/json"
