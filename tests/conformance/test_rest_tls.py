"""https:// backends: REST HTTP and HTTP_PROXY integrations (with and without
`tlsConfig.insecureSkipVerification`) and HTTP API HTTP_PROXY integrations, against a real TLS
server on loopback with a self-signed certificate the test makes with openssl. Trust comes from
the platform store, so a gateway started with SSL_CERT_FILE naming the certificate trusts it."""

import base64
import json
import os
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import rsa

from conftest import AwsCli, Portico

INTERNAL = b'{"message": "Internal server error"}'


class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        payload = json.dumps({"tls": True, "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def make_cert(folder, name, san):
    """A self-signed leaf (not a CA) for `san`, valid for a day."""
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=portico-test",
                    "-addext", f"subjectAltName={san}",
                    "-addext", "basicConstraints=critical,CA:FALSE",
                    "-addext", "extendedKeyUsage=serverAuth"],
                   check=True, capture_output=True)
    return cert, key


@pytest.fixture(scope="module")
def tls_backend(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    cert, key = make_cert(folder, "backend", "IP:127.0.0.1")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"port": server.server_address[1], "cert": cert}
    server.shutdown()


@pytest.fixture(scope="module")
def trusting_portico(tmp_path_factory, tls_backend):
    """A second gateway whose platform trust store is the backend's certificate."""
    saved = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = str(tls_backend["cert"])
    server = Portico(tmp_path_factory.mktemp("trusting") / "data")
    try:
        server.start()
    finally:
        if saved is None:
            del os.environ["SSL_CERT_FILE"]
        else:
            os.environ["SSL_CERT_FILE"] = saved
    yield server
    server.stop()


def rest_api(aws, backend_url):
    """/skip (HTTP_PROXY, insecureSkipVerification), /strict (HTTP_PROXY, verified),
    /mapped (HTTP, insecureSkipVerification) and /byname (HTTP_PROXY to `localhost`, which
    the certificate does not name, insecureSkipVerification)."""
    api = aws.json("apigateway", "create-rest-api", "--name", "tls")
    api_id, root = api["id"], api["rootResourceId"]
    port = backend_url.rsplit(":", 1)[1]
    routes = {
        "skip": ("HTTP_PROXY", f"{backend_url}/skip", True),
        "strict": ("HTTP_PROXY", f"{backend_url}/strict", False),
        "mapped": ("HTTP", f"{backend_url}/mapped", True),
        "byname": ("HTTP_PROXY", f"https://localhost:{port}/byname", True),
    }
    for part, (kind, uri, skip) in routes.items():
        rid = aws.json("apigateway", "create-resource", "--rest-api-id", api_id,
                       "--parent-id", root, "--path-part", part)["id"]
        aws.json("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", rid,
                 "--http-method", "GET", "--authorization-type", "NONE")
        args = ["apigateway", "put-integration", "--rest-api-id", api_id, "--resource-id", rid,
                "--http-method", "GET", "--type", kind, "--integration-http-method", "GET",
                "--uri", uri]
        if skip:
            args += ["--tls-config", "insecureSkipVerification=true"]
        integration = aws.json(*args)
        assert integration.get("tlsConfig") == ({"insecureSkipVerification": True}
                                               if skip else None)
        if kind == "HTTP":
            aws.json("apigateway", "put-method-response", "--rest-api-id", api_id,
                     "--resource-id", rid, "--http-method", "GET", "--status-code", "200")
            aws.json("apigateway", "put-integration-response", "--rest-api-id", api_id,
                     "--resource-id", rid, "--http-method", "GET", "--status-code", "200",
                     "--selection-pattern", "")
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "s")
    return api_id


def get(portico, api_id, part):
    return portico.request("GET", f"/restapis/{api_id}/s/_user_request_/{part}")


def test_rest_https_backends_untrusted_certificate(aws, portico, tls_backend):
    api_id = rest_api(aws, f"https://127.0.0.1:{tls_backend['port']}")
    try:
        status, headers, body = get(portico, api_id, "skip")
        assert (status, json.loads(body)) == (200, {"tls": True, "path": "/skip"})
        assert headers["content-type"] == "application/json"
        status, _, body = get(portico, api_id, "mapped")
        assert (status, json.loads(body)) == (200, {"tls": True, "path": "/mapped"})

        # Not issued by a trusted CA and no insecureSkipVerification: the gateway's 500.
        status, headers, body = get(portico, api_id, "strict")
        assert (status, body) == (500, INTERNAL)
        assert headers["x-amzn-errortype"] == "InternalServerErrorException"

        # insecureSkipVerification still checks the host name, as AWS documents.
        status, _, body = get(portico, api_id, "byname")
        assert (status, body) == (500, INTERNAL)
    finally:
        aws.run("apigateway", "delete-rest-api", "--rest-api-id", api_id)


def test_rest_https_backend_trusted_through_ssl_cert_file(trusting_portico, tls_backend):
    aws = AwsCli(trusting_portico)
    api_id = rest_api(aws, f"https://127.0.0.1:{tls_backend['port']}")
    status, _, body = get(trusting_portico, api_id, "strict")
    assert (status, json.loads(body)) == (200, {"tls": True, "path": "/strict"})


def http_api(aws, target):
    return aws.json("apigatewayv2", "create-api", "--name", "tls-http", "--protocol-type",
                    "HTTP", "--target", target)["ApiId"]


def call_http_api(portico, api_id, path):
    return portico.request("GET", path, host=f"{api_id}.execute-api.localhost:{portico.port}")


def test_http_api_https_proxy(aws, portico, trusting_portico, tls_backend):
    target = f"https://127.0.0.1:{tls_backend['port']}"
    status, _, body = call_http_api(portico, http_api(aws, target), "/untrusted")
    assert (status, body) == (500, b'{"message":"Internal Server Error"}')
    trusted = http_api(AwsCli(trusting_portico), target)
    status, _, body = call_http_api(trusting_portico, trusted, "/trusted")
    assert (status, json.loads(body)) == (200, {"tls": True, "path": "/trusted"})


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_bytes(n):
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


@pytest.fixture(scope="module")
def https_issuer(tls_backend, tmp_path_factory):
    """An OIDC issuer (discovery document and JWKS) served over https with the backend's
    certificate; yields its URL and a token signer."""
    public, private = rsa.newkeys(1024)
    state = {}

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/.well-known/openid-configuration":
                payload = {"issuer": state["issuer"], "jwks_uri": state["issuer"] + "/jwks"}
            else:
                payload = {"keys": [{"kty": "RSA", "kid": "k1", "alg": "RS256",
                                     "n": b64url(int_bytes(public.n)),
                                     "e": b64url(int_bytes(public.e))}]}
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    key = tls_backend["cert"].with_suffix(".key")
    context.load_cert_chain(str(tls_backend["cert"]), str(key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    state["issuer"] = f"https://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def token(**claims):
        header = b64url(json.dumps({"alg": "RS256", "kid": "k1", "typ": "JWT"}).encode())
        body = b64url(json.dumps(claims).encode())
        signature = rsa.sign(f"{header}.{body}".encode(), private, "SHA-256")
        return f"{header}.{body}.{b64url(signature)}"

    yield state["issuer"], token
    server.shutdown()


def test_jwt_authorizer_fetches_keys_over_https(trusting_portico, tls_backend, https_issuer):
    url, token = https_issuer
    aws = AwsCli(trusting_portico)
    api_id = http_api(aws, f"https://127.0.0.1:{tls_backend['port']}")
    authorizer = aws.json(
        "apigatewayv2", "create-authorizer", "--api-id", api_id, "--name", "jwt",
        "--authorizer-type", "JWT", "--identity-source", "$request.header.Authorization",
        "--jwt-configuration", json.dumps({"Issuer": url, "Audience": ["tls"]}))
    route = aws.json("apigatewayv2", "get-routes", "--api-id", api_id)["Items"][0]
    aws.json("apigatewayv2", "update-route", "--api-id", api_id, "--route-id",
             route["RouteId"], "--authorization-type", "JWT",
             "--authorizer-id", authorizer["AuthorizerId"])
    now = int(time.time())
    good = token(iss=url, aud="tls", exp=now + 300)
    status, _, body = trusting_portico.request(
        "GET", "/secured", headers={"Authorization": f"Bearer {good}"},
        host=f"{api_id}.execute-api.localhost:{trusting_portico.port}")
    assert (status, json.loads(body)) == (200, {"tls": True, "path": "/secured"})
    status, _, body = call_http_api(trusting_portico, api_id, "/secured")
    assert (status, body) == (401, b'{"message":"Unauthorized"}')
