"""Tags on functions, account usage, and that everything a function carries (versions, aliases,
policies, reserved concurrency, tags, updated code) survives a restart and a `kill -9`."""

import json
import signal

from conftest import ACCOUNT, AwsCli, Portico
from test_lambda_helpers import arn, cli_error, create, invoke_json, python_zip

CODE = "def handler(event, context):\n    return {'mark': %r}\n"


def test_tags(aws, tmp_path):
    create(aws, tmp_path, "TagFn", python_zip(CODE % "x"), "--tags", "team=a,env=dev")
    resource = arn("TagFn")
    assert aws.json("lambda", "list-tags", "--resource", resource) == {
        "Tags": {"env": "dev", "team": "a"}}
    aws.run("lambda", "tag-resource", "--resource", resource, "--tags", "env=prod,owner=me")
    assert aws.json("lambda", "list-tags", "--resource", resource) == {
        "Tags": {"env": "prod", "owner": "me", "team": "a"}}
    aws.run("lambda", "untag-resource", "--resource", resource, "--tag-keys", "team", "owner")
    assert aws.json("lambda", "get-function", "--function-name", "TagFn")["Tags"] == {"env": "prod"}
    aws.run("lambda", "untag-resource", "--resource", resource, "--tag-keys", "env")
    assert aws.json("lambda", "list-tags", "--resource", resource) == {"Tags": {}}
    assert "Tags" not in aws.json("lambda", "get-function", "--function-name", "TagFn")
    assert aws.error("lambda", "list-tags", "--resource", arn("TagNope")) == cli_error(
        "ListTags", "ResourceNotFoundException", f"Function not found: {arn('TagNope')}")
    aws.run("lambda", "delete-function", "--function-name", "TagFn")


def test_account_usage_counts_functions_and_code(aws, tmp_path):
    before = aws.json("lambda", "get-account-settings", region="eu-central-1")
    assert before["AccountUsage"] == {"TotalCodeSize": 0, "FunctionCount": 0}
    code = python_zip(CODE % "usage")
    create_args = ["lambda", "create-function", "--function-name", "UsageFn", "--runtime",
                   "python3.11", "--handler", "app.handler", "--role",
                   f"arn:aws:iam::{ACCOUNT}:role/r", "--zip-file"]
    path = tmp_path / "u.zip"
    path.write_bytes(code)
    aws.json(*create_args, f"fileb://{path}", "--publish", region="eu-central-1")
    after = aws.json("lambda", "get-account-settings", region="eu-central-1")
    # $LATEST and version 1 each count their code.
    assert after["AccountUsage"] == {"TotalCodeSize": 2 * len(code), "FunctionCount": 1}
    aws.run("lambda", "delete-function", "--function-name", "UsageFn", region="eu-central-1")


def test_everything_survives_restarts(tmp_path):
    server = Portico(tmp_path / "data")
    server.start()
    try:
        aws = AwsCli(server)
        create(aws, tmp_path, "Keep", python_zip(CODE % "one"), "--tags", "k=v")
        aws.json("lambda", "publish-version", "--function-name", "Keep")
        path = tmp_path / "two.zip"
        path.write_bytes(python_zip(CODE % "two"))
        aws.json("lambda", "update-function-code", "--function-name", "Keep",
                 "--zip-file", f"fileb://{path}")
        aws.json("lambda", "update-function-configuration", "--function-name", "Keep",
                 "--environment", "Variables={AB=c}")
        aws.json("lambda", "create-alias", "--function-name", "Keep", "--name", "live",
                 "--function-version", "1")
        aws.json("lambda", "add-permission", "--function-name", "Keep", "--statement-id", "s",
                 "--action", "lambda:InvokeFunction", "--principal", "apigateway.amazonaws.com")
        aws.json("lambda", "put-function-concurrency", "--function-name", "Keep",
                 "--reserved-concurrent-executions", "7")
        snapshot = {
            "function": aws.json("lambda", "get-function", "--function-name", "Keep"),
            "versions": aws.json("lambda", "list-versions-by-function", "--function-name", "Keep"),
            "aliases": aws.json("lambda", "list-aliases", "--function-name", "Keep"),
            "policy": aws.json("lambda", "get-policy", "--function-name", "Keep"),
            "settings": aws.json("lambda", "get-account-settings"),
        }
        for stop in (signal.SIGTERM, signal.SIGKILL):
            server.stop(stop)
            server.start()
            assert aws.json("lambda", "get-function", "--function-name", "Keep") == snapshot["function"]
            assert aws.json("lambda", "list-versions-by-function", "--function-name", "Keep") == snapshot["versions"]
            assert aws.json("lambda", "list-aliases", "--function-name", "Keep") == snapshot["aliases"]
            assert aws.json("lambda", "get-policy", "--function-name", "Keep") == snapshot["policy"]
            assert aws.json("lambda", "get-account-settings") == snapshot["settings"]
            for name, mark, version in [("Keep", "two", "$LATEST"), ("Keep:1", "one", "1"),
                                        ("Keep:live", "one", "1")]:
                meta, result = invoke_json(aws, tmp_path, name)
                assert (meta["ExecutedVersion"], result) == (version, {"mark": mark})
        # Only the two packages in use are kept on disk.
        packages = list((tmp_path / "data" / "lambda" / ACCOUNT / "us-east-1" / "Keep" / "code").iterdir())
        assert len(packages) == 2
        assert json.loads(snapshot["policy"]["Policy"])["Statement"][0]["Sid"] == "s"
    finally:
        server.stop()
