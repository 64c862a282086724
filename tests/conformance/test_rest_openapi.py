"""REST APIs from and to OpenAPI: import-rest-api, put-rest-api (merge and overwrite) and
get-export, with the AWS CLI, OpenAPI 3 (JSON) and Swagger 2 (YAML) documents, and calls over
HTTP through the imported API (MOCK, HTTP to a loopback server, Lambda proxy)."""

import io
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from conftest import ACCOUNT

FUNCTION = '''
import json

def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"path": event["path"], "resource": event["resource"],
                                "proxy": event["pathParameters"]["proxy"]})}
'''

LAMBDA_URI = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
              f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:OpenApiEcho/invocations")
ROLE = f"arn:aws:iam::{ACCOUNT}:role/apigw-invoke"


class Backend(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = json.dumps({"target": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def backend():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def function(aws, tmp_path_factory):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", FUNCTION)
    path = tmp_path_factory.mktemp("openapi") / "fn.zip"
    path.write_bytes(buf.getvalue())
    aws.json("lambda", "create-function", "--function-name", "OpenApiEcho",
             "--runtime", "python3.11", "--handler", "app.handler",
             "--role", f"arn:aws:iam::{ACCOUNT}:role/lambda-role",
             "--zip-file", f"fileb://{path}")


def petstore(backend):
    mock_list = {
        "type": "mock",
        "requestTemplates": {"application/json": '{"statusCode": 200}'},
        "passthroughBehavior": "when_no_templates",
        "responses": {"default": {
            "statusCode": "200",
            "responseParameters": {"method.response.header.X-Count": "'1'"},
            "responseTemplates": {
                "application/json": '[{"name": "rex", "type": "$input.params(\'type\')"}]'},
        }},
    }
    return {
        "openapi": "3.0.1",
        "info": {"title": "Petstore", "description": "Imported pets", "version": "1.0"},
        "servers": [{"url": "https://pets.example.com/{basePath}",
                     "variables": {"basePath": {"default": "/v1"}}}],
        "x-amazon-apigateway-binary-media-types": ["image/png"],
        "x-amazon-apigateway-request-validators": {
            "all": {"validateRequestBody": True, "validateRequestParameters": True},
            "params": {"validateRequestBody": False, "validateRequestParameters": True},
        },
        "x-amazon-apigateway-request-validator": "params",
        "x-amazon-apigateway-gateway-responses": {
            "MISSING_AUTHENTICATION_TOKEN": {
                "statusCode": 404,
                "responseTemplates": {"application/json": '{"message": "no such route"}'},
            },
        },
        "paths": {
            "/pets": {
                "get": {
                    "operationId": "ListPets",
                    "parameters": [{"name": "type", "in": "query", "required": True,
                                    "schema": {"type": "string"}}],
                    "responses": {"200": {
                        "description": "the pets",
                        "headers": {"X-Count": {"schema": {"type": "string"}}},
                        "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Pets"}}},
                    }},
                    "x-amazon-apigateway-integration": mock_list,
                },
                "post": {
                    "operationId": "CreatePet",
                    "x-amazon-apigateway-request-validator": "all",
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Pet"}}}},
                    "responses": {"201": {"description": "created"}},
                    "x-amazon-apigateway-integration": {
                        "type": "mock",
                        "requestTemplates": {"application/json": '{"statusCode": 201}'},
                        "responses": {"default": {
                            "statusCode": "201",
                            "responseTemplates": {"application/json": '{"created": true}'}}},
                    },
                },
            },
            "/pets/{petId}": {
                "parameters": [{"name": "petId", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "get": {
                    "responses": {"200": {"description": "a pet"}},
                    "x-amazon-apigateway-integration": {
                        "type": "http", "httpMethod": "GET",
                        "uri": backend + "/animals/{id}",
                        "requestParameters": {
                            "integration.request.path.id": "method.request.path.petId"},
                        "responses": {"default": {"statusCode": "200"}},
                    },
                },
            },
            "/lambda/{proxy+}": {
                "x-amazon-apigateway-any-method": {
                    "parameters": [{"name": "proxy", "in": "path", "required": True,
                                    "schema": {"type": "string"}}],
                    "x-amazon-apigateway-integration": {
                        "type": "aws_proxy", "httpMethod": "POST", "uri": LAMBDA_URI,
                        "credentials": ROLE,
                    },
                },
            },
        },
        "components": {"schemas": {
            "Pet": {"type": "object", "required": ["name"],
                    "properties": {"name": {"type": "string"}}},
            "Pets": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}},
        }},
    }


def user(portico, api_id, method, path, body=None, headers=None):
    return portico.request(method, f"/restapis/{api_id}/prod/_user_request_{path}",
                           body=body, headers=headers)


def paths_of(aws, api_id):
    items = aws.json("apigateway", "get-resources", "--rest-api-id", api_id,
                     "--embed", "methods")["items"]
    return {r["path"]: sorted(r.get("resourceMethods", {})) for r in items}, items


def test_import_openapi3_deploy_call_and_export(aws, portico, tmp_path, backend, function):
    doc = tmp_path / "api.json"
    doc.write_text(json.dumps(petstore(backend)))
    api = aws.json("apigateway", "import-rest-api", "--body", f"fileb://{doc}",
                   "--parameters", "endpointConfigurationTypes=REGIONAL")
    api_id = api.pop("id")
    api.pop("createdDate")
    root_id = api.pop("rootResourceId")
    assert api == {
        "name": "Petstore", "description": "Imported pets", "version": "1.0",
        "binaryMediaTypes": ["image/png"], "apiKeySource": "HEADER",
        "endpointConfiguration": {"types": ["REGIONAL"], "ipAddressType": "ipv4"},
        "disableExecuteApiEndpoint": False,
    }
    paths, items = paths_of(aws, api_id)
    assert paths == {"/": [], "/pets": ["GET", "POST"], "/pets/{petId}": ["GET"],
                     "/lambda": [], "/lambda/{proxy+}": ["ANY"]}
    by_path = {r["path"]: r for r in items}
    assert by_path["/pets"]["parentId"] == root_id
    assert by_path["/lambda/{proxy+}"]["parentId"] == by_path["/lambda"]["id"]

    validators = aws.json("apigateway", "get-request-validators", "--rest-api-id", api_id)
    ids = {v["name"]: v["id"] for v in validators["items"]}
    assert sorted(ids) == ["all", "params"]
    pets_id = by_path["/pets"]["id"]
    method = aws.json("apigateway", "get-method", "--rest-api-id", api_id,
                      "--resource-id", pets_id, "--http-method", "GET")
    integration = method.pop("methodIntegration")
    assert method == {
        "httpMethod": "GET", "authorizationType": "NONE", "apiKeyRequired": False,
        "requestValidatorId": ids["params"], "operationName": "ListPets",
        "requestParameters": {"method.request.querystring.type": True},
        "methodResponses": {"200": {
            "statusCode": "200",
            "responseParameters": {"method.response.header.X-Count": False},
            "responseModels": {"application/json": "Pets"}}},
    }
    assert integration["type"] == "MOCK"
    assert integration["passthroughBehavior"] == "WHEN_NO_TEMPLATES"
    assert integration["cacheNamespace"] == pets_id
    assert integration["integrationResponses"]["200"]["responseParameters"] == {
        "method.response.header.X-Count": "'1'"}
    post = aws.json("apigateway", "get-method", "--rest-api-id", api_id,
                    "--resource-id", pets_id, "--http-method", "POST")
    assert post["requestModels"] == {"application/json": "Pet"}
    assert post["requestValidatorId"] == ids["all"]
    proxy = aws.json("apigateway", "get-integration", "--rest-api-id", api_id,
                     "--resource-id", by_path["/lambda/{proxy+}"]["id"], "--http-method", "ANY")
    assert (proxy["type"], proxy["httpMethod"], proxy["uri"], proxy["credentials"]) == (
        "AWS_PROXY", "POST", LAMBDA_URI, ROLE)
    model = aws.json("apigateway", "get-model", "--rest-api-id", api_id, "--model-name", "Pets")
    assert json.loads(model["schema"])["items"] == {
        "$ref": f"https://apigateway.amazonaws.com/restapis/{api_id}/models/Pet"}
    response = aws.json("apigateway", "get-gateway-response", "--rest-api-id", api_id,
                        "--response-type", "MISSING_AUTHENTICATION_TOKEN")
    assert response["statusCode"] == "404"
    assert response["defaultResponse"] is False

    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "prod")
    status, headers, body = user(portico, api_id, "GET", "/pets?type=dog")
    assert (status, json.loads(body), headers["x-count"]) == (
        200, [{"name": "rex", "type": "dog"}], "1")
    status, _, body = user(portico, api_id, "GET", "/pets")
    assert (status, json.loads(body)) == (
        400, {"message": "Missing required request parameters: [type]"})
    status, _, body = user(portico, api_id, "POST", "/pets", body=b'{"name": "rex"}',
                           headers={"Content-Type": "application/json"})
    assert (status, json.loads(body)) == (201, {"created": True})
    status, _, body = user(portico, api_id, "GET", "/pets/7")
    assert (status, json.loads(body)) == (200, {"target": "/animals/7"})
    status, _, body = user(portico, api_id, "DELETE", "/lambda/a/b")
    assert (status, json.loads(body)) == (
        200, {"path": "/lambda/a/b", "resource": "/lambda/{proxy+}", "proxy": "a/b"})
    status, _, body = user(portico, api_id, "GET", "/nowhere")
    assert (status, json.loads(body)) == (404, {"message": "no such route"})

    # The export is the deployed definition, written as API Gateway writes it.
    out = tmp_path / "export.json"
    shown = aws.json("apigateway", "get-export", "--rest-api-id", api_id, "--stage-name",
                     "prod", "--export-type", "oas30", "--parameters",
                     "extensions=integrations", str(out))
    assert shown["contentType"] == "application/json"
    assert shown["contentDisposition"].startswith('attachment; filename="oas30_')
    assert shown["contentDisposition"].endswith('.json"')
    text = out.read_text()
    assert text.startswith('{\n  "openapi" : "3.0.1",\n')
    exported = json.loads(text)
    assert exported["info"] == {"description": "Imported pets", "version": "1.0",
                                "title": "Petstore"}
    assert exported["servers"] == [{
        "url": f"https://{api_id}.execute-api.us-east-1.amazonaws.com/{{basePath}}",
        "variables": {"basePath": {"default": "/prod"}}}]
    assert sorted(exported["paths"]) == ["/lambda/{proxy+}", "/pets", "/pets/{petId}"]
    get = exported["paths"]["/pets"]["get"]
    assert get["operationId"] == "ListPets"
    assert get["parameters"] == [{"name": "type", "in": "query", "required": True,
                                  "schema": {"type": "string"}}]
    assert get["responses"]["200"] == {
        "description": "200 response",
        "headers": {"X-Count": {"schema": {"type": "string"}}},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pets"}}}}
    assert get["x-amazon-apigateway-integration"]["type"] == "mock"
    assert get["x-amazon-apigateway-integration"]["passthroughBehavior"] == "when_no_templates"
    assert get["x-amazon-apigateway-integration"]["responses"]["default"]["statusCode"] == "200"
    assert "x-amazon-apigateway-request-validator" not in get
    any_method = exported["paths"]["/lambda/{proxy+}"]["x-amazon-apigateway-any-method"]
    assert any_method["x-amazon-apigateway-integration"]["type"] == "aws_proxy"
    assert any_method["x-amazon-apigateway-integration"]["uri"] == LAMBDA_URI
    assert exported["paths"]["/pets"]["post"]["requestBody"] == {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
        "required": True}
    assert exported["components"]["schemas"]["Pets"] == {
        "type": "array", "items": {"$ref": "#/components/schemas/Pet"}}
    assert "x-amazon-apigateway-request-validators" not in exported

    # Without extensions: plain OpenAPI; with `apigateway`: every API-level extension too.
    plain = tmp_path / "plain.json"
    aws.json("apigateway", "get-export", "--rest-api-id", api_id, "--stage-name", "prod",
             "--export-type", "oas30", str(plain))
    assert "x-amazon-apigateway-integration" not in plain.read_text()
    assert "x-amazon-apigateway-request-validator" not in plain.read_text()
    full = tmp_path / "full.json"
    aws.json("apigateway", "get-export", "--rest-api-id", api_id, "--stage-name", "prod",
             "--export-type", "oas30", "--parameters", "extensions=apigateway", str(full))
    everything = json.loads(full.read_text())
    assert everything["x-amazon-apigateway-binary-media-types"] == ["image/png"]
    assert everything["x-amazon-apigateway-request-validators"] == {
        "all": {"validateRequestParameters": True, "validateRequestBody": True},
        "params": {"validateRequestParameters": True, "validateRequestBody": False}}
    assert everything["x-amazon-apigateway-gateway-responses"] == {
        "MISSING_AUTHENTICATION_TOKEN": {
            "statusCode": "404",
            "responseTemplates": {"application/json": '{"message": "no such route"}'}}}
    assert everything["paths"]["/pets"]["post"]["x-amazon-apigateway-request-validator"] == "all"

    # The full export imports back into the same API shape.
    again = aws.json("apigateway", "import-rest-api", "--body", f"fileb://{full}")
    assert again["name"] == "Petstore"
    assert paths_of(aws, again["id"])[0] == paths


SWAGGER_YAML = """\
swagger: "2.0"
info:
  title: Shop
  version: "2024-01-01"
basePath: /v1/shop
x-amazon-apigateway-api-key-source: HEADER
securityDefinitions:
  api_key:
    type: apiKey
    name: x-api-key
    in: header
  sigv4:
    type: apiKey
    name: Authorization
    in: header
    x-amazon-apigateway-authtype: awsSigv4
paths:
  /items:
    post:
      consumes: [application/json]
      parameters:
        - in: body
          name: Item
          required: true
          schema:
            $ref: "#/definitions/Item"
        - name: X-Trace
          in: header
          required: false
          type: string
      security:
        - api_key: []
      responses:
        200:
          description: ok
          schema:
            $ref: "#/definitions/Item"
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates:
          application/json: '{"statusCode": 200}'
        responses:
          default:
            statusCode: 200
            responseTemplates:
              application/json: '{"stored": true}'
  /items/{id}:
    get:
      parameters:
        - name: id
          in: path
          required: true
          type: string
      security:
        - sigv4: []
      responses:
        200:
          description: ok
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates:
          application/json: '{"statusCode": 200}'
definitions:
  Item:
    type: object
    properties:
      name:
        type: string
"""


def test_swagger2_yaml_base_path_security_and_yaml_export(aws, portico, tmp_path):
    doc = tmp_path / "shop.yaml"
    doc.write_text(SWAGGER_YAML)
    api = aws.json("apigateway", "import-rest-api", "--body", f"fileb://{doc}",
                   "--parameters", "basepath=prepend")
    api_id = api["id"]
    assert (api["name"], api["version"]) == ("Shop", "2024-01-01")
    assert api["endpointConfiguration"]["types"] == ["EDGE"]
    paths, items = paths_of(aws, api_id)
    assert paths == {"/": [], "/v1": [], "/v1/shop": [], "/v1/shop/items": ["POST"],
                     "/v1/shop/items/{id}": ["GET"]}
    by_path = {r["path"]: r for r in items}
    post = by_path["/v1/shop/items"]["resourceMethods"]["POST"]
    assert post["apiKeyRequired"] is True
    assert post["authorizationType"] == "NONE"
    assert post["requestModels"] == {"application/json": "Item"}
    assert post["requestParameters"] == {"method.request.header.X-Trace": False}
    assert post["methodResponses"]["200"]["responseModels"] == {"application/json": "Item"}
    get = by_path["/v1/shop/items/{id}"]["resourceMethods"]["GET"]
    assert get["authorizationType"] == "AWS_IAM"
    assert get["requestParameters"] == {"method.request.path.id": True}

    split = aws.json("apigateway", "import-rest-api", "--body", f"fileb://{doc}",
                     "--parameters", "basepath=split")
    assert sorted(paths_of(aws, split["id"])[0]) == [
        "/", "/shop", "/shop/items", "/shop/items/{id}"]
    ignored = aws.json("apigateway", "import-rest-api", "--body", f"fileb://{doc}")
    assert sorted(paths_of(aws, ignored["id"])[0]) == ["/", "/items", "/items/{id}"]

    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "prod")
    status, _, body = user(portico, api_id, "POST", "/v1/shop/items", body=b'{"name": "x"}',
                           headers={"Content-Type": "application/json"})
    assert (status, json.loads(body)) == (403, {"message": "Forbidden"})

    out = tmp_path / "shop-export.yaml"
    shown = aws.json("apigateway", "get-export", "--rest-api-id", api_id, "--stage-name",
                     "prod", "--export-type", "swagger", "--accepts", "application/yaml",
                     "--parameters", "extensions=integrations", str(out))
    assert shown["contentType"] == "application/yaml"
    assert shown["contentDisposition"].startswith('attachment; filename="swagger_')
    assert shown["contentDisposition"].endswith('.yaml"')
    exported = yaml.safe_load(out.read_text())
    assert exported["swagger"] == "2.0"
    assert exported["host"] == f"{api_id}.execute-api.us-east-1.amazonaws.com"
    assert exported["basePath"] == "/prod"
    assert exported["schemes"] == ["https"]
    op = exported["paths"]["/v1/shop/items"]["post"]
    assert op["consumes"] == ["application/json"]
    assert op["security"] == [{"api_key": []}]
    assert {"in": "body", "name": "Item", "required": True,
            "schema": {"$ref": "#/definitions/Item"}} in op["parameters"]
    assert op["responses"]["200"]["schema"] == {"$ref": "#/definitions/Item"}
    assert exported["paths"]["/v1/shop/items/{id}"]["get"]["security"] == [{"sigv4": []}]
    assert exported["securityDefinitions"] == {
        "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
        "sigv4": {"type": "apiKey", "name": "Authorization", "in": "header",
                  "x-amazon-apigateway-authtype": "awsSigv4"}}
    assert exported["definitions"]["Item"] == {
        "type": "object", "properties": {"name": {"type": "string"}}}


def test_put_rest_api_merge_and_overwrite(aws, portico, tmp_path, backend):
    first = tmp_path / "first.json"
    first.write_text(json.dumps(petstore(backend)))
    api_id = aws.json("apigateway", "import-rest-api", "--body", f"fileb://{first}")["id"]
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({
        "openapi": "3.0.1", "info": {"title": "Renamed", "version": "2.0"},
        "paths": {"/health": {"get": {
            "responses": {"200": {"description": "ok"}},
            "x-amazon-apigateway-integration": {
                "type": "mock", "requestTemplates": {"application/json": '{"statusCode": 200}'},
                "responses": {"default": {"statusCode": "200"}}}}}},
    }))
    merged = aws.json("apigateway", "put-rest-api", "--rest-api-id", api_id,
                      "--mode", "merge", "--body", f"fileb://{extra}")
    assert (merged["name"], merged["version"]) == ("Petstore", "2.0")
    paths = paths_of(aws, api_id)[0]
    assert paths["/health"] == ["GET"]
    assert paths["/pets"] == ["GET", "POST"]

    over = aws.json("apigateway", "put-rest-api", "--rest-api-id", api_id,
                    "--mode", "overwrite", "--body", f"fileb://{extra}")
    assert (over["name"], over["version"]) == ("Renamed", "2.0")
    assert "binaryMediaTypes" not in over
    assert paths_of(aws, api_id)[0] == {"/": [], "/health": ["GET"]}
    assert aws.json("apigateway", "get-request-validators",
                    "--rest-api-id", api_id)["items"] == []

    err = aws.error("apigateway", "put-rest-api", "--rest-api-id", "nope000000",
                    "--body", f"fileb://{extra}")
    assert err.endswith("(NotFoundException) when calling the PutRestApi operation: "
                        f"Invalid API identifier specified {ACCOUNT}:nope000000")


def test_import_errors_and_warnings(aws, portico, tmp_path):
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("{ this is not: [ an api")
    err = aws.error("apigateway", "import-rest-api", "--body", f"fileb://{garbage}")
    assert err.endswith("(BadRequestException) when calling the ImportRestApi operation: "
                        "Invalid OpenAPI input.")

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({
        "openapi": "3.0.1", "info": {"title": "Bad"},
        "paths": {"/x": {"get": {"x-amazon-apigateway-integration": {
            "type": "aws", "httpMethod": "POST", "uri": "not-an-arn"}}}}}))
    err = aws.error("apigateway", "import-rest-api", "--body", f"fileb://{bad}")
    assert ("(BadRequestException) when calling the ImportRestApi operation: "
            "Errors found during import:\n\tUnable to put integration on 'GET' for resource "
            "at path '/x': Invalid ARN specified in the request") in err

    warned = tmp_path / "warned.json"
    warned.write_text(json.dumps({
        "openapi": "3.0.1", "info": {"title": "Warned"},
        "paths": {"/x": {"get": {"responses": {"200": {"description": "ok", "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Missing"}}}}}}}}}))
    api = aws.json("apigateway", "import-rest-api", "--body", f"fileb://{warned}")
    assert api["warnings"] == [
        "Unable to find model 'Missing' referenced by 'GET' on resource at path '/x'"]
    err = aws.error("apigateway", "import-rest-api", "--fail-on-warnings",
                    "--body", f"fileb://{warned}")
    assert ("Warnings found during import:\n\tUnable to find model 'Missing' referenced by "
            "'GET' on resource at path '/x'") in err

    err = aws.error("apigateway", "get-export", "--rest-api-id", api["id"],
                    "--stage-name", "nope", "--export-type", "oas30", str(tmp_path / "o.json"))
    assert err.endswith("(NotFoundException) when calling the GetExport operation: "
                        "Invalid Stage identifier specified")


AUTHORIZER = '''
def handler(event, context):
    if event["authorizationToken"] != "let-me-in":
        raise Exception("Unauthorized")
    return {"principalId": "alice", "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": "Allow",
         "Resource": event["methodArn"].split("/")[0] + "/*"}]}}
'''


def test_imported_lambda_authorizer(aws, portico, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", AUTHORIZER)
    (tmp_path / "authz.zip").write_bytes(buf.getvalue())
    aws.json("lambda", "create-function", "--function-name", "OpenApiAuthz",
             "--runtime", "python3.11", "--handler", "app.handler",
             "--role", f"arn:aws:iam::{ACCOUNT}:role/lambda-role",
             "--zip-file", f"fileb://{tmp_path / 'authz.zip'}")
    authorizer_uri = LAMBDA_URI.replace("OpenApiEcho", "OpenApiAuthz")
    doc = tmp_path / "secured.json"
    doc.write_text(json.dumps({
        "openapi": "3.0.1", "info": {"title": "Secured"},
        "components": {"securitySchemes": {"gate": {
            "type": "apiKey", "name": "X-Token", "in": "header",
            "x-amazon-apigateway-authtype": "custom",
            "x-amazon-apigateway-authorizer": {
                "type": "token", "authorizerUri": authorizer_uri,
                "authorizerResultTtlInSeconds": 0}}}},
        "paths": {"/secret": {"get": {
            "security": [{"gate": []}],
            "responses": {"200": {"description": "ok"}},
            "x-amazon-apigateway-integration": {
                "type": "mock", "requestTemplates": {"application/json": '{"statusCode": 200}'},
                "responses": {"default": {"statusCode": "200", "responseTemplates": {
                    "application/json": '{"who": "$context.authorizer.principalId"}'}}}}}}},
    }))
    api_id = aws.json("apigateway", "import-rest-api", "--body", f"fileb://{doc}")["id"]
    authorizers = aws.json("apigateway", "get-authorizers", "--rest-api-id", api_id)["items"]
    assert len(authorizers) == 1
    authorizer = authorizers[0]
    assert (authorizer["name"], authorizer["type"], authorizer["authType"],
            authorizer["authorizerUri"], authorizer["identitySource"],
            authorizer["authorizerResultTtlInSeconds"]) == (
        "gate", "TOKEN", "custom", authorizer_uri, "method.request.header.X-Token", 0)
    secret = [r for r in aws.json("apigateway", "get-resources", "--rest-api-id", api_id,
                                  "--embed", "methods")["items"] if r["path"] == "/secret"][0]
    method = secret["resourceMethods"]["GET"]
    assert (method["authorizationType"], method["authorizerId"]) == ("CUSTOM", authorizer["id"])

    aws.json("lambda", "add-permission", "--function-name", "OpenApiAuthz",
             "--statement-id", "openapi", "--action", "lambda:InvokeFunction",
             "--principal", "apigateway.amazonaws.com",
             "--source-arn", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/authorizers/*")
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "prod")
    status, _, body = user(portico, api_id, "GET", "/secret")
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    status, _, body = user(portico, api_id, "GET", "/secret", headers={"X-Token": "wrong"})
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    status, _, body = user(portico, api_id, "GET", "/secret", headers={"X-Token": "let-me-in"})
    assert (status, json.loads(body)) == (200, {"who": "alice"})

    out = tmp_path / "secured-export.json"
    aws.json("apigateway", "get-export", "--rest-api-id", api_id, "--stage-name", "prod",
             "--export-type", "oas30", "--parameters", "extensions=authorizers", str(out))
    exported = json.loads(out.read_text())
    assert exported["paths"]["/secret"]["get"]["security"] == [{"gate": []}]
    assert exported["components"]["securitySchemes"]["gate"] == {
        "type": "apiKey", "name": "X-Token", "in": "header",
        "x-amazon-apigateway-authtype": "custom",
        "x-amazon-apigateway-authorizer": {
            "type": "token", "authorizerUri": authorizer_uri,
            "authorizerResultTtlInSeconds": 0}}
