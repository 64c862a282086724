"""ImportApiKeys from CSV, and usage-plan usage: GetUsage reads what the data plane counted
per key and day, UpdateUsage changes a key's remaining quota and the data plane honours it."""

import datetime
import json

from conftest import AwsCli
from test_rest_api_keys import call, mock_api

VALUE_A = "apikey1234abcdefghij0123456789"
VALUE_B = "apikey1234abcdefghij0123456789bb"


def usage_plan(aws: AwsCli, api_id: str, name: str, limit: int):
    return aws.json("apigateway", "create-usage-plan", "--name", name,
                    "--api-stages", f"apiId={api_id},stage=test",
                    "--quota", f"limit={limit},period=DAY")


def import_keys(aws: AwsCli, tmp_path, csv_text: str, *flags):
    path = tmp_path / "keys.csv"
    path.write_text(csv_text)
    return aws.json("apigateway", "import-api-keys", "--body", f"fileb://{path}",
                    "--format", "csv", *flags)


def test_import_api_keys(aws, portico, tmp_path):
    api_id = mock_api(aws, "import-keys")
    plan = usage_plan(aws, api_id, "imported", 100)
    # Columns in any order and any case; unknown columns ignored; plan ids quoted.
    csv_text = (
        "key,NAME,Description,enabled,usagePlanIds,Extra\n"
        f"{VALUE_A},first,An imported key,TRUE,\"{plan['id']}\",x\n"
        "tooshort,second\n"
        f"{VALUE_B},third,,false,\n"
    )
    out = import_keys(aws, tmp_path, csv_text)
    assert out["warnings"] == [
        "Invalid API Key value at line 3: it must be between 20 and 128 characters"]
    assert len(out["ids"]) == 2
    first = aws.json("apigateway", "get-api-key", "--api-key", out["ids"][0], "--include-value")
    assert {k: first[k] for k in ("name", "value", "description", "enabled")} == {
        "name": "first", "value": VALUE_A, "description": "An imported key", "enabled": True}
    third = aws.json("apigateway", "get-api-key", "--api-key", out["ids"][1], "--include-value")
    assert {k: third[k] for k in ("name", "value", "enabled")} == {
        "name": "third", "value": VALUE_B, "enabled": False}
    keys = aws.json("apigateway", "get-usage-plan-keys", "--usage-plan-id", plan["id"])
    assert keys["items"] == [{"id": out["ids"][0], "type": "API_KEY", "value": VALUE_A,
                              "name": "first"}]
    # The imported key serves the plan's stage.
    status, _, body = call(portico, api_id, key=VALUE_A)
    assert (status, json.loads(body)) == (200, {"keyId": out["ids"][0]})

    # The same value imported again overwrites the key it names.
    again = import_keys(aws, tmp_path, f"Name,Key,Enabled\nrenamed,{VALUE_B},true\n")
    assert again == {"ids": [out["ids"][1]], "warnings": []}
    third = aws.json("apigateway", "get-api-key", "--api-key", out["ids"][1])
    assert (third["name"], third["enabled"]) == ("renamed", True)

    # failOnWarnings: one bad row fails the file and nothing is written.
    path = tmp_path / "bad.csv"
    path.write_text(f"Name,Key,UsagePlanIds\nnever,{'n' * 25},\"{plan['id']},nosuch\"\n")
    err = aws.error("apigateway", "import-api-keys", "--body", f"fileb://{path}",
                    "--format", "csv", "--fail-on-warnings")
    assert err.endswith("(BadRequestException) when calling the ImportApiKeys operation: "
                        "Invalid Usage Plan ID specified: nosuch (API key never)")
    assert aws.json("apigateway", "get-api-keys", "--name-query", "never")["items"] == []
    err = aws.error("apigateway", "import-api-keys", "--body", f"fileb://{path}",
                    "--format", "json")
    assert err.endswith("Invalid format specified: 'json'. Must be one of: [csv]")
    path.write_text("Name,Description\nx,y\n")
    err = aws.error("apigateway", "import-api-keys", "--body", f"fileb://{path}",
                    "--format", "csv")
    assert err.endswith("Invalid API key file: the header must name the Name and Key columns")


def test_get_and_update_usage(aws, portico, tmp_path):
    api_id = mock_api(aws, "usage")
    plan = usage_plan(aws, api_id, "metered", 5)
    ids = import_keys(aws, tmp_path,
                      f"Name,Key,UsagePlanIds\nmetered,{'m' * 24},{plan['id']}\n")["ids"]
    key_id = ids[0]
    today = datetime.datetime.now(datetime.timezone.utc).date()
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    today = today.isoformat()

    def usage(start=today, end=today, *extra):
        return aws.json("apigateway", "get-usage", "--usage-plan-id", plan["id"],
                        "--start-date", start, "--end-date", end, *extra)

    # Served by the plan's stage but not called yet: the whole quota is left.
    assert usage() == {"usagePlanId": plan["id"], "startDate": today, "endDate": today,
                       "items": {key_id: [[0, 5]]}}
    for _ in range(3):
        assert call(portico, api_id, key="m" * 24)[0] == 200
    assert usage()["items"] == {key_id: [[3, 2]]}
    assert usage(yesterday, today, "--key-id", key_id) == {
        "usagePlanId": plan["id"], "startDate": yesterday, "endDate": today,
        "items": {key_id: [[0, 5], [3, 2]]}}
    assert usage(today, today, "--key-id", "someotherkey")["items"] == {}

    # One request left, then the quota is used up.
    updated = aws.json("apigateway", "update-usage", "--usage-plan-id", plan["id"],
                       "--key-id", key_id, "--patch-operations",
                       "op=replace,path=/remaining,value=1")
    assert updated == {"usagePlanId": plan["id"], "startDate": today, "endDate": today,
                       "items": {key_id: [[3, 1]]}}
    assert call(portico, api_id, key="m" * 24)[0] == 200
    status, headers, body = call(portico, api_id, key="m" * 24)
    assert (status, body) == (429, b'{"message":"Limit Exceeded"}')
    assert headers["x-amzn-errortype"] == "LimitExceededException"
    assert usage()["items"] == {key_id: [[4, 0]]}

    # A temporary extension beyond the plan's limit.
    aws.json("apigateway", "update-usage", "--usage-plan-id", plan["id"], "--key-id", key_id,
             "--patch-operations", "op=replace,path=/remaining,value=7")
    for _ in range(7):
        assert call(portico, api_id, key="m" * 24)[0] == 200
    assert call(portico, api_id, key="m" * 24)[0] == 429
    assert usage()["items"] == {key_id: [[11, 0]]}

    err = aws.error("apigateway", "get-usage", "--usage-plan-id", plan["id"],
                    "--start-date", "2024-02-30", "--end-date", today)
    assert err.endswith("(BadRequestException) when calling the GetUsage operation: "
                        "Invalid startDate specified: 2024-02-30")
    err = aws.error("apigateway", "get-usage", "--usage-plan-id", "nosuch",
                    "--start-date", today, "--end-date", today)
    assert err.endswith("Invalid Usage Plan ID specified")
    err = aws.error("apigateway", "update-usage", "--usage-plan-id", plan["id"],
                    "--key-id", key_id, "--patch-operations", "op=replace,path=/used,value=1")
    assert err.endswith("Invalid patch path  '/used' specified for op 'replace'. "
                        "Must be one of: [/remaining]")
    err = aws.error("apigateway", "update-usage", "--usage-plan-id", plan["id"],
                    "--key-id", "nosuchkey", "--patch-operations",
                    "op=replace,path=/remaining,value=1")
    assert err.endswith("Invalid Usage Plan Key identifier specified")


def test_get_model_template(aws):
    api_id = aws.json("apigateway", "create-rest-api", "--name", "templates")["id"]
    schema = {"type": "object", "properties": {
        "a": {"type": "number"}, "b": {"type": "number"}, "op": {"type": "string"},
        "c": {"type": "number"}}}
    aws.json("apigateway", "create-model", "--rest-api-id", api_id, "--name", "output",
             "--content-type", "application/json", "--schema", json.dumps(schema))
    # AWS's documented sample for this model.
    assert aws.json("apigateway", "get-model-template", "--rest-api-id", api_id,
                    "--model-name", "output") == {
        "value": "#set($inputRoot = $input.path('$'))\n{\n  \"a\" : 3.1415,\n"
                 "  \"b\" : 3.1415,\n  \"op\" : \"foo\",\n  \"c\" : 3.1415\n}"}
    listing = {"type": "array", "items": {
        "$ref": f"https://apigateway.amazonaws.com/restapis/{api_id}/models/output"}}
    aws.json("apigateway", "create-model", "--rest-api-id", api_id, "--name", "outputs",
             "--content-type", "application/json", "--schema", json.dumps(listing))
    assert aws.json("apigateway", "get-model-template", "--rest-api-id", api_id,
                    "--model-name", "outputs")["value"] == (
        "#set($inputRoot = $input.path('$'))\n[ {\n  \"a\" : 3.1415,\n"
        "  \"b\" : 3.1415,\n  \"op\" : \"foo\",\n  \"c\" : 3.1415\n} ]")
    err = aws.error("apigateway", "get-model-template", "--rest-api-id", api_id,
                    "--model-name", "nosuch")
    assert "(NotFoundException) when calling the GetModelTemplate operation" in err


def test_flush_stage_authorizers_cache(aws, portico, tmp_path):
    from test_lambda_helpers import create, integration_uri, python_zip
    from test_rest_authorizers import AUTHORIZER, Api, grant, mock_method
    log_path = tmp_path / "events.jsonl"
    create(aws, tmp_path, "FlushAuthz", python_zip(AUTHORIZER.format(log_path=str(log_path))))
    rest = aws.json("apigateway", "create-rest-api", "--name", "flush-authorizers")
    api_id, root = rest["id"], rest["rootResourceId"]
    grant(aws, "FlushAuthz", api_id, "authorizers", "authorizers/*")
    authorizer = aws.json("apigateway", "create-authorizer", "--rest-api-id", api_id,
                          "--name", "token", "--type", "TOKEN",
                          "--authorizer-uri", integration_uri("FlushAuthz"))["id"]
    rid = aws.json("apigateway", "create-resource", "--rest-api-id", api_id,
                   "--parent-id", root, "--path-part", "mock")["id"]
    mock_method(aws, api_id, rid, authorizer)
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "prod")
    client = Api(portico, api_id, log_path)

    for _ in range(2):
        assert client.get("/mock", {"Authorization": "allow-flush"})[0] == 200
    assert len(client.calls_with("allow-flush")) == 1
    proc = aws.run("apigateway", "flush-stage-authorizers-cache", "--rest-api-id", api_id,
                   "--stage-name", "prod")
    assert proc.stdout.strip() == ""
    # The cached answer is gone: the next request asks the authorizer again, once.
    for _ in range(2):
        assert client.get("/mock", {"Authorization": "allow-flush"})[0] == 200
    assert len(client.calls_with("allow-flush")) == 2
    err = aws.error("apigateway", "flush-stage-authorizers-cache", "--rest-api-id", api_id,
                    "--stage-name", "nosuch")
    assert err.endswith("(NotFoundException) when calling the FlushStageAuthorizersCache "
                        "operation: Invalid Stage identifier specified")
