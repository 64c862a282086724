"""PublishVersion, ListVersionsByFunction, aliases, and invocations by version or alias (name,
`name:qualifier`, partial and full ARN) through the AWS CLI."""

from test_lambda_helpers import arn, cli_error, create, invoke_json, python_zip, sha256_b64

CODE = """
import os
MARK = {mark!r}
def handler(event, context):
    return {{"mark": MARK, "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
             "arn": context.invoked_function_arn}}
"""


def code(mark: str) -> bytes:
    return python_zip(CODE.format(mark=mark))


def update_code(aws, tmp_path, name, data: bytes):
    path = tmp_path / "update.zip"
    path.write_bytes(data)
    return aws.json("lambda", "update-function-code", "--function-name", name,
                    "--zip-file", f"fileb://{path}")


def test_versions_are_immutable_snapshots(aws, tmp_path):
    one = code("one")
    latest = create(aws, tmp_path, "VerFn", one, "--description", "base")
    v1 = aws.json("lambda", "publish-version", "--function-name", "VerFn")
    assert v1["Version"] == "1"
    assert v1["FunctionArn"] == arn("VerFn", "1")
    assert v1["CodeSha256"] == sha256_b64(one)
    assert v1["Description"] == "base"
    assert v1["RevisionId"] != latest["RevisionId"]
    # Nothing changed since version 1: publishing again gives version 1 back.
    assert aws.json("lambda", "publish-version", "--function-name", "VerFn")["Version"] == "1"

    two = code("two")
    update_code(aws, tmp_path, "VerFn", two)
    assert aws.error("lambda", "publish-version", "--function-name", "VerFn",
                     "--code-sha256", sha256_b64(one)) == cli_error(
        "PublishVersion", "InvalidParameterValueException",
        f"CodeSHA256 ({sha256_b64(one)}) is different from current CodeSHA256 in $LATEST ({sha256_b64(two)}). Please try again with the CodeSHA256 in $LATEST.")
    v2 = aws.json("lambda", "publish-version", "--function-name", "VerFn",
                  "--description", "second", "--code-sha256", sha256_b64(two))
    assert (v2["Version"], v2["Description"], v2["CodeSha256"]) == ("2", "second", sha256_b64(two))

    versions = aws.json("lambda", "list-versions-by-function", "--function-name", "VerFn")
    assert [(v["Version"], v["FunctionArn"]) for v in versions["Versions"]] == [
        ("$LATEST", arn("VerFn")), ("1", arn("VerFn", "1")), ("2", arn("VerFn", "2"))]
    everything = aws.json("lambda", "list-functions", "--function-version", "ALL")["Functions"]
    assert [f["FunctionArn"] for f in everything if f["FunctionName"] == "VerFn"] == [
        arn("VerFn"), arn("VerFn", "1"), arn("VerFn", "2")]
    latest_only = aws.json("lambda", "list-functions")["Functions"]
    assert [f["Version"] for f in latest_only if f["FunctionName"] == "VerFn"] == ["$LATEST"]
    page = aws.json("lambda", "list-versions-by-function", "--function-name", "VerFn",
                    "--max-items", "2")
    assert [v["Version"] for v in page["Versions"]] == ["$LATEST", "1"]

    # A later configuration change does not touch the published versions.
    aws.json("lambda", "update-function-configuration", "--function-name", "VerFn",
             "--timeout", "9")
    assert aws.json("lambda", "get-function-configuration", "--function-name", "VerFn",
                    "--qualifier", "1")["Timeout"] == 3
    got = aws.json("lambda", "get-function", "--function-name", "VerFn:1")
    assert got["Configuration"]["Version"] == "1"
    import urllib.request
    assert urllib.request.urlopen(got["Code"]["Location"]).read() == one

    # Every way to name a version runs that version's code.
    for name, qualifier, mark, executed in [
        ("VerFn", None, "two", "$LATEST"),
        ("VerFn", "$LATEST", "two", "$LATEST"),
        ("VerFn", "1", "one", "1"),
        ("VerFn:1", None, "one", "1"),
        ("VerFn:2", None, "two", "2"),
        (f"123456789012:function:VerFn:1", None, "one", "1"),
        (arn("VerFn", "1"), None, "one", "1"),
    ]:
        extra = ["--qualifier", qualifier] if qualifier else []
        meta, result = invoke_json(aws, tmp_path, name, "{}", *extra)
        assert meta["ExecutedVersion"] == executed, name
        assert result["mark"] == mark, name
        assert result["version"] == executed, name
    _, result = invoke_json(aws, tmp_path, "VerFn", "{}", "--qualifier", "1")
    assert result["arn"] == arn("VerFn", "1")
    _, result = invoke_json(aws, tmp_path, "VerFn")
    assert result["arn"] == arn("VerFn")

    assert aws.error("lambda", "invoke", "--function-name", "VerFn", "--qualifier", "7",
                     str(tmp_path / "o")) == cli_error(
        "Invoke", "ResourceNotFoundException", f"Function not found: {arn('VerFn', '7')}")
    assert aws.error("lambda", "invoke", "--function-name", "VerFn", "--qualifier", "a.b",
                     str(tmp_path / "o")) == cli_error(
        "Invoke", "ValidationException",
        "1 validation error detected: Value 'a.b' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: \\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+")
    assert aws.error("lambda", "invoke", "--function-name", "VerFn:1", "--qualifier", "2",
                     str(tmp_path / "o")) == cli_error(
        "Invoke", "InvalidParameterValueException",
        "The derived qualifier from the function name does not match the specified qualifier.")

    # Deleting a version; its number is never reused.
    aws.run("lambda", "delete-function", "--function-name", "VerFn", "--qualifier", "2")
    assert aws.error("lambda", "get-function", "--function-name", "VerFn",
                     "--qualifier", "2") == cli_error(
        "GetFunction", "ResourceNotFoundException", f"Function not found: {arn('VerFn', '2')}")
    assert aws.json("lambda", "publish-version", "--function-name", "VerFn")["Version"] == "3"
    assert aws.error("lambda", "delete-function", "--function-name", "VerFn",
                     "--qualifier", "$LATEST") == cli_error(
        "DeleteFunction", "InvalidParameterValueException",
        "$LATEST version cannot be deleted without deleting the function.")
    aws.run("lambda", "delete-function", "--function-name", "VerFn")


def test_aliases(aws, tmp_path):
    create(aws, tmp_path, "AliasFn", code("one"))
    aws.json("lambda", "publish-version", "--function-name", "AliasFn")
    update_code(aws, tmp_path, "AliasFn", code("two"))
    aws.json("lambda", "publish-version", "--function-name", "AliasFn")

    live = aws.json("lambda", "create-alias", "--function-name", "AliasFn", "--name", "live",
                    "--function-version", "1")
    revision = live.pop("RevisionId")
    assert live == {"AliasArn": arn("AliasFn", "live"), "Name": "live",
                    "FunctionVersion": "1", "Description": ""}
    assert aws.json("lambda", "get-alias", "--function-name", "AliasFn", "--name", "live") == {
        **live, "RevisionId": revision}
    meta, result = invoke_json(aws, tmp_path, "AliasFn", "{}", "--qualifier", "live")
    assert meta["ExecutedVersion"] == "1"
    assert result == {"mark": "one", "version": "1", "arn": arn("AliasFn", "live")}
    meta, result = invoke_json(aws, tmp_path, arn("AliasFn", "live"))
    assert (meta["ExecutedVersion"], result["mark"]) == ("1", "one")
    assert aws.json("lambda", "get-function-configuration", "--function-name", "AliasFn",
                    "--qualifier", "live")["Version"] == "1"

    assert aws.error("lambda", "create-alias", "--function-name", "AliasFn", "--name", "live",
                     "--function-version", "2") == cli_error(
        "CreateAlias", "ResourceConflictException",
        f"Alias already exists: {arn('AliasFn', 'live')}")
    assert aws.error("lambda", "create-alias", "--function-name", "AliasFn", "--name", "beta",
                     "--function-version", "7") == cli_error(
        "CreateAlias", "ResourceNotFoundException", f"Function not found: {arn('AliasFn', '7')}")
    assert aws.error("lambda", "create-alias", "--function-name", "AliasFn", "--name", "42",
                     "--function-version", "1") == cli_error(
        "CreateAlias", "ValidationException",
        "1 validation error detected: Value '42' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)")
    assert aws.error("lambda", "get-alias", "--function-name", "AliasFn", "--name", "nope") == cli_error(
        "GetAlias", "ResourceNotFoundException", f"Cannot find alias arn: {arn('AliasFn', 'nope')}")
    assert aws.error("lambda", "update-alias", "--function-name", "AliasFn", "--name", "live",
                     "--function-version", "2", "--revision-id", "stale") == cli_error(
        "UpdateAlias", "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")

    moved = aws.json("lambda", "update-alias", "--function-name", "AliasFn", "--name", "live",
                     "--function-version", "2", "--description", "now two",
                     "--revision-id", revision)
    assert (moved["FunctionVersion"], moved["Description"]) == ("2", "now two")
    assert moved["RevisionId"] != revision
    meta, result = invoke_json(aws, tmp_path, "AliasFn:live")
    assert (meta["ExecutedVersion"], result["mark"]) == ("2", "two")

    # All traffic weighted onto the additional version.
    aws.json("lambda", "update-alias", "--function-name", "AliasFn", "--name", "live",
             "--routing-config", "AdditionalVersionWeights={1=1.0}")
    meta, result = invoke_json(aws, tmp_path, "AliasFn:live")
    assert (meta["ExecutedVersion"], result["mark"]) == ("1", "one")

    aws.json("lambda", "create-alias", "--function-name", "AliasFn", "--name", "edge",
             "--function-version", "$LATEST")
    listed = aws.json("lambda", "list-aliases", "--function-name", "AliasFn")["Aliases"]
    assert [(a["Name"], a["FunctionVersion"]) for a in listed] == [("edge", "$LATEST"), ("live", "2")]
    assert listed[1]["RoutingConfig"] == {"AdditionalVersionWeights": {"1": 1.0}}
    only_two = aws.json("lambda", "list-aliases", "--function-name", "AliasFn",
                        "--function-version", "2")["Aliases"]
    assert [a["Name"] for a in only_two] == ["live"]

    assert aws.error("lambda", "delete-function", "--function-name", "AliasFn",
                     "--qualifier", "1") == cli_error(
        "DeleteFunction", "ResourceConflictException",
        "Unable to delete version because the following aliases reference it: [live]")
    assert aws.error("lambda", "delete-function", "--function-name", "AliasFn",
                     "--qualifier", "live") == cli_error(
        "DeleteFunction", "InvalidParameterValueException",
        "Deletion of aliases is not currently supported.")
    aws.run("lambda", "delete-alias", "--function-name", "AliasFn", "--name", "live")
    assert aws.error("lambda", "invoke", "--function-name", "AliasFn", "--qualifier", "live",
                     str(tmp_path / "o")) == cli_error(
        "Invoke", "ResourceNotFoundException", f"Function not found: {arn('AliasFn', 'live')}")
    aws.run("lambda", "delete-function", "--function-name", "AliasFn", "--qualifier", "1")
    aws.run("lambda", "delete-function", "--function-name", "AliasFn")
