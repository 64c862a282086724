"""Tags on REST APIs and stages (tag-resource, untag-resource, get-tags, and the tags GetRestApi
and GetStage show), update-deployment, and the account (get-account, update-account)."""

from conftest import ACCOUNT


def deployed_api(aws, name, tags=None):
    extra = ["--tags", tags] if tags else []
    api = aws.json("apigateway", "create-rest-api", "--name", name, *extra)
    api_id = api["id"]
    aws.json("apigateway", "put-method", "--rest-api-id", api_id,
             "--resource-id", api["rootResourceId"], "--http-method", "GET",
             "--authorization-type", "NONE")
    aws.json("apigateway", "put-integration", "--rest-api-id", api_id,
             "--resource-id", api["rootResourceId"], "--http-method", "GET", "--type", "MOCK")
    deployment = aws.json("apigateway", "create-deployment", "--rest-api-id", api_id,
                          "--stage-name", "prod", "--description", "first")
    return api, deployment["id"]


def test_rest_api_and_stage_tags(aws):
    api, _ = deployed_api(aws, "tagged", tags="team=core,env=dev")
    api_id = api["id"]
    assert api["tags"] == {"team": "core", "env": "dev"}
    api_arn = f"arn:aws:apigateway:us-east-1::/restapis/{api_id}"
    stage_arn = f"{api_arn}/stages/prod"

    assert aws.json("apigateway", "get-tags", "--resource-arn", api_arn) == {
        "tags": {"team": "core", "env": "dev"}}
    aws.run("apigateway", "tag-resource", "--resource-arn", api_arn,
            "--tags", "env=prod,owner=ops")
    assert aws.json("apigateway", "get-rest-api", "--rest-api-id", api_id)["tags"] == {
        "team": "core", "env": "prod", "owner": "ops"}
    aws.run("apigateway", "untag-resource", "--resource-arn", api_arn,
            "--tag-keys", "team", "owner")
    assert aws.json("apigateway", "get-tags", "--resource-arn", api_arn) == {
        "tags": {"env": "prod"}}

    assert aws.json("apigateway", "get-tags", "--resource-arn", stage_arn) == {"tags": {}}
    aws.run("apigateway", "tag-resource", "--resource-arn", stage_arn, "--tags", "tier=gold")
    stage = aws.json("apigateway", "get-stage", "--rest-api-id", api_id, "--stage-name", "prod")
    assert stage["tags"] == {"tier": "gold"}
    aws.run("apigateway", "untag-resource", "--resource-arn", stage_arn, "--tag-keys", "tier")
    stage = aws.json("apigateway", "get-stage", "--rest-api-id", api_id, "--stage-name", "prod")
    assert "tags" not in stage


def test_tag_errors(aws):
    api, _ = deployed_api(aws, "tag-errors")
    err = aws.error("apigateway", "get-tags", "--resource-arn",
                    "arn:aws:apigateway:us-east-1::/restapis/nope000000")
    assert err.endswith("(NotFoundException) when calling the GetTags operation: "
                        f"Invalid API identifier specified {ACCOUNT}:nope000000")
    err = aws.error("apigateway", "tag-resource", "--resource-arn",
                    f"arn:aws:apigateway:us-east-1::/restapis/{api['id']}/stages/nope",
                    "--tags", "a=b")
    assert err.endswith("(NotFoundException) when calling the TagResource operation: "
                        "Invalid Stage identifier specified")
    err = aws.error("apigateway", "tag-resource", "--resource-arn",
                    f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f", "--tags", "a=b")
    assert err.endswith("(BadRequestException) when calling the TagResource operation: "
                        "Invalid input resource arn")


def test_update_deployment(aws):
    api, deployment_id = deployed_api(aws, "redescribe")
    api_id = api["id"]
    updated = aws.json("apigateway", "update-deployment", "--rest-api-id", api_id,
                       "--deployment-id", deployment_id, "--patch-operations",
                       "op=replace,path=/description,value=second")
    assert updated["id"] == deployment_id
    assert updated["description"] == "second"
    assert aws.json("apigateway", "get-deployment", "--rest-api-id", api_id,
                    "--deployment-id", deployment_id)["description"] == "second"
    err = aws.error("apigateway", "update-deployment", "--rest-api-id", api_id,
                    "--deployment-id", deployment_id, "--patch-operations",
                    "op=replace,path=/stageName,value=x")
    assert err.endswith("(BadRequestException) when calling the UpdateDeployment operation: "
                        "Invalid patch path /stageName")
    err = aws.error("apigateway", "update-deployment", "--rest-api-id", api_id,
                    "--deployment-id", "nope00", "--patch-operations",
                    "op=replace,path=/description,value=x")
    assert err.endswith("(NotFoundException) when calling the UpdateDeployment operation: "
                        "Invalid Deployment identifier specified")


def test_account(aws):
    account = aws.json("apigateway", "get-account", region="eu-west-3")
    assert account == {
        "throttleSettings": {"burstLimit": 5000, "rateLimit": 10000.0},
        "features": ["UsagePlans"],
        "apiKeyVersion": "4",
    }
    role = f"arn:aws:iam::{ACCOUNT}:role/apigw-logs"
    updated = aws.json("apigateway", "update-account", "--patch-operations",
                       f"op=replace,path=/cloudwatchRoleArn,value={role}", region="eu-west-3")
    assert updated == {"cloudwatchRoleArn": role, **account}
    assert aws.json("apigateway", "get-account", region="eu-west-3")["cloudwatchRoleArn"] == role
    # Per region, as in AWS.
    assert "cloudwatchRoleArn" not in aws.json("apigateway", "get-account", region="eu-west-2")
    err = aws.error("apigateway", "update-account", "--patch-operations",
                    "op=replace,path=/throttle/rateLimit,value=1", region="eu-west-3")
    assert err.endswith("(BadRequestException) when calling the UpdateAccount operation: "
                        "Invalid patch path /throttle/rateLimit")
