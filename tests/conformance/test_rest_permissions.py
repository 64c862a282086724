"""API Gateway may invoke a Lambda function only when the function's resource policy allows it
(as on AWS): REST integrations and authorizers without credentials, HTTP API integrations. A
refusal is AWS's 500 to the client and a log line with the `aws lambda add-permission` command
that grants it; `portico serve --no-enforce-permissions` turns the check off."""

import pytest

from conftest import ACCOUNT, AwsCli, Portico
from test_lambda_helpers import create, integration_uri, python_zip

FUNCTION = '''
import json

def handler(event, context):
    if "authorizationToken" in event:
        return {"principalId": "p", "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}]}}
    return {"statusCode": 200, "body": "hello"}
'''


def grant(aws, function, sid, source_arn):
    aws.json("lambda", "add-permission", "--function-name", function, "--statement-id", sid,
             "--action", "lambda:InvokeFunction", "--principal", "apigateway.amazonaws.com",
             "--source-arn", source_arn)


def proxy_api(aws, function, authorizer_function=None):
    """GET /hello through AWS_PROXY, optionally behind a TOKEN authorizer; returns the ids."""
    api = aws.json("apigateway", "create-rest-api", "--name", "permissions")
    api_id = api["id"]
    rid = aws.json("apigateway", "create-resource", "--rest-api-id", api_id,
                   "--parent-id", api["rootResourceId"], "--path-part", "hello")["id"]
    auth = ["--authorization-type", "NONE"]
    authorizer_id = None
    if authorizer_function:
        authorizer_id = aws.json("apigateway", "create-authorizer", "--rest-api-id", api_id,
                                 "--name", "a", "--type", "TOKEN",
                                 "--authorizer-uri", integration_uri(authorizer_function),
                                 "--authorizer-result-ttl-in-seconds", "0")["id"]
        auth = ["--authorization-type", "CUSTOM", "--authorizer-id", authorizer_id]
    aws.json("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", rid,
             "--http-method", "GET", *auth)
    aws.json("apigateway", "put-integration", "--rest-api-id", api_id, "--resource-id", rid,
             "--http-method", "GET", "--type", "AWS_PROXY", "--integration-http-method", "POST",
             "--uri", integration_uri(function))
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "prod")
    return api_id, authorizer_id


def get(portico, api_id, headers=None):
    return portico.request("GET", f"/restapis/{api_id}/prod/_user_request_/hello",
                           headers=headers)


def test_integration_needs_a_grant(aws, portico, tmp_path):
    create(aws, tmp_path, "PermPlain", python_zip(FUNCTION))
    api_id, _ = proxy_api(aws, "PermPlain")
    status, headers, body = get(portico, api_id)
    assert (status, body) == (500, b'{"message": "Internal server error"}')
    assert headers["x-amzn-errortype"] == "InternalServerErrorException"
    log = portico.log_path.read_text()
    assert "Invalid permissions on Lambda function" in log
    assert (f'aws lambda add-permission --function-name PermPlain --statement-id '
            f'apigateway-{api_id}-prod --action lambda:InvokeFunction --principal '
            f'apigateway.amazonaws.com --source-arn '
            f'"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/prod/GET/hello"') in log
    grant(aws, "PermPlain", "exact", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/prod/GET/hello")
    assert get(portico, api_id)[0:3:2] == (200, b"hello")


def test_authorizer_needs_its_own_grant(aws, portico, tmp_path):
    create(aws, tmp_path, "PermAuth", python_zip(FUNCTION))
    create(aws, tmp_path, "PermBackend", python_zip(FUNCTION))
    api_id, authorizer_id = proxy_api(aws, "PermBackend", "PermAuth")
    grant(aws, "PermBackend", "methods", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/*")
    # A grant for the API's methods does not cover its authorizer.
    grant(aws, "PermAuth", "methods", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/*/GET/*")
    status, headers, body = get(portico, api_id, {"Authorization": "t"})
    assert (status, body) == (500, b'{"message":null}')
    assert headers["x-amzn-errortype"] == "AuthorizerConfigurationException"
    source_arn = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/authorizers/{authorizer_id}"
    assert (f'aws lambda add-permission --function-name PermAuth --statement-id '
            f'apigateway-{api_id}-authorizer-{authorizer_id} --action lambda:InvokeFunction '
            f'--principal apigateway.amazonaws.com --source-arn "{source_arn}"'
            ) in portico.log_path.read_text()
    grant(aws, "PermAuth", "authorizers",
          f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/authorizers/*")
    assert get(portico, api_id, {"Authorization": "t"})[0:3:2] == (200, b"hello")


def test_credentials_role_needs_no_grant(aws, portico, tmp_path):
    create(aws, tmp_path, "PermRole", python_zip(FUNCTION))
    api = aws.json("apigateway", "create-rest-api", "--name", "role")
    api_id = api["id"]
    rid = aws.json("apigateway", "create-resource", "--rest-api-id", api_id,
                   "--parent-id", api["rootResourceId"], "--path-part", "hello")["id"]
    aws.json("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", rid,
             "--http-method", "GET", "--authorization-type", "NONE")
    aws.json("apigateway", "put-integration", "--rest-api-id", api_id, "--resource-id", rid,
             "--http-method", "GET", "--type", "AWS_PROXY", "--integration-http-method", "POST",
             "--uri", integration_uri("PermRole"),
             "--credentials", f"arn:aws:iam::{ACCOUNT}:role/apigateway")
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "prod")
    assert get(portico, api_id)[0:3:2] == (200, b"hello")


def test_http_api_integration_needs_a_grant(aws, portico, tmp_path):
    create(aws, tmp_path, "PermHttp", python_zip(FUNCTION))
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:PermHttp"
    api_id = aws.json("apigatewayv2", "create-api", "--name", "p", "--protocol-type", "HTTP",
                      "--target", arn)["ApiId"]
    host = f"{api_id}.execute-api.localhost:{portico.port}"
    status, _, body = portico.request("GET", "/x", host=host)
    assert (status, body) == (500, b'{"message":"Internal Server Error"}')
    grant(aws, "PermHttp", "http", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/*")
    status, _, body = portico.request("GET", "/x", host=host)
    assert (status, body) == (200, b"hello")


@pytest.fixture
def lax_portico(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTICO_NO_ENFORCE_PERMISSIONS", "true")
    server = Portico(tmp_path / "data")
    server.start()
    yield server
    server.stop()


def test_the_switch_turns_enforcement_off(lax_portico, tmp_path):
    aws = AwsCli(lax_portico)
    create(aws, tmp_path, "PermLax", python_zip(FUNCTION))
    api_id, _ = proxy_api(aws, "PermLax", "PermLax")
    assert get(lax_portico, api_id, {"Authorization": "t"})[0:3:2] == (200, b"hello")


SIMPLE_AUTHORIZER = '''
def handler(event, context):
    return {"isAuthorized": True}
'''


def test_http_api_authorizer_needs_its_own_grant(aws, portico, tmp_path):
    create(aws, tmp_path, "PermHttpTarget", python_zip(FUNCTION))
    create(aws, tmp_path, "PermHttpAuth", python_zip(SIMPLE_AUTHORIZER))
    target = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:PermHttpTarget"
    api_id = aws.json("apigatewayv2", "create-api", "--name", "pa", "--protocol-type", "HTTP",
                      "--target", target)["ApiId"]
    grant(aws, "PermHttpTarget", "http", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/*")
    authorizer_id = aws.json(
        "apigatewayv2", "create-authorizer", "--api-id", api_id, "--name", "simple",
        "--authorizer-type", "REQUEST", "--identity-source", "$request.header.Authorization",
        "--authorizer-payload-format-version", "2.0", "--enable-simple-responses",
        "--authorizer-uri", integration_uri("PermHttpAuth"),
    )["AuthorizerId"]
    route_id = next(r["RouteId"] for r in aws.json(
        "apigatewayv2", "get-routes", "--api-id", api_id)["Items"])
    aws.json("apigatewayv2", "update-route", "--api-id", api_id, "--route-id", route_id,
             "--authorization-type", "CUSTOM", "--authorizer-id", authorizer_id)
    host = f"{api_id}.execute-api.localhost:{portico.port}"
    status, _, body = portico.request("GET", "/x", host=host, headers={"Authorization": "t"})
    assert (status, body) == (500, b'{"message":"Internal Server Error"}')
    # The authorizer's grant names the authorizer, as the console's grant does.
    grant(aws, "PermHttpAuth", "authorizer",
          f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/authorizers/{authorizer_id}")
    status, _, body = portico.request("GET", "/x", host=host, headers={"Authorization": "t"})
    assert (status, body) == (200, b"hello")
