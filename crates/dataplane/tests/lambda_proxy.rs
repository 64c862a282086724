//! AWS_PROXY: the REST event the function receives and the response rules, with a function
//! that answers according to the path it is called on.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::Request;
use portico_core::{
    AwsError, BoxFuture, DeployedStage, InvokeRequest, InvokeResult, Invoker, StageKey, StageSink,
};
use portico_dataplane::{ClientInfo, DataPlane, InvokeTarget};
use serde_json::{Value, json};

#[derive(Default)]
struct Scripted {
    last: Mutex<Option<(InvokeRequest, Value)>>,
    calls: std::sync::atomic::AtomicUsize,
}

impl Invoker for Scripted {
    fn invoke(&self, request: InvokeRequest) -> BoxFuture<'_, Result<InvokeResult, AwsError>> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if request.function_name == "Denied" {
            *self.last.lock().unwrap() = Some((request, Value::Null));
            return Box::pin(async {
                Err(AwsError::new(
                    "AccessDeniedException",
                    403,
                    "User: apigateway.amazonaws.com is not authorized",
                ))
            });
        }
        let event: Value = serde_json::from_slice(&request.payload).unwrap_or(Value::Null);
        let path = event["path"].as_str().unwrap_or("").to_owned();
        let (payload, function_error) = match path.as_str() {
            "/bin" => (
                json!({"statusCode": 200, "headers": {"Content-Type": "image/png"},
                       "body": "iVBORw==", "isBase64Encoded": true}),
                None,
            ),
            "/multi" => (
                json!({"statusCode": "201",
                       "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "X-Both": ["m"]},
                       "headers": {"X-Both": "s", "X-Flag": true}}),
                None,
            ),
            "/bad" => (json!({"statusCode": 200, "wrongValue": "value"}), None),
            "/error" => (
                json!({"errorMessage": "boom", "errorType": "Error"}),
                Some("Unhandled".to_owned()),
            ),
            _ => (json!({"body": "ok"}), None),
        };
        *self.last.lock().unwrap() = Some((request, event));
        Box::pin(async move {
            Ok(InvokeResult {
                payload: Bytes::from(payload.to_string()),
                function_error,
                executed_version: "$LATEST".into(),
                log_result: None,
                request_id: "r".into(),
            })
        })
    }
}

fn setup() -> (DataPlane, Arc<Scripted>) {
    let invoker = Arc::new(Scripted::default());
    let plane = DataPlane::new(invoker.clone());
    let uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:${stageVariables.fn}/invocations";
    plane.publish(
        StageKey {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            api_id: "abcdef1234".into(),
            stage_name: "prod".into(),
        },
        DeployedStage {
            stage: json!({"stageName": "prod", "deploymentId": "dep123",
                          "variables": {"fn": "Echo", "color": "blue"}}),
            deployment: json!({
                "id": "dep123",
                "api": {"id": "abcdef1234", "name": "a", "binaryMediaTypes": ["image/*"]},
                "resources": [
                    {"id": "root00", "path": "/"},
                    {"id": "prx001", "path": "/{proxy+}", "resourceMethods": {"ANY": {
                        "httpMethod": "ANY", "authorizationType": "NONE",
                        "methodIntegration": {"type": "AWS_PROXY", "httpMethod": "POST", "uri": uri}
                    }}}
                ]
            }),
        },
    );
    (plane, invoker)
}

async fn send(
    plane: &DataPlane,
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> http::Response<Bytes> {
    let mut builder = Request::builder()
        .method(method)
        .uri(format!("http://h/prod{path}{query}"));
    builder = builder.header("host", "abcdef1234.execute-api.localhost:4566");
    for (n, v) in headers {
        builder = builder.header(*n, *v);
    }
    plane
        .handle(
            InvokeTarget {
                api_id: "abcdef1234".into(),
                stage: "prod".into(),
                path: path.to_owned(),
                domain_name: "abcdef1234.execute-api.localhost".into(),
            },
            builder.body(Bytes::copy_from_slice(body)).unwrap(),
            &ClientInfo {
                source_ip: "10.9.8.7".into(),
            },
        )
        .await
}

#[tokio::test]
async fn event_has_every_field() {
    let (plane, invoker) = setup();
    let response = send(
        &plane,
        "POST",
        "/a/b%2Bc",
        "?x=1&x=2&y=%2B",
        &[
            ("X-Multi", "one"),
            ("X-Multi", "two"),
            ("Content-Type", "text/plain"),
        ],
        b"hello",
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.body(), &Bytes::from("ok"));
    assert_eq!(response.headers()["content-type"], "application/json");
    let (request, event) = invoker.last.lock().unwrap().take().unwrap();
    assert_eq!(request.function_name, "Echo");
    assert!(request.source_arn.as_deref().is_some_and(|arn| {
        arn.starts_with("arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/POST/")
    }));
    assert_eq!(event["resource"], "/{proxy+}");
    assert_eq!(event["path"], "/a/b%2Bc");
    assert_eq!(event["httpMethod"], "POST");
    assert_eq!(event["pathParameters"], json!({"proxy": "a/b%2Bc"}));
    assert_eq!(event["queryStringParameters"], json!({"x": "2", "y": "+"}));
    assert_eq!(
        event["multiValueQueryStringParameters"],
        json!({"x": ["1", "2"], "y": ["+"]})
    );
    assert_eq!(event["headers"]["X-Multi"], "two");
    assert_eq!(event["multiValueHeaders"]["X-Multi"], json!(["one", "two"]));
    assert_eq!(event["headers"]["X-Forwarded-For"], "10.9.8.7");
    assert_eq!(event["headers"]["X-Forwarded-Port"], "4566");
    assert_eq!(event["headers"]["X-Forwarded-Proto"], "http");
    assert!(
        event["headers"]["X-Amzn-Trace-Id"]
            .as_str()
            .is_some_and(|t| t.starts_with("Root=1-"))
    );
    assert_eq!(
        event["stageVariables"],
        json!({"color": "blue", "fn": "Echo"})
    );
    assert_eq!(event["body"], "hello");
    assert_eq!(event["isBase64Encoded"], false);
    let rc = &event["requestContext"];
    assert_eq!(rc["path"], "/prod/a/b%2Bc");
    assert_eq!(rc["stage"], "prod");
    assert_eq!(rc["resourceId"], "prx001");
    assert_eq!(rc["resourcePath"], "/{proxy+}");
    assert_eq!(rc["deploymentId"], "dep123");
    assert_eq!(rc["domainPrefix"], "abcdef1234");
    assert_eq!(rc["identity"]["sourceIp"], "10.9.8.7");
    assert!(rc["requestTimeEpoch"].is_i64());

    // No query, no body: nulls.
    send(&plane, "GET", "/plain", "", &[], b"").await;
    let (_, event) = invoker.last.lock().unwrap().take().unwrap();
    assert_eq!(event["queryStringParameters"], Value::Null);
    assert_eq!(event["multiValueQueryStringParameters"], Value::Null);
    assert_eq!(event["body"], Value::Null);
}

#[tokio::test]
async fn binary_bodies_follow_binary_media_types() {
    let (plane, invoker) = setup();
    send(
        &plane,
        "PUT",
        "/upload",
        "",
        &[("Content-Type", "image/jpeg")],
        &[0xff, 0xd8, 0x00],
    )
    .await;
    let (_, event) = invoker.last.lock().unwrap().take().unwrap();
    assert_eq!(event["body"], "/9gA");
    assert_eq!(event["isBase64Encoded"], true);

    // Decoded only when the first Accept type is binary.
    let response = send(
        &plane,
        "GET",
        "/bin",
        "",
        &[("Accept", "image/png, */*")],
        b"",
    )
    .await;
    assert_eq!(
        response.body(),
        &Bytes::from_static(&[0x89, b'P', b'N', b'G'])
    );
    assert_eq!(response.headers()["content-type"], "image/png");
    let response = send(
        &plane,
        "GET",
        "/bin",
        "",
        &[("Accept", "text/html, image/png")],
        b"",
    )
    .await;
    assert_eq!(response.body(), &Bytes::from("iVBORw=="));
}

#[tokio::test]
async fn response_rules() {
    let (plane, _) = setup();
    let response = send(&plane, "GET", "/multi", "", &[], b"").await;
    assert_eq!(response.status(), 201);
    let cookies: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
    assert_eq!(cookies, vec!["a=1", "b=2"]);
    let both: Vec<_> = response.headers().get_all("x-both").iter().collect();
    assert_eq!(both, vec!["m", "s"]);
    assert_eq!(response.headers()["x-flag"], "true");
    assert_eq!(response.body(), &Bytes::new());

    for path in ["/bad", "/error"] {
        let response = send(&plane, "GET", path, "", &[], b"").await;
        assert_eq!(response.status(), 502, "{path}");
        assert_eq!(
            response.body(),
            &Bytes::from(r#"{"message": "Internal server error"}"#)
        );
        assert_eq!(
            response.headers()["x-amzn-errortype"],
            "InternalServerErrorException"
        );
    }
}

#[tokio::test]
async fn permissions_and_credentials() {
    let invoker = Arc::new(Scripted::default());
    let plane = DataPlane::new(invoker.clone());
    let uri = |name: &str| {
        format!(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:{name}/invocations"
        )
    };
    plane.publish(
        StageKey {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            api_id: "abcdef1234".into(),
            stage_name: "prod".into(),
        },
        DeployedStage {
            stage: json!({"stageName": "prod", "deploymentId": "d"}),
            deployment: json!({"id": "d", "resources": [
                {"id": "r1", "path": "/denied", "resourceMethods": {"GET": {
                    "httpMethod": "GET", "authorizationType": "NONE",
                    "methodIntegration": {"type": "AWS_PROXY", "httpMethod": "POST", "uri": uri("Denied")}}}},
                {"id": "r2", "path": "/role", "resourceMethods": {"GET": {
                    "httpMethod": "GET", "authorizationType": "NONE",
                    "methodIntegration": {"type": "AWS_PROXY", "httpMethod": "POST", "uri": uri("Echo"),
                        "credentials": "arn:aws:iam::123456789012:role/apigw"}}}}
            ]}),
        },
    );
    let response = send(&plane, "GET", "/denied", "", &[], b"").await;
    assert_eq!(response.status(), 500);
    assert_eq!(
        response.body(),
        &Bytes::from(r#"{"message": "Internal server error"}"#)
    );
    let (request, _) = invoker.last.lock().unwrap().take().unwrap();
    assert_eq!(
        request.source_arn.as_deref(),
        Some("arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/denied")
    );
    let response = send(&plane, "GET", "/role", "", &[], b"").await;
    assert_eq!(response.status(), 200);
    let (request, _) = invoker.last.lock().unwrap().take().unwrap();
    assert_eq!(request.source_arn, None);
}

#[tokio::test]
async fn stage_cache() {
    let invoker = Arc::new(Scripted::default());
    let plane = DataPlane::new(invoker.clone());
    let uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:Echo/invocations";
    let publish = |require_auth: bool| {
        plane.publish(
            StageKey {
                account_id: "123456789012".into(),
                region: "us-east-1".into(),
                api_id: "abcdef1234".into(),
                stage_name: "prod".into(),
            },
            DeployedStage {
                stage: json!({"stageName": "prod", "deploymentId": "d", "cacheClusterEnabled": true,
                    "methodSettings": {"*/*": {"cachingEnabled": true, "cacheTtlInSeconds": 300,
                        "requireAuthorizationForCacheControl": require_auth}}}),
                deployment: json!({"id": "d", "resources": [
                    {"id": "r1", "path": "/items", "resourceMethods": {"GET": {
                        "httpMethod": "GET", "authorizationType": "NONE",
                        "methodIntegration": {"type": "AWS_PROXY", "httpMethod": "POST", "uri": uri,
                            "cacheKeyParameters": ["method.request.querystring.type"]}}}}
                ]}),
            },
        )
    };
    let calls = || invoker.calls.load(std::sync::atomic::Ordering::SeqCst);
    publish(true);
    let first = send(&plane, "GET", "/items", "?type=a", &[], b"").await;
    assert_eq!(first.status(), 200);
    let again = send(&plane, "GET", "/items", "?type=a&other=1", &[], b"").await;
    assert_eq!(calls(), 1);
    assert_eq!(again.body(), first.body());
    assert_ne!(
        again.headers()["x-amzn-requestid"],
        first.headers()["x-amzn-requestid"]
    );
    send(&plane, "GET", "/items", "?type=b", &[], b"").await;
    assert_eq!(calls(), 2);
    // Invalidation needs authorization by default: still served from the cache.
    send(
        &plane,
        "GET",
        "/items",
        "?type=a",
        &[("Cache-Control", "max-age=0")],
        b"",
    )
    .await;
    assert_eq!(calls(), 2);
    // Republishing (a deployment, FlushStageCache) starts empty; without the requirement
    // anyone may refresh an entry.
    publish(false);
    send(&plane, "GET", "/items", "?type=a", &[], b"").await;
    assert_eq!(calls(), 3);
    send(
        &plane,
        "GET",
        "/items",
        "?type=a",
        &[("Cache-Control", "max-age=0")],
        b"",
    )
    .await;
    assert_eq!(calls(), 4);
    send(&plane, "GET", "/items", "?type=a", &[], b"").await;
    assert_eq!(calls(), 4);
}
