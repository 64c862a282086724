"""AWS_IAM method authorization on a REST API: requests signed with SigV4 by botocore's own
signer (`SigV4Auth`, `SigV4QueryAuth`), sent with urllib, against a Portico started with
`--credentials` pairs (through PORTICO_CREDENTIALS) and its own AWS_ACCESS_KEY_ID pair."""

import datetime
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from unittest import mock

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import AwsCli, Portico
from test_lambda_helpers import create, python_zip
from test_websocket import WsClient

FLAG_KEY = Credentials("AKIDFLAGONE", "flag-secret-one")
FLAG_KEY_2 = Credentials("AKIDFLAGTWO", "flag/secret+two")
ENV_KEY = Credentials("AKIDFROMENV", "env-secret")
ACCOUNT = "123456789012"
IDENTITY_TEMPLATE = (
    '{"accessKey": "$context.identity.accessKey", "accountId": "$context.identity.accountId", '
    '"caller": "$context.identity.caller", "user": "$context.identity.user", '
    '"userArn": "$context.identity.userArn"}'
)


@pytest.fixture(scope="module")
def server(tmp_path_factory, monkeypatch_module):
    monkeypatch_module.setenv(
        "PORTICO_CREDENTIALS",
        f"{FLAG_KEY.access_key}:{FLAG_KEY.secret_key},{FLAG_KEY_2.access_key}:{FLAG_KEY_2.secret_key}",
    )
    monkeypatch_module.setenv("AWS_ACCESS_KEY_ID", ENV_KEY.access_key)
    monkeypatch_module.setenv("AWS_SECRET_ACCESS_KEY", ENV_KEY.secret_key)
    data_dir: Path = tmp_path_factory.mktemp("portico-iam") / "data"
    portico = Portico(data_dir)
    portico.start()
    yield portico
    portico.stop()


@pytest.fixture(scope="module")
def monkeypatch_module():
    patch = pytest.MonkeyPatch()
    yield patch
    patch.undo()


def method(aws: AwsCli, api_id, resource_id, verb, authorization, template):
    aws.json("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", resource_id,
             "--http-method", verb, "--authorization-type", authorization)
    aws.json("apigateway", "put-integration", "--rest-api-id", api_id,
             "--resource-id", resource_id, "--http-method", verb, "--type", "MOCK",
             "--request-templates", '{"application/json": "{\\"statusCode\\": 200}"}')
    aws.json("apigateway", "put-method-response", "--rest-api-id", api_id,
             "--resource-id", resource_id, "--http-method", verb, "--status-code", "200")
    aws.json("apigateway", "put-integration-response", "--rest-api-id", api_id,
             "--resource-id", resource_id, "--http-method", verb, "--status-code", "200",
             "--response-templates", json.dumps({"application/json": template}))


@pytest.fixture(scope="module")
def api(server):
    aws = AwsCli(server)
    created = aws.json("apigateway", "create-rest-api", "--name", "iam")
    api_id, root = created["id"], created["rootResourceId"]
    pets = aws.json("apigateway", "create-resource", "--rest-api-id", api_id,
                    "--parent-id", root, "--path-part", "pets")["id"]
    method(aws, api_id, root, "GET", "NONE", '{"open": true}')
    method(aws, api_id, pets, "GET", "AWS_IAM", IDENTITY_TEMPLATE)
    method(aws, api_id, pets, "POST", "AWS_IAM", '{"posted": true}')
    assert aws.json("apigateway", "get-method", "--rest-api-id", api_id, "--resource-id", pets,
                    "--http-method", "GET")["authorizationType"] == "AWS_IAM"
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "prod")
    return api_id


def host_of(server, api_id):
    return f"{api_id}.execute-api.localhost:{server.port}"


def signed(server, api_id, method, path, creds, body=b"", headers=None, presign=False,
           at=None, region="us-east-1"):
    """A urllib request to the API, signed by botocore as the AWS SDK for Python signs it."""
    url = f"http://{host_of(server, api_id)}{path}"
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    signer = (SigV4QueryAuth(creds, "execute-api", region, expires=300) if presign
              else SigV4Auth(creds, "execute-api", region))
    if at is None:
        signer.add_auth(request)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=at):
            signer.add_auth(request)
    return request


def send(server, request):
    """Sends a botocore-prepared request to the server, keeping the Host it was signed for."""
    prepared = request.prepare()
    host = prepared.url.split("/")[2]
    local = prepared.url.replace(host, f"127.0.0.1:{server.port}", 1)
    headers = {k: v for k, v in prepared.headers.items()}
    headers["Host"] = host
    out = urllib.request.Request(local, data=prepared.body or None, method=prepared.method,
                                 headers=headers)
    try:
        with urllib.request.urlopen(out, timeout=30) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def unsigned(server, api_id, method, path, headers=None):
    request = AWSRequest(method=method, url=f"http://{host_of(server, api_id)}{path}",
                         headers=dict(headers or {}))
    return send(server, request)


def identity(creds):
    return {"accessKey": creds.access_key, "accountId": ACCOUNT, "caller": ACCOUNT,
            "user": ACCOUNT, "userArn": f"arn:aws:iam::{ACCOUNT}:root"}


def test_signed_requests_from_every_configured_key_pass(server, api):
    for creds in (FLAG_KEY, FLAG_KEY_2, ENV_KEY):
        status, _, body = send(server, signed(server, api, "GET", "/prod/pets", creds))
        assert (status, json.loads(body)) == (200, identity(creds))
    status, _, body = send(server, signed(server, api, "POST", "/prod/pets", FLAG_KEY,
                                          body=b'{"name":"rex"}',
                                          headers={"Content-Type": "application/json"}))
    assert (status, body) == (200, b'{"posted": true}')


def test_presigned_urls_pass(server, api):
    request = signed(server, api, "GET", "/prod/pets?limit=5", FLAG_KEY, presign=True)
    assert "X-Amz-Signature=" in request.url
    status, _, body = send(server, request)
    assert (status, json.loads(body)) == (200, identity(FLAG_KEY))


def test_unsigned_requests_are_missing_a_token(server, api):
    status, headers, body = unsigned(server, api, "GET", "/prod/pets")
    assert (status, body) == (403, b'{"message":"Missing Authentication Token"}')
    assert headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    # A method without AWS_IAM is not affected.
    assert unsigned(server, api, "GET", "/prod/")[::2] == (200, b'{"open": true}')


def test_incomplete_authorization_headers(server, api):
    status, headers, body = unsigned(server, api, "GET", "/prod/pets",
                                     headers={"Authorization": "Bearer abc"})
    assert status == 403
    assert json.loads(body) == {"message": (
        "Authorization header requires 'Credential' parameter. Authorization header requires "
        "'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. "
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        "Authorization=Bearer abc")}
    assert headers["x-amzn-errortype"] == "IncompleteSignatureException"


def test_unknown_keys_are_unrecognised(server, api):
    stranger = Credentials("AKIDSTRANGER", "whatever")
    status, headers, body = send(server, signed(server, api, "GET", "/prod/pets", stranger))
    assert (status, body) == (
        403, b'{"message":"The security token included in the request is invalid."}')
    assert headers["x-amzn-errortype"] == "UnrecognizedClientException"


def test_a_wrong_secret_shows_the_canonical_request(server, api):
    wrong = Credentials(FLAG_KEY.access_key, "not-the-secret")
    request = signed(server, api, "GET", "/prod/pets?b=2&a=1", wrong)
    # botocore computes the same canonical request and string-to-sign AWS shows (from the
    # request as it was before the Authorization header was added).
    authorization = request.headers["Authorization"]
    del request.headers["Authorization"]
    auth = SigV4Auth(wrong, "execute-api", "us-east-1")
    canonical = auth.canonical_request(request)
    string_to_sign = auth.string_to_sign(request, canonical)
    request.headers["Authorization"] = authorization
    status, headers, body = send(server, request)
    assert status == 403
    assert headers["x-amzn-errortype"] == "InvalidSignatureException"
    assert json.loads(body) == {"message": (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service "
        "documentation for details.\n\nThe Canonical String for this request should have "
        f"been\n'{canonical}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n")}


def test_a_changed_body_fails(server, api):
    request = signed(server, api, "POST", "/prod/pets", FLAG_KEY, body=b'{"name":"rex"}',
                     headers={"Content-Type": "application/json"})
    request.data = b'{"name":"rey"}'
    status, headers, body = send(server, request)
    assert status == 403
    assert headers["x-amzn-errortype"] == "InvalidSignatureException"
    assert json.loads(body)["message"].startswith(
        "The request signature we calculated does not match the signature you provided.")


def test_stale_signatures_expire(server, api):
    then = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) \
        - datetime.timedelta(minutes=6)
    status, headers, body = send(server, signed(server, api, "GET", "/prod/pets", FLAG_KEY,
                                                at=then))
    assert status == 403
    assert headers["x-amzn-errortype"] == "InvalidSignatureException"
    message = json.loads(body)["message"]
    stamp = then.strftime("%Y%m%dT%H%M%SZ")
    assert message.startswith(f"Signature expired: {stamp} is now earlier than ")
    assert message.endswith(" - 5 min.)")


def test_another_region_is_refused(server, api):
    status, headers, body = send(server, signed(server, api, "GET", "/prod/pets", FLAG_KEY,
                                                region="eu-west-1"))
    assert (status, body) == (
        403, b'{"message":"Credential should be scoped to a valid region. "}')
    assert headers["x-amzn-errortype"] == "InvalidSignatureException"


ECHO = """
import json
def handler(event, context):
    # Payload 1.0 and WebSocket events name an IAM caller in identity, 2.0 in authorizer.
    if event.get("version") == "1.0" or "eventType" in event["requestContext"]:
        return {"statusCode": 200, "body": json.dumps(event["requestContext"]["identity"])}
    return {"statusCode": 200, "body": json.dumps(event["requestContext"].get("authorizer"))}
"""


@pytest.fixture(scope="module")
def http_api(server, tmp_path_factory):
    """An HTTP API whose GET /iam route is AWS_IAM and GET /open is not, both on a function
    that answers the event's requestContext.authorizer."""
    aws = AwsCli(server)
    fn = create(aws, tmp_path_factory.mktemp("iam-http"), "IamEcho", python_zip(ECHO))
    aws.json("lambda", "add-permission", "--function-name", "IamEcho",
             "--statement-id", "apigateway-any", "--action", "lambda:InvokeFunction",
             "--principal", "apigateway.amazonaws.com",
             "--source-arn", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:*/*")
    api_id = aws.json("apigatewayv2", "create-api", "--name", "iam-http",
                      "--protocol-type", "HTTP")["ApiId"]
    integration = aws.json("apigatewayv2", "create-integration", "--api-id", api_id,
                           "--integration-type", "AWS_PROXY", "--integration-uri",
                           fn["FunctionArn"], "--payload-format-version", "2.0")
    v1_integration = aws.json("apigatewayv2", "create-integration", "--api-id", api_id,
                              "--integration-type", "AWS_PROXY", "--integration-uri",
                              fn["FunctionArn"], "--payload-format-version", "1.0")
    for key, authorization, target in (("GET /iam", "AWS_IAM", integration),
                                       ("GET /open", "NONE", integration),
                                       ("GET /iam-v1", "AWS_IAM", v1_integration)):
        aws.json("apigatewayv2", "create-route", "--api-id", api_id, "--route-key", key,
                 "--authorization-type", authorization,
                 "--target", f"integrations/{target['IntegrationId']}")
    aws.json("apigatewayv2", "create-stage", "--api-id", api_id, "--stage-name", "$default",
             "--auto-deploy")
    return api_id


def test_http_api_aws_iam_routes_need_a_signature(server, http_api):
    status, headers, body = unsigned(server, http_api, "GET", "/iam")
    assert (status, body) == (403, b'{"message":"Forbidden"}')
    status, _, body = send(server, signed(server, http_api, "GET", "/iam", FLAG_KEY))
    assert status == 200
    assert json.loads(body) == {"iam": {
        "accessKey": FLAG_KEY.access_key, "accountId": ACCOUNT, "callerId": ACCOUNT,
        "cognitoIdentity": None, "principalOrgId": None,
        "userArn": f"arn:aws:iam::{ACCOUNT}:root", "userId": ACCOUNT}}
    # A key Portico was not given is refused, as AWS refuses an unknown key.
    stranger = Credentials("AKIDSTRANGER", "nope")
    status, _, body = send(server, signed(server, http_api, "GET", "/iam", stranger))
    assert status == 403
    assert json.loads(body) == {
        "message": "The security token included in the request is invalid."}
    # Routes without AWS_IAM stay open.
    status, _, body = unsigned(server, http_api, "GET", "/open")
    assert (status, body) == (200, b"null")


def test_http_api_payload_1_0_events_name_the_iam_caller_in_identity(server, http_api):
    status, _, body = send(server, signed(server, http_api, "GET", "/iam-v1", FLAG_KEY))
    assert status == 200
    user_agent = f"Python-urllib/{sys.version_info.major}.{sys.version_info.minor}"
    assert json.loads(body) == {
        "accessKey": FLAG_KEY.access_key, "accountId": ACCOUNT, "caller": ACCOUNT,
        "cognitoAuthenticationProvider": None, "cognitoAuthenticationType": None,
        "cognitoIdentityId": None, "cognitoIdentityPoolId": None, "principalOrgId": None,
        "sourceIp": "127.0.0.1", "user": ACCOUNT, "userAgent": user_agent,
        "userArn": f"arn:aws:iam::{ACCOUNT}:root"}


def test_websocket_iam_connect_needs_a_signed_handshake(server, http_api):
    aws = AwsCli(server)
    api_id = aws.json("apigatewayv2", "create-api", "--name", "iam-ws", "--protocol-type",
                      "WEBSOCKET", "--route-selection-expression",
                      "$request.body.action")["ApiId"]
    function_arn = aws.json("lambda", "get-function", "--function-name",
                            "IamEcho")["Configuration"]["FunctionArn"]
    integration = aws.json("apigatewayv2", "create-integration", "--api-id", api_id,
                           "--integration-type", "AWS_PROXY", "--integration-uri",
                           function_arn)["IntegrationId"]
    route = aws.json("apigatewayv2", "create-route", "--api-id", api_id, "--route-key",
                     "$connect", "--target", f"integrations/{integration}",
                     "--authorization-type", "AWS_IAM")
    assert route["AuthorizationType"] == "AWS_IAM"
    aws.json("apigatewayv2", "create-route", "--api-id", api_id, "--route-key", "$default",
             "--target", f"integrations/{integration}",
             "--route-response-selection-expression", "$default")
    aws.json("apigatewayv2", "create-stage", "--api-id", api_id, "--stage-name", "prod",
             "--auto-deploy")

    def handshake(creds=None):
        headers = {}
        if creds is not None:
            request = signed(server, api_id, "GET", "/prod", creds)
            headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        return WsClient(server.port, host_of(server, api_id), "/prod", headers)

    # Unsigned, or signed with a key Portico was not given: the handshake is refused, with
    # the same bodies HTTP API routes answer.
    for creds, message in (
            (None, "Forbidden"),
            (Credentials("AKIDSTRANGER", "nope"),
             "The security token included in the request is invalid.")):
        refused = handshake(creds)
        assert refused.status == 403
        body = refused._read(int(refused.headers["content-length"]))
        assert json.loads(body) == {"message": message}
        refused.sock.close()
    # Signed with a configured key: connected, and every event names the caller.
    client = handshake(FLAG_KEY)
    assert client.status == 101, client.buf
    client.send("hello")
    assert json.loads(client.recv_text()) == {
        "userAgent": "ws-test", "sourceIp": "127.0.0.1", "accessKey": FLAG_KEY.access_key,
        "accountId": ACCOUNT, "caller": ACCOUNT, "user": ACCOUNT,
        "userArn": f"arn:aws:iam::{ACCOUNT}:root"}
    client.close()
