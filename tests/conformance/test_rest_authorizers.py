"""REST API Lambda authorizers (TOKEN and REQUEST): the control plane (create, get, list,
update, delete and their errors) and the data plane with a real Python authorizer function:
the event it receives, Allow/Deny/no-match policies, 401s for missing or invalid identities,
500s for failing authorizers, context reaching templates and proxy events, result caching, and
customised gateway responses."""

import http.client
import json

import pytest

from conftest import ACCOUNT
from test_lambda_helpers import create, integration_uri, python_zip

# Every event the authorizer receives is appended to LOG_PATH (one JSON per line), so tests
# can see what it was sent and how often it was called.
AUTHORIZER = '''
import json

LOG_PATH = {log_path!r}

def policy(effect, resource):
    return {{"Version": "2012-10-17", "Statement": [
        {{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}}]}}

def handler(event, context):
    with open(LOG_PATH, "a") as f:
        f.write(json.dumps(event) + "\\n")
    arn = event["methodArn"]
    api_wide = arn.split("/")[0] + "/*"
    if event["type"] == "REQUEST":
        user = event["headers"].get("X-User", "")
        if user == "alice":
            return {{"principalId": "alice", "policyDocument": policy("Allow", api_wide),
                    "context": {{"tenant": event["queryStringParameters"]["tenant"]}}}}
        return {{"principalId": user, "policyDocument": policy("Deny", arn)}}
    token = event["authorizationToken"]
    kind = token.split("-")[0]
    if kind == "allow":
        return {{"principalId": "user-" + token, "policyDocument": policy("Allow", api_wide),
                "context": {{"s": "text", "n": 1, "b": True}}}}
    if kind == "deny":
        return {{"principalId": "x", "policyDocument": policy("Deny", api_wide)}}
    if kind == "post":
        return {{"principalId": "x", "policyDocument": policy("Allow", arn.split("/")[0] + "/*/POST/*")}}
    if kind == "key":
        return {{"principalId": "k", "policyDocument": policy("Allow", api_wide),
                "usageIdentifierKey": token[4:]}}
    if kind == "unauthorized":
        raise Exception("Unauthorized")
    if kind == "nested":
        return {{"principalId": "x", "policyDocument": policy("Allow", api_wide),
                "context": {{"o": {{"a": 1}}}}}}
    if kind == "nopolicy":
        return {{"principalId": "x"}}
    raise Exception("boom")
'''

ECHO = '''
import json

def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event)}
'''

TEMPLATE = ('{"principal":"$context.authorizer.principalId","s":"$context.authorizer.s",'
            '"n":"$context.authorizer.n","b":"$context.authorizer.b",'
            '"tenant":"$context.authorizer.tenant"}')


def grant(aws, function, api_id, sid, arn_tail="*"):
    aws.json("lambda", "add-permission", "--function-name", function,
             "--statement-id", sid, "--action", "lambda:InvokeFunction",
             "--principal", "apigateway.amazonaws.com",
             "--source-arn", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/{arn_tail}")


def mock_method(aws, api_id, resource_id, authorizer_id):
    aws.json("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", resource_id,
             "--http-method", "GET", "--authorization-type", "CUSTOM",
             "--authorizer-id", authorizer_id)
    aws.json("apigateway", "put-integration", "--rest-api-id", api_id,
             "--resource-id", resource_id, "--http-method", "GET", "--type", "MOCK",
             "--request-templates", json.dumps({"application/json": '{"statusCode": 200}'}))
    aws.json("apigateway", "put-method-response", "--rest-api-id", api_id,
             "--resource-id", resource_id, "--http-method", "GET", "--status-code", "200")
    aws.json("apigateway", "put-integration-response", "--rest-api-id", api_id,
             "--resource-id", resource_id, "--http-method", "GET", "--status-code", "200",
             "--response-templates", json.dumps({"application/json": TEMPLATE}))


class Api:
    def __init__(self, portico, api_id, log_path):
        self.portico, self.api_id, self.log_path = portico, api_id, log_path

    def get(self, path, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.portico.port, timeout=60)
        conn.request("GET", f"/restapis/{self.api_id}/prod/_user_request_{path}",
                     headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        conn.close()
        return resp.status, headers, body

    def events(self):
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines()]

    def calls_with(self, token):
        return [e for e in self.events() if e.get("authorizationToken") == token]


@pytest.fixture(scope="module")
def api(aws, portico, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("authorizers")
    log_path = tmp / "events.jsonl"
    create(aws, tmp, "Authz", python_zip(AUTHORIZER.format(log_path=str(log_path))))
    create(aws, tmp, "AuthzEcho", python_zip(ECHO))
    rest = aws.json("apigateway", "create-rest-api", "--name", "authorized")
    api_id, root = rest["id"], rest["rootResourceId"]
    grant(aws, "Authz", api_id, "authorizers", "authorizers/*")
    grant(aws, "AuthzEcho", api_id, "methods")

    def authorizer(*args):
        return aws.json("apigateway", "create-authorizer", "--rest-api-id", api_id,
                        "--authorizer-uri", integration_uri("Authz"), *args)["id"]

    token = authorizer("--name", "token", "--type", "TOKEN")
    uncached = authorizer("--name", "uncached", "--type", "TOKEN",
                          "--identity-source", "method.request.header.X-Token",
                          "--authorizer-result-ttl-in-seconds", "0")
    validated = authorizer("--name", "validated", "--type", "TOKEN",
                           "--identity-validation-expression", "allow-.*")
    request = authorizer("--name", "request", "--type", "REQUEST",
                         "--identity-source",
                         "method.request.header.X-User, method.request.querystring.tenant")
    ids = {}
    for part, auth in (("mock", token), ("uncached", uncached), ("validated", validated),
                       ("req", request)):
        rid = aws.json("apigateway", "create-resource", "--rest-api-id", api_id,
                       "--parent-id", root, "--path-part", part)["id"]
        mock_method(aws, api_id, rid, auth)
        ids[part] = rid
    proxy = aws.json("apigateway", "create-resource", "--rest-api-id", api_id,
                     "--parent-id", root, "--path-part", "proxy")["id"]
    aws.json("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", proxy,
             "--http-method", "GET", "--authorization-type", "CUSTOM",
             "--authorizer-id", token)
    aws.json("apigateway", "put-integration", "--rest-api-id", api_id, "--resource-id", proxy,
             "--http-method", "GET", "--type", "AWS_PROXY", "--integration-http-method", "POST",
             "--uri", integration_uri("AuthzEcho"))
    aws.json("apigateway", "put-gateway-response", "--rest-api-id", api_id,
             "--response-type", "ACCESS_DENIED", "--status-code", "403",
             "--response-parameters", json.dumps({"gatewayresponse.header.X-Denied": "'yes'"}),
             "--response-templates",
             json.dumps({"application/json": '{"denied":"$context.error.responseType"}'}))
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "prod")
    return Api(portico, api_id, log_path), {"token": token, "request": request,
                                            "resources": ids}


def test_token_allow_reaches_the_template_with_the_context(api):
    client, _ = api
    status, headers, body = client.get("/mock", {"Authorization": "allow-template"})
    assert status == 200
    assert json.loads(body) == {"principal": "user-allow-template", "s": "text", "n": "1",
                                "b": "true", "tenant": ""}
    assert headers["content-type"] == "application/json"
    (event,) = client.calls_with("allow-template")
    assert event == {
        "type": "TOKEN",
        "authorizationToken": "allow-template",
        "methodArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{client.api_id}/prod/GET/mock",
    }


def test_token_refusals(api):
    client, _ = api
    # No token: 401 without calling the function.
    status, headers, body = client.get("/mock")
    assert (status, body) == (401, b'{"message":"Unauthorized"}')
    assert headers["x-amzn-errortype"] == "UnauthorizedException"
    # The function raising "Unauthorized" is a 401 too.
    status, _, body = client.get("/mock", {"Authorization": "unauthorized-1"})
    assert (status, body) == (401, b'{"message":"Unauthorized"}')
    # Any other failure, and an answer that is not a valid result: 500 with a null message.
    for token in ("boom-1", "nested-1", "nopolicy-1"):
        status, headers, body = client.get("/mock", {"Authorization": token})
        assert (status, body) == (500, b'{"message":null}'), token
        assert headers["x-amzn-errortype"] == "AuthorizerConfigurationException"


def test_policies_and_the_access_denied_customisation(api):
    client, _ = api
    # ACCESS_DENIED is customised on this API: its template and header apply.
    status, headers, body = client.get("/mock", {"Authorization": "deny-1"})
    assert status == 403
    assert body == b'{"denied":"ACCESS_DENIED"}'
    assert headers["x-denied"] == "yes"
    # A policy that allows another verb only: no match, also ACCESS_DENIED.
    status, headers, body = client.get("/mock", {"Authorization": "post-1"})
    assert (status, body) == (403, b'{"denied":"ACCESS_DENIED"}')


def test_validation_expression_refuses_without_calling(api):
    client, _ = api
    status, _, body = client.get("/validated", {"Authorization": "deny-validated"})
    assert (status, body) == (401, b'{"message":"Unauthorized"}')
    assert client.calls_with("deny-validated") == []
    status, _, _ = client.get("/validated", {"Authorization": "allow-validated"})
    assert status == 200
    assert len(client.calls_with("allow-validated")) == 1


def test_results_are_cached_for_the_ttl(api):
    client, _ = api
    for _ in range(3):
        assert client.get("/mock", {"Authorization": "allow-cached"})[0] == 200
    assert len(client.calls_with("allow-cached")) == 1
    # The cached policy is evaluated against each method ARN: the same token on /proxy.
    assert client.get("/proxy", {"Authorization": "allow-cached"})[0] == 200
    assert len(client.calls_with("allow-cached")) == 1
    # TTL 0: every request calls the function.
    for _ in range(2):
        assert client.get("/uncached", {"X-Token": "allow-uncached"})[0] == 200
    assert len(client.calls_with("allow-uncached")) == 2


def test_proxy_event_carries_the_authorizer(api):
    client, _ = api
    status, _, body = client.get("/proxy", {"Authorization": "allow-proxy"})
    assert status == 200
    event = json.loads(body)
    assert event["requestContext"]["authorizer"] == {
        "principalId": "user-allow-proxy", "s": "text", "n": "1", "b": "true",
        "integrationLatency": 0,
    }


def test_request_authorizer(api):
    client, _ = api
    # Either identity source missing: 401 without a call.
    before = len(client.events())
    assert client.get("/req", {"X-User": "alice"})[0] == 401
    assert client.get("/req?tenant=t1")[0] == 401
    assert len(client.events()) == before
    status, _, body = client.get("/req?tenant=t1", {"X-User": "alice"})
    assert status == 200
    assert json.loads(body) == {"principal": "alice", "s": "", "n": "", "b": "",
                                "tenant": "t1"}
    event = client.events()[-1]
    assert event["type"] == "REQUEST"
    assert event["methodArn"] == (
        f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{client.api_id}/prod/GET/req")
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/req", "/req", "GET")
    assert event["headers"]["X-User"] == "alice"
    assert event["multiValueHeaders"]["X-User"] == ["alice"]
    assert event["queryStringParameters"] == {"tenant": "t1"}
    assert event["multiValueQueryStringParameters"] == {"tenant": ["t1"]}
    assert event["pathParameters"] is None
    assert event["stageVariables"] is None
    assert event["requestContext"]["resourcePath"] == "/req"
    assert event["requestContext"]["stage"] == "prod"
    assert "body" not in event
    # Denied for another user (explicit Deny, default ACCESS_DENIED customised above).
    status, _, body = client.get("/req?tenant=t1", {"X-User": "bob"})
    assert (status, body) == (403, b'{"denied":"ACCESS_DENIED"}')


def test_control_plane(aws, api):
    client, ids = api
    api_id = client.api_id
    got = aws.json("apigateway", "get-authorizer", "--rest-api-id", api_id,
                   "--authorizer-id", ids["token"])
    assert got == {"id": ids["token"], "name": "token", "type": "TOKEN",
                   "authorizerUri": integration_uri("Authz"),
                   "identitySource": "method.request.header.Authorization",
                   "authorizerResultTtlInSeconds": 300}
    listed = aws.json("apigateway", "get-authorizers", "--rest-api-id", api_id)
    assert [a["name"] for a in listed["items"]] == ["token", "uncached", "validated", "request"]
    request = next(a for a in listed["items"] if a["name"] == "request")
    assert request["identitySource"] == (
        "method.request.header.X-User, method.request.querystring.tenant")
    page = aws.json("apigateway", "get-authorizers", "--rest-api-id", api_id, "--limit", "1")
    assert page["items"] == [listed["items"][0]]
    assert page["position"] == listed["items"][1]["id"]

    created = aws.json("apigateway", "create-authorizer", "--rest-api-id", api_id,
                       "--name", "spare", "--type", "REQUEST",
                       "--authorizer-uri", integration_uri("Authz"),
                       "--identity-source", "method.request.header.A",
                       "--authorizer-credentials", f"arn:aws:iam::{ACCOUNT}:role/authz")
    assert created["authorizerResultTtlInSeconds"] == 300
    assert created["authorizerCredentials"] == f"arn:aws:iam::{ACCOUNT}:role/authz"
    updated = aws.json("apigateway", "update-authorizer", "--rest-api-id", api_id,
                       "--authorizer-id", created["id"], "--patch-operations",
                       "op=replace,path=/authorizerResultTtlInSeconds,value=60",
                       "op=replace,path=/name,value=renamed")
    assert (updated["name"], updated["authorizerResultTtlInSeconds"]) == ("renamed", 60)
    error = aws.error("apigateway", "update-authorizer", "--rest-api-id", api_id,
                      "--authorizer-id", created["id"], "--patch-operations",
                      "op=replace,path=/authorizerResultTtlInSeconds,value=4000")
    assert error.endswith("(BadRequestException) when calling the UpdateAuthorizer operation: "
                          "Invalid Authorizer ttl specified. Value must be between 0 and 3600.")
    aws.json("apigateway", "delete-authorizer", "--rest-api-id", api_id,
             "--authorizer-id", created["id"])
    error = aws.error("apigateway", "get-authorizer", "--rest-api-id", api_id,
                      "--authorizer-id", created["id"])
    assert error.endswith("(NotFoundException) when calling the GetAuthorizer operation: "
                          "Invalid Authorizer identifier specified")

    # An authorizer a method uses cannot be deleted.
    error = aws.error("apigateway", "delete-authorizer", "--rest-api-id", api_id,
                      "--authorizer-id", ids["token"])
    assert error.endswith("(ConflictException) when calling the DeleteAuthorizer operation: "
                          "Cannot delete authorizer, is referenced in method: GET//mock")

    # A CUSTOM method must name an authorizer of the API.
    rid = aws.json("apigateway", "create-resource", "--rest-api-id", api_id,
                   "--parent-id", ids["resources"]["mock"], "--path-part", "x")["id"]
    error = aws.error("apigateway", "put-method", "--rest-api-id", api_id,
                      "--resource-id", rid, "--http-method", "GET",
                      "--authorization-type", "CUSTOM", "--authorizer-id", "nope00")
    assert error.endswith(
        "(BadRequestException) when calling the PutMethod operation: Invalid authorizer ID "
        "specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires "
        "a valid authorizer.")
    aws.json("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", rid,
             "--http-method", "GET", "--authorization-type", "NONE")
    error = aws.error("apigateway", "update-method", "--rest-api-id", api_id,
                      "--resource-id", rid, "--http-method", "GET", "--patch-operations",
                      "op=replace,path=/authorizationType,value=CUSTOM")
    assert "requires a valid authorizer." in error


@pytest.mark.parametrize("args, message", [
    (["--type", "JWT"],
     "1 validation error detected: Value 'JWT' at 'createAuthorizerInput.type' failed to "
     "satisfy constraint: Member must satisfy enum value set: [TOKEN, REQUEST, "
     "COGNITO_USER_POOLS]"),
    (["--type", "TOKEN", "--authorizer-result-ttl-in-seconds", "3601", "--authorizer-uri", "U"],
     "Invalid Authorizer ttl specified. Value must be between 0 and 3600."),
    (["--type", "TOKEN"], "Authorizer URI must be specified for authorizer of type TOKEN"),
    (["--type", "TOKEN", "--authorizer-uri", "U", "--identity-validation-expression", "("],
     "Invalid identity validation expression specified: ("),
    (["--type", "REQUEST", "--authorizer-uri", "U"],
     "Identity source must be specified for REQUEST authorizer when caching is enabled "
     "(authorizerResultTtlInSeconds > 0)"),
])
def test_create_errors(aws, api, args, message):
    client, _ = api
    args = [integration_uri("Authz") if a == "U" else a for a in args]
    error = aws.error("apigateway", "create-authorizer", "--rest-api-id", client.api_id,
                      "--name", "bad", *args)
    assert error.endswith(f"(BadRequestException) when calling the CreateAuthorizer "
                          f"operation: {message}")


def test_api_key_from_the_authorizer(aws, portico, api):
    """apiKeySource AUTHORIZER: the key a method requires is the authorizer's
    usageIdentifierKey, not the x-api-key header."""
    key_value = "authorizerkey0123456789"
    rest = aws.json("apigateway", "create-rest-api", "--name", "keyed",
                    "--api-key-source", "AUTHORIZER")
    api_id = rest["id"]
    grant(aws, "Authz", api_id, "keyed-authorizers", "authorizers/*")
    authorizer_id = aws.json("apigateway", "create-authorizer", "--rest-api-id", api_id,
                             "--name", "keys", "--type", "TOKEN",
                             "--authorizer-uri", integration_uri("Authz"),
                             "--authorizer-result-ttl-in-seconds", "0")["id"]
    rid = aws.json("apigateway", "create-resource", "--rest-api-id", api_id,
                   "--parent-id", rest["rootResourceId"], "--path-part", "k")["id"]
    mock_method(aws, api_id, rid, authorizer_id)
    aws.json("apigateway", "update-method", "--rest-api-id", api_id, "--resource-id", rid,
             "--http-method", "GET", "--patch-operations",
             "op=replace,path=/apiKeyRequired,value=true")
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "prod")
    key_id = aws.json("apigateway", "create-api-key", "--name", "k", "--enabled",
                      "--value", key_value)["id"]
    plan_id = aws.json("apigateway", "create-usage-plan", "--name", "p", "--api-stages",
                       f"apiId={api_id},stage=prod")["id"]
    aws.json("apigateway", "create-usage-plan-key", "--usage-plan-id", plan_id,
             "--key-id", key_id, "--key-type", "API_KEY")
    client = Api(portico, api_id, None)
    assert client.get("/k", {"Authorization": f"key-{key_value}"})[0] == 200
    status, _, body = client.get("/k", {"Authorization": "key-wrong"})
    assert (status, body) == (403, b'{"message":"Forbidden"}')
    # The header does not count when the key source is the authorizer.
    status, _, body = client.get("/k", {"Authorization": "allow-keyless", "x-api-key": key_value})
    assert (status, body) == (403, b'{"message":"Forbidden"}')
