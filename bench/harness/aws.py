"""Deploying the scenarios through the AWS APIs (boto3 against a target's endpoint), the way a
user of the seed walkthrough would: CreateFunction from a zip, then the REST API, its resource,
method, integration, responses and a deployment to stage `test`; or an HTTP API quick-create."""

import io
import os
import time
import zipfile

from .scenarios import MOCK_REQUEST_TEMPLATE, MOCK_RESPONSE_TEMPLATE, SEED_REQUEST_TEMPLATE

REGION = "us-east-1"
STAGE = "test"
# The seed's integration credentials: the role API Gateway assumes to invoke the function.
SEED_CREDENTIALS = "arn:aws:iam::123456789012:role/apigAwsProxyRole"
LAMBDA_ROLE = "arn:aws:iam::123456789012:role/lambda-role"

HERE = os.path.dirname(os.path.abspath(__file__))
# One copy of the handlers serves every target: serverless-offline loads these very files.
HANDLERS = os.path.join(os.path.dirname(HERE), "peers", "serverless-offline")
RUNTIMES = {
    "node": ("nodejs20.x", os.path.join(HANDLERS, "node", "handler.mjs"), "handler.mjs"),
    "python": ("python3.11", os.path.join(HANDLERS, "py", "handler.py"), "handler.py"),
}


class NotSupported(Exception):
    """The target cannot serve this scenario; the message says why (shown as n/a)."""


def clients(endpoint):
    """lambda, apigateway and apigatewayv2 clients for endpoint, with throwaway credentials."""
    import boto3
    from botocore.config import Config

    config = Config(
        region_name=REGION,
        retries={"max_attempts": 1, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
    )
    session = boto3.session.Session(
        aws_access_key_id="bench", aws_secret_access_key="bench", region_name=REGION
    )
    return tuple(
        session.client(service, endpoint_url=endpoint, config=config)
        for service in ("lambda", "apigateway", "apigatewayv2")
    )


def _zip(path, arcname):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(path, "rb") as f:
            zf.writestr(info, f.read())
    return buf.getvalue()


def _explain(err):
    """One line from a botocore error: code and message, or the exception text."""
    response = getattr(err, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return f"{status} {error.get('Code', '')}: {error.get('Message', '')}".strip()
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def create_function(lam, name, runtime, handler):
    """CreateFunction and wait until it is Active; returns its ARN."""
    aws_runtime, path, arcname = RUNTIMES[runtime]
    module = arcname.rsplit(".", 1)[0]
    try:
        arn = lam.create_function(
            FunctionName=name,
            Runtime=aws_runtime,
            Role=LAMBDA_ROLE,
            Handler=f"{module}.{handler}",
            Code={"ZipFile": _zip(path, arcname)},
            Timeout=30,
            MemorySize=512,
        )["FunctionArn"]
    except Exception as err:  # any refusal (unknown service, 501, bad zip) means n/a, not a crash
        raise NotSupported(f"CreateFunction: {_explain(err)}") from err
    deadline = time.monotonic() + 60
    while True:
        try:
            config = lam.get_function_configuration(FunctionName=name)
        except Exception as err:
            raise NotSupported(f"GetFunctionConfiguration: {_explain(err)}") from err
        state = config.get("State", "Active")
        if state == "Active":
            return arn
        if state == "Failed":
            reason = config.get("StateReason", "no reason given")
            raise NotSupported(f"function State Failed: {reason}")
        if time.monotonic() > deadline:
            raise NotSupported(f"function still {state} after 60 s")
        time.sleep(0.1)


def _lambda_uri(function_arn):
    region = function_arn.split(":")[3]
    return f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def _grant(lam, function_arn, api_id):
    """Lets API Gateway invoke the function for api_id: without credentials, AWS (and Portico)
    invoke a function only when its resource policy allows the API."""
    region, account = function_arn.split(":")[3:5]
    lam.add_permission(
        FunctionName=function_arn,
        StatementId=f"apigateway-{api_id}",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{region}:{account}:{api_id}/*",
    )


def deploy_rest(lam, apigw, scenario):
    """Deploys a REST API for scenario; returns its id (stage `test`, resource /greeting)."""
    function_arn = None
    if scenario.runtime:
        function_arn = create_function(
            lam, f"bench-{scenario.name}", scenario.runtime, scenario.handler
        )
    step = "CreateRestApi"
    try:
        api_id = apigw.create_rest_api(name=f"bench {scenario.name}")["id"]
        step = "GetResources"
        items = apigw.get_resources(restApiId=api_id)["items"]
        root = next(item["id"] for item in items if item["path"] == "/")
        step = "CreateResource"
        resource = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="greeting")
        ids = {"restApiId": api_id, "resourceId": resource["id"], "httpMethod": "GET"}
        step = "PutMethod"
        apigw.put_method(
            **ids,
            authorizationType="NONE",
            requestParameters={"method.request.querystring.greeter": False},
        )
        step = "PutMethodResponse"
        apigw.put_method_response(**ids, statusCode="200")
        step = "PutIntegration"
        if scenario.kind == "rest-mock":
            apigw.put_integration(
                **ids, type="MOCK", requestTemplates={"application/json": MOCK_REQUEST_TEMPLATE}
            )
            step = "PutIntegrationResponse"
            apigw.put_integration_response(
                **ids,
                statusCode="200",
                selectionPattern="",
                responseTemplates={"application/json": MOCK_RESPONSE_TEMPLATE},
            )
        elif scenario.kind == "rest-aws":
            apigw.put_integration(
                **ids,
                type="AWS",
                integrationHttpMethod="POST",
                uri=_lambda_uri(function_arn),
                requestTemplates={"application/json": SEED_REQUEST_TEMPLATE},
                credentials=SEED_CREDENTIALS,
            )
            step = "PutIntegrationResponse"
            apigw.put_integration_response(**ids, statusCode="200", selectionPattern="")
        elif scenario.kind == "rest-proxy":
            apigw.put_integration(
                **ids, type="AWS_PROXY", integrationHttpMethod="POST", uri=_lambda_uri(function_arn)
            )
            step = "AddPermission"
            _grant(lam, function_arn, api_id)
        else:
            raise NotSupported(f"not a REST scenario: {scenario.kind}")
        step = "CreateDeployment"
        apigw.create_deployment(restApiId=api_id, stageName=STAGE)
    except NotSupported:
        raise
    except Exception as err:
        raise NotSupported(f"{step}: {_explain(err)}") from err
    return api_id


def deploy_http_quick(lam, apigw2, scenario):
    """HTTP API quick-create (CreateApi with Target): returns the API id, served at $default."""
    # Ask whether the target has apigatewayv2 at all before creating a function for it.
    try:
        apigw2.get_apis()
    except Exception as err:
        raise NotSupported(f"GetApis (apigatewayv2): {_explain(err)}") from err
    function_arn = create_function(
        lam, f"bench-{scenario.name}", scenario.runtime, scenario.handler
    )
    step = "CreateApi (quick-create)"
    try:
        api_id = apigw2.create_api(
            Name=f"bench {scenario.name}", ProtocolType="HTTP", Target=function_arn
        )["ApiId"]
        step = "AddPermission"
        _grant(lam, function_arn, api_id)
    except Exception as err:
        raise NotSupported(f"{step}: {_explain(err)}") from err
    return api_id
