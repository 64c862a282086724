//! HTTP and HTTP_PROXY integrations against a real backend on loopback.

use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use portico_core::{
    AwsError, BoxFuture, DeployedStage, InvokeRequest, InvokeResult, Invoker, StageKey, StageSink,
};
use portico_dataplane::{ClientInfo, DataPlane, InvokeTarget};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

struct NoLambda;

impl Invoker for NoLambda {
    fn invoke(&self, _: InvokeRequest) -> BoxFuture<'_, Result<InvokeResult, AwsError>> {
        Box::pin(async { Err(AwsError::not_found("no functions here")) })
    }
}

/// A backend that answers every request with a JSON echo of it. `/slow` waits 2 s;
/// `/status/{n}` answers status n.
async fn backend() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let n = socket.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                let mut lines = head.split("\r\n");
                let request_line = lines.next().unwrap_or("").to_owned();
                let headers: Vec<(String, String)> = lines
                    .filter_map(|l| l.split_once(": "))
                    .map(|(n, v)| (n.to_owned(), v.to_owned()))
                    .collect();
                let length: usize = headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                let mut body = buf[head_end + 4..].to_vec();
                while body.len() < length {
                    let n = socket.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    body.extend_from_slice(&chunk[..n]);
                }
                let mut parts = request_line.split(' ');
                let method = parts.next().unwrap_or("").to_owned();
                let target = parts.next().unwrap_or("").to_owned();
                if target.starts_with("/slow") {
                    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                }
                let status = target
                    .split('?')
                    .next()
                    .and_then(|t| t.strip_prefix("/status/"))
                    .and_then(|s| s.parse::<u16>().ok())
                    .unwrap_or(200);
                let echo = json!({
                    "method": method,
                    "target": target,
                    "headers": headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
                    "body": String::from_utf8_lossy(&body),
                })
                .to_string();
                let response = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nServer: echo\r\nX-Backend: yes\r\nContent-Length: {}\r\n\r\n{echo}",
                    echo.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    format!("127.0.0.1:{}", addr.port())
}

fn key() -> StageKey {
    StageKey {
        account_id: "123456789012".into(),
        region: "us-east-1".into(),
        api_id: "abcdef1234".into(),
        stage_name: "test".into(),
    }
}

fn publish(plane: &DataPlane, variables: Value, resources: Value) {
    plane.publish(
        key(),
        DeployedStage {
            stage: json!({"stageName": "test", "deploymentId": "dep123", "variables": variables}),
            deployment: json!({"id": "dep123", "resources": resources}),
        },
    );
}

async fn send(
    plane: &DataPlane,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> http::Response<Bytes> {
    let (path_only, _) = path.split_once('?').unwrap_or((path, ""));
    let mut builder = Request::builder().method(method).uri(format!(
        "http://abcdef1234.execute-api.localhost:4566/test{path}"
    ));
    builder = builder.header("host", "abcdef1234.execute-api.localhost:4566");
    for (n, v) in headers {
        builder = builder.header(*n, *v);
    }
    let request = builder.body(Bytes::from(body.to_owned())).unwrap();
    plane
        .handle(
            InvokeTarget {
                api_id: "abcdef1234".into(),
                stage: "test".into(),
                path: path_only.to_owned(),
                domain_name: "abcdef1234.execute-api.localhost".into(),
            },
            request,
            &ClientInfo {
                source_ip: "10.1.2.3".into(),
            },
        )
        .await
}

fn echo_header<'a>(echo: &'a Value, name: &str) -> Option<&'a str> {
    echo["headers"]
        .as_array()?
        .iter()
        .find(|h| h[0].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .and_then(|h| h[1].as_str())
}

#[tokio::test]
async fn http_proxy_passes_the_request_through_and_remaps_headers() {
    let host = backend().await;
    let plane = DataPlane::new(Arc::new(NoLambda));
    publish(
        &plane,
        json!({"backend": host}),
        json!([
            {"id": "root00", "path": "/"},
            {"id": "prx001", "path": "/{proxy+}", "resourceMethods": {"ANY": {
                "httpMethod": "ANY", "authorizationType": "NONE",
                "requestParameters": {"method.request.path.proxy": true},
                "methodIntegration": {
                    "type": "HTTP_PROXY", "httpMethod": "ANY",
                    "uri": "http://${stageVariables.backend}/{proxy}",
                    "requestParameters": {
                        "integration.request.path.proxy": "method.request.path.proxy",
                        "integration.request.header.X-Stage": "context.stage",
                        "integration.request.querystring.added": "'yes'"
                    }
                }
            }}}
        ]),
    );
    let response = send(
        &plane,
        "POST",
        "/a/b%20c?x=1&x=2",
        &[("X-Client", "c1"), ("Content-Type", "text/plain")],
        "hello",
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-backend"], "yes");
    assert_eq!(response.headers()["x-amzn-remapped-server"], "echo");
    assert_eq!(
        response.headers()["x-amzn-remapped-content-length"],
        response.body().len().to_string()
    );
    assert_eq!(response.headers()["content-type"], "application/json");
    assert!(response.headers().contains_key("x-amzn-requestid"));
    let echo: Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["target"], "/a/b%20c?x=1&x=2&added=yes");
    assert_eq!(echo["body"], "hello");
    assert_eq!(echo_header(&echo, "x-client"), Some("c1"));
    assert_eq!(echo_header(&echo, "x-stage"), Some("test"));
    assert_eq!(echo_header(&echo, "x-forwarded-for"), Some("10.1.2.3"));
    assert_eq!(echo_header(&echo, "x-forwarded-port"), Some("4566"));
    assert_eq!(echo_header(&echo, "x-forwarded-proto"), Some("http"));
    assert_eq!(
        echo_header(&echo, "x-amzn-apigateway-api-id"),
        Some("abcdef1234")
    );
    assert_eq!(echo_header(&echo, "host"), Some(host.as_str()));
    assert!(echo_header(&echo, "x-amzn-trace-id").is_some_and(|t| t.starts_with("Root=1-")));

    // The backend's status is the client's status.
    let response = send(&plane, "GET", "/status/418", &[], "").await;
    assert_eq!(response.status(), 418);
}

#[tokio::test]
async fn http_custom_maps_parameters_and_selects_by_status() {
    let host = backend().await;
    let plane = DataPlane::new(Arc::new(NoLambda));
    let integration = json!({
        "type": "HTTP", "httpMethod": "POST",
        "uri": format!("http://{host}/status/{{code}}"),
        "timeoutInMillis": 500,
        "requestParameters": {
            "integration.request.path.code": "method.request.querystring.code",
            "integration.request.header.X-Id": "method.request.path.id",
            "integration.request.querystring.v": "stageVariables.version"
        },
        "requestTemplates": {"application/json": "{\"id\": \"$input.params('id')\", \"in\": $input.json('$')}"},
        "integrationResponses": {
            "200": {"statusCode": "200",
                    "responseParameters": {
                        "method.response.header.X-Backend": "integration.response.header.X-Backend",
                        "method.response.header.X-Method": "integration.response.body.method"
                    }},
            "400": {"statusCode": "400", "selectionPattern": "4\\d{2}",
                    "responseTemplates": {"application/json": "{\"failed\": $input.json('$.target')}"}}
        }
    });
    publish(
        &plane,
        json!({"version": "v2"}),
        json!([
            {"id": "root00", "path": "/"},
            {"id": "item01", "path": "/items/{id}", "resourceMethods": {"PUT": {
                "httpMethod": "PUT", "authorizationType": "NONE",
                "methodIntegration": integration
            }}},
            {"id": "slow01", "path": "/slow", "resourceMethods": {"GET": {
                "httpMethod": "GET", "authorizationType": "NONE",
                "methodIntegration": {"type": "HTTP", "httpMethod": "GET",
                    "uri": format!("http://{host}/slow"), "timeoutInMillis": 100}
            }}},
            {"id": "dead01", "path": "/dead", "resourceMethods": {"GET": {
                "httpMethod": "GET", "authorizationType": "NONE",
                "methodIntegration": {"type": "HTTP", "httpMethod": "GET",
                    "uri": "http://127.0.0.1:1/nothing"}
            }}}
        ]),
    );
    let response = send(
        &plane,
        "PUT",
        "/items/42?code=201",
        &[
            ("Content-Type", "application/json"),
            ("X-Not-Forwarded", "1"),
        ],
        r#"{"a":1}"#,
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-backend"], "yes");
    assert_eq!(response.headers()["x-method"], "POST");
    assert_eq!(response.headers()["content-type"], "application/json");
    let echo: Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(echo["target"], "/status/201?v=v2");
    assert_eq!(echo["body"], r#"{"id": "42", "in": {"a":1}}"#);
    assert_eq!(echo_header(&echo, "x-id"), Some("42"));
    assert_eq!(echo_header(&echo, "x-not-forwarded"), None);
    assert_eq!(echo_header(&echo, "accept"), Some("application/json"));
    assert_eq!(
        echo_header(&echo, "user-agent"),
        Some("AmazonAPIGateway_abcdef1234")
    );
    assert_eq!(echo_header(&echo, "content-type"), Some("application/json"));

    let response = send(
        &plane,
        "PUT",
        "/items/9?code=404",
        &[("Content-Type", "application/json")],
        "{}",
    )
    .await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.body(),
        &Bytes::from(r#"{"failed": "\/status\/404?v=v2"}"#)
    );
    assert!(!response.headers().contains_key("x-backend"));

    let response = send(&plane, "GET", "/slow", &[], "").await;
    assert_eq!(response.status(), 504);
    assert_eq!(
        response.body(),
        &Bytes::from(r#"{"message": "Endpoint request timed out"}"#)
    );

    let response = send(&plane, "GET", "/dead", &[], "").await;
    assert_eq!(response.status(), 500);
    assert_eq!(
        response.body(),
        &Bytes::from(r#"{"message": "Internal server error"}"#)
    );
    assert_eq!(
        response.headers()["x-amzn-errortype"],
        "InternalServerErrorException"
    );
}
