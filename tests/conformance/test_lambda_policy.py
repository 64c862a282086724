"""AddPermission, GetPolicy, RemovePermission through the AWS CLI, and the resource policy
deciding whether API Gateway may invoke a function.

Portico's rule (API Gateway does not say whether the integration has a credentials role): a
function with no policy statement at all is invocable by the gateway; once it has statements,
only calls they allow are."""

import json

import pytest

from conftest import ACCOUNT
from test_lambda_helpers import arn, cli_error, create, python_zip

PROXY_CODE = """
def handler(event, context):
    return {"statusCode": 200, "body": event["httpMethod"] + " " + event["resource"]}
"""


def test_permissions_as_lambda_renders_them(aws, tmp_path):
    create(aws, tmp_path, "PolFn", python_zip(PROXY_CODE))
    assert aws.error("lambda", "get-policy", "--function-name", "PolFn") == cli_error(
        "GetPolicy", "ResourceNotFoundException", "No policy is associated with the given resource.")
    source = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123defg/*/GET/pets"
    added = aws.json("lambda", "add-permission", "--function-name", "PolFn",
                     "--statement-id", "apigw-1", "--action", "lambda:InvokeFunction",
                     "--principal", "apigateway.amazonaws.com", "--source-arn", source,
                     "--source-account", ACCOUNT)
    statement = (
        '{"Sid":"apigw-1","Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},'
        '"Action":"lambda:InvokeFunction","Resource":"' + arn("PolFn") + '",'
        '"Condition":{"ArnLike":{"AWS:SourceArn":"' + source + '"},'
        '"StringEquals":{"AWS:SourceAccount":"' + ACCOUNT + '"}}}')
    assert added == {"Statement": statement}

    second = aws.json("lambda", "add-permission", "--function-name", "PolFn",
                      "--statement-id", "account", "--action", "lambda:GetFunction",
                      "--principal", ACCOUNT)
    assert json.loads(second["Statement"]) == {
        "Sid": "account", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "lambda:GetFunction", "Resource": arn("PolFn")}

    policy = aws.json("lambda", "get-policy", "--function-name", "PolFn")
    config = aws.json("lambda", "get-function-configuration", "--function-name", "PolFn")
    assert policy == {
        "Policy": '{"Version":"2012-10-17","Id":"default","Statement":[' + statement + ","
                  + second["Statement"] + "]}",
        "RevisionId": config["RevisionId"],
    }

    assert aws.error("lambda", "add-permission", "--function-name", "PolFn",
                     "--statement-id", "apigw-1", "--action", "lambda:InvokeFunction",
                     "--principal", "apigateway.amazonaws.com") == cli_error(
        "AddPermission", "ResourceConflictException",
        "The statement id (apigw-1) provided already exists. Please provide a new statement id, or remove the existing statement.")
    assert aws.error("lambda", "add-permission", "--function-name", "PolFn",
                     "--statement-id", "x", "--action", "lambda:InvokeFunction",
                     "--principal", "apigateway.amazonaws.com", "--qualifier", "$LATEST") == cli_error(
        "AddPermission", "InvalidParameterValueException",
        "We currently do not support adding policies for $LATEST.")
    assert aws.error("lambda", "add-permission", "--function-name", "PolFn",
                     "--statement-id", "x", "--action", "lambda:InvokeFunction",
                     "--principal", "apigateway.amazonaws.com",
                     "--revision-id", "stale") == cli_error(
        "AddPermission", "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id")
    assert aws.error("lambda", "add-permission", "--function-name", "PolFn",
                     "--statement-id", "bad id", "--action", "lambda:InvokeFunction",
                     "--principal", "apigateway.amazonaws.com") == cli_error(
        "AddPermission", "ValidationException",
        "1 validation error detected: Value 'bad id' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)")
    assert aws.error("lambda", "remove-permission", "--function-name", "PolFn",
                     "--statement-id", "nope") == cli_error(
        "RemovePermission", "ResourceNotFoundException",
        "Statement nope is not found in resource policy.")

    aws.run("lambda", "remove-permission", "--function-name", "PolFn", "--statement-id", "account")
    policy = json.loads(aws.json("lambda", "get-policy", "--function-name", "PolFn")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["apigw-1"]
    aws.run("lambda", "remove-permission", "--function-name", "PolFn", "--statement-id", "apigw-1")
    assert aws.error("lambda", "get-policy", "--function-name", "PolFn") == cli_error(
        "GetPolicy", "ResourceNotFoundException", "No policy is associated with the given resource.")

    # Policies of an alias are its own.
    aws.json("lambda", "publish-version", "--function-name", "PolFn")
    aws.json("lambda", "create-alias", "--function-name", "PolFn", "--name", "live",
             "--function-version", "1")
    aliased = aws.json("lambda", "add-permission", "--function-name", "PolFn",
                       "--statement-id", "alias", "--action", "lambda:InvokeFunction",
                       "--principal", "*", "--qualifier", "live")
    assert json.loads(aliased["Statement"]) == {
        "Sid": "alias", "Effect": "Allow", "Principal": "*",
        "Action": "lambda:InvokeFunction", "Resource": arn("PolFn", "live")}
    alias_policy = aws.json("lambda", "get-policy", "--function-name", "PolFn", "--qualifier", "live")
    assert alias_policy["RevisionId"] == aws.json(
        "lambda", "get-alias", "--function-name", "PolFn", "--name", "live")["RevisionId"]
    assert aws.error("lambda", "get-policy", "--function-name", "PolFn") == cli_error(
        "GetPolicy", "ResourceNotFoundException", "No policy is associated with the given resource.")
    assert aws.error("lambda", "add-permission", "--function-name", "PolFn",
                     "--statement-id", "x", "--action", "lambda:InvokeFunction",
                     "--principal", "*", "--qualifier", "nope") == cli_error(
        "AddPermission", "ResourceNotFoundException", f"Function not found: {arn('PolFn', 'nope')}")
    aws.run("lambda", "delete-function", "--function-name", "PolFn")


@pytest.fixture()
def proxy_api(aws, portico, tmp_path):
    """GET and POST /pets through a Lambda proxy integration without a credentials role."""
    create(aws, tmp_path, "PolGw", python_zip(PROXY_CODE))
    api = aws.json("apigateway", "create-rest-api", "--name", "policy")
    api_id = api["id"]
    pets = aws.json("apigateway", "create-resource", "--rest-api-id", api_id,
                    "--parent-id", api["rootResourceId"], "--path-part", "pets")
    uri = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
           f"{arn('PolGw')}/invocations")
    for verb in ("GET", "POST"):
        aws.json("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", pets["id"],
                 "--http-method", verb, "--authorization-type", "NONE")
        aws.json("apigateway", "put-integration", "--rest-api-id", api_id,
                 "--resource-id", pets["id"], "--http-method", verb, "--type", "AWS_PROXY",
                 "--integration-http-method", "POST", "--uri", uri)
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "prod")

    def call(verb):
        status, _, body = portico.request(verb, "/prod/pets",
                                          host=f"{api_id}.execute-api.localhost:{portico.port}")
        return status, body

    yield api_id, call
    aws.run("apigateway", "delete-rest-api", "--rest-api-id", api_id, check=False)
    aws.run("lambda", "delete-function", "--function-name", "PolGw", check=False)


def test_the_resource_policy_decides_for_api_gateway(aws, proxy_api):
    api_id, call = proxy_api
    # No statement at all: API Gateway may not invoke the function (it has no credentials).
    assert call("GET") == (500, b'{"message": "Internal server error"}')
    assert call("POST") == (500, b'{"message": "Internal server error"}')
    aws.json("lambda", "add-permission", "--function-name", "PolGw", "--statement-id", "get-only",
             "--action", "lambda:InvokeFunction", "--principal", "apigateway.amazonaws.com",
             "--source-arn", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/*/GET/pets")
    assert call("GET") == (200, b"GET /pets")
    assert call("POST") == (500, b'{"message": "Internal server error"}')
    # A grant for another API or account does not help.
    aws.json("lambda", "add-permission", "--function-name", "PolGw", "--statement-id", "other",
             "--action", "lambda:InvokeFunction", "--principal", "apigateway.amazonaws.com",
             "--source-arn", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:otherapi00/*/POST/pets")
    assert call("POST")[0] == 500
    aws.json("lambda", "add-permission", "--function-name", "PolGw", "--statement-id", "any",
             "--action", "lambda:*", "--principal", "apigateway.amazonaws.com",
             "--source-arn", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/*")
    assert call("POST") == (200, b"POST /pets")
    # With every statement removed the function is back to the no-policy case: refused.
    for sid in ("get-only", "other", "any"):
        aws.run("lambda", "remove-permission", "--function-name", "PolGw", "--statement-id", sid)
    assert call("POST") == (500, b'{"message": "Internal server error"}')
