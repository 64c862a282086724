"""Mapping-template selection by Content-Type and passthroughBehavior (aws-behaviour §2.5):
a MOCK integration whose response echoes what the request template produced."""

import json

import pytest


def deploy(aws, templates, passthrough):
    api = aws.json("apigateway", "create-rest-api", "--name", f"passthrough-{passthrough}")
    api_id, root = api["id"], api["rootResourceId"]
    aws.json("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", root,
             "--http-method", "POST", "--authorization-type", "NONE")
    aws.json("apigateway", "put-method-response", "--rest-api-id", api_id, "--resource-id", root,
             "--http-method", "POST", "--status-code", "200")
    args = ["apigateway", "put-integration", "--rest-api-id", api_id, "--resource-id", root,
            "--http-method", "POST", "--type", "MOCK", "--passthrough-behavior", passthrough]
    if templates:
        args += ["--request-templates", json.dumps(templates)]
    aws.json(*args)
    aws.json("apigateway", "put-integration-response", "--rest-api-id", api_id,
             "--resource-id", root, "--http-method", "POST", "--status-code", "200",
             "--selection-pattern", "",
             "--response-templates", json.dumps({"application/json": '{"served":true}'}))
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "t")
    return api_id


def post(portico, api_id, content_type):
    return portico.request("POST", f"/restapis/{api_id}/t/_user_request_/", body=b"{}",
                           headers={"Content-Type": content_type})


JSON_ONLY = {"application/json": '{"statusCode": 200}'}
SERVED = (200, b'{"served":true}')
REFUSED = (415, b'{"message":"Unsupported Media Type"}')


@pytest.mark.parametrize("templates,passthrough,content_type,expected", [
    (JSON_ONLY, "WHEN_NO_MATCH", "application/json", SERVED),
    (JSON_ONLY, "WHEN_NO_MATCH", "text/plain", SERVED),
    (JSON_ONLY, "WHEN_NO_TEMPLATES", "text/plain", REFUSED),
    (JSON_ONLY, "NEVER", "text/plain", REFUSED),
    (JSON_ONLY, "NEVER", "application/json; charset=utf-8", SERVED),
    (None, "WHEN_NO_TEMPLATES", "text/plain", SERVED),
    (None, "NEVER", "application/json", REFUSED),
])
def test_passthrough_behaviour(aws, portico, templates, passthrough, content_type, expected):
    api_id = deploy(aws, templates, passthrough)
    try:
        status, headers, body = post(portico, api_id, content_type)
        assert (status, body) == expected
        if status == 415:
            assert headers["x-amzn-errortype"] == "UnsupportedMediaTypeException"
    finally:
        aws.run("apigateway", "delete-rest-api", "--rest-api-id", api_id)
