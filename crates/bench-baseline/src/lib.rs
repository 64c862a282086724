//! The load bench's baseline: a bare hyper 1 HTTP/1.1 server that answers every request with the
//! exact status, `Content-Type` and body Portico answers for the seed walkthrough
//! (`GET /greeting?greeter=me` through an AWS custom integration to the HelloWorld function).
//!
//! It does no routing, no parsing of the request beyond what hyper needs, and no work per
//! request besides cloning a static body: whatever it reaches is the limit of this machine with
//! this load generator, and `bench/run` reports every target as a ratio against it.
//!
//! It is not part of Portico and is never shipped; it exists only to be measured beside it.

use std::convert::Infallible;
use std::io;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The body the seed scenario answers: the HelloWorld function's result, passed through unchanged.
pub const BODY: &[u8] =
    br#"{"statusCode":200,"headers":{"Content-Type":"*/*"},"body":"Hello, me!"}"#;

/// The `Content-Type` of that answer (API Gateway's default for a passthrough integration response).
pub const CONTENT_TYPE_VALUE: &str = "application/json";

/// The one answer, built per request from static parts (no allocation for the body: `Bytes`
/// from a `'static` slice is a pointer and a length).
pub fn answer() -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(BODY)));
    *response.status_mut() = StatusCode::OK;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_VALUE));
    response
}

/// Accepts connections on `listener` forever, serving each on its own task with HTTP/1.1
/// keep-alive. Returns only if accepting fails for a reason other than a transient one.
pub async fn serve(listener: TcpListener) -> io::Result<()> {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(pair) => pair,
            // Running out of descriptors or a peer resetting before accept is transient under
            // load; the load generator will retry, so keep accepting instead of dying.
            Err(err) if is_transient(&err) => continue,
            Err(err) => return Err(err),
        };
        // Latency, not throughput of large bodies, is what is measured: send small answers
        // at once instead of waiting for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service =
                service_fn(|_req: Request<Incoming>| async { Ok::<_, Infallible>(answer()) });
            // A client that disconnects mid-request is normal at the end of a timed load run.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn is_transient(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    ) || err.raw_os_error() == Some(24) // EMFILE: too many open files
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    async fn start() -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(serve(listener));
        addr
    }

    /// Sends one raw request and reads the whole answer (the request asks to close).
    async fn raw(addr: std::net::SocketAddr, request: &str) -> String {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(request.as_bytes())
            .await
            .expect("write request");
        let mut out = Vec::new();
        stream.read_to_end(&mut out).await.expect("read answer");
        String::from_utf8(out).expect("utf-8 answer")
    }

    #[tokio::test]
    async fn answers_the_seed_bytes() {
        let addr = start().await;
        let text = raw(
            addr,
            "GET /restapis/x/test/_user_request_/greeting?greeter=me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        )
        .await;
        let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        let head_lower = head.to_ascii_lowercase();
        assert!(
            head_lower.contains("\r\ncontent-type: application/json\r\n"),
            "{head}"
        );
        assert!(head_lower.contains("\r\ncontent-length: 71\r\n"), "{head}");
        assert_eq!(
            body,
            r#"{"statusCode":200,"headers":{"Content-Type":"*/*"},"body":"Hello, me!"}"#
        );
    }

    #[tokio::test]
    async fn answers_any_method_and_path_the_same() {
        let addr = start().await;
        let text = raw(
            addr,
            "POST /anything/else HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
        )
        .await;
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.ends_with(r#""body":"Hello, me!"}"#), "{text}");
    }

    #[tokio::test]
    async fn keeps_the_connection_alive_between_requests() {
        let addr = start().await;
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let expected_len = BODY.len();
        for _ in 0..2 {
            stream
                .write_all(request.as_bytes())
                .await
                .expect("write request");
            // Read until the head is complete, then exactly the body's length.
            let mut buf = Vec::new();
            let mut chunk = [0u8; 512];
            let body_start = loop {
                let n = stream.read(&mut chunk).await.expect("read");
                assert!(n > 0, "server closed a keep-alive connection");
                buf.extend_from_slice(&chunk[..n]);
                if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break pos + 4;
                }
            };
            while buf.len() < body_start + expected_len {
                let n = stream.read(&mut chunk).await.expect("read body");
                assert!(n > 0, "server closed mid-body");
                buf.extend_from_slice(&chunk[..n]);
            }
            assert_eq!(&buf[body_start..], BODY);
        }
    }
}
