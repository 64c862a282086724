"""Usage-plan quotas are not forgiven when a stage is recompiled: requests counted before a
redeploy, a plan update or a new key on the plan still count after it, and two stages of one
plan share a key's quota, as AWS counts it."""

import json

from test_rest_api_keys import call, mock_api

LIMITED = (429, b'{"message":"Limit Exceeded"}')


def test_quota_survives_redeploy_and_plan_changes(aws, portico):
    api_id = mock_api(aws, "durable-quota")
    try:
        key = aws.json("apigateway", "create-api-key", "--name", "durable", "--enabled")
        plan = aws.json("apigateway", "create-usage-plan", "--name", "durable",
                        "--api-stages", f"apiId={api_id},stage=test",
                        "--quota", "limit=3,period=MONTH")
        aws.json("apigateway", "create-usage-plan-key", "--usage-plan-id", plan["id"],
                 "--key-id", key["id"], "--key-type", "API_KEY")
        status, _, body = call(portico, api_id, key=key["value"])
        assert (status, json.loads(body)) == (200, {"keyId": key["id"]})

        # A redeploy recompiles the stage; the request above still counts.
        aws.json("apigateway", "create-deployment", "--rest-api-id", api_id,
                 "--stage-name", "test")
        assert call(portico, api_id, key=key["value"])[0] == 200

        # So does a change to the plan (a throttle added) and another key on it.
        aws.json("apigateway", "update-usage-plan", "--usage-plan-id", plan["id"],
                 "--patch-operations", "op=replace,path=/throttle/rateLimit,value=100",
                 "op=replace,path=/throttle/burstLimit,value=100")
        other = aws.json("apigateway", "create-api-key", "--name", "other", "--enabled")
        aws.json("apigateway", "create-usage-plan-key", "--usage-plan-id", plan["id"],
                 "--key-id", other["id"], "--key-type", "API_KEY")
        assert call(portico, api_id, key=key["value"])[0] == 200
        status, headers, body = call(portico, api_id, key=key["value"])
        assert (status, body) == LIMITED
        assert headers["x-amzn-errortype"] == "LimitExceededException"
        # The other key has a quota of its own.
        assert call(portico, api_id, key=other["value"])[0] == 200

        # A second stage in the same plan counts against the same quota.
        aws.json("apigateway", "create-deployment", "--rest-api-id", api_id,
                 "--stage-name", "second")
        aws.json("apigateway", "update-usage-plan", "--usage-plan-id", plan["id"],
                 "--patch-operations", f"op=add,path=/apiStages,value={api_id}:second")
        status, _, body = portico.request(
            "GET", f"/restapis/{api_id}/second/_user_request_/",
            headers={"x-api-key": key["value"]})
        assert (status, body) == LIMITED
    finally:
        aws.run("apigateway", "delete-rest-api", "--rest-api-id", api_id)
