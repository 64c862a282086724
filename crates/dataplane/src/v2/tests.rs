//! The HTTP API pipeline against a scripted invoker.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::Request;
use portico_core::{
    AwsError, BoxFuture, DeployedStage, InvokeRequest, InvokeResult, Invoker, StageKey, StageSink,
};
use serde_json::{Value, json};

use super::{HttpApiPlane, api_id_from_host};
use crate::ClientInfo;

/// Answers every invocation with `reply` and records the event.
struct Scripted {
    reply: &'static str,
    error: bool,
    seen: Mutex<Vec<(InvokeRequest, Value)>>,
}

impl Invoker for Scripted {
    fn invoke(&self, request: InvokeRequest) -> BoxFuture<'_, Result<InvokeResult, AwsError>> {
        let event = serde_json::from_slice(&request.payload).unwrap_or(Value::Null);
        self.seen.lock().unwrap().push((request, event));
        let result = InvokeResult {
            payload: Bytes::from(self.reply),
            function_error: self.error.then(|| "Unhandled".to_owned()),
            executed_version: "$LATEST".to_owned(),
            log_result: None,
            request_id: "r".to_owned(),
        };
        Box::pin(async move { Ok(result) })
    }
}

fn plane(reply: &'static str, error: bool) -> (HttpApiPlane, Arc<Scripted>) {
    let invoker = Arc::new(Scripted {
        reply,
        error,
        seen: Mutex::new(Vec::new()),
    });
    (HttpApiPlane::new(invoker.clone()), invoker)
}

fn deploy(plane: &HttpApiPlane, stage: &str, routes: Value, version: &str, cors: Value) {
    let integration = json!({
        "integrationId": "int0001",
        "integrationType": "AWS_PROXY",
        "integrationUri": "arn:aws:lambda:us-east-1:123456789012:function:hello",
        "payloadFormatVersion": version,
    });
    let routes: Vec<Value> = routes
        .as_array()
        .unwrap()
        .iter()
        .map(|k| json!({"routeKey": k, "target": "integrations/int0001"}))
        .collect();
    plane.publish(
        StageKey {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            api_id: "abcdef1234".into(),
            stage_name: stage.into(),
        },
        DeployedStage {
            stage: json!({"stageName": stage, "stageVariables": {"v": "1"}}),
            deployment: json!({
                "deploymentId": "d1",
                "api": {"apiId": "abcdef1234", "protocolType": "HTTP", "corsConfiguration": cors},
                "routes": routes,
                "integrations": [integration],
            }),
        },
    );
}

async fn send(
    plane: &HttpApiPlane,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> http::Response<Bytes> {
    let mut builder = Request::builder().method(method).uri(uri);
    for (n, v) in headers {
        builder = builder.header(*n, *v);
    }
    let request = builder.body(Bytes::from(body.to_owned())).unwrap();
    let client = ClientInfo {
        source_ip: "127.0.0.1".into(),
    };
    plane
        .handle(
            "abcdef1234",
            "abcdef1234.execute-api.localhost:4566",
            request,
            &client,
        )
        .await
}

#[test]
fn host_names_the_api() {
    assert_eq!(
        api_id_from_host("abc.execute-api.localhost:4566"),
        Some("abc")
    );
    assert_eq!(api_id_from_host("localhost:4566"), None);
}

#[tokio::test]
async fn payload_v2_event_and_route_selection() {
    let (plane, invoker) = plane(r#"{"ok":true}"#, false);
    deploy(
        &plane,
        "$default",
        json!([
            "GET /pets/{id}",
            "GET /pets/dog",
            "ANY /{proxy+}",
            "$default"
        ]),
        "2.0",
        Value::Null,
    );
    let r = send(
        &plane,
        "GET",
        "/pets/42?a=1&a=2&b=x%20y",
        &[
            ("cookie", "c1=v1; c2=v2"),
            ("x-multi", "a"),
            ("x-multi", "b"),
        ],
        "",
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.body(), &Bytes::from(r#"{"ok":true}"#));
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.headers()["apigw-requestid"].len(), 16);
    let (request, event) = invoker.seen.lock().unwrap().pop().unwrap();
    assert_eq!(request.function_name, "hello");
    assert_eq!(
        request.source_arn.as_deref(),
        Some("arn:aws:execute-api:us-east-1:123456789012:abcdef1234/$default/GET/pets/{id}")
    );
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "GET /pets/{id}");
    assert_eq!(event["rawPath"], "/pets/42");
    assert_eq!(event["rawQueryString"], "a=1&a=2&b=x%20y");
    assert_eq!(event["cookies"], json!(["c1=v1", "c2=v2"]));
    assert_eq!(event["headers"]["x-multi"], "a,b");
    assert!(event["headers"].get("cookie").is_none());
    assert_eq!(
        event["queryStringParameters"],
        json!({"a": "1,2", "b": "x y"})
    );
    assert_eq!(event["pathParameters"], json!({"id": "42"}));
    assert_eq!(event["stageVariables"], json!({"v": "1"}));
    assert_eq!(event["isBase64Encoded"], false);
    assert!(event.get("body").is_none());
    let ctx = &event["requestContext"];
    assert_eq!(ctx["stage"], "$default");
    assert_eq!(ctx["http"]["method"], "GET");
    assert_eq!(ctx["http"]["path"], "/pets/42");
    assert_eq!(ctx["domainPrefix"], "abcdef1234");
    assert_eq!(
        ctx["requestId"],
        r.headers()["apigw-requestid"].to_str().unwrap()
    );

    for (path, key) in [
        ("/pets/dog", "GET /pets/dog"),
        ("/other/thing", "ANY /{proxy+}"),
        ("/", "$default"),
    ] {
        send(&plane, "GET", path, &[], "").await;
        let (_, event) = invoker.seen.lock().unwrap().pop().unwrap();
        assert_eq!(event["routeKey"], key, "{path}");
    }
}

#[tokio::test]
async fn named_stages_and_not_found() {
    let (plane, invoker) = plane(r#""plain""#, false);
    deploy(&plane, "prod", json!(["POST /items"]), "2.0", Value::Null);
    let r = send(
        &plane,
        "POST",
        "/prod/items",
        &[("content-type", "application/json")],
        r#"{"a":1}"#,
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.body(), &Bytes::from("plain"));
    let (_, event) = invoker.seen.lock().unwrap().pop().unwrap();
    assert_eq!(event["rawPath"], "/prod/items");
    assert_eq!(event["requestContext"]["stage"], "prod");
    assert_eq!(event["body"], r#"{"a":1}"#);
    let r = send(&plane, "GET", "/prod/items", &[], "").await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.body(), &Bytes::from(r#"{"message":"Not Found"}"#));
    let r = send(&plane, "POST", "/items", &[], "").await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn payload_v1_event_and_function_errors() {
    let (plane, invoker) = plane(r#"{"statusCode":201,"body":"made"}"#, false);
    deploy(
        &plane,
        "$default",
        json!(["POST /items/{id}"]),
        "1.0",
        Value::Null,
    );
    let r = send(&plane, "POST", "/items/7?q=1", &[("X-Up", "v")], "raw").await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.body(), &Bytes::from("made"));
    let (_, event) = invoker.seen.lock().unwrap().pop().unwrap();
    assert_eq!(event["version"], "1.0");
    assert_eq!(event["resource"], "/items/{id}");
    assert_eq!(event["headers"]["x-up"], "v");
    assert_eq!(
        event["multiValueQueryStringParameters"],
        json!({"q": ["1"]})
    );
    assert_eq!(event["requestContext"]["resourceId"], Value::Null);
    assert_eq!(event["body"], "cmF3");
    assert_eq!(event["isBase64Encoded"], true);

    let (plane, _) = self::plane(r#"{"errorMessage":"boom"}"#, true);
    deploy(&plane, "$default", json!(["$default"]), "2.0", Value::Null);
    let r = send(&plane, "GET", "/x", &[], "").await;
    assert_eq!(r.status(), 500);
    assert_eq!(
        r.body(),
        &Bytes::from(r#"{"message":"Internal Server Error"}"#)
    );
}

#[tokio::test]
async fn cors_preflight_is_answered_by_the_gateway() {
    let (plane, invoker) = plane(
        r#"{"statusCode":200,"headers":{"access-control-allow-origin":"*"},"body":"x"}"#,
        false,
    );
    deploy(
        &plane,
        "$default",
        json!(["GET /a"]),
        "2.0",
        json!({"allowOrigins": ["https://example.com"], "allowMethods": ["GET"], "maxAge": 60}),
    );
    let r = send(
        &plane,
        "OPTIONS",
        "/a",
        &[
            ("origin", "https://example.com"),
            ("access-control-request-method", "GET"),
        ],
        "",
    )
    .await;
    assert_eq!(r.status(), 204);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://example.com"
    );
    assert_eq!(r.headers()["access-control-allow-methods"], "GET");
    assert_eq!(r.headers()["access-control-max-age"], "60");
    assert!(invoker.seen.lock().unwrap().is_empty());
    let r = send(
        &plane,
        "GET",
        "/a",
        &[("origin", "https://example.com")],
        "",
    )
    .await;
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://example.com"
    );
    let r = send(&plane, "GET", "/a", &[], "").await;
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn removing_stages_stops_serving() {
    let (plane, _) = plane("{}", false);
    deploy(&plane, "$default", json!(["$default"]), "2.0", Value::Null);
    assert!(plane.serves("abcdef1234"));
    assert_eq!(plane.stage_count(), 1);
    plane.remove_api("123456789012", "us-east-1", "abcdef1234");
    assert!(!plane.serves("abcdef1234"));
}
