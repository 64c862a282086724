"""Function URLs: configuration through the AWS CLI, and calls over HTTP to
`{url-id}.lambda-url.{region}.on.aws` (any `{url-id}.lambda-url.*` host reaches Portico)."""

import json
import re

from test_lambda_helpers import arn, cli_error, create, python_zip

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"


def test_function_url_configs(aws, tmp_path):
    create(aws, tmp_path, "UrlFn", python_zip("def handler(e, c):\n    return 1\n"))
    created = aws.json("lambda", "create-function-url-config", "--function-name", "UrlFn",
                       "--auth-type", "NONE",
                       "--cors", "AllowOrigins=https://example.com,AllowMethods=GET")
    url = created.pop("FunctionUrl")
    assert re.fullmatch(r"https://[a-z0-9]{32}\.lambda-url\.us-east-1\.on\.aws/", url)
    assert re.fullmatch(STAMP, created.pop("CreationTime"))
    assert created == {"FunctionArn": arn("UrlFn"), "AuthType": "NONE",
                       "Cors": {"AllowOrigins": ["https://example.com"], "AllowMethods": ["GET"]},
                       "InvokeMode": "BUFFERED"}
    assert aws.error("lambda", "create-function-url-config", "--function-name", "UrlFn",
                     "--auth-type", "NONE") == cli_error(
        "CreateFunctionUrlConfig", "ResourceConflictException",
        f"Failed to create function url config for [functionArn = {arn('UrlFn')}]. Error message:  FunctionUrlConfig exists for this Lambda function")

    got = aws.json("lambda", "get-function-url-config", "--function-name", "UrlFn")
    assert got["FunctionUrl"] == url and got["AuthType"] == "NONE"
    assert re.fullmatch(STAMP, got["LastModifiedTime"])
    updated = aws.json("lambda", "update-function-url-config", "--function-name", "UrlFn",
                       "--auth-type", "AWS_IAM")
    assert (updated["FunctionUrl"], updated["AuthType"]) == (url, "AWS_IAM")
    assert updated["LastModifiedTime"] >= got["LastModifiedTime"]

    aws.json("lambda", "publish-version", "--function-name", "UrlFn")
    aws.json("lambda", "create-alias", "--function-name", "UrlFn", "--name", "live",
             "--function-version", "1")
    aliased = aws.json("lambda", "create-function-url-config", "--function-name", "UrlFn",
                       "--qualifier", "live", "--auth-type", "NONE")
    assert aliased["FunctionArn"] == arn("UrlFn", "live")
    assert aliased["FunctionUrl"] != url
    listed = aws.json("lambda", "list-function-url-configs", "--function-name", "UrlFn")
    assert sorted(c["FunctionArn"] for c in listed["FunctionUrlConfigs"]) == [
        arn("UrlFn"), arn("UrlFn", "live")]
    assert aws.error("lambda", "create-function-url-config", "--function-name", "UrlFn",
                     "--qualifier", "nope", "--auth-type", "NONE") == cli_error(
        "CreateFunctionUrlConfig", "ResourceNotFoundException",
        f"Function not found: {arn('UrlFn', 'nope')}")

    aws.run("lambda", "delete-function-url-config", "--function-name", "UrlFn")
    assert aws.error("lambda", "get-function-url-config", "--function-name", "UrlFn") == cli_error(
        "GetFunctionUrlConfig", "ResourceNotFoundException",
        "The resource you requested does not exist.")
    assert aws.error("lambda", "delete-function-url-config", "--function-name", "UrlFn") == cli_error(
        "DeleteFunctionUrlConfig", "ResourceNotFoundException",
        "The resource you requested does not exist.")
    # Deleting the alias deletes its URL.
    aws.run("lambda", "delete-alias", "--function-name", "UrlFn", "--name", "live")
    assert aws.json("lambda", "list-function-url-configs", "--function-name", "UrlFn") == {
        "FunctionUrlConfigs": []}
    aws.run("lambda", "delete-function", "--function-name", "UrlFn")


def test_function_urls_answer_over_http(aws, portico, tmp_path):
    handler = (
        "import json\n"
        "def handler(event, context):\n"
        "    return {'statusCode': 201, 'headers': {'x-seen': event['rawPath']},\n"
        "            'body': json.dumps({'q': event.get('queryStringParameters'),\n"
        "                                'route': event['routeKey']})}\n"
    )
    create(aws, tmp_path, "UrlHttp", python_zip(handler))
    url = aws.json("lambda", "create-function-url-config", "--function-name", "UrlHttp",
                   "--auth-type", "NONE")["FunctionUrl"]
    host = url.removeprefix("https://").rstrip("/")
    # A NONE URL still needs the public permission: without it AWS answers 403.
    status, _, body = portico.request("GET", "/hello?a=1", host=host)
    assert (status, json.loads(body)) == (403, {"Message": "Forbidden"})
    aws.json("lambda", "add-permission", "--function-name", "UrlHttp", "--statement-id", "url",
             "--action", "lambda:InvokeFunctionUrl", "--principal", "*",
             "--function-url-auth-type", "NONE")
    status, headers, body = portico.request("GET", "/hello?a=1", host=host)
    assert status == 201
    assert headers["x-seen"] == "/hello"
    assert json.loads(body) == {"q": {"a": "1"}, "route": "$default"}
