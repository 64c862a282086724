"""The scenarios every target is asked to serve, and the answer each must give before it is
measured (a target that answers something else is reported, not measured)."""

import json
from dataclasses import dataclass

# The seed walkthrough's request template, byte for byte.
SEED_REQUEST_TEMPLATE = "{\"greeter\":\"$input.params('greeter')\"}"

# MOCK: the request template picks the status; the response template renders the same bytes the
# seed scenario answers, reading the method request's query string.
MOCK_REQUEST_TEMPLATE = '{"statusCode": 200}'
MOCK_RESPONSE_TEMPLATE = (
    '{"statusCode":200,"headers":{"Content-Type":"*/*"},'
    "\"body\":\"Hello, $input.params('greeter')!\"}"
)

QUERY = "greeter=me"


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    kind: str  # rest-mock | rest-aws | rest-proxy | http-quick
    runtime: str | None = None  # node | python
    handler: str | None = None  # exported function name in the handler file

    def check(self, status, body):
        """None if (status, body) is the expected answer, else why not."""
        text = body.decode("utf-8", "replace")
        if status != 200:
            return f"answered {status}: {text[:120]}"
        if self.kind in ("rest-mock", "rest-aws"):
            # Python's runtime serialises with spaces after separators and Node.js without, so
            # compare the JSON value, not the bytes.
            try:
                value = json.loads(text)
            except ValueError:
                return f"answered a body that is not JSON: {text[:120]}"
            want = {"statusCode": 200, "headers": {"Content-Type": "*/*"}, "body": "Hello, me!"}
            return None if value == want else f"answered {text[:120]}"
        return None if text == "Hello, me!" else f"answered {text[:120]}"


SCENARIOS = [
    Scenario("mock", "MOCK integration with a response template", "rest-mock"),
    Scenario(
        "seed-node",
        "seed walkthrough: AWS custom integration + request template, Node.js",
        "rest-aws",
        "node",
        "handler",
    ),
    Scenario(
        "seed-python",
        "seed walkthrough: AWS custom integration + request template, Python",
        "rest-aws",
        "python",
        "handler",
    ),
    Scenario("proxy-node", "AWS_PROXY (Lambda proxy), Node.js", "rest-proxy", "node", "proxy"),
    Scenario(
        "httpapi-node",
        "HTTP API quick-create (AWS_PROXY, payload 2.0), Node.js",
        "http-quick",
        "node",
        "proxy",
    ),
]

BY_NAME = {s.name: s for s in SCENARIOS}
