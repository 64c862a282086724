"""HTTP APIs (API Gateway v2) with the real AWS CLI and plain HTTP: quick create, routes,
integrations, auto-deploying and manual stages, payload 1.0/2.0 events and responses, CORS,
and the v2 errors."""

import io
import json
import re
import zipfile

import pytest

from conftest import ACCOUNT

ECHO = '''
import json

def handler(event, context):
    path = event.get("rawPath") or event.get("path") or ""
    if path.endswith("/fail"):
        raise Exception("boom")
    if path.endswith("/text"):
        return "plain text"
    if path.endswith("/object"):
        return {"hello": "world"}
    if path.endswith("/cookies"):
        return {"statusCode": 201, "headers": {"x-custom": "1"},
                "cookies": ["a=1", "b=2; Path=/"], "body": "ok"}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps(event)}
'''


# API Gateway may invoke a function only with a resource-policy grant (as on AWS): every API of
# the account may call the echo function.
def grant_every_api(aws, function):
    aws.json("lambda", "add-permission", "--function-name", function,
             "--statement-id", "apigateway-any", "--action", "lambda:InvokeFunction",
             "--principal", "apigateway.amazonaws.com",
             "--source-arn", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:*/*")


@pytest.fixture(scope="module")
def echo_arn(aws, tmp_path_factory):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("echo.py", ECHO)
    path = tmp_path_factory.mktemp("httpapi") / "echo.zip"
    path.write_bytes(buf.getvalue())
    fn = aws.json(
        "lambda", "create-function", "--function-name", "HttpEcho", "--runtime", "python3.11",
        "--handler", "echo.handler", "--role", f"arn:aws:iam::{ACCOUNT}:role/r",
        "--zip-file", f"fileb://{path}",
    )
    grant_every_api(aws, "HttpEcho")
    return fn["FunctionArn"]


def call(portico, api_id, method, path, body=None, headers=None):
    return portico.request(method, path, body=body, headers=headers,
                           host=f"{api_id}.execute-api.localhost:{portico.port}")


def event_of(response):
    status, _, body = response
    assert status == 200, body
    return json.loads(body)


def test_quick_create_serves_at_once(aws, portico, echo_arn):
    api = aws.json("apigatewayv2", "create-api", "--name", "quick", "--protocol-type", "HTTP",
                   "--target", echo_arn)
    api_id = api["ApiId"]
    assert re.fullmatch(r"[a-z0-9]{10}", api_id)
    assert api["ApiEndpoint"] == f"http://{api_id}.execute-api.localhost:{portico.port}"
    assert api["ProtocolType"] == "HTTP"
    assert api["RouteSelectionExpression"] == "${request.method} ${request.path}"
    assert api["ApiKeySelectionExpression"] == "$request.header.x-api-key"
    assert api["DisableExecuteApiEndpoint"] is False
    assert api["Name"] == "quick"

    status, headers, body = call(portico, api_id, "GET", "/hello/world?a=1&a=2&b=x",
                                 headers={"Cookie": "c1=v1; c2=v2", "X-Test": "Yes"})
    assert status == 200, body
    assert headers["content-type"] == "application/json"
    assert re.fullmatch(r"[A-Za-z0-9+/]{15}=", headers["apigw-requestid"])
    event = json.loads(body)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/hello/world"
    assert event["rawQueryString"] == "a=1&a=2&b=x"
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert event["headers"]["x-test"] == "Yes"
    assert "cookie" not in event["headers"]
    assert event["isBase64Encoded"] is False
    for absent in ("body", "pathParameters", "stageVariables"):
        assert absent not in event
    ctx = event["requestContext"]
    assert ctx["accountId"] == ACCOUNT
    assert ctx["apiId"] == api_id
    assert ctx["stage"] == "$default"
    assert ctx["routeKey"] == "$default"
    assert ctx["domainName"] == f"{api_id}.execute-api.localhost"
    assert ctx["domainPrefix"] == api_id
    assert ctx["http"]["method"] == "GET"
    assert ctx["http"]["path"] == "/hello/world"
    assert ctx["http"]["protocol"] == "HTTP/1.1"
    assert ctx["http"]["sourceIp"] == "127.0.0.1"
    assert ctx["requestId"] == headers["apigw-requestid"]
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", ctx["time"])

    routes = aws.json("apigatewayv2", "get-routes", "--api-id", api_id)["Items"]
    integrations = aws.json("apigatewayv2", "get-integrations", "--api-id", api_id)["Items"]
    assert len(routes) == 1 and len(integrations) == 1
    route, integration = routes[0], integrations[0]
    assert route["RouteKey"] == "$default"
    assert route["ApiGatewayManaged"] is True
    assert route["AuthorizationType"] == "NONE"
    assert re.fullmatch(r"[a-z0-9]{7}", route["RouteId"])
    assert route["Target"] == f"integrations/{integration['IntegrationId']}"
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["IntegrationMethod"] == "POST"
    assert integration["IntegrationUri"] == echo_arn
    assert integration["PayloadFormatVersion"] == "2.0"
    assert integration["TimeoutInMillis"] == 30000
    assert integration["ConnectionType"] == "INTERNET"
    stage = aws.json("apigatewayv2", "get-stage", "--api-id", api_id, "--stage-name", "$default")
    assert stage["StageName"] == "$default"
    assert stage["AutoDeploy"] is True
    assert stage["ApiGatewayManaged"] is True
    assert stage["LastDeploymentStatusMessage"] == (
        f"Successfully deployed stage with deployment ID '{stage['DeploymentId']}'")


def test_payload_2_response_rules(aws, portico, echo_arn):
    api_id = aws.json("apigatewayv2", "create-api", "--name", "rules", "--protocol-type", "HTTP",
                      "--target", echo_arn)["ApiId"]
    status, headers, body = call(portico, api_id, "GET", "/text")
    assert (status, headers["content-type"], body) == (200, "application/json", b"plain text")
    status, headers, body = call(portico, api_id, "GET", "/object")
    assert (status, headers["content-type"], body) == (200, "application/json",
                                                        b'{"hello":"world"}')
    status, headers, body = call(portico, api_id, "GET", "/cookies")
    assert (status, body) == (201, b"ok")
    assert headers["x-custom"] == "1"
    assert headers["content-type"] == "text/plain; charset=utf-8"
    status, headers, body = call(portico, api_id, "GET", "/fail")
    assert (status, body) == (500, b'{"message":"Internal Server Error"}')
    assert headers["content-type"] == "application/json"


def test_set_cookie_per_cookie(aws, portico, echo_arn):
    import http.client
    api_id = aws.json("apigatewayv2", "create-api", "--name", "cookies", "--protocol-type",
                      "HTTP", "--target", echo_arn)["ApiId"]
    conn = http.client.HTTPConnection("127.0.0.1", portico.port, timeout=60)
    conn.request("GET", "/cookies", headers={"Host": f"{api_id}.execute-api.localhost"})
    response = conn.getresponse()
    response.read()
    assert response.msg.get_all("set-cookie") == ["a=1", "b=2; Path=/"]
    conn.close()


def test_routes_auto_deploy_and_priority(aws, portico, echo_arn):
    api_id = aws.json("apigatewayv2", "create-api", "--name", "routes",
                      "--protocol-type", "HTTP")["ApiId"]
    integration = aws.json("apigatewayv2", "create-integration", "--api-id", api_id,
                           "--integration-type", "AWS_PROXY", "--integration-uri", echo_arn,
                           "--payload-format-version", "2.0")
    assert integration["IntegrationMethod"] == "POST"
    target = f"integrations/{integration['IntegrationId']}"
    stage = aws.json("apigatewayv2", "create-stage", "--api-id", api_id, "--stage-name",
                     "$default", "--auto-deploy")
    assert stage["AutoDeploy"] is True
    route = aws.json("apigatewayv2", "create-route", "--api-id", api_id, "--route-key",
                     "GET /pets/{id}", "--target", target)
    assert route["RouteKey"] == "GET /pets/{id}"
    assert route["ApiKeyRequired"] is False
    event = event_of(call(portico, api_id, "GET", "/pets/7"))
    assert event["routeKey"] == "GET /pets/{id}"
    assert event["pathParameters"] == {"id": "7"}
    assert call(portico, api_id, "GET", "/cats/1")[0] == 404
    assert call(portico, api_id, "POST", "/pets/7")[2] == b'{"message":"Not Found"}'

    # Every change is live at once on an auto-deploying stage.
    aws.json("apigatewayv2", "create-route", "--api-id", api_id, "--route-key",
             "ANY /{proxy+}", "--target", target)
    aws.json("apigatewayv2", "create-route", "--api-id", api_id, "--route-key",
             "GET /pets/dog", "--target", target)
    assert event_of(call(portico, api_id, "POST", "/cats/1"))["routeKey"] == "ANY /{proxy+}"
    assert event_of(call(portico, api_id, "GET", "/pets/dog"))["routeKey"] == "GET /pets/dog"
    assert event_of(call(portico, api_id, "GET", "/pets/cat"))["routeKey"] == "GET /pets/{id}"
    posted = event_of(call(portico, api_id, "POST", "/pets/1", body='{"a":1}',
                           headers={"Content-Type": "application/json"}))
    assert posted["body"] == '{"a":1}'
    assert posted["isBase64Encoded"] is False

    updated = aws.json("apigatewayv2", "update-route", "--api-id", api_id, "--route-id",
                       route["RouteId"], "--route-key", "GET /dogs/{id}")
    assert updated["RouteKey"] == "GET /dogs/{id}"
    assert event_of(call(portico, api_id, "GET", "/dogs/3"))["routeKey"] == "GET /dogs/{id}"
    deployments = aws.json("apigatewayv2", "get-deployments", "--api-id", api_id)["Items"]
    assert len(deployments) == 5
    assert all(d["AutoDeployed"] is True and d["DeploymentStatus"] == "DEPLOYED"
               for d in deployments)


def test_manual_stage_waits_for_a_deployment(aws, portico, echo_arn):
    api_id = aws.json("apigatewayv2", "create-api", "--name", "manual",
                      "--protocol-type", "HTTP")["ApiId"]
    integration_id = aws.json(
        "apigatewayv2", "create-integration", "--api-id", api_id, "--integration-type",
        "AWS_PROXY", "--integration-uri", echo_arn, "--payload-format-version", "1.0",
    )["IntegrationId"]
    aws.json("apigatewayv2", "create-route", "--api-id", api_id, "--route-key", "GET /items",
             "--target", f"integrations/{integration_id}")
    stage = aws.json("apigatewayv2", "create-stage", "--api-id", api_id, "--stage-name", "prod",
                     "--stage-variables", "color=blue")
    assert stage["AutoDeploy"] is False
    assert "DeploymentId" not in stage
    assert call(portico, api_id, "GET", "/prod/items")[0] == 404
    deployment = aws.json("apigatewayv2", "create-deployment", "--api-id", api_id,
                          "--stage-name", "prod", "--description", "first")
    assert deployment["AutoDeployed"] is False
    assert deployment["Description"] == "first"
    assert re.fullmatch(r"[a-z0-9]{6}", deployment["DeploymentId"])

    event = event_of(call(portico, api_id, "GET", "/prod/items?q=1&q=2",
                          headers={"X-Up": "v"}))
    assert event["version"] == "1.0"
    assert event["resource"] == "/items"
    assert event["path"] == "/prod/items"
    assert event["httpMethod"] == "GET"
    assert event["headers"]["x-up"] == "v"
    assert event["multiValueHeaders"]["x-up"] == ["v"]
    assert event["queryStringParameters"] == {"q": "2"}
    assert event["multiValueQueryStringParameters"] == {"q": ["1", "2"]}
    assert event["pathParameters"] is None
    assert event["stageVariables"] == {"color": "blue"}
    assert event["body"] is None
    assert event["requestContext"]["stage"] == "prod"
    assert event["requestContext"]["resourceId"] is None
    assert event["requestContext"]["resourcePath"] == "/items"

    # Not live until deployed again.
    aws.json("apigatewayv2", "create-route", "--api-id", api_id, "--route-key", "GET /new",
             "--target", f"integrations/{integration_id}")
    assert call(portico, api_id, "GET", "/prod/new")[0] == 404
    aws.json("apigatewayv2", "create-deployment", "--api-id", api_id, "--stage-name", "prod")
    assert event_of(call(portico, api_id, "GET", "/prod/new"))["resource"] == "/new"
    # A stage that does not exist, with no $default stage: 404.
    assert call(portico, api_id, "GET", "/test/items")[2] == b'{"message":"Not Found"}'


def test_cors_preflight_answered_by_the_gateway(aws, portico, echo_arn):
    api = aws.json(
        "apigatewayv2", "create-api", "--name", "cors", "--protocol-type", "HTTP",
        "--target", echo_arn, "--cors-configuration",
        "AllowOrigins=https://example.com,AllowMethods=GET,POST,AllowHeaders=Content-Type,"
        "ExposeHeaders=X-Out,MaxAge=300",
    )
    assert api["CorsConfiguration"]["AllowOrigins"] == ["https://example.com"]
    api_id = api["ApiId"]
    status, headers, body = call(portico, api_id, "OPTIONS", "/anything", headers={
        "Origin": "https://example.com", "Access-Control-Request-Method": "POST"})
    assert (status, body) == (204, b"")
    assert headers["access-control-allow-origin"] == "https://example.com"
    assert headers["access-control-allow-methods"] == "GET,POST"
    assert headers["access-control-allow-headers"] == "content-type"
    assert headers["access-control-max-age"] == "300"
    status, headers, _ = call(portico, api_id, "GET", "/x", headers={
        "Origin": "https://example.com"})
    assert status == 200
    assert headers["access-control-allow-origin"] == "https://example.com"
    assert headers["access-control-expose-headers"] == "x-out"
    status, headers, _ = call(portico, api_id, "GET", "/x", headers={"Origin": "https://evil"})
    assert "access-control-allow-origin" not in headers
    aws.run("apigatewayv2", "delete-cors-configuration", "--api-id", api_id)
    assert "CorsConfiguration" not in aws.json("apigatewayv2", "get-api", "--api-id", api_id)
    status, _, _ = call(portico, api_id, "OPTIONS", "/anything", headers={
        "Origin": "https://example.com", "Access-Control-Request-Method": "POST"})
    assert status == 200


def test_control_plane_reads_updates_deletes_and_errors(aws, portico, echo_arn):
    err = aws.error("apigatewayv2", "get-api", "--api-id", "nope")
    assert err.endswith("An error occurred (NotFoundException) when calling the GetApi "
                        "operation: Invalid API identifier specified 123456789012:nope")
    api_id = aws.json("apigatewayv2", "create-api", "--name", "crud",
                      "--protocol-type", "HTTP")["ApiId"]
    assert api_id in [a["ApiId"] for a in aws.json("apigatewayv2", "get-apis")["Items"]]
    updated = aws.json("apigatewayv2", "update-api", "--api-id", api_id, "--name", "renamed",
                       "--description", "d")
    assert (updated["Name"], updated["Description"]) == ("renamed", "d")
    err = aws.error("apigatewayv2", "get-route", "--api-id", api_id, "--route-id", "abc1234")
    assert err.endswith("Invalid Route identifier specified abc1234")
    err = aws.error("apigatewayv2", "get-integration", "--api-id", api_id,
                    "--integration-id", "abc1234")
    assert err.endswith("Invalid Integration identifier specified abc1234")
    err = aws.error("apigatewayv2", "create-route", "--api-id", api_id, "--route-key",
                    "GET /a/{b+}/c")
    assert "(BadRequestException)" in err
    aws.json("apigatewayv2", "create-route", "--api-id", api_id, "--route-key", "GET /a")
    err = aws.error("apigatewayv2", "create-route", "--api-id", api_id, "--route-key", "GET /a")
    assert "(ConflictException)" in err
    err = aws.error("apigatewayv2", "create-integration", "--api-id", api_id,
                    "--integration-type", "AWS_PROXY", "--integration-uri", echo_arn)
    assert "(BadRequestException)" in err
    integration = aws.json("apigatewayv2", "create-integration", "--api-id", api_id,
                           "--integration-type", "AWS_PROXY", "--integration-uri", echo_arn,
                           "--payload-format-version", "2.0")
    changed = aws.json("apigatewayv2", "update-integration", "--api-id", api_id,
                       "--integration-id", integration["IntegrationId"],
                       "--timeout-in-millis", "5000")
    assert changed["TimeoutInMillis"] == 5000
    aws.run("apigatewayv2", "delete-integration", "--api-id", api_id, "--integration-id",
            integration["IntegrationId"])
    assert aws.json("apigatewayv2", "get-integrations", "--api-id", api_id)["Items"] == []
    err = aws.error("apigatewayv2", "get-stage", "--api-id", api_id, "--stage-name", "x")
    assert "(NotFoundException)" in err
    aws.run("apigatewayv2", "delete-api", "--api-id", api_id)
    err = aws.error("apigatewayv2", "delete-api", "--api-id", api_id)
    assert err.endswith(f"Invalid API identifier specified 123456789012:{api_id}")


def test_stages_survive_a_restart(tmp_path, echo_arn):
    import signal

    from conftest import AwsCli, Portico

    server = Portico(tmp_path / "data")
    server.start()
    try:
        aws = AwsCli(server)
        aws.json("lambda", "create-function", "--function-name", "HttpEcho", "--runtime",
                 "python3.11", "--handler", "echo.handler", "--role",
                 f"arn:aws:iam::{ACCOUNT}:role/r", "--zip-file",
                 f"fileb://{_echo_zip(tmp_path)}")
        grant_every_api(aws, "HttpEcho")
        quick = aws.json("apigatewayv2", "create-api", "--name", "q", "--protocol-type", "HTTP",
                         "--target", echo_arn)["ApiId"]
        manual = aws.json("apigatewayv2", "create-api", "--name", "m",
                          "--protocol-type", "HTTP")["ApiId"]
        integration = aws.json("apigatewayv2", "create-integration", "--api-id", manual,
                               "--integration-type", "AWS_PROXY", "--integration-uri",
                               echo_arn, "--payload-format-version", "2.0")["IntegrationId"]
        aws.json("apigatewayv2", "create-route", "--api-id", manual, "--route-key", "GET /m",
                 "--target", f"integrations/{integration}")
        aws.json("apigatewayv2", "create-stage", "--api-id", manual, "--stage-name", "live")
        aws.json("apigatewayv2", "create-deployment", "--api-id", manual, "--stage-name", "live")
        before = call(server, quick, "GET", "/a")[0], call(server, manual, "GET", "/live/m")[0]
        assert before == (200, 200)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            server.stop(sig)
            health = server.start()
            assert health["stages"] == 2
            assert event_of(call(server, quick, "GET", "/a"))["routeKey"] == "$default"
            assert event_of(call(server, manual, "GET", "/live/m"))["routeKey"] == "GET /m"
    finally:
        server.stop()


def _echo_zip(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("echo.py", ECHO)
    path = tmp_path / "echo.zip"
    path.write_bytes(buf.getvalue())
    return path


def test_disabled_endpoint_and_stage_variables(aws, portico, echo_arn):
    api_id = aws.json("apigatewayv2", "create-api", "--name", "vars",
                      "--protocol-type", "HTTP")["ApiId"]
    uri = echo_arn.replace("HttpEcho", "${stageVariables.fn}")
    integration = aws.json("apigatewayv2", "create-integration", "--api-id", api_id,
                           "--integration-type", "AWS_PROXY", "--integration-uri", uri,
                           "--payload-format-version", "2.0")
    assert integration["IntegrationUri"] == uri
    aws.json("apigatewayv2", "create-route", "--api-id", api_id, "--route-key", "GET /v",
             "--target", f"integrations/{integration['IntegrationId']}")
    aws.json("apigatewayv2", "create-stage", "--api-id", api_id, "--stage-name", "$default",
             "--auto-deploy", "--stage-variables", "fn=HttpEcho")
    event = event_of(call(portico, api_id, "GET", "/v"))
    assert event["stageVariables"] == {"fn": "HttpEcho"}
    aws.json("apigatewayv2", "update-api", "--api-id", api_id, "--disable-execute-api-endpoint")
    assert call(portico, api_id, "GET", "/v")[0:3:2] == (403, b'{"message":"Forbidden"}')
    aws.json("apigatewayv2", "update-api", "--api-id", api_id,
             "--no-disable-execute-api-endpoint")
    assert call(portico, api_id, "GET", "/v")[0] == 200
