"""WebSocket APIs with the real AWS CLI and raw WebSocket clients: $connect deciding the
handshake, route selection by `$request.body.action`, two-way routes, $disconnect, the
@connections management API (CLI and from inside functions: a chat between two clients), and
the 128 KB message limit."""

import base64
import io
import json
import os
import socket
import struct
import time
import zipfile

import pytest

from conftest import ACCOUNT

CHAT = '''
import json, os, urllib.parse, urllib.request

def handler(event, context):
    ctx = event["requestContext"]
    route = ctx["routeKey"]
    if route == "$connect":
        if (event.get("queryStringParameters") or {}).get("deny"):
            return {"statusCode": 401, "body": "denied"}
        return {"statusCode": 200}
    if route == "$disconnect":
        with open(os.environ["LOG"], "a") as log:
            log.write(json.dumps(event) + "\\n")
        return {"statusCode": 200}
    if route == "whoami":
        return {"statusCode": 200, "body": ctx["connectionId"]}
    if route == "sendmessage":
        message = json.loads(event["body"])
        url = os.environ["ENDPOINT"] + "/@connections/" + urllib.parse.quote(message["to"], safe="")
        urllib.request.urlopen(urllib.request.Request(
            url, data=message["data"].encode(), method="POST")).read()
        return {"statusCode": 200}
    if route == "fail":
        raise Exception("boom")
    return {"statusCode": 200, "body": json.dumps({"routeKey": route, "event": event})}

def authorize(event, context):
    token = (event.get("queryStringParameters") or {}).get("token")
    effect = "Allow" if token == "letmein" else "Deny"
    return {"principalId": "p1", "context": {"user": "ws-user"},
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect,
                 "Resource": event["methodArn"]}]}}
'''


class WsClient:
    """A minimal RFC 6455 client: enough to speak to the gateway without dependencies."""

    def __init__(self, port, host, path, headers=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                 "Sec-WebSocket-Version: 13", "User-Agent: ws-test"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            data += chunk
        head, self.buf = data.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode().split("\r\n")
        self.status = int(status_line.split(" ")[1])
        self.headers = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip()
                        for l in header_lines}

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, payload, opcode=1, chunk=None):
        data = payload.encode() if isinstance(payload, str) else payload
        mask = os.urandom(4)
        header = bytes([0x80 | opcode])
        n = len(data)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(header + mask + masked)

    def recv(self):
        """The next data or close frame as (opcode, payload bytes)."""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            opcode = b0 & 0x0F
            if opcode in (1, 2, 8):
                return opcode, payload

    def recv_text(self):
        opcode, payload = self.recv()
        assert opcode == 1, (opcode, payload)
        return payload.decode()

    def close(self, code=1000):
        self.send(struct.pack(">H", code) + b"bye", opcode=8)
        try:
            self.recv()
        except (ConnectionError, OSError):
            pass
        self.sock.close()


@pytest.fixture(scope="module")
def chat_api(aws, portico, tmp_path_factory):
    folder = tmp_path_factory.mktemp("ws")
    log = folder / "disconnects.log"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("chat.py", CHAT)
    (folder / "chat.zip").write_bytes(buf.getvalue())
    api = aws.json("apigatewayv2", "create-api", "--name", "chat", "--protocol-type",
                   "WEBSOCKET", "--route-selection-expression", "$request.body.action")
    api_id = api["ApiId"]
    fn = aws.json(
        "lambda", "create-function", "--function-name", "WsChat", "--runtime", "python3.11",
        "--handler", "chat.handler", "--role", f"arn:aws:iam::{ACCOUNT}:role/r",
        "--zip-file", f"fileb://{folder / 'chat.zip'}", "--environment",
        json.dumps({"Variables": {"LOG": str(log),
                                  "ENDPOINT": f"http://127.0.0.1:{portico.port}/prod"}}),
    )
    authorizer_fn = aws.json(
        "lambda", "create-function", "--function-name", "WsAuth", "--runtime", "python3.11",
        "--handler", "chat.authorize", "--role", f"arn:aws:iam::{ACCOUNT}:role/r",
        "--zip-file", f"fileb://{folder / 'chat.zip'}",
    )["FunctionArn"]
    # API Gateway may invoke a function only with a resource-policy grant, as on AWS.
    for function in ("WsChat", "WsAuth"):
        aws.json("lambda", "add-permission", "--function-name", function,
                 "--statement-id", "apigateway", "--action", "lambda:InvokeFunction",
                 "--principal", "apigateway.amazonaws.com",
                 "--source-arn", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/*")
    integration = aws.json("apigatewayv2", "create-integration", "--api-id", api_id,
                           "--integration-type", "AWS_PROXY", "--integration-uri",
                           fn["FunctionArn"])
    target = f"integrations/{integration['IntegrationId']}"
    for key in ("$connect", "$disconnect", "sendmessage"):
        aws.json("apigatewayv2", "create-route", "--api-id", api_id, "--route-key", key,
                 "--target", target)
    for key in ("$default", "whoami", "fail"):
        aws.json("apigatewayv2", "create-route", "--api-id", api_id, "--route-key", key,
                 "--target", target, "--route-response-selection-expression", "$default")
    aws.json("apigatewayv2", "create-stage", "--api-id", api_id, "--stage-name", "prod")
    aws.json("apigatewayv2", "create-deployment", "--api-id", api_id, "--stage-name", "prod")
    return {"api": api, "api_id": api_id, "log": log, "integration": integration,
            "function": fn["FunctionArn"], "authorizer_function": authorizer_fn}


def connect(portico, api_id, path="/prod", headers=None):
    return WsClient(portico.port, f"{api_id}.execute-api.localhost:{portico.port}", path,
                    headers)


def whoami(client):
    client.send(json.dumps({"action": "whoami"}))
    return client.recv_text()


def test_websocket_api_control_plane(aws, chat_api, portico):
    api = chat_api["api"]
    assert api["ProtocolType"] == "WEBSOCKET"
    assert api["RouteSelectionExpression"] == "$request.body.action"
    assert api["ApiEndpoint"] == f"ws://{chat_api['api_id']}.execute-api.localhost:{portico.port}"
    assert chat_api["integration"]["PayloadFormatVersion"] == "1.0"
    assert chat_api["integration"]["TimeoutInMillis"] == 29000
    keys = sorted(r["RouteKey"] for r in aws.json(
        "apigatewayv2", "get-routes", "--api-id", chat_api["api_id"])["Items"])
    assert keys == ["$connect", "$default", "$disconnect", "fail", "sendmessage", "whoami"]
    err = aws.error("apigatewayv2", "create-api", "--name", "x", "--protocol-type", "WEBSOCKET")
    assert "(BadRequestException)" in err


def test_connect_routes_and_default(portico, chat_api):
    client = connect(portico, chat_api["api_id"], "/prod?room=1")
    assert client.status == 101
    connection_id = whoami(client)
    assert len(connection_id) == 16 and connection_id.endswith("=")
    client.send(json.dumps({"action": "unknown-action", "x": 1}))
    echoed = json.loads(client.recv_text())
    assert echoed["routeKey"] == "$default"
    ctx = echoed["event"]["requestContext"]
    assert ctx["eventType"] == "MESSAGE"
    assert ctx["connectionId"] == connection_id
    assert ctx["stage"] == "prod"
    assert ctx["messageDirection"] == "IN"
    assert ctx["apiId"] == chat_api["api_id"]
    assert ctx["identity"] == {"userAgent": "ws-test", "sourceIp": "127.0.0.1"}
    assert echoed["event"]["body"] == '{"action": "unknown-action", "x": 1}'
    assert echoed["event"]["isBase64Encoded"] is False
    client.send("not json at all")
    assert json.loads(client.recv_text())["routeKey"] == "$default"
    client.send(json.dumps({"action": "fail"}))
    failure = json.loads(client.recv_text())
    assert failure["message"] == "Internal server error"
    assert failure["connectionId"] == connection_id
    client.close()


def test_connect_refused_by_the_function(portico, chat_api):
    client = connect(portico, chat_api["api_id"], "/prod?deny=1")
    assert client.status == 401
    client.sock.close()
    assert connect(portico, chat_api["api_id"], "/nostage").status == 403


def test_chat_between_two_clients_through_post_to_connection(aws, portico, chat_api):
    alice = connect(portico, chat_api["api_id"])
    bob = connect(portico, chat_api["api_id"])
    alice_id, bob_id = whoami(alice), whoami(bob)
    assert alice_id != bob_id
    alice.send(json.dumps({"action": "sendmessage", "to": bob_id, "data": "hi bob"}))
    assert bob.recv_text() == "hi bob"
    bob.send(json.dumps({"action": "sendmessage", "to": alice_id, "data": "hi alice"}))
    assert alice.recv_text() == "hi alice"

    endpoint = f"http://127.0.0.1:{portico.port}/prod"
    aws.run("apigatewaymanagementapi", "post-to-connection", "--connection-id", bob_id,
            "--data", "from the CLI", "--endpoint-url", endpoint)
    assert bob.recv_text() == "from the CLI"
    info = aws.json("apigatewaymanagementapi", "get-connection", "--connection-id", bob_id,
                    "--endpoint-url", endpoint)
    assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "ws-test"}
    assert "ConnectedAt" in info and "LastActiveAt" in info
    aws.run("apigatewaymanagementapi", "delete-connection", "--connection-id", bob_id,
            "--endpoint-url", endpoint)
    opcode, payload = bob.recv()
    assert opcode == 8 and struct.unpack(">H", payload[:2])[0] == 1000
    err = aws.error("apigatewaymanagementapi", "post-to-connection", "--connection-id", bob_id,
                    "--data", "x", "--endpoint-url", endpoint)
    assert "(GoneException)" in err

    alice.close(1000)
    deadline = time.time() + 20
    while time.time() < deadline:
        lines = chat_api["log"].read_text().splitlines() if chat_api["log"].exists() else []
        ids = {json.loads(l)["requestContext"]["connectionId"]: json.loads(l) for l in lines}
        if alice_id in ids and bob_id in ids:
            break
        time.sleep(0.2)
    ctx = ids[alice_id]["requestContext"]
    assert ctx["eventType"] == "DISCONNECT"
    assert ctx["routeKey"] == "$disconnect"
    assert ctx["disconnectStatusCode"] == 1000
    assert ids[alice_id]["headers"]["user-agent"] == "ws-test"


def test_messages_over_128_kb_close_the_connection(portico, chat_api):
    client = connect(portico, chat_api["api_id"])
    client.send("x" * (130 * 1024))
    opcode, payload = client.recv()
    assert opcode == 8
    assert struct.unpack(">H", payload[:2])[0] == 1009
    client.sock.close()


def test_route_response_makes_a_route_two_way(aws, portico, chat_api):
    api_id = chat_api["api_id"]
    target = f"integrations/{chat_api['integration']['IntegrationId']}"
    route = aws.json("apigatewayv2", "create-route", "--api-id", api_id, "--route-key", "ping",
                     "--target", target)
    response = aws.json("apigatewayv2", "create-route-response", "--api-id", api_id,
                        "--route-id", route["RouteId"], "--route-response-key", "$default")
    assert response["RouteResponseKey"] == "$default"
    assert len(response["RouteResponseId"]) == 6
    listed = aws.json("apigatewayv2", "get-route-responses", "--api-id", api_id,
                      "--route-id", route["RouteId"])["Items"]
    assert listed == [response]
    err = aws.error("apigatewayv2", "create-route-response", "--api-id", api_id,
                    "--route-id", route["RouteId"], "--route-response-key", "$default")
    assert "(ConflictException)" in err
    aws.json("apigatewayv2", "create-deployment", "--api-id", api_id, "--stage-name", "prod")
    client = connect(portico, api_id)
    client.send(json.dumps({"action": "ping"}))
    assert json.loads(client.recv_text())["routeKey"] == "ping"
    client.close()
    aws.run("apigatewayv2", "delete-route-response", "--api-id", api_id, "--route-id",
            route["RouteId"], "--route-response-id", response["RouteResponseId"])
    err = aws.error("apigatewayv2", "get-route-response", "--api-id", api_id, "--route-id",
                    route["RouteId"], "--route-response-id", response["RouteResponseId"])
    assert err.endswith(f"Invalid RouteResponse identifier specified {response['RouteResponseId']}")


def test_connect_authorizer_decides_the_handshake(aws, portico, chat_api):
    api_id = aws.json("apigatewayv2", "create-api", "--name", "guarded", "--protocol-type",
                      "WEBSOCKET", "--route-selection-expression",
                      "$request.body.action")["ApiId"]
    for function in ("WsChat", "WsAuth"):
        aws.json("lambda", "add-permission", "--function-name", function,
                 "--statement-id", "guarded", "--action", "lambda:InvokeFunction",
                 "--principal", "apigateway.amazonaws.com",
                 "--source-arn", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/*")
    integration = aws.json("apigatewayv2", "create-integration", "--api-id", api_id,
                           "--integration-type", "AWS_PROXY", "--integration-uri",
                           chat_api["function"])["IntegrationId"]
    authorizer = aws.json("apigatewayv2", "create-authorizer", "--api-id", api_id, "--name",
                          "gate", "--authorizer-type", "REQUEST", "--authorizer-uri",
                          chat_api["authorizer_function"], "--identity-source",
                          "route.request.querystring.token")
    assert authorizer["AuthorizerType"] == "REQUEST"
    aws.json("apigatewayv2", "create-route", "--api-id", api_id, "--route-key", "$connect",
             "--target", f"integrations/{integration}", "--authorization-type", "CUSTOM",
             "--authorizer-id", authorizer["AuthorizerId"])
    aws.json("apigatewayv2", "create-route", "--api-id", api_id, "--route-key", "$default",
             "--target", f"integrations/{integration}",
             "--route-response-selection-expression", "$default")
    aws.json("apigatewayv2", "create-stage", "--api-id", api_id, "--stage-name", "prod",
             "--auto-deploy")
    assert connect(portico, api_id, "/prod").status == 401
    assert connect(portico, api_id, "/prod?token=nope").status == 403
    client = connect(portico, api_id, "/prod?token=letmein")
    assert client.status == 101
    client.send("hello")
    ctx = json.loads(client.recv_text())["event"]["requestContext"]
    assert ctx["authorizer"]["user"] == "ws-user"
    assert ctx["authorizer"]["principalId"] == "p1"
    client.close()
