"""Regenerates botocore_signed.json: requests signed by botocore's SigV4Auth and SigV4QueryAuth
(the signer the AWS CLI uses), which tests/botocore.rs verifies with its clock set to the time
they were signed at (recorded as "now").

Run from the repository root: .venv/bin/python crates/sigv4/tests/botocore_sign.py
"""

import datetime
import json
import os

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HOST = "abc123.execute-api.localhost:4566"
KEY = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
TEMP = Credentials("ASIAEXAMPLE", "temporarysecret", "SESSIONTOKEN/with+chars==")

CASES = [
    ("get with query", KEY, False, "GET", "/prod/pets?limit=5&type=dog%2Fcat", {}, b""),
    ("post json", KEY, False, "POST", "/prod/pets", {"Content-Type": "application/json"}, b'{"name":"rex"}'),
    ("encoded path", KEY, False, "GET", "/prod/files/a%20b/arn%3Aaws%3Alambda", {}, b""),
    ("temporary credentials", TEMP, False, "PUT", "/prod/pets/7", {"X-Custom": "  a   b "}, b"x" * 1024),
    ("presigned", KEY, True, "GET", "/prod/pets?limit=5", {}, b""),
    ("presigned with token", TEMP, True, "GET", "/prod/report", {}, b""),
]


def sign(creds, presign, method, path, headers, body):
    request = AWSRequest(method=method, url=f"http://{HOST}{path}", data=body, headers=headers)
    if presign:
        SigV4QueryAuth(creds, "execute-api", "us-east-1", expires=900).add_auth(request)
    else:
        SigV4Auth(creds, "execute-api", "us-east-1").add_auth(request)
    prepared = request.prepare()
    url = prepared.url.split(HOST, 1)[1]
    path_only, _, query = url.partition("?")
    return {
        "method": method,
        "path": path_only,
        "query": query or None,
        "headers": [[k, v.decode() if isinstance(v, bytes) else v] for k, v in prepared.headers.items()],
        "body": body.decode(),
    }


out = {
    "host": HOST,
    "now": datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
    "keys": {c.access_key: [c.secret_key, c.token] for c in (KEY, TEMP)},
    "cases": [dict(name=name, **sign(c, p, m, u, h, b)) for name, c, p, m, u, h, b in CASES],
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "botocore_signed.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(f"wrote {len(out['cases'])} cases to {path}")
