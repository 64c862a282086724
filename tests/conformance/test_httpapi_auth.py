"""HTTP API authorizers with the real AWS CLI: Lambda REQUEST authorizers (payload 2.0 simple
responses with result caching, payload 1.0 IAM policies) and JWT authorizers against a JWKS
served on loopback, each seen from the client (401/403/200) and from the integration's event."""

import base64
import io
import json
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import rsa

from conftest import ACCOUNT

FUNCTIONS = '''
import json

CALLS = 0

def echo(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps(event)}

def simple(event, context):
    global CALLS
    CALLS += 1
    token = event["headers"].get("authorization")
    return {"isAuthorized": token in ("secret", "other"),
            "context": {"user": "alice", "calls": CALLS, "token": token}}

def policy(event, context):
    effect = "Allow" if event["authorizationToken"] == "allow" else "Deny"
    return {"principalId": "user-1",
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect,
                 "Resource": event["methodArn"]}]},
            "context": {"tier": "gold"}}
'''


def _zip(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("auth.py", FUNCTIONS)
    path = tmp_path / "auth.zip"
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture(scope="module")
def functions(aws, tmp_path_factory):
    path = _zip(tmp_path_factory.mktemp("auth"))
    arns = {}
    for name in ("echo", "simple", "policy"):
        arns[name] = aws.json(
            "lambda", "create-function", "--function-name", f"Auth{name}", "--runtime",
            "python3.11", "--handler", f"auth.{name}", "--role",
            f"arn:aws:iam::{ACCOUNT}:role/r", "--zip-file", f"fileb://{path}",
        )["FunctionArn"]
        # API Gateway may invoke a function only with a resource-policy grant, as on AWS.
        aws.json("lambda", "add-permission", "--function-name", f"Auth{name}",
                 "--statement-id", "apigateway-any", "--action", "lambda:InvokeFunction",
                 "--principal", "apigateway.amazonaws.com",
                 "--source-arn", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:*/*")
    return arns


def call(portico, api_id, method, path, headers=None):
    return portico.request(method, path, headers=headers,
                           host=f"{api_id}.execute-api.localhost:{portico.port}")


def api_with_route(aws, echo_arn, route_key, **route_args):
    api_id = aws.json("apigatewayv2", "create-api", "--name", "auth",
                      "--protocol-type", "HTTP")["ApiId"]
    integration = aws.json("apigatewayv2", "create-integration", "--api-id", api_id,
                           "--integration-type", "AWS_PROXY", "--integration-uri", echo_arn,
                           "--payload-format-version", "2.0")["IntegrationId"]
    aws.json("apigatewayv2", "create-stage", "--api-id", api_id, "--stage-name", "$default",
             "--auto-deploy")
    return api_id, f"integrations/{integration}"


def test_lambda_authorizer_simple_responses_and_cache(aws, portico, functions):
    api_id, target = api_with_route(aws, functions["echo"], "GET /me")
    authorizer = aws.json(
        "apigatewayv2", "create-authorizer", "--api-id", api_id, "--name", "simple",
        "--authorizer-type", "REQUEST", "--authorizer-uri", functions["simple"],
        "--authorizer-payload-format-version", "2.0", "--enable-simple-responses",
        "--identity-source", "$request.header.Authorization",
        "--authorizer-result-ttl-in-seconds", "300",
    )
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert authorizer["EnableSimpleResponses"] is True
    assert authorizer["AuthorizerResultTtlInSeconds"] == 300
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    assert len(authorizer["AuthorizerId"]) == 6
    aws.json("apigatewayv2", "create-route", "--api-id", api_id, "--route-key", "GET /me",
             "--target", target, "--authorization-type", "CUSTOM",
             "--authorizer-id", authorizer["AuthorizerId"])

    assert call(portico, api_id, "GET", "/me")[0:3:2] == (401, b'{"message":"Unauthorized"}')
    assert call(portico, api_id, "GET", "/me", {"Authorization": "wrong"})[0:3:2] == (
        403, b'{"message":"Forbidden"}')
    status, _, body = call(portico, api_id, "GET", "/me", {"Authorization": "secret"})
    assert status == 200, body
    first = json.loads(body)["requestContext"]["authorizer"]["lambda"]
    assert (first["user"], first["token"]) == ("alice", "secret")
    again = json.loads(call(portico, api_id, "GET", "/me", {"Authorization": "secret"})[2])
    assert again["requestContext"]["authorizer"]["lambda"]["calls"] == first["calls"]
    other = json.loads(call(portico, api_id, "GET", "/me", {"Authorization": "other"})[2])
    assert other["requestContext"]["authorizer"]["lambda"]["calls"] > first["calls"]

    err = aws.error("apigatewayv2", "create-authorizer", "--api-id", api_id, "--name", "x",
                    "--authorizer-type", "REQUEST", "--authorizer-uri", functions["simple"],
                    "--identity-source", "$request.header.x")
    assert err.endswith("AuthorizerPayloadFormatVersion is a required parameter for REQUEST "
                        "authorizer")
    err = aws.error("apigatewayv2", "delete-authorizer", "--api-id", api_id,
                    "--authorizer-id", authorizer["AuthorizerId"])
    assert "(ConflictException)" in err


def test_lambda_authorizer_policy_responses(aws, portico, functions):
    api_id, target = api_with_route(aws, functions["echo"], "GET /items/{id}")
    authorizer_id = aws.json(
        "apigatewayv2", "create-authorizer", "--api-id", api_id, "--name", "policy",
        "--authorizer-type", "REQUEST", "--authorizer-uri", functions["policy"],
        "--authorizer-payload-format-version", "1.0",
        "--identity-source", "$request.querystring.token",
    )["AuthorizerId"]
    aws.json("apigatewayv2", "create-route", "--api-id", api_id, "--route-key",
             "GET /items/{id}", "--target", target, "--authorization-type", "CUSTOM",
             "--authorizer-id", authorizer_id)
    status, _, body = call(portico, api_id, "GET", "/items/9?token=allow")
    assert status == 200, body
    assert json.loads(body)["requestContext"]["authorizer"] == {"lambda": {"tier": "gold"}}
    assert call(portico, api_id, "GET", "/items/9?token=no")[0] == 403
    assert call(portico, api_id, "GET", "/items/9")[0] == 401


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_bytes(n):
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


@pytest.fixture(scope="module")
def issuer():
    public, private = rsa.newkeys(1024)
    state = {}

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/.well-known/openid-configuration":
                payload = {"issuer": state["issuer"], "jwks_uri": state["issuer"] + "/jwks"}
            elif self.path == "/jwks":
                payload = {"keys": [{"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
                                     "n": b64url(int_bytes(public.n)),
                                     "e": b64url(int_bytes(public.e))}]}
            else:
                self.send_response(404)
                self.end_headers()
                return
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    state["issuer"] = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def token(**claims):
        header = b64url(json.dumps({"alg": "RS256", "kid": "k1", "typ": "JWT"}).encode())
        body = b64url(json.dumps(claims).encode())
        signature = rsa.sign(f"{header}.{body}".encode(), private, "SHA-256")
        return f"{header}.{body}.{b64url(signature)}"

    yield state["issuer"], token
    server.shutdown()


def test_jwt_authorizer(aws, portico, functions, issuer):
    url, token = issuer
    api_id, target = api_with_route(aws, functions["echo"], "GET /orders")
    authorizer = aws.json(
        "apigatewayv2", "create-authorizer", "--api-id", api_id, "--name", "jwt",
        "--authorizer-type", "JWT", "--identity-source", "$request.header.Authorization",
        "--jwt-configuration", json.dumps({"Issuer": url, "Audience": ["orders-api"]}),
    )
    assert authorizer["JwtConfiguration"] == {"Issuer": url, "Audience": ["orders-api"]}
    aws.json("apigatewayv2", "create-route", "--api-id", api_id, "--route-key", "GET /orders",
             "--target", target, "--authorization-type", "JWT", "--authorizer-id",
             authorizer["AuthorizerId"], "--authorization-scopes", "orders:read")
    now = int(time.time())
    good = token(iss=url, aud="orders-api", sub="u1", exp=now + 300, iat=now - 10,
                 scope="orders:read profile")
    status, _, body = call(portico, api_id, "GET", "/orders", {"Authorization": f"Bearer {good}"})
    assert status == 200, body
    jwt = json.loads(body)["requestContext"]["authorizer"]["jwt"]
    assert jwt["claims"]["sub"] == "u1"
    assert jwt["claims"]["exp"] == str(now + 300)
    assert jwt["scopes"] == ["orders:read", "profile"]

    def status_for(value):
        return call(portico, api_id, "GET", "/orders", {"Authorization": value})[0:3:2]

    unauthorized = (401, b'{"message":"Unauthorized"}')
    assert status_for(token(iss=url, aud="orders-api", exp=now - 1, scope="orders:read")) \
        == unauthorized
    assert status_for(token(iss=url, aud="other", exp=now + 300, scope="orders:read")) \
        == unauthorized
    assert status_for(token(iss="http://evil", aud="orders-api", exp=now + 300)) == unauthorized
    assert status_for(good[:-4] + "AAAA") == unauthorized
    assert status_for("not-a-token") == unauthorized
    assert call(portico, api_id, "GET", "/orders")[0] == 401
    assert status_for(token(iss=url, client_id="orders-api", exp=now + 300, scope="x")) == (
        403, b'{"message":"Forbidden"}')
