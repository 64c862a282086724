"""API keys and usage plans: the control plane through the AWS CLI, and `apiKeyRequired`
enforcement, usage-plan throttling and quotas on a deployed stage."""

import json
import re

from conftest import AwsCli


def mock_api(aws: AwsCli, name: str):
    api = aws.json("apigateway", "create-rest-api", "--name", name)
    api_id, root = api["id"], api["rootResourceId"]
    for verb, required in (("GET", "true"), ("POST", "false")):
        aws.json("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", root,
                 "--http-method", verb, "--authorization-type", "NONE",
                 "--api-key-required" if required == "true" else "--no-api-key-required")
        aws.json("apigateway", "put-integration", "--rest-api-id", api_id,
                 "--resource-id", root, "--http-method", verb, "--type", "MOCK",
                 "--request-templates", '{"application/json": "{\\"statusCode\\": 200}"}')
        aws.json("apigateway", "put-method-response", "--rest-api-id", api_id,
                 "--resource-id", root, "--http-method", verb, "--status-code", "200")
        aws.json("apigateway", "put-integration-response", "--rest-api-id", api_id,
                 "--resource-id", root, "--http-method", verb, "--status-code", "200",
                 "--response-templates",
                 '{"application/json": "{\\"keyId\\": \\"$context.identity.apiKeyId\\"}"}')
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "test")
    return api_id


def call(portico, api_id, method="GET", key=None):
    headers = {"x-api-key": key} if key else {}
    return portico.request(method, f"/restapis/{api_id}/test/_user_request_/", headers=headers)


FORBIDDEN = b'{"message":"Forbidden"}'


def test_api_keys_and_usage_plans(aws, portico):
    api_id = mock_api(aws, "keys")

    key = aws.json("apigateway", "create-api-key", "--name", "client-a", "--enabled")
    assert re.fullmatch(r"[a-z0-9]{10}", key["id"])
    assert re.fullmatch(r"[A-Za-z0-9]{40}", key["value"])
    assert key["enabled"] is True
    assert key["stageKeys"] == []
    assert "value" not in aws.json("apigateway", "get-api-key", "--api-key", key["id"])
    assert aws.json("apigateway", "get-api-key", "--api-key", key["id"],
                    "--include-value")["value"] == key["value"]
    custom = aws.json("apigateway", "create-api-key", "--name", "client-b",
                      "--value", "b" * 20)
    assert custom["enabled"] is False
    err = aws.error("apigateway", "create-api-key", "--name", "short", "--value", "x" * 19)
    assert err.endswith("API Key value should be at least 20 characters")
    names = [k["name"] for k in aws.json("apigateway", "get-api-keys")["items"]]
    assert {"client-a", "client-b"} <= set(names)

    # A key no usage plan attaches to this stage is refused.
    status, headers, body = call(portico, api_id, key=key["value"])
    assert (status, body) == (403, FORBIDDEN)
    assert headers["x-amzn-errortype"] == "ForbiddenException"
    assert call(portico, api_id)[::2] == (403, FORBIDDEN)
    # A method that does not require a key ignores it.
    assert call(portico, api_id, "POST")[0] == 200

    plan = aws.json("apigateway", "create-usage-plan", "--name", "basic",
                    "--api-stages", f"apiId={api_id},stage=test",
                    "--throttle", "burstLimit=100,rateLimit=100",
                    "--quota", "limit=3,period=DAY")
    assert plan["apiStages"] == [{"apiId": api_id, "stage": "test"}]
    assert plan["throttle"] == {"burstLimit": 100, "rateLimit": 100.0}
    assert plan["quota"] == {"limit": 3, "period": "DAY"}
    plan_key = aws.json("apigateway", "create-usage-plan-key", "--usage-plan-id", plan["id"],
                        "--key-id", key["id"], "--key-type", "API_KEY")
    assert plan_key == {"id": key["id"], "type": "API_KEY", "value": key["value"],
                        "name": "client-a"}
    assert aws.json("apigateway", "get-usage-plan-keys",
                    "--usage-plan-id", plan["id"])["items"] == [plan_key]

    status, _, body = call(portico, api_id, key=key["value"])
    assert (status, json.loads(body)) == (200, {"keyId": key["id"]})
    assert call(portico, api_id, key="not-a-key-at-all-000000")[::2] == (403, FORBIDDEN)
    assert call(portico, api_id, key=key["value"])[0] == 200
    assert call(portico, api_id, key=key["value"])[0] == 200
    status, headers, body = call(portico, api_id, key=key["value"])
    assert (status, body) == (429, b'{"message":"Limit Exceeded"}')
    assert headers["x-amzn-errortype"] == "LimitExceededException"

    # Disabling the key takes effect at once.
    aws.json("apigateway", "update-api-key", "--api-key", key["id"], "--patch-operations",
             "op=replace,path=/enabled,value=false")
    assert call(portico, api_id, key=key["value"])[::2] == (403, FORBIDDEN)

    # A plan throttle of one request per ~forever with burst 1.
    aws.json("apigateway", "update-api-key", "--api-key", custom["id"], "--patch-operations",
             "op=replace,path=/enabled,value=true")
    throttled = aws.json("apigateway", "create-usage-plan", "--name", "tight",
                         "--api-stages", f"apiId={api_id},stage=test",
                         "--throttle", "burstLimit=1,rateLimit=0.001")
    aws.json("apigateway", "create-usage-plan-key", "--usage-plan-id", throttled["id"],
             "--key-id", custom["id"], "--key-type", "API_KEY")
    assert call(portico, api_id, key="b" * 20)[0] == 200
    status, headers, body = call(portico, api_id, key="b" * 20)
    assert (status, body) == (429, b'{"message":"Too Many Requests"}')
    assert headers["x-amzn-errortype"] == "TooManyRequestsException"

    # Removing the stage from the plan takes the key's access away.
    updated = aws.json("apigateway", "update-usage-plan", "--usage-plan-id", throttled["id"],
                       "--patch-operations", f"op=remove,path=/apiStages,value={api_id}:test")
    assert updated["apiStages"] == []
    assert call(portico, api_id, key="b" * 20)[::2] == (403, FORBIDDEN)

    aws.run("apigateway", "delete-usage-plan-key", "--usage-plan-id", plan["id"],
            "--key-id", key["id"])
    err = aws.error("apigateway", "get-usage-plan-key", "--usage-plan-id", plan["id"],
                    "--key-id", key["id"])
    assert err.endswith("Invalid Usage Plan Key identifier specified")
    aws.run("apigateway", "delete-api-key", "--api-key", key["id"])
    err = aws.error("apigateway", "get-api-key", "--api-key", key["id"])
    assert err.endswith("(NotFoundException) when calling the GetApiKey operation: "
                        "Invalid API Key identifier specified")
    aws.run("apigateway", "delete-usage-plan", "--usage-plan-id", plan["id"])
    err = aws.error("apigateway", "get-usage-plan", "--usage-plan-id", plan["id"])
    assert err.endswith("Invalid Usage Plan ID specified")
