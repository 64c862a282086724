"""The stage cache: cacheClusterEnabled, per-method caching settings, cacheKeyParameters,
Cache-Control invalidation and FlushStageCache, against a backend that counts its calls."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Counter(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    calls = 0

    def do_GET(self):
        Counter.calls += 1
        body = json.dumps({"call": Counter.calls, "target": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def backend():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Counter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_stage_cache(aws, portico, backend):
    api = aws.json("apigateway", "create-rest-api", "--name", "cached")
    api_id = api["id"]
    rid = aws.json("apigateway", "create-resource", "--rest-api-id", api_id,
                   "--parent-id", api["rootResourceId"], "--path-part", "items")["id"]
    aws.json("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", rid,
             "--http-method", "GET", "--authorization-type", "NONE",
             "--request-parameters", "method.request.querystring.type=false")
    aws.json("apigateway", "put-integration", "--rest-api-id", api_id, "--resource-id", rid,
             "--http-method", "GET", "--type", "HTTP_PROXY", "--integration-http-method", "GET",
             "--uri", f"http://{backend}/items",
             "--cache-key-parameters", "method.request.querystring.type")
    aws.json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "test")
    stage = aws.json("apigateway", "update-stage", "--rest-api-id", api_id,
                     "--stage-name", "test", "--patch-operations",
                     "op=replace,path=/cacheClusterEnabled,value=true",
                     "op=replace,path=/cacheClusterSize,value=0.5",
                     "op=replace,path=/*/*/caching/enabled,value=true",
                     "op=replace,path=/*/*/caching/requireAuthorizationForCacheControl,"
                     "value=false")
    assert stage["cacheClusterEnabled"] is True
    assert stage["cacheClusterStatus"] == "AVAILABLE"
    assert stage["methodSettings"]["*/*"]["cachingEnabled"] is True
    assert stage["methodSettings"]["*/*"]["cacheTtlInSeconds"] == 300

    def get(query, headers=None):
        status, _, body = portico.request(
            "GET", f"/restapis/{api_id}/test/_user_request_/items{query}", headers=headers)
        assert status == 200
        return json.loads(body)

    first = get("?type=a")
    # Parameters outside the cache key do not split the cache.
    assert get("?type=a&page=2") == first
    other = get("?type=b")
    assert other["call"] == first["call"] + 1
    refreshed = get("?type=a", headers={"Cache-Control": "max-age=0"})
    assert refreshed["call"] == other["call"] + 1
    assert get("?type=a") == refreshed

    aws.run("apigateway", "flush-stage-cache", "--rest-api-id", api_id, "--stage-name", "test")
    assert get("?type=a")["call"] == refreshed["call"] + 1

    err = aws.error("apigateway", "flush-stage-cache", "--rest-api-id", api_id,
                    "--stage-name", "nope")
    assert err.endswith("Invalid Stage identifier specified")
