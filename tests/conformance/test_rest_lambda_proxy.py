"""REST API Lambda proxy integrations (AWS_PROXY) with a real Python function: the event it
receives, binary media types, multi-value headers, and the 502 rules."""

import base64
import http.client
import io
import json
import zipfile

import pytest

from conftest import ACCOUNT

FUNCTION = '''
import base64, json

def handler(event, context):
    path = event["path"]
    if path == "/bin":
        return {"statusCode": 200, "headers": {"Content-Type": "image/png"},
                "body": base64.b64encode(b"\\x89PNG").decode(), "isBase64Encoded": True}
    if path == "/seed":
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
                "isBase64Encoded": False,
                "multiValueHeaders": {"X-Custom-Header": ["My value", "My other value"]},
                "body": json.dumps({"TotalCodeSize": 104330022, "FunctionCount": 26}, indent=2)}
    if path == "/status":
        return {"statusCode": "418", "headers": {"X-Flag": True}}
    if path == "/bad":
        return {"statusCode": 200, "wrongValue": "value"}
    if path == "/error":
        raise Exception("boom")
    return {"statusCode": 200, "body": json.dumps(event)}
'''


@pytest.fixture(scope="module")
def proxy_api(aws, tmp_path_factory):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", FUNCTION)
    path = tmp_path_factory.mktemp("proxy") / "fn.zip"
    path.write_bytes(buf.getvalue())
    aws.json("lambda", "create-function", "--function-name", "ProxyEcho",
             "--runtime", "python3.11", "--handler", "app.handler",
             "--role", f"arn:aws:iam::{ACCOUNT}:role/lambda-role",
             "--zip-file", f"fileb://{path}")
    api = aws.json("apigateway", "create-rest-api", "--name", "proxy",
                   "--binary-media-types", "image/*")
    api_id = api["id"]
    # API Gateway may invoke a function only with a resource-policy grant, as on AWS.
    aws.json("lambda", "add-permission", "--function-name", "ProxyEcho",
             "--statement-id", "apigateway", "--action", "lambda:InvokeFunction",
             "--principal", "apigateway.amazonaws.com",
             "--source-arn", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/*")
    proxy = aws.json("apigateway", "create-resource", "--rest-api-id", api_id,
                     "--parent-id", api["rootResourceId"], "--path-part", "{proxy+}")["id"]
    aws.json("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", proxy,
             "--http-method", "ANY", "--authorization-type", "NONE")
    uri = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
           f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:${{stageVariables.fn}}/invocations")
    aws.json("apigateway", "put-integration", "--rest-api-id", api_id, "--resource-id", proxy,
             "--http-method", "ANY", "--type", "AWS_PROXY",
             "--integration-http-method", "POST", "--uri", uri)
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id,
             "--stage-name", "prod", "--variables", "fn=ProxyEcho,color=blue")
    return api_id


def raw(portico, api_id, method, path, body=None, headers=None):
    """Like Portico.request, but keeps repeated response headers."""
    conn = http.client.HTTPConnection("127.0.0.1", portico.port, timeout=60)
    conn.request(method, f"/restapis/{api_id}/prod/_user_request_{path}", body=body,
                 headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    headers = [(k.lower(), v) for k, v in resp.getheaders()]
    conn.close()
    return resp.status, headers, data


def one(headers, name):
    values = [v for k, v in headers if k == name]
    assert len(values) == 1, (name, values)
    return values[0]


def test_event(portico, proxy_api):
    status, headers, body = raw(portico, proxy_api, "POST", "/a/b%2Bc?x=1&x=2&y=%2B",
                                body=b"hello",
                                headers={"Content-Type": "text/plain", "tEsT-HEADeR": "aValUE"})
    assert status == 200
    assert one(headers, "content-type") == "application/json"
    assert one(headers, "x-amzn-trace-id").startswith("Root=1-")
    event = json.loads(body)
    assert event["resource"] == "/{proxy+}"
    assert event["path"] == "/a/b%2Bc"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"proxy": "a/b%2Bc"}
    assert event["queryStringParameters"] == {"x": "2", "y": "+"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": ["+"]}
    assert event["stageVariables"] == {"color": "blue", "fn": "ProxyEcho"}
    assert event["body"] == "hello"
    assert event["isBase64Encoded"] is False
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert event["headers"]["X-Forwarded-Proto"] == "http"
    assert event["multiValueHeaders"]["Content-Type"] == ["text/plain"]
    assert list(event) == ["resource", "path", "httpMethod", "headers", "multiValueHeaders",
                           "queryStringParameters", "multiValueQueryStringParameters",
                           "pathParameters", "stageVariables", "requestContext", "body",
                           "isBase64Encoded"]
    rc = event["requestContext"]
    assert rc["path"] == "/prod/a/b%2Bc"
    assert rc["stage"] == "prod"
    assert rc["resourcePath"] == "/{proxy+}"
    assert rc["httpMethod"] == "POST"
    assert rc["accountId"] == ACCOUNT
    assert rc["apiId"] == proxy_api
    assert rc["protocol"] == "HTTP/1.1"
    assert rc["identity"]["sourceIp"] == "127.0.0.1"
    assert rc["requestId"] == one(headers, "x-amzn-requestid")
    assert rc["extendedRequestId"] == one(headers, "x-amz-apigw-id")

    status, _, body = raw(portico, proxy_api, "GET", "/plain")
    event = json.loads(body)
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["body"] is None


def test_binary_media_types(portico, proxy_api):
    status, _, body = raw(portico, proxy_api, "PUT", "/upload", body=b"\xff\xd8\x00",
                          headers={"Content-Type": "image/jpeg"})
    event = json.loads(body)
    assert event["body"] == base64.b64encode(b"\xff\xd8\x00").decode()
    assert event["isBase64Encoded"] is True

    status, headers, body = raw(portico, proxy_api, "GET", "/bin",
                                headers={"Accept": "image/png"})
    assert (status, body) == (200, b"\x89PNG")
    assert one(headers, "content-type") == "image/png"
    status, headers, body = raw(portico, proxy_api, "GET", "/bin",
                                headers={"Accept": "application/json, image/png"})
    assert (status, body) == (200, b"iVBORw==")


def test_seed_002_response(portico, proxy_api):
    status, headers, body = raw(portico, proxy_api, "GET", "/seed")
    assert status == 200
    assert one(headers, "content-type") == "application/json"
    assert [v for k, v in headers if k == "x-custom-header"] == ["My value", "My other value"]
    # The seed's body is JSON.stringify(..., null, 2): 55 bytes, as its Content-Length says.
    assert body == b'{\n  "TotalCodeSize": 104330022,\n  "FunctionCount": 26\n}'
    assert one(headers, "content-length") == "55"

    status, headers, body = raw(portico, proxy_api, "GET", "/status")
    assert (status, body) == (418, b"")
    assert one(headers, "x-flag") == "true"


@pytest.mark.parametrize("path", ["/bad", "/error"])
def test_malformed_or_failed_function_is_502(portico, proxy_api, path):
    status, headers, body = raw(portico, proxy_api, "GET", path)
    assert status == 502
    assert body == b'{"message": "Internal server error"}'
    assert one(headers, "x-amzn-errortype") == "InternalServerErrorException"
    assert one(headers, "content-type") == "application/json"


def test_resource_policy_and_credentials(aws, portico, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", FUNCTION)
    path = tmp_path / "fn.zip"
    path.write_bytes(buf.getvalue())
    aws.json("lambda", "create-function", "--function-name", "Guarded",
             "--runtime", "python3.11", "--handler", "app.handler",
             "--role", f"arn:aws:iam::{ACCOUNT}:role/lambda-role",
             "--zip-file", f"fileb://{path}")
    api = aws.json("apigateway", "create-rest-api", "--name", "guarded")
    api_id = api["id"]
    uri = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
           f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:Guarded/invocations")
    for part, credentials in (("open", None), ("role", f"arn:aws:iam::{ACCOUNT}:role/apigw")):
        rid = aws.json("apigateway", "create-resource", "--rest-api-id", api_id,
                       "--parent-id", api["rootResourceId"], "--path-part", part)["id"]
        aws.json("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", rid,
                 "--http-method", "GET", "--authorization-type", "NONE")
        extra = ["--credentials", credentials] if credentials else []
        aws.json("apigateway", "put-integration", "--rest-api-id", api_id, "--resource-id", rid,
                 "--http-method", "GET", "--type", "AWS_PROXY",
                 "--integration-http-method", "POST", "--uri", uri, *extra)
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "prod")

    # A grant for another API: this API's calls are refused with AWS's 500.
    aws.json("lambda", "add-permission", "--function-name", "Guarded",
             "--statement-id", "other", "--action", "lambda:InvokeFunction",
             "--principal", "apigateway.amazonaws.com",
             "--source-arn", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:otherapi00/*/GET/*")
    status, headers, body = raw(portico, api_id, "GET", "/open")
    assert status == 500
    assert body == b'{"message": "Internal server error"}'
    assert one(headers, "x-amzn-errortype") == "InternalServerErrorException"
    log = portico.log_path.read_text()
    assert "Invalid permissions on Lambda function" in log
    assert (f'aws lambda add-permission --function-name Guarded --statement-id '
            f'apigateway-{api_id}-prod --action lambda:InvokeFunction --principal '
            f'apigateway.amazonaws.com --source-arn '
            f'"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/prod/GET/open"') in log

    # With a credentials role the resource policy is not consulted.
    assert raw(portico, api_id, "GET", "/role")[0] == 200

    aws.json("lambda", "add-permission", "--function-name", "Guarded",
             "--statement-id", "this", "--action", "lambda:InvokeFunction",
             "--principal", "apigateway.amazonaws.com",
             "--source-arn", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/*/GET/*")
    status, _, body = raw(portico, api_id, "GET", "/open")
    assert status == 200
    assert json.loads(body)["path"] == "/open"
