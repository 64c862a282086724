"""Reserved concurrency and throttling, account settings, `LogType: Tail`, `Event` and `DryRun`
invocations, through the AWS CLI and raw HTTP."""

import base64
import json
import re
import threading
import time

import pytest

from test_lambda_helpers import arn, cli_error, create, invoke, python_zip

SLEEPY = """
import time
def handler(event, context):
    print("sleeping", event.get("sleep", 0))
    time.sleep(event.get("sleep", 0))
    if event.get("touch"):
        with open(event["touch"], "a") as f:
            f.write(context.aws_request_id + "\\n")
    return {"slept": event.get("sleep", 0)}
"""

THROTTLED = {"Type": "User", "message": "Rate Exceeded.",
             "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"}


def raw_invoke(portico, name, payload=b"{}", headers=None):
    status, hdrs, body = portico.request(
        "POST", f"/2015-03-31/functions/{name}/invocations", body=payload, headers=headers or {})
    return status, hdrs, body


@pytest.fixture()
def sleepy(aws, tmp_path):
    create(aws, tmp_path, "ConcFn", python_zip(SLEEPY))
    yield "ConcFn"
    aws.run("lambda", "delete-function", "--function-name", "ConcFn", check=False)


def test_reserved_concurrency_operations(aws, portico, sleepy, monkeypatch):
    # `{}` when nothing is reserved, which the CLI prints as nothing at all.
    status, _, body = portico.request("GET", f"/2019-09-30/functions/{sleepy}/concurrency")
    assert (status, body) == (200, b"{}")
    assert aws.json("lambda", "get-function-concurrency", "--function-name", sleepy) is None
    assert aws.json("lambda", "put-function-concurrency", "--function-name", sleepy,
                    "--reserved-concurrent-executions", "0") == {"ReservedConcurrentExecutions": 0}
    assert aws.json("lambda", "get-function-concurrency", "--function-name", sleepy) == {
        "ReservedConcurrentExecutions": 0}
    assert aws.json("lambda", "get-function", "--function-name", sleepy)["Concurrency"] == {
        "ReservedConcurrentExecutions": 0}

    # Every invocation is throttled: 429 with Lambda's body and Reason.
    status, headers, body = raw_invoke(portico, sleepy)
    assert status == 429
    assert headers["x-amzn-errortype"] == "TooManyRequestsException"
    assert json.loads(body) == THROTTLED
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    assert aws.error("lambda", "invoke", "--function-name", sleepy, "--payload", "{}",
                     "/dev/null") == (
        "An error occurred (TooManyRequestsException) when calling the Invoke operation "
        "(reached max retries: 0): Rate Exceeded.")

    settings = aws.json("lambda", "get-account-settings")
    assert settings["AccountLimit"] == {
        "TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000,
        "CodeSizeZipped": 52428800, "ConcurrentExecutions": 1000,
        "UnreservedConcurrentExecutions": 1000}
    aws.json("lambda", "put-function-concurrency", "--function-name", sleepy,
             "--reserved-concurrent-executions", "50")
    assert aws.json("lambda", "get-account-settings")["AccountLimit"][
        "UnreservedConcurrentExecutions"] == 950
    assert aws.error("lambda", "put-function-concurrency", "--function-name", sleepy,
                     "--reserved-concurrent-executions", "901") == cli_error(
        "PutFunctionConcurrency", "InvalidParameterValueException",
        "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].")

    aws.run("lambda", "delete-function-concurrency", "--function-name", sleepy)
    assert aws.json("lambda", "get-function-concurrency", "--function-name", sleepy) is None
    assert "Concurrency" not in aws.json("lambda", "get-function", "--function-name", sleepy)
    assert raw_invoke(portico, sleepy)[0] == 200
    assert aws.json("lambda", "get-account-settings")["AccountLimit"][
        "UnreservedConcurrentExecutions"] == 1000
    assert aws.error("lambda", "get-function-concurrency", "--function-name", "ConcNope") == cli_error(
        "GetFunctionConcurrency", "ResourceNotFoundException",
        f"Function not found: {arn('ConcNope')}")


def test_invocations_beyond_the_reservation_are_throttled(aws, portico, sleepy):
    aws.json("lambda", "put-function-concurrency", "--function-name", sleepy,
             "--reserved-concurrent-executions", "2")
    results = []

    def one():
        status, _, body = raw_invoke(portico, sleepy, b'{"sleep": 1.5}')
        results.append((status, json.loads(body)))

    threads = [threading.Thread(target=one) for _ in range(5)]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join()
    ok = [r for r in results if r[0] == 200]
    throttled = [r for r in results if r[0] == 429]
    assert len(ok) == 2 and len(throttled) == 3, results
    assert all(body == {"slept": 1.5} for _, body in ok)
    assert all(body == THROTTLED for _, body in throttled)
    # Slots are free again once the invocations end.
    assert raw_invoke(portico, sleepy, b'{"sleep": 0}')[0] == 200


def test_log_tail(aws, tmp_path, sleepy):
    meta, body = invoke(aws, tmp_path, sleepy, '{"sleep": 0}', "--log-type", "Tail")
    assert json.loads(body) == {"slept": 0}
    log = base64.b64decode(meta["LogResult"]).decode()
    lines = log.splitlines()
    start = re.fullmatch(r"START RequestId: ([0-9a-f-]{36}) Version: \$LATEST", lines[0])
    assert start, log
    request_id = start.group(1)
    assert "sleeping 0" in lines
    assert f"END RequestId: {request_id}" in lines
    assert re.search(rf"^REPORT RequestId: {request_id}\tDuration: [0-9.]+ ms\tBilled Duration: "
                     r"\d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB", log, re.M), log
    # Without LogType there is no log.
    meta, _ = invoke(aws, tmp_path, sleepy, '{"sleep": 0}')
    assert "LogResult" not in meta
    assert meta == {"StatusCode": 200, "ExecutedVersion": "$LATEST"}


def test_log_tail_is_the_last_4kb(aws, tmp_path):
    chatty = python_zip("def handler(event, context):\n"
                        "    for i in range(400):\n"
                        "        print('line %04d' % i + 'x' * 40)\n"
                        "    return 1\n")
    create(aws, tmp_path, "ConcChatty", chatty)
    meta, body = invoke(aws, tmp_path, "ConcChatty", "{}", "--log-type", "Tail")
    assert body == b"1"
    log = base64.b64decode(meta["LogResult"])
    assert len(log) == 4096
    text = log.decode()
    assert "line 0399" in text and "line 0000" not in text
    assert re.search(r"REPORT RequestId: [0-9a-f-]{36}\t", text)
    aws.run("lambda", "delete-function", "--function-name", "ConcChatty")


def test_event_and_dry_run(aws, tmp_path, sleepy):
    marker = tmp_path / "event.txt"
    meta, body = invoke(aws, tmp_path, sleepy, json.dumps({"touch": str(marker)}),
                        "--invocation-type", "Event")
    assert meta == {"StatusCode": 202}
    assert body == b""
    deadline = time.monotonic() + 20
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert re.fullmatch(r"[0-9a-f-]{36}\n", marker.read_text())

    meta, body = invoke(aws, tmp_path, sleepy, "{}", "--invocation-type", "DryRun")
    assert meta == {"StatusCode": 204}
    assert body == b""

    # Asynchronous invocations are queued, not throttled, while no slot is free.
    aws.json("lambda", "put-function-concurrency", "--function-name", sleepy,
             "--reserved-concurrent-executions", "0")
    queued = tmp_path / "queued.txt"
    meta, _ = invoke(aws, tmp_path, sleepy, json.dumps({"touch": str(queued)}),
                     "--invocation-type", "Event")
    assert meta == {"StatusCode": 202}
    time.sleep(1)
    assert not queued.exists()
    aws.run("lambda", "delete-function-concurrency", "--function-name", sleepy)
    deadline = time.monotonic() + 20
    while not queued.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert queued.exists()


def test_fifty_parallel_invocations(aws, portico, sleepy):
    """50 parallel calls of a 200 ms function: all served by the warm pool (4 environments per
    function by default, so no faster than 13 rounds); with 10 reserved, 10 run and 40 are
    throttled."""
    def burst():
        results = []
        lock = threading.Lock()

        def one():
            status, _, body = raw_invoke(portico, sleepy, b'{"sleep": 0.2}')
            with lock:
                results.append((status, json.loads(body)))

        threads = [threading.Thread(target=one) for _ in range(50)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results, time.monotonic() - started

    results, elapsed = burst()
    assert [s for s, _ in results] == [200] * 50
    assert all(body == {"slept": 0.2} for _, body in results)
    assert elapsed >= 13 * 0.2

    aws.json("lambda", "put-function-concurrency", "--function-name", sleepy,
             "--reserved-concurrent-executions", "10")
    results, _ = burst()
    statuses = sorted(s for s, _ in results)
    assert statuses.count(200) >= 10 and statuses.count(200) + statuses.count(429) == 50
    assert all(body == THROTTLED for s, body in results if s == 429)
