//! Drives a real `RuntimeApi` listener over loopback with a raw HTTP/1.1 client, the way a
//! runtime's bootstrap does.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use portico_rapi::{
    DispatchError, InitEvent, Invocation, InvocationResult, MAX_PAYLOAD_BYTES, RuntimeApi,
    RuntimeState,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Reply {
    status: u16,
    headers: HashMap<String, String>,
    body: String,
}

/// One keep-alive connection speaking just enough HTTP/1.1.
struct Client {
    sock: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    async fn connect(api: &RuntimeApi) -> Self {
        Self {
            sock: TcpStream::connect(api.addr()).await.unwrap(),
            buf: Vec::new(),
        }
    }

    async fn send(&mut self, method: &str, path: &str, extra: &[(&str, &str)], body: &[u8]) {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (k, v) in extra {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if method == "POST" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        self.sock.write_all(head.as_bytes()).await.unwrap();
        self.sock.write_all(body).await.unwrap();
    }

    async fn read(&mut self) -> Reply {
        let end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            self.fill().await;
        };
        let head = String::from_utf8(self.buf[..end].to_vec()).unwrap();
        let mut lines = head.split("\r\n");
        let status = lines.next().unwrap()[9..12].parse().unwrap();
        let headers: HashMap<String, String> = lines
            .map(|l| {
                let (k, v) = l.split_once(':').unwrap();
                (k.to_ascii_lowercase(), v.trim().to_owned())
            })
            .collect();
        let len: usize = headers
            .get("content-length")
            .map_or(0, |v| v.parse().unwrap());
        while self.buf.len() < end + 4 + len {
            self.fill().await;
        }
        let body = String::from_utf8(self.buf[end + 4..end + 4 + len].to_vec()).unwrap();
        self.buf.drain(..end + 4 + len);
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn fill(&mut self) {
        let mut chunk = [0u8; 65536];
        let n = self.sock.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed");
        self.buf.extend_from_slice(&chunk[..n]);
    }

    async fn call(
        &mut self,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        self.send(method, path, extra, body).await;
        self.read().await
    }
}

fn invocation(id: &str) -> Invocation {
    Invocation {
        request_id: id.to_owned(),
        payload: Bytes::from_static(br#"{"greeter":"me"}"#),
        deadline_ms: 1_700_000_003_000,
        invoked_function_arn: "arn:aws:lambda:us-east-1:123456789012:function:HelloWorld"
            .to_owned(),
        trace_id: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"
            .to_owned(),
        client_context: None,
        cognito_identity: Some(
            r#"{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}"#.to_owned(),
        ),
    }
}

const NEXT: &str = "/2018-06-01/runtime/invocation/next";

#[tokio::test]
async fn full_cycle_with_long_poll_and_warm_reuse() {
    let mut api = RuntimeApi::bind().await.unwrap();
    assert_eq!(
        api.runtime_api_env(),
        format!("127.0.0.1:{}", api.addr().port())
    );
    assert_eq!(api.state(), RuntimeState::Started);
    let mut c = Client::connect(&api).await;

    // The /next is parked: no invocation is queued yet.
    c.send("GET", NEXT, &[], b"").await;
    assert_eq!(api.init_event().await, Some(InitEvent::Ready));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(api.state(), RuntimeState::Ready);

    let rx = api.dispatch(invocation("req-1")).unwrap();
    let next = c.read().await;
    assert_eq!(next.status, 200);
    assert_eq!(next.body, r#"{"greeter":"me"}"#);
    assert_eq!(next.headers["lambda-runtime-aws-request-id"], "req-1");
    assert_eq!(next.headers["lambda-runtime-deadline-ms"], "1700000003000");
    assert_eq!(
        next.headers["lambda-runtime-invoked-function-arn"],
        "arn:aws:lambda:us-east-1:123456789012:function:HelloWorld"
    );
    assert_eq!(
        next.headers["lambda-runtime-trace-id"],
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"
    );
    assert_eq!(next.headers["content-type"], "application/json");
    assert_eq!(
        next.headers["lambda-runtime-cognito-identity"],
        r#"{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}"#
    );
    assert!(!next.headers.contains_key("lambda-runtime-client-context"));
    assert_eq!(api.state(), RuntimeState::Running);

    let r = c
        .call(
            "POST",
            "/2018-06-01/runtime/invocation/req-1/response",
            &[],
            b"\"hi\"",
        )
        .await;
    assert_eq!((r.status, r.body.as_str()), (202, r#"{"status":"OK"}"#));
    assert_eq!(
        rx.await.unwrap(),
        InvocationResult::Response(Bytes::from_static(b"\"hi\""))
    );
    assert_eq!(api.state(), RuntimeState::ResponseSent);

    // Warm: the invocation is queued first, then taken by the next /next immediately.
    let rx = api.dispatch(invocation("req-2")).unwrap();
    let next = c.call("GET", NEXT, &[], b"").await;
    assert_eq!(next.headers["lambda-runtime-aws-request-id"], "req-2");
    let r = c
        .call(
            "POST",
            "/2018-06-01/runtime/invocation/req-2/error",
            &[("Lambda-Runtime-Function-Error-Type", "Unhandled")],
            br#"{"errorMessage":"boom","errorType":"Error"}"#,
        )
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(
        rx.await.unwrap(),
        InvocationResult::Error {
            error_type: Some("Unhandled".to_owned()),
            body: Bytes::from_static(br#"{"errorMessage":"boom","errorType":"Error"}"#),
        }
    );
}

#[tokio::test]
async fn illegal_transitions_are_403_and_unknown_ids_400() {
    let api = RuntimeApi::bind().await.unwrap();
    let mut c = Client::connect(&api).await;

    let r = c
        .call(
            "POST",
            "/2018-06-01/runtime/invocation/nope/response",
            &[],
            b"1",
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body,
        r#"{"errorMessage":"State transition from Started to InvocationResponse failed for runtime. Error: State transition is not allowed","errorType":"InvalidStateTransition"}"#
    );

    let rx = api.dispatch(invocation("req-1")).unwrap();
    assert!(matches!(
        api.dispatch(invocation("req-x")),
        Err(DispatchError::Busy)
    ));
    c.call("GET", NEXT, &[], b"").await;

    // Running: a wrong id is refused without moving the state machine.
    let r = c
        .call(
            "POST",
            "/2018-06-01/runtime/invocation/other/response",
            &[],
            b"1",
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        r#"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#
    );
    assert_eq!(api.state(), RuntimeState::Running);

    // /next before answering is not allowed.
    let r = c.call("GET", NEXT, &[], b"").await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body,
        r#"{"errorMessage":"State transition from Running to Ready failed for runtime. Error: State transition is not allowed","errorType":"InvalidStateTransition"}"#
    );

    let r = c
        .call(
            "POST",
            "/2018-06-01/runtime/invocation/req-1/response",
            &[],
            b"1",
        )
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(
        rx.await.unwrap(),
        InvocationResult::Response(Bytes::from_static(b"1"))
    );

    // Answering twice.
    let r = c
        .call(
            "POST",
            "/2018-06-01/runtime/invocation/req-1/response",
            &[],
            b"1",
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body,
        r#"{"errorMessage":"State transition from RuntimeResponseSentState to InvocationResponse failed for runtime. Error: State transition is not allowed","errorType":"InvalidStateTransition"}"#
    );

    // init/error after init.
    let r = c
        .call("POST", "/2018-06-01/runtime/init/error", &[], b"{}")
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body,
        r#"{"errorMessage":"State transition from RuntimeResponseSentState to InitError failed for runtime. Error: State transition is not allowed","errorType":"InvalidStateTransition"}"#
    );

    let r = c
        .call(
            "GET",
            "/2018-06-01/runtime/invocation/req-1/response",
            &[],
            b"",
        )
        .await;
    assert_eq!(r.status, 405);
    let r = c.call("GET", "/2018-06-01/runtime/unknown", &[], b"").await;
    assert_eq!((r.status, r.body.as_str()), (404, "404 page not found\n"));
}

#[tokio::test]
async fn init_error_is_reported_and_terminal() {
    let mut api = RuntimeApi::bind().await.unwrap();
    let mut c = Client::connect(&api).await;
    let body = br#"{"errorMessage":"Unable to import module 'x': No module named 'x'","errorType":"Runtime.ImportModuleError","requestId":"","stackTrace":[]}"#;
    let r = c
        .call(
            "POST",
            "/2018-06-01/runtime/init/error",
            &[(
                "Lambda-Runtime-Function-Error-Type",
                "Runtime.ImportModuleError",
            )],
            body,
        )
        .await;
    assert_eq!((r.status, r.body.as_str()), (202, r#"{"status":"OK"}"#));
    assert_eq!(
        api.init_event().await,
        Some(InitEvent::Error {
            error_type: Some("Runtime.ImportModuleError".to_owned()),
            body: Bytes::from_static(body),
        })
    );
    assert_eq!(api.state(), RuntimeState::InitError);
    let r = c.call("GET", NEXT, &[], b"").await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body,
        r#"{"errorMessage":"State transition from InitError to Ready failed for runtime. Error: State transition is not allowed","errorType":"InvalidStateTransition"}"#
    );
}

#[tokio::test]
async fn oversized_response_fails_the_invocation() {
    let api = RuntimeApi::bind().await.unwrap();
    let mut c = Client::connect(&api).await;
    let rx = api.dispatch(invocation("big")).unwrap();
    c.call("GET", NEXT, &[], b"").await;
    let body = vec![b'a'; MAX_PAYLOAD_BYTES + 1];
    let r = c
        .call(
            "POST",
            "/2018-06-01/runtime/invocation/big/response",
            &[],
            &body,
        )
        .await;
    assert_eq!(r.status, 413);
    assert_eq!(
        r.body,
        r#"{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}"#
    );
    assert_eq!(rx.await.unwrap(), InvocationResult::ResponseTooLarge);
    assert_eq!(api.state(), RuntimeState::ResponseSent);

    // Exactly the limit is accepted.
    let rx = api.dispatch(invocation("edge")).unwrap();
    let mut c = Client::connect(&api).await;
    c.call("GET", NEXT, &[], b"").await;
    let body = vec![b'a'; MAX_PAYLOAD_BYTES];
    let r = c
        .call(
            "POST",
            "/2018-06-01/runtime/invocation/edge/response",
            &[],
            &body,
        )
        .await;
    assert_eq!(r.status, 202);
    match rx.await.unwrap() {
        InvocationResult::Response(b) => assert_eq!(b.len(), MAX_PAYLOAD_BYTES),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn dropping_the_server_closes_the_listener() {
    let api = RuntimeApi::bind().await.unwrap();
    let addr = api.addr();
    drop(api);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(TcpStream::connect(addr).await.is_err());
}
