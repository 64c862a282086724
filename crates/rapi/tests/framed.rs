//! The private framed channel, driven by a raw Unix-socket client.

use bytes::Bytes;
use portico_rapi::{FramedChannel, InitEvent, Invocation, InvocationResult, MAX_PAYLOAD_BYTES};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

fn frame(kind: u8, meta: &[u8], payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(3 + meta.len() + payload.len()).unwrap();
    let mut f = len.to_be_bytes().to_vec();
    f.push(kind);
    f.extend_from_slice(&u16::try_from(meta.len()).unwrap().to_be_bytes());
    f.extend_from_slice(meta);
    f.extend_from_slice(payload);
    f
}

async fn read(s: &mut UnixStream) -> (u8, serde_json::Value, Vec<u8>) {
    let len = s.read_u32().await.unwrap() as usize;
    let mut buf = vec![0; len];
    s.read_exact(&mut buf).await.unwrap();
    let meta_len = usize::from(u16::from_be_bytes([buf[1], buf[2]]));
    let meta = serde_json::from_slice(&buf[3..3 + meta_len]).unwrap();
    (buf[0], meta, buf[3 + meta_len..].to_vec())
}

fn invocation(id: &str) -> Invocation {
    Invocation {
        request_id: id.to_owned(),
        payload: Bytes::from_static(br#"{"greeter":"me"}"#),
        deadline_ms: 42,
        invoked_function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".to_owned(),
        trace_id: "Root=1-0-0;Parent=0;Sampled=0".to_owned(),
        client_context: Some("{}".to_owned()),
        cognito_identity: None,
    }
}

#[tokio::test]
async fn ready_invoke_response_error_and_too_large() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rt.sock");
    let mut ch = FramedChannel::bind(&path).unwrap();
    let mut s = UnixStream::connect(&path).await.unwrap();
    // Only one connection is ever accepted.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert!(UnixStream::connect(&path).await.is_err());

    s.write_all(&frame(1, b"", b"")).await.unwrap();
    assert_eq!(ch.init_event().await, Some(InitEvent::Ready));

    let rx = ch.dispatch(invocation("a")).unwrap();
    let (kind, meta, payload) = read(&mut s).await;
    assert_eq!(kind, 16);
    assert_eq!(
        meta,
        serde_json::json!({
            "lambda-runtime-aws-request-id": "a",
            "lambda-runtime-deadline-ms": "42",
            "lambda-runtime-invoked-function-arn": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "lambda-runtime-trace-id": "Root=1-0-0;Parent=0;Sampled=0",
            "lambda-runtime-client-context": "{}",
        })
    );
    assert_eq!(payload, br#"{"greeter":"me"}"#);
    s.write_all(&frame(3, b"", b"\"ok\"")).await.unwrap();
    assert_eq!(
        rx.await.unwrap(),
        InvocationResult::Response(Bytes::from_static(b"\"ok\""))
    );

    let rx = ch.dispatch(invocation("b")).unwrap();
    read(&mut s).await;
    s.write_all(&frame(4, b"Unhandled", b"{\"errorType\":\"Error\"}"))
        .await
        .unwrap();
    assert_eq!(
        rx.await.unwrap(),
        InvocationResult::Error {
            error_type: Some("Unhandled".to_owned()),
            body: Bytes::from_static(b"{\"errorType\":\"Error\"}")
        }
    );

    let rx = ch.dispatch(invocation("c")).unwrap();
    read(&mut s).await;
    let big = vec![b'x'; MAX_PAYLOAD_BYTES + 1];
    let _ = s.write_all(&frame(3, b"", &big)).await;
    assert_eq!(rx.await.unwrap(), InvocationResult::ResponseTooLarge);

    drop(ch);
    assert!(!path.exists());
}

#[tokio::test]
async fn init_error_and_protocol_violation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rt.sock");
    let mut ch = FramedChannel::bind(&path).unwrap();
    let mut s = UnixStream::connect(&path).await.unwrap();
    s.write_all(&frame(
        2,
        b"Runtime.ImportModuleError",
        b"{\"errorMessage\":\"x\"}",
    ))
    .await
    .unwrap();
    assert_eq!(
        ch.init_event().await,
        Some(InitEvent::Error {
            error_type: Some("Runtime.ImportModuleError".to_owned()),
            body: Bytes::from_static(b"{\"errorMessage\":\"x\"}")
        })
    );

    let path = dir.path().join("rt2.sock");
    let mut ch = FramedChannel::bind(&path).unwrap();
    let mut s = UnixStream::connect(&path).await.unwrap();
    s.write_all(&frame(1, b"", b"")).await.unwrap();
    assert_eq!(ch.init_event().await, Some(InitEvent::Ready));
    let rx = ch.dispatch(invocation("a")).unwrap();
    read(&mut s).await;
    // READY again instead of an answer: the channel ends and the invoker learns it.
    s.write_all(&frame(1, b"", b"")).await.unwrap();
    assert!(rx.await.is_err());
}
