"""REST API models (CreateModel/GetModel/GetModels/UpdateModel/DeleteModel, the default Empty
and Error models) and request validation on a deployed stage: required parameters
(BAD_REQUEST_PARAMETERS) and bodies checked against JSON Schema draft-4 models
(BAD_REQUEST_BODY), through the AWS CLI and raw HTTP."""

import json
import re

EMPTY_SCHEMA = ('{\n  "$schema": "http://json-schema.org/draft-04/schema#",\n'
                '  "title" : "Empty Schema",\n  "type" : "object"\n}')
ERROR_SCHEMA = ('{\n  "$schema" : "http://json-schema.org/draft-04/schema#",\n'
                '  "title" : "Error Schema",\n  "type" : "object",\n  "properties" : {\n'
                '    "message" : { "type" : "string" }\n  }\n}')
PET = {"$schema": "http://json-schema.org/draft-04/schema#", "title": "Pet", "type": "object",
       "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
       "required": ["name", "age"]}
INVALID_SCHEMA = ("Invalid model specified: Validation Result: warnings : [], "
                  "errors : [Invalid model schema specified]")


def error_line(operation, code, message):
    return f"An error occurred ({code}) when calling the {operation} operation: {message}"


def test_default_models_and_crud(aws):
    api = aws.json("apigateway", "create-rest-api", "--name", "models")
    api_id, root = api["id"], api["rootResourceId"]
    try:
        items = aws.json("apigateway", "get-models", "--rest-api-id", api_id)["items"]
        assert [(m["name"], m["contentType"], m["description"], m["schema"]) for m in items] == [
            ("Empty", "application/json", "This is a default empty schema model", EMPTY_SCHEMA),
            ("Error", "application/json", "This is a default error schema model", ERROR_SCHEMA),
        ]
        assert all(re.fullmatch(r"[a-z0-9]{6}", m["id"]) for m in items)

        created = aws.json("apigateway", "create-model", "--rest-api-id", api_id,
                           "--name", "Pet", "--content-type", "application/json",
                           "--schema", json.dumps(PET))
        assert set(created) == {"id", "name", "schema", "contentType"}
        assert (created["name"], created["schema"]) == ("Pet", json.dumps(PET))
        got = aws.json("apigateway", "get-model", "--rest-api-id", api_id, "--model-name", "Pet")
        assert got == created

        # A model referring to another by its canonical URL; flatten inlines it.
        ref = f"https://apigateway.amazonaws.com/restapis/{api_id}/models/Pet"
        pets = aws.json("apigateway", "create-model", "--rest-api-id", api_id, "--name", "Pets",
                        "--content-type", "application/json", "--description", "many",
                        "--schema", json.dumps({"type": "array", "items": {"$ref": ref}}))
        assert pets["description"] == "many"
        flat = aws.json("apigateway", "get-model", "--rest-api-id", api_id,
                        "--model-name", "Pets", "--flatten")
        inlined = dict(PET)
        del inlined["$schema"]
        assert json.loads(flat["schema"]) == {"type": "array", "items": inlined}

        names = [m["name"] for m in
                 aws.json("apigateway", "get-models", "--rest-api-id", api_id)["items"]]
        assert names == ["Empty", "Error", "Pet", "Pets"]
        page = aws.json("apigateway", "get-models", "--rest-api-id", api_id,
                        "--max-items", "3")
        assert [m["name"] for m in page["items"]] == ["Empty", "Error", "Pet"]

        updated = aws.json("apigateway", "update-model", "--rest-api-id", api_id,
                           "--model-name", "Pet", "--patch-operations",
                           "op=replace,path=/description,value=a pet")
        assert updated["description"] == "a pet"

        # Errors, worded as AWS words them.
        create = ["apigateway", "create-model", "--rest-api-id", api_id,
                  "--content-type", "application/json"]
        assert aws.error(*create, "--name", "Pet") == error_line(
            "CreateModel", "ConflictException", "Model name already exists for this REST API")
        assert aws.error(*create, "--name", "Bad", "--schema", "{not json") == error_line(
            "CreateModel", "BadRequestException", INVALID_SCHEMA)
        assert aws.error(*create, "--name", "Bad", "--schema", '{"type":"strin"}') == \
            error_line("CreateModel", "BadRequestException", INVALID_SCHEMA)
        other = ref.replace(api_id, "otherapi00")
        assert aws.error(*create, "--name", "Bad",
                         "--schema", json.dumps({"$ref": other})) == error_line(
            "CreateModel", "BadRequestException",
            "Invalid model specified: Validation Result: warnings : [], "
            "errors : [Model reference must be in canonical form]")
        assert aws.error("apigateway", "get-model", "--rest-api-id", api_id,
                         "--model-name", "Nope") == error_line(
            "GetModel", "NotFoundException", "Invalid model name specified: Nope")
        assert aws.error("apigateway", "update-model", "--rest-api-id", api_id,
                         "--model-name", "Pet", "--patch-operations",
                         "op=replace,path=/name,value=x") == error_line(
            "UpdateModel", "BadRequestException",
            "Invalid patch path  '/name' specified for op 'replace'. "
            "Must be one of: [/description, /schema]")
        assert aws.error("apigateway", "update-model", "--rest-api-id", api_id,
                         "--model-name", "Pet", "--patch-operations",
                         json.dumps([{"op": "replace", "path": "/schema", "value": "[]"}])
                         ) == error_line(
            "UpdateModel", "BadRequestException", INVALID_SCHEMA)

        # requestModels must name existing models; a model in use cannot be deleted.
        pets_id = aws.json("apigateway", "create-resource", "--rest-api-id", api_id,
                           "--parent-id", root, "--path-part", "pets")["id"]
        put_method = ["apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", pets_id,
                      "--http-method", "POST", "--authorization-type", "NONE"]
        assert aws.error(*put_method, "--request-models", '{"application/json":"Dog"}') == \
            error_line("PutMethod", "BadRequestException",
                       "Invalid model identifier specified: Dog")
        aws.json(*put_method, "--request-models", '{"application/json":"Pet"}')
        assert aws.error("apigateway", "delete-model", "--rest-api-id", api_id,
                         "--model-name", "Pet") == error_line(
            "DeleteModel", "ConflictException",
            "Cannot delete model 'Pet', is referenced in method request: /pets/POST")
        aws.run("apigateway", "delete-model", "--rest-api-id", api_id, "--model-name", "Pets")
        assert aws.error("apigateway", "delete-model", "--rest-api-id", api_id,
                         "--model-name", "Pets") == error_line(
            "DeleteModel", "NotFoundException", "Invalid model name specified: Pets")
    finally:
        aws.run("apigateway", "delete-rest-api", "--rest-api-id", api_id)


def validated_api(aws, validate_body=True, validate_params=True):
    """POST /pets (MOCK) whose validator checks the Pet model and a required header."""
    api = aws.json("apigateway", "create-rest-api", "--name", "validated")
    api_id, root = api["id"], api["rootResourceId"]
    aws.json("apigateway", "create-model", "--rest-api-id", api_id, "--name", "Pet",
             "--content-type", "application/json", "--schema", json.dumps(PET))
    validator = aws.json("apigateway", "create-request-validator", "--rest-api-id", api_id,
                         "--name", "all",
                         "--validate-request-body" if validate_body
                         else "--no-validate-request-body",
                         "--validate-request-parameters" if validate_params
                         else "--no-validate-request-parameters")
    pets = aws.json("apigateway", "create-resource", "--rest-api-id", api_id,
                    "--parent-id", root, "--path-part", "pets")["id"]
    aws.json("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", pets,
             "--http-method", "POST", "--authorization-type", "NONE",
             "--request-validator-id", validator["id"],
             "--request-parameters", '{"method.request.header.x-tenant": true}',
             "--request-models", '{"application/json": "Pet", "$default": "Empty"}')
    aws.json("apigateway", "put-integration", "--rest-api-id", api_id, "--resource-id", pets,
             "--http-method", "POST", "--type", "MOCK",
             "--request-templates", '{"application/json": "{\\"statusCode\\": 200}"}')
    aws.json("apigateway", "put-method-response", "--rest-api-id", api_id,
             "--resource-id", pets, "--http-method", "POST", "--status-code", "200")
    aws.json("apigateway", "put-integration-response", "--rest-api-id", api_id,
             "--resource-id", pets, "--http-method", "POST", "--status-code", "200",
             "--selection-pattern", "",
             "--response-templates", '{"application/json": "{\\"ok\\": true}"}')
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "v")
    return api_id


def post(portico, api_id, body, headers):
    return portico.request("POST", f"/restapis/{api_id}/v/_user_request_/pets",
                           body=body, headers=headers)


BAD_BODY = b'{"message":"Invalid request body"}'
TENANT = {"x-tenant": "t1", "Content-Type": "application/json"}


def test_request_body_and_parameter_validation(aws, portico):
    api_id = validated_api(aws)
    try:
        ok = post(portico, api_id, b'{"name": "rex", "age": 3}', TENANT)
        assert (ok[0], ok[2]) == (200, b'{"ok": true}')

        for body in (b'{"name": "rex"}',            # missing required property
                     b'{"name": "rex", "age": "3"}',  # wrong type
                     b'{"name": "rex", "age": -1}',   # below the minimum
                     b'{name: rex',                   # not JSON
                     b''):                            # empty: validated as {}
            status, headers, got = post(portico, api_id, body, TENANT)
            assert (status, got) == (400, BAD_BODY), body
            assert headers["x-amzn-errortype"] == "BadRequestException"
            assert headers["content-type"] == "application/json"

        # No Content-Type counts as application/json; another type falls back to $default
        # (Empty: any object).
        assert post(portico, api_id, b'{"age": 1}', {"x-tenant": "t"})[0] == 400
        assert post(portico, api_id, b'{"age": 1}',
                    {"x-tenant": "t", "Content-Type": "application/xml"})[0] == 200

        # Parameters are checked before the body.
        status, headers, got = post(portico, api_id, b'{}',
                                    {"Content-Type": "application/json"})
        assert (status, got) == (
            400, b'{"message":"Missing required request parameters: [x-tenant]"}')
        assert headers["x-amzn-errortype"] == "BadRequestException"
    finally:
        aws.run("apigateway", "delete-rest-api", "--rest-api-id", api_id)


def test_body_not_validated_without_validate_request_body(aws, portico):
    api_id = validated_api(aws, validate_body=False)
    try:
        status, _, got = post(portico, api_id, b'{"nothing": 1}', TENANT)
        assert (status, got) == (200, b'{"ok": true}')
    finally:
        aws.run("apigateway", "delete-rest-api", "--rest-api-id", api_id)


def test_customised_bad_request_body_shows_the_validation_error(aws, portico):
    # A common customisation: report what validation found, not only "Invalid request body".
    api_id = validated_api(aws)
    try:
        template = ('{"message": $context.error.messageString, '
                    '"detail": "$context.error.validationErrorString"}')
        for response_type in ("BAD_REQUEST_BODY", "BAD_REQUEST_PARAMETERS"):
            aws.json("apigateway", "put-gateway-response", "--rest-api-id", api_id,
                     "--response-type", response_type,
                     "--response-templates", json.dumps({"application/json": template}))
        aws.json("apigateway", "create-deployment", "--rest-api-id", api_id,
                 "--stage-name", "v")
        status, _, got = post(portico, api_id, b'{"age": 3}', TENANT)
        # Templates do not escape what they insert, so this is the raw text AWS gives too.
        assert (status, got) == (
            400, b'{"message": "Invalid request body", '
                 b'"detail": "[object has missing required properties (["name"])]"}')
        status, _, got = post(portico, api_id, b'{}', {"Content-Type": "application/json"})
        assert status == 400
        assert json.loads(got) == {
            "message": "Missing required request parameters: [x-tenant]",
            "detail": "Missing required request parameters: [x-tenant]"}
    finally:
        aws.run("apigateway", "delete-rest-api", "--rest-api-id", api_id)
