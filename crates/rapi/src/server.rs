//! The hyper service behind one [`crate::RuntimeApi`]: routing, the per-environment state, and
//! the rendering of RIE-style error bodies.

use std::convert::Infallible;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::state::{self, InvalidTransition, RuntimeState, Transition};
use crate::{InitEvent, Invocation, InvocationResult, MAX_PAYLOAD_BYTES, headers};

const PREFIX: &str = "/2018-06-01/runtime/";

/// An invocation waiting for `/next`, with the channel its answer goes back on.
pub(crate) struct Pending {
    pub(crate) invocation: Invocation,
    pub(crate) reply: oneshot::Sender<InvocationResult>,
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending")
            .field("request_id", &self.invocation.request_id)
            .finish()
    }
}

struct InFlight {
    request_id: String,
    reply: oneshot::Sender<InvocationResult>,
}

struct Machine {
    state: RuntimeState,
    in_flight: Option<InFlight>,
    init_tx: Option<oneshot::Sender<InitEvent>>,
}

/// State of one environment. The std mutex is per environment and never held across an await.
pub(crate) struct Shared {
    machine: Mutex<Machine>,
    /// Only `/next` takes from the queue; the async mutex serialises concurrent `/next` calls.
    next_rx: tokio::sync::Mutex<mpsc::Receiver<Pending>>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("state", &self.state())
            .finish()
    }
}

impl Shared {
    pub(crate) fn new(
        next_rx: mpsc::Receiver<Pending>,
        init_tx: oneshot::Sender<InitEvent>,
    ) -> Self {
        Self {
            machine: Mutex::new(Machine {
                state: RuntimeState::Started,
                in_flight: None,
                init_tx: Some(init_tx),
            }),
            next_rx: tokio::sync::Mutex::new(next_rx),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Machine> {
        // The guarded data stays consistent even if a holder panicked: every update is one
        // assignment.
        self.machine.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn state(&self) -> RuntimeState {
        self.lock().state
    }
}

/// Accepts connections until cancelled; each connection is served on its own task.
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>, cancel: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            () = cancel.cancelled() => return,
            r = listener.accept() => r,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Typically EMFILE; back off instead of spinning.
                tracing::debug!(%error, "runtime API accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        let cancel = cancel.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(handle(&shared, req).await) }
            });
            let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
            tokio::select! {
                r = conn => if let Err(error) = r {
                    tracing::debug!(%error, "runtime API connection ended");
                },
                () = cancel.cancelled() => {}
            }
        });
    }
}

async fn handle(shared: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let Some(rest) = req.uri().path().strip_prefix(PREFIX) else {
        return not_found();
    };
    let rest = rest.to_owned();
    let method = req.method().clone();
    match rest.as_str() {
        "invocation/next" if method == Method::GET => next(shared).await,
        "init/error" if method == Method::POST => init_error(shared, req).await,
        "invocation/next" | "init/error" => method_not_allowed(),
        _ => {
            let Some((id, kind)) = rest
                .strip_prefix("invocation/")
                .and_then(|r| r.split_once('/'))
            else {
                return not_found();
            };
            let transition = match kind {
                "response" => Transition::InvocationResponse,
                "error" => Transition::InvocationErrorResponse,
                _ => return not_found(),
            };
            if id.is_empty() || id.contains('/') {
                return not_found();
            }
            if method != Method::POST {
                return method_not_allowed();
            }
            respond(shared, id, transition, req).await
        }
    }
}

/// `GET /next`: park until an invocation is queued, then hand it out.
async fn next(shared: &Shared) -> Response<Full<Bytes>> {
    {
        let mut m = shared.lock();
        match state::apply(m.state, Transition::Ready) {
            Ok(to) => {
                if m.state == RuntimeState::Started
                    && let Some(tx) = m.init_tx.take()
                {
                    let _ = tx.send(InitEvent::Ready);
                }
                tracing::debug!(from = %m.state, to = %to, "runtime transition");
                m.state = to;
            }
            Err(e) => return invalid_transition(&e),
        }
    }
    let mut rx = shared.next_rx.lock().await;
    loop {
        let Some(pending) = rx.recv().await else {
            return internal_error();
        };
        // The invoker gave up before delivery (timeout, shutdown): skip it.
        if pending.reply.is_closed() {
            continue;
        }
        // No await from here on: once taken from the queue, the invocation is delivered.
        let Pending { invocation, reply } = pending;
        {
            let mut m = shared.lock();
            m.state = RuntimeState::Running;
            m.in_flight = Some(InFlight {
                request_id: invocation.request_id.clone(),
                reply,
            });
        }
        return next_response(invocation);
    }
}

fn next_response(inv: Invocation) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(inv.payload));
    let h = resp.headers_mut();
    put(h, headers::REQUEST_ID, &inv.request_id);
    put(h, headers::DEADLINE_MS, &inv.deadline_ms.to_string());
    put(h, headers::INVOKED_FUNCTION_ARN, &inv.invoked_function_arn);
    put(h, headers::TRACE_ID, &inv.trace_id);
    if let Some(cc) = &inv.client_context {
        put(h, headers::CLIENT_CONTEXT, cc);
    }
    if let Some(ci) = &inv.cognito_identity {
        put(h, headers::COGNITO_IDENTITY, ci);
    }
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// Inserts a header, skipping values HTTP cannot carry (control characters in a client
/// context, say) rather than failing the whole hand-off.
fn put(h: &mut HeaderMap, name: &'static str, value: &str) {
    match HeaderValue::from_str(value) {
        Ok(v) => {
            h.insert(name, v);
        }
        Err(_) => tracing::debug!(header = name, "runtime API header value not representable"),
    }
}

enum BodyError {
    TooLarge,
    Truncated,
}

async fn read_body(body: Incoming) -> Result<Bytes, BodyError> {
    match Limited::new(body, MAX_PAYLOAD_BYTES).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::Truncated),
    }
}

fn error_type_header(req: &Request<Incoming>) -> Option<String> {
    req.headers()
        .get(headers::FUNCTION_ERROR_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `POST /invocation/{id}/response` and `/error`.
async fn respond(
    shared: &Shared,
    id: &str,
    transition: Transition,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    // The body is read first so that a refused call leaves the keep-alive connection usable;
    // validation still happens before any transition, because transitions are irreversible.
    let error_type = error_type_header(&req);
    let body = read_body(req.into_body()).await;
    if let Err(BodyError::Truncated) = body {
        return truncated();
    }
    let mut m = shared.lock();
    if let Some(resp) = check_in_flight(&m, id, transition) {
        return resp;
    }
    let Some(in_flight) = m.in_flight.take() else {
        return invalid_request_id();
    };
    tracing::debug!(from = %m.state, to = transition.target_name(), request_id = id, "runtime transition");
    m.state = RuntimeState::ResponseSent;
    drop(m);
    let (result, resp) = match body {
        Ok(body) if transition == Transition::InvocationResponse => {
            (InvocationResult::Response(body), accepted())
        }
        Ok(body) => (InvocationResult::Error { error_type, body }, accepted()),
        Err(_) => (InvocationResult::ResponseTooLarge, too_large()),
    };
    // The invoker may have timed out meanwhile; then nobody is listening and that is fine.
    let _ = in_flight.reply.send(result);
    resp
}

/// Validates a `/response` or `/error` call; `Some` is the refusal to send back.
fn check_in_flight(m: &Machine, id: &str, transition: Transition) -> Option<Response<Full<Bytes>>> {
    if let Err(e) = state::apply(m.state, transition) {
        return Some(invalid_transition(&e));
    }
    match &m.in_flight {
        Some(f) if f.request_id == id => None,
        _ => Some(invalid_request_id()),
    }
}

/// `POST /init/error`.
async fn init_error(shared: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let error_type = error_type_header(&req);
    let body = match read_body(req.into_body()).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => return too_large(),
        Err(BodyError::Truncated) => return truncated(),
    };
    let mut m = shared.lock();
    match state::apply(m.state, Transition::InitError) {
        Ok(to) => {
            tracing::debug!(from = %m.state, to = %to, "runtime transition");
            m.state = to;
            if let Some(tx) = m.init_tx.take() {
                let _ = tx.send(InitEvent::Error { error_type, body });
            }
            accepted()
        }
        Err(e) => invalid_transition(&e),
    }
}

fn json(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn error_body(status: StatusCode, error_type: &str, message: &str) -> Response<Full<Bytes>> {
    // Field order as the RIE's ErrorResponse struct serialises it.
    let body = serde_json::json!({ "errorMessage": message, "errorType": error_type });
    json(status, Bytes::from(body.to_string()))
}

fn accepted() -> Response<Full<Bytes>> {
    json(
        StatusCode::ACCEPTED,
        Bytes::from_static(br#"{"status":"OK"}"#),
    )
}

fn invalid_transition(e: &InvalidTransition) -> Response<Full<Bytes>> {
    error_body(
        StatusCode::FORBIDDEN,
        "InvalidStateTransition",
        &e.to_string(),
    )
}

fn invalid_request_id() -> Response<Full<Bytes>> {
    error_body(
        StatusCode::BAD_REQUEST,
        "InvalidRequestID",
        "Invalid request ID",
    )
}

fn too_large() -> Response<Full<Bytes>> {
    error_body(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLarge",
        &format!("Exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes)."),
    )
}

fn truncated() -> Response<Full<Bytes>> {
    error_body(
        StatusCode::BAD_REQUEST,
        "TruncatedHTTPRequest",
        "HTTP request detected as truncated",
    )
}

fn internal_error() -> Response<Full<Bytes>> {
    error_body(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalServerError",
        "Internal Server Error",
    )
}

fn not_found() -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(b"404 page not found\n")));
    *r.status_mut() = StatusCode::NOT_FOUND;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn method_not_allowed() -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    r
}
