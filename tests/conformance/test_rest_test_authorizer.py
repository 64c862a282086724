"""TestInvokeAuthorizer (the console's authorizer "Test" button) driven by the AWS CLI: the
authorizer's current definition runs against a simulated GET on `ESTestInvoke-stage`, its
function is invoked with the TOKEN event (the Lambda permission for the authorizer's source ARN
enforced, as for real requests) and the answer carries the client status, principal, policy and
execution log."""

import json
import re

import pytest

from conftest import ACCOUNT
from test_lambda_helpers import create, integration_uri, python_zip

AUTHORIZER = '''
def handler(event, context):
    token = event["authorizationToken"]
    def policy(effect):
        return {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}]}
    if token == "allow":
        return {"principalId": "user-allow", "policyDocument": policy("Allow"),
                "context": {"tier": "gold", "arn": event["methodArn"], "type": event["type"]}}
    if token == "deny":
        return {"principalId": "user-deny", "policyDocument": policy("Deny")}
    raise Exception("Unauthorized")
'''

STAMP = r"[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}"


def messages(log):
    lines = log.split("\n")
    assert re.fullmatch(r"Execution log for request [0-9a-f-]{36}", lines[0]), lines[0]
    assert lines[-1] == ""
    out = []
    for line in lines[1:-1]:
        match = re.fullmatch(f"{STAMP} : (.*)", line)
        assert match, line
        out.append(match.group(1))
    return out


@pytest.fixture(scope="module")
def setup(aws, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("test-authorizer")
    create(aws, tmp, "test-authz-fn", python_zip(AUTHORIZER))
    create(aws, tmp, "test-authz-closed", python_zip(AUTHORIZER))
    api_id = aws.json("apigateway", "create-rest-api", "--name", "test-authorizer")["id"]

    def authorizer(name, function, *extra):
        return aws.json("apigateway", "create-authorizer", "--rest-api-id", api_id,
                        "--name", name, "--type", "TOKEN",
                        "--authorizer-uri", integration_uri(function),
                        "--identity-source", "method.request.header.Authorization",
                        *extra)["id"]

    open_id = authorizer("open", "test-authz-fn")
    aws.json("lambda", "add-permission", "--function-name", "test-authz-fn",
             "--statement-id", "apigw-test-authorizer", "--action", "lambda:InvokeFunction",
             "--principal", "apigateway.amazonaws.com",
             "--source-arn",
             f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/authorizers/{open_id}")
    # No permission on this function: only an authorizer with credentials may call it.
    closed_id = authorizer("closed", "test-authz-closed")
    role_id = authorizer("role", "test-authz-closed", "--authorizer-credentials",
                         f"arn:aws:iam::{ACCOUNT}:role/apigw-invoke")
    return api_id, open_id, closed_id, role_id


def invoke_authorizer(aws, api_id, authorizer_id, *extra):
    return aws.json("apigateway", "test-invoke-authorizer", "--rest-api-id", api_id,
                    "--authorizer-id", authorizer_id, *extra)


def test_allow_answers_200_with_the_principal_and_policy(aws, setup):
    api_id, open_id, _, _ = setup
    out = invoke_authorizer(aws, api_id, open_id, "--headers", "Authorization=allow")
    arn = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/ESTestInvoke-stage/GET/"
    assert out["clientStatus"] == 200
    assert out["principalId"] == "user-allow"
    assert json.loads(out["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": arn}]}
    assert out["authorization"] == {"tier": ["gold"], "arn": [arn], "type": ["TOKEN"]}
    assert "claims" not in out
    assert isinstance(out["latency"], int)
    lines = messages(out["log"])
    assert re.fullmatch(f"Starting authorizer: {open_id} for request: [0-9a-f-]{{36}}",
                        lines[0]), lines[0]
    assert lines[1] == "Incoming identity: {method.request.header.Authorization=allow}"
    assert lines[2] == ("Endpoint request URI: https://lambda.us-east-1.amazonaws.com/2015-03-31/"
                        f"functions/arn:aws:lambda:us-east-1:{ACCOUNT}:function:test-authz-fn"
                        "/invocations")
    assert lines[-2:] == ["Using valid authorizer policy for principal: user-allow",
                          "Successfully completed authorizer execution"]


def test_the_path_reaches_the_method_arn(aws, setup):
    api_id, open_id, _, _ = setup
    out = invoke_authorizer(aws, api_id, open_id, "--headers", "Authorization=allow",
                      "--path-with-query-string", "/pets/1?x=y")
    assert out["clientStatus"] == 200
    assert out["authorization"]["arn"] == [
        f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/ESTestInvoke-stage/GET/pets/1"]


def test_deny_answers_403_with_the_policy(aws, setup):
    api_id, open_id, _, _ = setup
    out = invoke_authorizer(aws, api_id, open_id, "--headers", "Authorization=deny")
    assert out["clientStatus"] == 403
    assert out["principalId"] == "user-deny"
    assert json.loads(out["policy"])["Statement"][0]["Effect"] == "Deny"
    assert "authorization" not in out
    assert messages(out["log"])[-1] == "The client is not authorized to perform this operation."


def test_unauthorized_and_missing_tokens_answer_401(aws, setup):
    api_id, open_id, _, _ = setup
    for extra in (["--headers", "Authorization=other"], []):
        out = invoke_authorizer(aws, api_id, open_id, *extra)
        assert out["clientStatus"] == 401
        assert "principalId" not in out and "policy" not in out
        lines = messages(out["log"])
        request_id = out["log"].split("\n")[0].rsplit(" ", 1)[1]
        assert lines[-2:] == [f"Unauthorized request: {request_id}", "Unauthorized"]


def test_the_function_permission_is_enforced_unless_credentials(aws, setup):
    api_id, _, closed_id, role_id = setup
    out = invoke_authorizer(aws, api_id, closed_id, "--headers", "Authorization=allow")
    assert out["clientStatus"] == 500
    assert "principalId" not in out
    out = invoke_authorizer(aws, api_id, role_id, "--headers", "Authorization=allow")
    assert out["clientStatus"] == 200
    assert out["principalId"] == "user-allow"


def test_unknown_authorizer_and_api(aws, setup):
    api_id, _, _, _ = setup
    assert aws.error("apigateway", "test-invoke-authorizer", "--rest-api-id", api_id,
                     "--authorizer-id", "nope00") == (
        "An error occurred (NotFoundException) when calling the TestInvokeAuthorizer "
        "operation: Invalid Authorizer identifier specified")
    assert aws.error("apigateway", "test-invoke-authorizer", "--rest-api-id", "nope000000",
                     "--authorizer-id", "nope00") == (
        "An error occurred (NotFoundException) when calling the TestInvokeAuthorizer "
        f"operation: Invalid API identifier specified {ACCOUNT}:nope000000")
