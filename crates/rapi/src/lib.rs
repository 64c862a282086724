//! Lambda Runtime API server: one loopback listener per execution environment.
//!
//! Each [`RuntimeApi`] binds `127.0.0.1:0` and serves the four runtime endpoints of
//! `http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01` (no path prefix, the only form every runtime
//! client accepts) over HTTP/1.1:
//!
//! - `GET /runtime/invocation/next`: long poll; answers with the event and the `Lambda-Runtime-*`
//!   headers (always `Lambda-Runtime-Trace-Id` and `Content-Type: application/json`, without
//!   which `awslambdaric` crashes);
//! - `POST /runtime/invocation/{id}/response` and `.../error`: `202 {"status":"OK"}`;
//! - `POST /runtime/init/error`: `202`.
//!
//! Every call is checked against the explicit [`state`] machine of the AWS Runtime Interface
//! Emulator; refused calls get `403 InvalidStateTransition`, unknown request ids `400
//! InvalidRequestID`, and a response over [`MAX_PAYLOAD_BYTES`] `413 RequestEntityTooLarge` (the
//! invoke then fails as `Function.ResponseSizeTooLarge`).
//!
//! The hand-off is a rendezvous: [`RuntimeApi::dispatch`] queues one [`Invocation`] in a
//! per-environment channel that the parked `/next` takes from, and returns a oneshot receiver
//! that the matching `/response` or `/error` completes. Nothing is shared between environments.
//!
//! Our own Node.js and Python bootstraps may instead use [`FramedChannel`], a private
//! length-prefixed protocol on a Unix socket with the same dispatch/answer API.
//!
//! What this crate is not: it spawns no process, enforces no timeout and formats no AWS
//! error for the caller; that is `portico-sandbox`'s job.

pub mod framed;
pub mod state;

mod server;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

pub use framed::FramedChannel;
pub use state::{InvalidTransition, RuntimeState, Transition};

/// Largest response (or error) body a runtime may post: 6 MB plus AWS's 100 bytes of slack.
pub const MAX_PAYLOAD_BYTES: usize = 6_291_556;

/// Header names of the Runtime API, in one place.
pub mod headers {
    /// Request id of the invocation handed out by `/next`.
    pub const REQUEST_ID: &str = "lambda-runtime-aws-request-id";
    /// Epoch milliseconds at which the invocation times out.
    pub const DEADLINE_MS: &str = "lambda-runtime-deadline-ms";
    /// ARN the caller invoked (qualified when a qualifier was used).
    pub const INVOKED_FUNCTION_ARN: &str = "lambda-runtime-invoked-function-arn";
    /// X-Ray trace header; runtimes export it as `_X_AMZN_TRACE_ID`.
    pub const TRACE_ID: &str = "lambda-runtime-trace-id";
    /// JSON client context (from `X-Amz-Client-Context`), only when given.
    pub const CLIENT_CONTEXT: &str = "lambda-runtime-client-context";
    /// JSON Cognito identity, only when given.
    pub const COGNITO_IDENTITY: &str = "lambda-runtime-cognito-identity";
    /// Error type a runtime attaches to `/error` and `/init/error`.
    pub const FUNCTION_ERROR_TYPE: &str = "lambda-runtime-function-error-type";
}

/// One invocation to hand to the runtime through `/next`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Request id (a UUID), echoed in `/response` and `/error` paths.
    pub request_id: String,
    /// Event bytes, passed through untouched.
    pub payload: Bytes,
    /// Deadline in milliseconds since the Unix epoch.
    pub deadline_ms: u64,
    /// ARN the caller invoked.
    pub invoked_function_arn: String,
    /// `Root=1-...;Parent=...;Sampled=0` trace header value.
    pub trace_id: String,
    /// Client context JSON, when the caller gave one.
    pub client_context: Option<String>,
    /// Cognito identity JSON, when there is one.
    pub cognito_identity: Option<String>,
}

/// What the runtime answered for one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvocationResult {
    /// `POST .../response`: the function's result bytes.
    Response(Bytes),
    /// `POST .../error`: the error document as posted, with its error-type header if any.
    Error {
        /// Value of `Lambda-Runtime-Function-Error-Type`, when sent.
        error_type: Option<String>,
        /// The body as posted (normally `{"errorMessage":..,"errorType":..,...}`).
        body: Bytes,
    },
    /// The runtime posted more than [`MAX_PAYLOAD_BYTES`].
    ResponseTooLarge,
}

/// How the runtime's init phase ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitEvent {
    /// The runtime called `/next` for the first time: init succeeded.
    Ready,
    /// The runtime called `/init/error`.
    Error {
        /// Value of `Lambda-Runtime-Function-Error-Type`, when sent.
        error_type: Option<String>,
        /// The error document as posted.
        body: Bytes,
    },
}

/// Why [`RuntimeApi::dispatch`] refused an invocation.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// Another invocation is still queued and not yet taken by `/next`.
    #[error("an invocation is already queued for this environment")]
    Busy,
    /// The server is shut down.
    #[error("the runtime API server is closed")]
    Closed,
}

/// The Runtime API of one execution environment. Dropping it stops the listener and every
/// connection it accepted.
#[derive(Debug)]
pub struct RuntimeApi {
    addr: SocketAddr,
    queue: mpsc::Sender<server::Pending>,
    shared: Arc<server::Shared>,
    init_rx: Option<oneshot::Receiver<InitEvent>>,
    init_event: Option<InitEvent>,
    cancel: CancellationToken,
}

impl RuntimeApi {
    /// Binds a fresh loopback listener on an ephemeral port and starts serving it.
    ///
    /// # Errors
    /// The bind error, if the loopback port cannot be opened.
    pub async fn bind() -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        // Capacity 1: one environment handles one invocation at a time.
        let (queue, queue_rx) = mpsc::channel(1);
        let (init_tx, init_rx) = oneshot::channel();
        let shared = Arc::new(server::Shared::new(queue_rx, init_tx));
        let cancel = CancellationToken::new();
        tokio::spawn(server::serve(listener, Arc::clone(&shared), cancel.clone()));
        tracing::debug!(%addr, "runtime API listening");
        Ok(Self {
            addr,
            queue,
            shared,
            init_rx: Some(init_rx),
            init_event: None,
            cancel,
        })
    }

    /// The socket address the listener is bound to.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`: `127.0.0.1:PORT`.
    #[must_use]
    pub fn runtime_api_env(&self) -> String {
        self.addr.to_string()
    }

    /// The current state of the runtime.
    #[must_use]
    pub fn state(&self) -> RuntimeState {
        self.shared.state()
    }

    /// Waits until the runtime ends its init phase (first `/next` or `/init/error`).
    ///
    /// Cancel-safe: it can sit in a `select!` next to a process-exit watch and be called again.
    /// Returns `None` only if the server is gone.
    pub async fn init_event(&mut self) -> Option<InitEvent> {
        if let Some(ev) = &self.init_event {
            return Some(ev.clone());
        }
        let rx = self.init_rx.as_mut()?;
        let ev = rx.await.ok();
        self.init_rx = None;
        self.init_event.clone_from(&ev);
        ev
    }

    /// Queues an invocation for the runtime's `/next` and returns the receiver its answer will
    /// arrive on. The receiver yields an error if the server is dropped first.
    ///
    /// # Errors
    /// [`DispatchError::Busy`] if an earlier invocation was never taken; [`DispatchError::Closed`]
    /// if the server is shut down.
    pub fn dispatch(
        &self,
        invocation: Invocation,
    ) -> Result<oneshot::Receiver<InvocationResult>, DispatchError> {
        let (reply, rx) = oneshot::channel();
        match self.queue.try_send(server::Pending { invocation, reply }) {
            Ok(()) => Ok(rx),
            Err(mpsc::error::TrySendError::Full(_)) => Err(DispatchError::Busy),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(DispatchError::Closed),
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}
