"""CloudWatch Logs: function output read back with the AWS CLI (v1) and boto3.

Node.js and Python functions print lines; their output must come back from `aws logs` exactly
as Lambda writes it to CloudWatch: group `/aws/lambda/{name}`, one stream per execution
environment named `YYYY/MM/DD/[$LATEST]{32 hex}` (the name the function sees as its
`logStreamName`), the platform `START` / `END` / `REPORT` lines around each invocation, every
message ending in its newline. `aws logs tail` exists only in CLI v2; it is FilterLogEvents with
`interleaved` and a `startTime`, so boto3 makes those very calls here.
"""

import json
import re
import time
from datetime import datetime, timezone

import boto3
import pytest

from conftest import ACCOUNT
from test_lambda_helpers import cli_error, create, make_zip

REGION = "us-east-1"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ISO = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"
NUM = r"\d+\.\d{2}"
TOKEN = r"[fb]/\d{56}"

NODE_SOURCE = """
exports.handler = async (event, context) => {
  console.log("hello from node");
  console.error("node says", JSON.stringify(event));
  return { stream: context.logStreamName, request: context.awsRequestId };
};
"""

PYTHON_SOURCE = """
def handler(event, context):
    print("hello from python")
    print("the quick brown fox", event.get("n"))
    return {"stream": context.log_stream_name, "request": context.aws_request_id}
"""


def invoke(aws, tmp_path, name, payload):
    out = tmp_path / f"{name}-out.json"
    aws.json("lambda", "invoke", "--function-name", name, "--payload", payload, str(out))
    return json.loads(out.read_bytes())


@pytest.fixture(scope="module")
def functions(aws, tmp_path_factory):
    """Creates the two functions and invokes each twice (a cold and a warm invocation)."""
    tmp = tmp_path_factory.mktemp("logs")
    create(aws, tmp, "logs-node", make_zip({"index.js": NODE_SOURCE}), runtime="nodejs20.x",
           handler="index.handler")
    create(aws, tmp, "logs-python", make_zip({"app.py": PYTHON_SOURCE}))
    answers = {}
    for name in ("logs-node", "logs-python"):
        answers[name] = [invoke(aws, tmp, name, json.dumps({"n": n})) for n in (1, 2)]
    return answers


def messages(events):
    return [e["message"] for e in events]


def platform_lines(request_id, init):
    init_part = rf"Init Duration: {NUM} ms\t" if init else ""
    return [
        rf"START RequestId: {request_id} Version: \$LATEST\n",
        rf"END RequestId: {request_id}\n",
        rf"REPORT RequestId: {request_id}\tDuration: {NUM} ms\tBilled Duration: \d+ ms\t"
        rf"Memory Size: 128 MB\tMax Memory Used: \d+ MB\t{init_part}\n",
    ]


def assert_lines(actual, patterns):
    assert len(actual) == len(patterns), actual
    for line, pattern in zip(actual, patterns):
        assert re.fullmatch(pattern, line), (pattern, line)


def test_each_function_logs_to_its_group_and_environment_stream(aws, functions):
    groups = aws.json("logs", "describe-log-groups", "--log-group-name-prefix", "/aws/lambda/logs-")
    assert [g["logGroupName"] for g in groups["logGroups"]] == [
        "/aws/lambda/logs-node", "/aws/lambda/logs-python"]
    group = groups["logGroups"][0]
    assert group["arn"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/logs-node:*"
    assert group["logGroupArn"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/logs-node"
    assert group["metricFilterCount"] == 0
    assert "retentionInDays" not in group  # Lambda creates its groups with no retention.
    today = datetime.now(timezone.utc).strftime("%Y/%m/%d")
    for name, answers in functions.items():
        streams = aws.json("logs", "describe-log-streams", "--log-group-name", f"/aws/lambda/{name}")
        assert len(streams["logStreams"]) == 1  # both invocations ran in one warm environment
        stream = streams["logStreams"][0]
        assert re.fullmatch(rf"{today}/\[\$LATEST\][0-9a-f]{{32}}", stream["logStreamName"])
        # The name the function was given is the stream its output went to.
        assert [a["stream"] for a in answers] == [stream["logStreamName"]] * 2
        assert stream["arn"] == (f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{name}"
                                 f":log-stream:{stream['logStreamName']}")
        assert stream["firstEventTimestamp"] <= stream["lastEventTimestamp"]


def stream_of(aws, name):
    streams = aws.json("logs", "describe-log-streams", "--log-group-name", f"/aws/lambda/{name}")
    return streams["logStreams"][0]["logStreamName"]


def test_get_log_events_returns_node_output_framed_by_platform_lines(aws, functions):
    first, second = [a["request"] for a in functions["logs-node"]]
    got = aws.json("logs", "get-log-events", "--log-group-name", "/aws/lambda/logs-node",
                   "--log-stream-name", stream_of(aws, "logs-node"), "--start-from-head")
    start1, end1, report1 = platform_lines(first, init=True)
    start2, end2, report2 = platform_lines(second, init=False)
    assert_lines(messages(got["events"]), [
        start1,
        rf"{ISO}\t{first}\tINFO\thello from node\n",
        rf'{ISO}\t{first}\tERROR\tnode says {{"n":1}}\n',
        end1, report1,
        start2,
        rf"{ISO}\t{second}\tINFO\thello from node\n",
        rf'{ISO}\t{second}\tERROR\tnode says {{"n":2}}\n',
        end2, report2,
    ])
    assert re.fullmatch(TOKEN, got["nextForwardToken"])
    assert got["nextForwardToken"].startswith("f/")
    assert got["nextBackwardToken"].startswith("b/")
    for event in got["events"]:
        assert set(event) == {"timestamp", "message", "ingestionTime"}


def test_get_log_events_returns_python_output(aws, functions):
    first, second = [a["request"] for a in functions["logs-python"]]
    got = aws.json("logs", "get-log-events", "--log-group-name", "/aws/lambda/logs-python",
                   "--log-stream-name", stream_of(aws, "logs-python"), "--start-from-head")
    start1, end1, report1 = platform_lines(first, init=True)
    start2, end2, report2 = platform_lines(second, init=False)
    assert_lines(messages(got["events"]), [
        start1, r"hello from python\n", r"the quick brown fox 1\n", end1, report1,
        start2, r"hello from python\n", r"the quick brown fox 2\n", end2, report2,
    ])


def test_get_log_events_pages_with_forward_and_backward_tokens(aws, functions):
    stream = stream_of(aws, "logs-python")
    base = ("logs", "get-log-events", "--log-group-name", "/aws/lambda/logs-python",
            "--log-stream-name", stream, "--limit", "4")
    page = aws.json(*base, "--start-from-head")
    seen = messages(page["events"])
    assert len(seen) == 4
    assert page["nextForwardToken"] == "f/" + "4".rjust(56, "0")
    assert page["nextBackwardToken"] == "b/" + "0".rjust(56, "0")
    token = page["nextForwardToken"]
    while True:
        page = aws.json(*base, "--next-token", token)
        if page["nextForwardToken"] == token:
            # The end: no events and the same token back, as CloudWatch answers.
            assert page["events"] == []
            break
        seen += messages(page["events"])
        token = page["nextForwardToken"]
    assert len(seen) == 10
    assert seen[0].startswith("START RequestId: ") and seen[-1].startswith("REPORT RequestId: ")

    # Without --start-from-head the newest events come first; backward tokens walk to older ones.
    newest = aws.json(*base)
    assert [m.split(" ")[0] for m in messages(newest["events"])] == [
        "hello", "the", "END", "REPORT"]
    assert newest["nextBackwardToken"] == "b/" + "6".rjust(56, "0")
    older = aws.json(*base, "--next-token", newest["nextBackwardToken"])
    assert messages(older["events"]) == seen[2:6]
    assert older["nextForwardToken"] == "f/" + "6".rjust(56, "0")


def test_filter_log_events_by_terms_phrases_streams_and_time(aws, functions):
    group = ("--log-group-name", "/aws/lambda/logs-python")
    found = aws.json("logs", "filter-log-events", *group, "--filter-pattern", '"quick brown fox"')
    assert messages(found["events"]) == ["the quick brown fox 1\n", "the quick brown fox 2\n"]
    stream = stream_of(aws, "logs-python")
    event = found["events"][0]
    assert set(event) == {"logStreamName", "timestamp", "message", "ingestionTime", "eventId"}
    assert event["logStreamName"] == stream
    assert re.fullmatch(r"\d{56}", event["eventId"])
    assert found["searchedLogStreams"] == [{"logStreamName": stream, "searchedCompletely": True}]

    reports = aws.json("logs", "filter-log-events", *group, "--filter-pattern", "REPORT Duration")
    assert len(reports["events"]) == 2
    assert all(m.startswith("REPORT RequestId: ") for m in messages(reports["events"]))
    either = aws.json("logs", "filter-log-events", *group, "--filter-pattern", "?fox ?START")
    assert len(either["events"]) == 4
    excluded = aws.json("logs", "filter-log-events", *group, "--filter-pattern", "fox -2")
    assert messages(excluded["events"]) == ["the quick brown fox 1\n"]

    by_stream = aws.json("logs", "filter-log-events", *group, "--log-stream-names", stream,
                         "--filter-pattern", "hello")
    assert len(by_stream["events"]) == 2
    future = int(time.time() * 1000) + 3_600_000
    later = aws.json("logs", "filter-log-events", *group, "--start-time", str(future))
    assert later["events"] == []


def test_filter_log_events_pages_with_next_token(aws, functions):
    group = ("--log-group-name", "/aws/lambda/logs-node")
    one_page = aws.json("logs", "filter-log-events", *group, "--no-paginate", "--limit", "3")
    assert len(one_page["events"]) == 3
    assert one_page["nextToken"]
    # The CLI follows nextToken itself: pages of 3 add up to the whole stream, in order.
    paged = aws.json("logs", "filter-log-events", *group, "--page-size", "3")
    whole = aws.json("logs", "filter-log-events", *group)
    assert len(whole["events"]) == 10
    assert messages(paged["events"]) == messages(whole["events"])
    assert messages(whole["events"])[:3] == messages(one_page["events"])


def test_missing_group_and_stream_errors(aws, functions):
    assert aws.error("logs", "get-log-events", "--log-group-name", "/aws/lambda/nope",
                     "--log-stream-name", "s") == cli_error(
        "GetLogEvents", "ResourceNotFoundException", "The specified log group does not exist.")
    assert aws.error("logs", "filter-log-events", "--log-group-name", "/aws/lambda/nope") == \
        cli_error("FilterLogEvents", "ResourceNotFoundException",
                  "The specified log group does not exist.")
    assert aws.error("logs", "get-log-events", "--log-group-name", "/aws/lambda/logs-node",
                     "--log-stream-name", "nope") == cli_error(
        "GetLogEvents", "ResourceNotFoundException", "The specified log stream does not exist.")
    assert aws.error("logs", "describe-log-streams", "--log-group-name", "/aws/lambda/nope") == \
        cli_error("DescribeLogStreams", "ResourceNotFoundException",
                  "The specified log group does not exist.")


def test_groups_and_streams_through_the_cli(aws):
    aws.run("logs", "create-log-group", "--log-group-name", "/app/cli")
    assert aws.error("logs", "create-log-group", "--log-group-name", "/app/cli") == cli_error(
        "CreateLogGroup", "ResourceAlreadyExistsException", "The specified log group already exists")
    aws.run("logs", "create-log-stream", "--log-group-name", "/app/cli", "--log-stream-name", "s1")
    now = int(time.time() * 1000)
    put = aws.json("logs", "put-log-events", "--log-group-name", "/app/cli",
                   "--log-stream-name", "s1", "--log-events",
                   f"timestamp={now},message=first", f"timestamp={now + 1},message=second")
    assert re.fullmatch(r"\d{56}", put["nextSequenceToken"])
    got = aws.json("logs", "get-log-events", "--log-group-name", "/app/cli",
                   "--log-stream-name", "s1")
    assert [(e["timestamp"], e["message"]) for e in got["events"]] == [
        (now, "first"), (now + 1, "second")]
    for i in range(3):
        aws.run("logs", "create-log-group", "--log-group-name", f"/app/page/{i}")
    first = aws.json("logs", "describe-log-groups", "--log-group-name-prefix", "/app/page/",
                     "--no-paginate", "--limit", "2")
    assert [g["logGroupName"] for g in first["logGroups"]] == ["/app/page/0", "/app/page/1"]
    rest = aws.json("logs", "describe-log-groups", "--log-group-name-prefix", "/app/page/",
                    "--no-paginate", "--next-token", first["nextToken"])
    assert [g["logGroupName"] for g in rest["logGroups"]] == ["/app/page/2"]
    assert "nextToken" not in rest
    aws.run("logs", "delete-log-stream", "--log-group-name", "/app/cli", "--log-stream-name", "s1")
    aws.run("logs", "delete-log-group", "--log-group-name", "/app/cli")
    assert aws.error("logs", "delete-log-group", "--log-group-name", "/app/cli") == cli_error(
        "DeleteLogGroup", "ResourceNotFoundException", "The specified log group does not exist.")


def test_describe_log_streams_by_last_event_time(aws, functions):
    aws.run("logs", "create-log-group", "--log-group-name", "/app/order")
    now = int(time.time() * 1000)
    for stream, offset in (("a", 30), ("b", 10), ("c", 20)):
        aws.run("logs", "create-log-stream", "--log-group-name", "/app/order",
                "--log-stream-name", stream)
        aws.run("logs", "put-log-events", "--log-group-name", "/app/order", "--log-stream-name",
                stream, "--log-events", f"timestamp={now - offset},message={stream}")
    newest = aws.json("logs", "describe-log-streams", "--log-group-name", "/app/order",
                      "--order-by", "LastEventTime", "--descending")
    assert [s["logStreamName"] for s in newest["logStreams"]] == ["b", "c", "a"]
    by_name = aws.json("logs", "describe-log-streams", "--log-group-name", "/app/order")
    assert [s["logStreamName"] for s in by_name["logStreams"]] == ["a", "b", "c"]


def boto3_logs(portico):
    return boto3.client("logs", endpoint_url=portico.endpoint, region_name=REGION,
                        aws_access_key_id="AKIDPORTICOTEST", aws_secret_access_key="secret")


def test_what_aws_logs_tail_does(portico, aws, functions, tmp_path):
    """CLI v2's `aws logs tail GROUP --since 10m` pages FilterLogEvents (interleaved, from a
    start time); `--follow` then polls from the newest timestamp seen, dropping event ids it
    already printed."""
    client = boto3_logs(portico)
    since = int(time.time() * 1000) - 600_000
    seen = []
    pages = client.get_paginator("filter_log_events").paginate(
        logGroupIdentifier="/aws/lambda/logs-node", interleaved=True, startTime=since)
    for page in pages:
        seen += page["events"]
    first, second = [a["request"] for a in functions["logs-node"]]
    start1, end1, report1 = platform_lines(first, init=True)
    start2, end2, report2 = platform_lines(second, init=False)
    assert_lines(messages(seen), [
        start1,
        rf"{ISO}\t{first}\tINFO\thello from node\n",
        rf'{ISO}\t{first}\tERROR\tnode says {{"n":1}}\n',
        end1, report1,
        start2,
        rf"{ISO}\t{second}\tINFO\thello from node\n",
        rf'{ISO}\t{second}\tERROR\tnode says {{"n":2}}\n',
        end2, report2,
    ])
    assert {e["logStreamName"] for e in seen} == {stream_of(aws, "logs-node")}
    timestamps = [e["timestamp"] for e in seen]
    assert timestamps == sorted(timestamps)

    # --follow: a new invocation, then a poll from the newest timestamp already printed.
    printed = {e["eventId"] for e in seen}
    third = invoke(aws, tmp_path, "logs-node", '{"n":3}')["request"]
    arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/logs-node:*"
    response = client.filter_log_events(logGroupIdentifier=arn, interleaved=True,
                                        startTime=max(timestamps))
    fresh = [e for e in response["events"] if e["eventId"] not in printed]
    assert "nextToken" not in response
    assert_lines(messages(fresh), [
        rf"START RequestId: {third} Version: \$LATEST\n",
        rf"{ISO}\t{third}\tINFO\thello from node\n",
        rf'{ISO}\t{third}\tERROR\tnode says {{"n":3}}\n',
        rf"END RequestId: {third}\n",
        platform_lines(third, init=False)[2],
    ])
    with pytest.raises(client.exceptions.ResourceNotFoundException) as missing:
        client.filter_log_events(logGroupIdentifier="/aws/lambda/nope", interleaved=True)
    assert missing.value.response["Error"]["Message"] == "The specified log group does not exist."
