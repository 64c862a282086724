"""Control-plane reads, deletes and errors, as the AWS CLI reports them."""

import json

import pytest

from conftest import ACCOUNT, write_zip, zip_bytes

ROLE = f"arn:aws:iam::{ACCOUNT}:role/lambda-role"


def cli_error(operation: str, code: str, message: str) -> str:
    return f"An error occurred ({code}) when calling the {operation} operation: {message}"


@pytest.fixture()
def api(aws):
    created = aws.json("apigateway", "create-rest-api", "--name", "errors")
    yield created
    aws.run("apigateway", "delete-rest-api", "--rest-api-id", created["id"], check=False)


def test_unknown_ids_answer_not_found(aws, api):
    assert aws.error("apigateway", "get-rest-api", "--rest-api-id", "nope000000") == cli_error(
        "GetRestApi", "NotFoundException", f"Invalid API identifier specified {ACCOUNT}:nope000000")
    assert aws.error("apigateway", "get-resource", "--rest-api-id", api["id"],
                     "--resource-id", "zzzzzz") == cli_error(
        "GetResource", "NotFoundException", "Invalid Resource identifier specified")
    root = api["rootResourceId"]
    assert aws.error("apigateway", "get-method", "--rest-api-id", api["id"], "--resource-id", root,
                     "--http-method", "GET") == cli_error(
        "GetMethod", "NotFoundException", "Invalid Method identifier specified")
    aws.json("apigateway", "put-method", "--rest-api-id", api["id"], "--resource-id", root,
             "--http-method", "GET", "--authorization-type", "NONE")
    assert aws.error("apigateway", "get-integration", "--rest-api-id", api["id"], "--resource-id",
                     root, "--http-method", "GET") == cli_error(
        "GetIntegration", "NotFoundException", "Invalid Integration identifier specified")
    assert aws.error("apigateway", "get-stages", "--rest-api-id", "nope000000") == cli_error(
        "GetStages", "NotFoundException", f"Invalid API identifier specified {ACCOUNT}:nope000000")


def test_regions_are_namespaces(aws, api):
    assert aws.error("apigateway", "get-rest-api", "--rest-api-id", api["id"],
                     region="eu-west-1") == cli_error(
        "GetRestApi", "NotFoundException", f"Invalid API identifier specified {ACCOUNT}:{api['id']}")
    assert aws.json("apigateway", "get-rest-api", "--rest-api-id", api["id"])["id"] == api["id"]


def test_resource_rules(aws, api):
    root = api["rootResourceId"]
    child = aws.json("apigateway", "create-resource", "--rest-api-id", api["id"],
                     "--parent-id", root, "--path-part", "pets")
    assert aws.error("apigateway", "create-resource", "--rest-api-id", api["id"],
                     "--parent-id", root, "--path-part", "pets") == cli_error(
        "CreateResource", "ConflictException",
        "Another resource with the same parent already has this name: pets")
    aws.json("apigateway", "create-resource", "--rest-api-id", api["id"],
             "--parent-id", root, "--path-part", "{proxy+}")
    assert aws.error("apigateway", "create-resource", "--rest-api-id", api["id"],
                     "--parent-id", root, "--path-part", "{id}") == cli_error(
        "CreateResource", "BadRequestException",
        "A sibling ({proxy+}) of this resource already has a variable path part -- only one is allowed")
    nested = aws.json("apigateway", "create-resource", "--rest-api-id", api["id"],
                      "--parent-id", child["id"], "--path-part", "{petId}")
    assert nested["path"] == "/pets/{petId}"
    # Deleting a resource deletes everything below it.
    aws.run("apigateway", "delete-resource", "--rest-api-id", api["id"], "--resource-id", child["id"])
    paths = [r["path"] for r in aws.json("apigateway", "get-resources", "--rest-api-id", api["id"])["items"]]
    assert paths == ["/", "/{proxy+}"]


def test_method_and_deployment_rules(aws, api):
    root = api["rootResourceId"]
    assert aws.error("apigateway", "create-deployment", "--rest-api-id", api["id"],
                     "--stage-name", "dev") == cli_error(
        "CreateDeployment", "BadRequestException", "The REST API doesn't contain any methods")
    assert aws.error("apigateway", "put-method", "--rest-api-id", api["id"], "--resource-id", root,
                     "--http-method", "FETCH", "--authorization-type", "NONE") == cli_error(
        "PutMethod", "BadRequestException",
        "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY")
    aws.json("apigateway", "put-method", "--rest-api-id", api["id"], "--resource-id", root,
             "--http-method", "ANY", "--authorization-type", "NONE")
    assert aws.error("apigateway", "create-deployment", "--rest-api-id", api["id"],
                     "--stage-name", "dev") == cli_error(
        "CreateDeployment", "BadRequestException", "No integration defined for method")
    aws.json("apigateway", "put-integration", "--rest-api-id", api["id"], "--resource-id", root,
             "--http-method", "ANY", "--type", "MOCK",
             "--request-templates", '{"application/json":"{\\"statusCode\\": 200}"}')
    deployment = aws.json("apigateway", "create-deployment", "--rest-api-id", api["id"],
                          "--stage-name", "dev")
    assert aws.error("apigateway", "delete-deployment", "--rest-api-id", api["id"],
                     "--deployment-id", deployment["id"]) == cli_error(
        "DeleteDeployment", "BadRequestException",
        "Active stages pointing to this deployment must be moved or deleted")
    aws.run("apigateway", "delete-stage", "--rest-api-id", api["id"], "--stage-name", "dev")
    aws.run("apigateway", "delete-deployment", "--rest-api-id", api["id"],
            "--deployment-id", deployment["id"])
    assert aws.json("apigateway", "get-deployments", "--rest-api-id", api["id"]) == {"items": []}
    aws.run("apigateway", "delete-method", "--rest-api-id", api["id"], "--resource-id", root,
            "--http-method", "ANY")
    assert aws.error("apigateway", "get-method", "--rest-api-id", api["id"], "--resource-id", root,
                     "--http-method", "ANY").endswith("Invalid Method identifier specified")


def test_delete_rest_api(aws):
    created = aws.json("apigateway", "create-rest-api", "--name", "doomed")
    aws.run("apigateway", "delete-rest-api", "--rest-api-id", created["id"])
    assert aws.error("apigateway", "get-rest-api", "--rest-api-id", created["id"]).endswith(
        f"Invalid API identifier specified {ACCOUNT}:{created['id']}")


def test_lambda_errors(aws, tmp_path):
    zip_path = write_zip(tmp_path, "nodejs20.x")
    missing = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:nope"
    assert aws.error("lambda", "get-function", "--function-name", "nope") == cli_error(
        "GetFunction", "ResourceNotFoundException", f"Function not found: {missing}")
    create = ["lambda", "create-function", "--function-name", "ErrorsFn", "--runtime", "nodejs20.x",
              "--handler", "index.handler", "--role", ROLE, "--zip-file", f"fileb://{zip_path}"]
    aws.json(*create)
    assert aws.error(*create) == cli_error(
        "CreateFunction", "ResourceConflictException", "Function already exist: ErrorsFn")
    # A zip whose directory is intact (the CLI checks that much) but whose data is garbage.
    data = bytearray(zip_bytes("nodejs20.x"))
    data[40:120] = b"\xff" * 80
    bad_zip = tmp_path / "bad.zip"
    bad_zip.write_bytes(bytes(data))
    assert aws.error("lambda", "create-function", "--function-name", "BadZip", "--runtime",
                     "nodejs20.x", "--handler", "index.handler", "--role", ROLE,
                     "--zip-file", f"fileb://{bad_zip}") == cli_error(
        "CreateFunction", "InvalidParameterValueException",
        "Could not unzip uploaded file. Please check your file, then try to upload again.")
    assert aws.error("lambda", "create-function", "--function-name", "Old", "--runtime",
                     "python3.7", "--handler", "x.y", "--role", ROLE,
                     "--zip-file", f"fileb://{zip_path}") == cli_error(
        "CreateFunction", "InvalidParameterValueException",
        "The runtime parameter of python3.7 is no longer supported for creating or updating AWS "
        "Lambda functions. We recommend you use a supported runtime while creating or updating functions.")
    assert aws.error("lambda", "invoke", "--function-name", "ErrorsFn", "--payload", "not json",
                     str(tmp_path / "o.json")).startswith(
        "An error occurred (InvalidRequestContentException) when calling the Invoke operation: "
        "Could not parse request body into json: Could not parse payload into json:")
    aws.run("lambda", "delete-function", "--function-name", "ErrorsFn")
    assert aws.error("lambda", "invoke", "--function-name", "ErrorsFn", "--payload", "{}",
                     str(tmp_path / "o.json")) == cli_error(
        "Invoke", "ResourceNotFoundException",
        f"Function not found: arn:aws:lambda:us-east-1:{ACCOUNT}:function:ErrorsFn")


SIGNED = {"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/apigateway/"
                           "aws4_request, SignedHeaders=host, Signature=00",
          "Content-Type": "application/json"}


def test_bad_input_gets_aws_shaped_errors(portico):
    status, headers, body = portico.request("POST", "/restapis", body=b"{nope", headers=SIGNED)
    assert status == 400
    assert headers["x-amzn-errortype"] == "SerializationException"
    assert json.loads(body)["message"].startswith("Could not parse request body into json")
    status, headers, body = portico.request("POST", "/restapis", body=b'{"name": true}', headers=SIGNED)
    assert (status, headers["x-amzn-errortype"]) == (400, "SerializationException")
    assert json.loads(body) == {"message": "class java.lang.Boolean can not be converted to an String"}
    status, headers, body = portico.request("GET", "/restapis?limit=many", headers=SIGNED)
    assert (status, headers["x-amzn-errortype"]) == (400, "BadRequestException")
    status, headers, _ = portico.request("GET", "/no/such/thing")
    assert status == 404
    assert headers["content-type"] == "application/json"
    status, _, body = portico.request("GET", "/_portico/health")
    assert status == 200 and json.loads(body)["status"] == "ok"


def test_oversized_bodies_are_refused(portico, aws):
    api = aws.json("apigateway", "create-rest-api", "--name", "big")
    try:
        big = b"x" * (10 * 1024 * 1024 + 1)
        status, headers, body = portico.request(
            "POST", f"/restapis/{api['id']}/prod/_user_request_/upload", body=big)
        assert (status, body) == (413, b'{"message":"Request Too Long"}')
        assert headers["x-amzn-errortype"] == "RequestTooLargeException"
    finally:
        aws.run("apigateway", "delete-rest-api", "--rest-api-id", api["id"])


def test_operations_not_served_yet_say_so(portico):
    status, headers, body = portico.request("GET", "/domainnames", headers=SIGNED)
    assert status == 501
    assert headers["x-amzn-errortype"] == "NotImplementedException"
    assert json.loads(body) == {
        "message": "Portico does not implement the API Gateway operation GetDomainNames yet"}
