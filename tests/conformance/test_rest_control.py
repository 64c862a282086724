"""REST API control-plane operations the data plane serves: update-method/-integration/
-method-response/-integration-response, gateway responses, request validators; and their
effect on deployed stages."""

import json

import pytest

from conftest import AwsCli


def new_api(aws: AwsCli, name: str):
    api = aws.json("apigateway", "create-rest-api", "--name", name)
    return api["id"], api["rootResourceId"]


def mock_method(aws, api_id, resource_id, verb="GET", extra=()):
    aws.json("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", resource_id,
             "--http-method", verb, "--authorization-type", "NONE", *extra)
    aws.json("apigateway", "put-integration", "--rest-api-id", api_id,
             "--resource-id", resource_id, "--http-method", verb, "--type", "MOCK",
             "--request-templates", '{"application/json": "{\\"statusCode\\": 200}"}')
    aws.json("apigateway", "put-method-response", "--rest-api-id", api_id,
             "--resource-id", resource_id, "--http-method", verb, "--status-code", "200")
    aws.json("apigateway", "put-integration-response", "--rest-api-id", api_id,
             "--resource-id", resource_id, "--http-method", verb, "--status-code", "200",
             "--response-templates", '{"application/json": "{\\"ok\\": true}"}')


def call(portico, api_id, method, path, headers=None):
    return portico.request(method, f"/restapis/{api_id}/test/_user_request_{path}",
                           headers=headers)


def test_update_operations(aws, portico):
    api_id, root = new_api(aws, "updates")
    mock_method(aws, api_id, root)
    base = ["--rest-api-id", api_id, "--resource-id", root, "--http-method", "GET"]

    method = aws.json("apigateway", "update-method", *base, "--patch-operations",
                      "op=replace,path=/apiKeyRequired,value=true",
                      "op=add,path=/requestParameters/method.request.querystring.q,value=true",
                      "op=replace,path=/operationName,value=GetRoot")
    assert method["apiKeyRequired"] is True
    assert method["requestParameters"] == {"method.request.querystring.q": True}
    assert method["operationName"] == "GetRoot"
    assert aws.json("apigateway", "get-method", *base)["operationName"] == "GetRoot"
    err = aws.error("apigateway", "update-method", *base, "--patch-operations",
                    "op=replace,path=/nope,value=1")
    assert err.endswith("(BadRequestException) when calling the UpdateMethod operation: "
                        "Invalid patch path /nope")

    integration = aws.json("apigateway", "update-integration", *base, "--patch-operations",
                           "op=replace,path=/timeoutInMillis,value=1000",
                           "op=add,path=/requestTemplates/text~1plain,value=plain",
                           "op=replace,path=/passthroughBehavior,value=NEVER")
    assert integration["timeoutInMillis"] == 1000
    assert integration["passthroughBehavior"] == "NEVER"
    assert integration["requestTemplates"] == {
        "application/json": '{"statusCode": 200}', "text/plain": "plain"}
    err = aws.error("apigateway", "update-integration", *base, "--patch-operations",
                    "op=replace,path=/timeoutInMillis,value=30000")
    assert err.endswith("Timeout should be between 50 ms and 29000 ms")

    # UpdateMethodResponse answers 201 (the model says so); the CLI shows the body.
    status, _, body = portico.request(
        "PATCH", f"/restapis/{api_id}/resources/{root}/methods/GET/responses/200",
        body=json.dumps({"patchOperations": [
            {"op": "add", "path": "/responseParameters/method.response.header.X-A",
             "value": "false"}]}),
        headers={"Content-Type": "application/json",
                 "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/"
                                  "apigateway/aws4_request, SignedHeaders=host, Signature=x"})
    assert status == 201
    assert json.loads(body) == {"statusCode": "200",
                                "responseParameters": {"method.response.header.X-A": False}}

    response = aws.json("apigateway", "update-integration-response", *base, "--status-code",
                        "200", "--patch-operations", json.dumps([
                            {"op": "replace", "path": "/selectionPattern", "value": "2\\d{2}"},
                            {"op": "add",
                             "path": "/responseParameters/method.response.header.X-A",
                             "value": "'static'"}]))
    assert response == {"statusCode": "200", "selectionPattern": "2\\d{2}",
                        "responseParameters": {"method.response.header.X-A": "'static'"},
                        "responseTemplates": {"application/json": '{"ok": true}'}}
    err = aws.error("apigateway", "update-integration-response", *base, "--status-code", "500",
                    "--patch-operations", "op=replace,path=/selectionPattern,value=x")
    assert err.endswith("(NotFoundException) when calling the UpdateIntegrationResponse "
                        "operation: Invalid Response status code specified")


def test_gateway_responses(aws, portico):
    api_id, root = new_api(aws, "gateway-responses")
    mock_method(aws, api_id, root)

    got = aws.json("apigateway", "get-gateway-response", "--rest-api-id", api_id,
                   "--response-type", "MISSING_AUTHENTICATION_TOKEN")
    assert got == {"responseType": "MISSING_AUTHENTICATION_TOKEN", "statusCode": "403",
                   "responseParameters": {},
                   "responseTemplates": {
                       "application/json": '{"message":$context.error.messageString}'},
                   "defaultResponse": True}
    listed = aws.json("apigateway", "get-gateway-responses", "--rest-api-id", api_id)["items"]
    assert len(listed) == 21
    assert {"responseType": "DEFAULT_4XX", "responseParameters": {},
            "responseTemplates": {
                "application/json": '{"message":$context.error.messageString}'},
            "defaultResponse": True} in listed
    err = aws.error("apigateway", "delete-gateway-response", "--rest-api-id", api_id,
                    "--response-type", "THROTTLED")
    assert err.endswith("(NotFoundException) when calling the DeleteGatewayResponse "
                        "operation: Gateway response type not defined on api")

    put = aws.json("apigateway", "put-gateway-response", "--rest-api-id", api_id,
                   "--response-type", "MISSING_AUTHENTICATION_TOKEN", "--status-code", "404",
                   "--response-parameters", json.dumps({
                       "gatewayresponse.header.X-Reason": "'no-route'",
                       "gatewayresponse.header.X-Stage": "context.stage"}),
                   "--response-templates", json.dumps({
                       "application/json": '{"error": $context.error.messageString, '
                                           '"type": "$context.error.responseType"}'}))
    assert put["defaultResponse"] is False
    assert put["statusCode"] == "404"
    aws.json("apigateway", "put-gateway-response", "--rest-api-id", api_id,
             "--response-type", "DEFAULT_4XX", "--response-parameters",
             json.dumps({"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"}))
    updated = aws.json("apigateway", "update-gateway-response", "--rest-api-id", api_id,
                       "--response-type", "DEFAULT_4XX", "--patch-operations",
                       "op=replace,path=/statusCode,value=418")
    assert updated["statusCode"] == "418"
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "test")

    status, headers, body = call(portico, api_id, "GET", "/nowhere")
    assert status == 404
    assert body == b'{"error": "Missing Authentication Token", ' \
                   b'"type": "MISSING_AUTHENTICATION_TOKEN"}'
    assert headers["x-reason"] == "no-route"
    assert headers["x-stage"] == "test"
    assert headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"

    # Another 4xx falls back to DEFAULT_4XX: its status, headers and the default template.
    status, headers, body = call(portico, api_id, "GET", "/",
                                 headers={"Content-Type": "application/xml"})
    assert (status, body) == (200, b'{"ok": true}')
    aws.json("apigateway", "update-integration", "--rest-api-id", api_id, "--resource-id", root,
             "--http-method", "GET", "--patch-operations",
             "op=replace,path=/passthroughBehavior,value=NEVER")
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "test")
    status, headers, body = call(portico, api_id, "GET", "/",
                                 headers={"Content-Type": "application/xml"})
    assert status == 418
    assert body == b'{"message":"Unsupported Media Type"}'
    assert headers["access-control-allow-origin"] == "*"
    assert headers["x-amzn-errortype"] == "UnsupportedMediaTypeException"

    # Undeployed changes do not reach the stage; deleting and redeploying restores AWS's answer.
    aws.run("apigateway", "delete-gateway-response", "--rest-api-id", api_id,
            "--response-type", "MISSING_AUTHENTICATION_TOKEN")
    status, _, _ = call(portico, api_id, "GET", "/nowhere")
    assert status == 404
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "test")
    status, headers, body = call(portico, api_id, "GET", "/nowhere")
    assert status == 418
    assert body == b'{"message":"Missing Authentication Token"}'


def test_request_validator_requires_parameters(aws, portico):
    api_id, root = new_api(aws, "validators")
    validator = aws.json("apigateway", "create-request-validator", "--rest-api-id", api_id,
                         "--name", "params", "--validate-request-parameters")
    assert validator["name"] == "params"
    assert validator["validateRequestParameters"] is True
    assert validator["validateRequestBody"] is False
    assert len(validator["id"]) == 6
    listed = aws.json("apigateway", "get-request-validators", "--rest-api-id", api_id)
    assert listed == {"items": [validator]}
    mock_method(aws, api_id, root, extra=(
        "--request-validator-id", validator["id"],
        "--request-parameters", json.dumps({
            "method.request.querystring.q": True,
            "method.request.header.X-Key": True,
            "method.request.querystring.optional": False})))
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "test")

    status, headers, body = call(portico, api_id, "GET", "/")
    assert status == 400
    assert body == b'{"message":"Missing required request parameters: [X-Key, q]"}'
    assert headers["x-amzn-errortype"] == "BadRequestException"
    status, _, body = call(portico, api_id, "GET", "/?q=1")
    assert (status, body) == (400, b'{"message":"Missing required request parameters: [X-Key]"}')
    status, _, body = call(portico, api_id, "GET", "/?q=1", headers={"x-key": "k"})
    assert (status, body) == (200, b'{"ok": true}')

    # Turning the check off and redeploying lets the request through.
    updated = aws.json("apigateway", "update-request-validator", "--rest-api-id", api_id,
                       "--request-validator-id", validator["id"], "--patch-operations",
                       "op=replace,path=/validateRequestParameters,value=false")
    assert updated["validateRequestParameters"] is False
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "test")
    status, _, _ = call(portico, api_id, "GET", "/")
    assert status == 200
    err = aws.error("apigateway", "get-request-validator", "--rest-api-id", api_id,
                    "--request-validator-id", "nope00")
    assert err.endswith("(NotFoundException) when calling the GetRequestValidator operation: "
                        "Invalid Request Validator identifier specified")


def test_stage_throttling_and_variables(aws, portico):
    api_id, root = new_api(aws, "throttled")
    aws.json("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", root,
             "--http-method", "GET", "--authorization-type", "NONE")
    aws.json("apigateway", "put-integration", "--rest-api-id", api_id, "--resource-id", root,
             "--http-method", "GET", "--type", "MOCK",
             "--request-templates", '{"application/json": "{\\"statusCode\\": 200}"}')
    aws.json("apigateway", "put-method-response", "--rest-api-id", api_id,
             "--resource-id", root, "--http-method", "GET", "--status-code", "200")
    aws.json("apigateway", "put-integration-response", "--rest-api-id", api_id,
             "--resource-id", root, "--http-method", "GET", "--status-code", "200",
             "--response-templates",
             '{"application/json": "{\\"color\\": \\"$stageVariables.color\\"}"}')
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "test",
             "--variables", "color=red")
    assert call(portico, api_id, "GET", "/")[2] == b'{"color": "red"}'

    stage = aws.json("apigateway", "update-stage", "--rest-api-id", api_id, "--stage-name",
                     "test", "--patch-operations",
                     "op=replace,path=/variables/color,value=blue",
                     "op=replace,path=/*/*/throttling/rateLimit,value=0.01",
                     "op=replace,path=/*/*/throttling/burstLimit,value=2")
    assert stage["variables"] == {"color": "blue"}
    assert stage["methodSettings"]["*/*"]["throttlingRateLimit"] == 0.01
    assert stage["methodSettings"]["*/*"]["throttlingBurstLimit"] == 2
    assert stage["methodSettings"]["*/*"]["cacheTtlInSeconds"] == 300
    got = aws.json("apigateway", "get-stage", "--rest-api-id", api_id, "--stage-name", "test")
    assert got["methodSettings"] == stage["methodSettings"]

    assert call(portico, api_id, "GET", "/")[:3:2] == (200, b'{"color": "blue"}')
    assert call(portico, api_id, "GET", "/")[0] == 200
    status, headers, body = call(portico, api_id, "GET", "/")
    assert status == 429
    assert body == b'{"message":"Too Many Requests"}'
    assert headers["x-amzn-errortype"] == "TooManyRequestsException"

    err = aws.error("apigateway", "update-stage", "--rest-api-id", api_id, "--stage-name",
                    "test", "--patch-operations", "op=replace,path=/*/*/throttling/x,value=1")
    assert "(BadRequestException) when calling the UpdateStage operation: " \
           "Invalid method setting path: /*/*/throttling/x." in err


def test_content_handling_on_mock_responses(aws, portico):
    api = aws.json("apigateway", "create-rest-api", "--name", "binary",
                   "--binary-media-types", "image/png")
    api_id, root = api["id"], api["rootResourceId"]
    aws.json("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", root,
             "--http-method", "GET", "--authorization-type", "NONE")
    aws.json("apigateway", "put-integration", "--rest-api-id", api_id, "--resource-id", root,
             "--http-method", "GET", "--type", "MOCK",
             "--request-templates", '{"application/json": "{\\"statusCode\\": 200}"}')
    aws.json("apigateway", "put-method-response", "--rest-api-id", api_id,
             "--resource-id", root, "--http-method", "GET", "--status-code", "200")
    aws.json("apigateway", "put-integration-response", "--rest-api-id", api_id,
             "--resource-id", root, "--http-method", "GET", "--status-code", "200",
             "--response-templates", '{"application/json": "aGk="}')
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "test")
    # Text payload: decoded only when the client's first Accept type is binary.
    assert call(portico, api_id, "GET", "/")[::2] == (200, b"aGk=")
    assert call(portico, api_id, "GET", "/", headers={"Accept": "image/png"})[::2] == (200, b"hi")

    response = aws.json("apigateway", "update-integration-response", "--rest-api-id", api_id,
                        "--resource-id", root, "--http-method", "GET", "--status-code", "200",
                        "--patch-operations",
                        "op=replace,path=/contentHandling,value=CONVERT_TO_TEXT")
    assert response["contentHandling"] == "CONVERT_TO_TEXT"
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "test")
    assert call(portico, api_id, "GET", "/", headers={"Accept": "image/png"})[2] == b"aGk="

    aws.json("apigateway", "update-integration-response", "--rest-api-id", api_id,
             "--resource-id", root, "--http-method", "GET", "--status-code", "200",
             "--patch-operations", "op=replace,path=/contentHandling,value=CONVERT_TO_BINARY")
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "test")
    assert call(portico, api_id, "GET", "/")[2] == b"hi"


def test_put_method_with_unknown_validator(aws):
    api_id, root = new_api(aws, "bad-validator")
    err = aws.error("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", root,
                    "--http-method", "GET", "--authorization-type", "NONE",
                    "--request-validator-id", "nope00")
    assert err.endswith("(BadRequestException) when calling the PutMethod operation: "
                        "Invalid Request Validator identifier specified")


def test_unsupported_aws_service_integration(aws, portico):
    api_id, root = new_api(aws, "sqs")
    aws.json("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", root,
             "--http-method", "POST", "--authorization-type", "NONE")
    aws.json("apigateway", "put-integration", "--rest-api-id", api_id, "--resource-id", root,
             "--http-method", "POST", "--type", "AWS", "--integration-http-method", "POST",
             "--uri", "arn:aws:apigateway:us-east-1:sqs:path/123456789012/queue",
             "--credentials", "arn:aws:iam::123456789012:role/sqs")
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "test")
    status, headers, body = call(portico, api_id, "POST", "/")
    assert (status, body) == (500, b'{"message": "Internal server error"}')
    assert headers["x-amzn-errortype"] == "InternalServerErrorException"
    assert "the sqs service integration is not supported by Portico" in \
        portico.log_path.read_text()
