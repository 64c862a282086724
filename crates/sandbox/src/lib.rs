//! One execution environment: code extraction, runtime launchers, process group, timeouts, log
//! capture.
//!
//! An [`Environment`] is one runtime process (real `node`, `python3`, or a `provided*` package's
//! own `bootstrap`) in its own process group, with its own loopback Runtime API listener
//! (`portico-rapi`). `provided*` runtimes speak the standard Runtime API. Node.js and Python run
//! our bootstraps, shipped inside the binary and written out once by the [`Launcher`]; they
//! mirror the official runtimes' handler resolution, `context` objects, log format and error
//! documents, and by default talk to us over the private framed Unix-socket channel
//! ([`Transport::Framed`]); [`Transport::RuntimeApi`] makes them use the standard HTTP Runtime
//! API through a lean hand-written client instead.
//!
//! Guarantees: a timeout or crash kills only that environment's process group; dropping an
//! environment kills it; runtime processes die with the server even on `kill -9`
//! (`PR_SET_PDEATHSIG`, set from a dedicated spawner thread that never exits); captured output is
//! bounded per invocation; a runtime that exits between invocations is respawned by the next one.
//!
//! Memory: when the machine delegates the cgroup v2 memory controller, each environment runs in
//! its own cgroup with `memory.max` = `MemorySize` and an OOM kill answers `Runtime.OutOfMemory`;
//! otherwise `Max Memory Used` is only measured ([`memory_mode`] says which, logged once).
//!
//! What this crate is not: it keeps no pool, applies no concurrency limit, and renders no HTTP
//! response; the Lambda service builds those on
//! [`Environment::invoke`] and [`InvokeOutcome`].

mod cgroup;
mod environment;
mod extract;
mod launcher;
mod log;
pub mod placement;
mod process;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;

pub use cgroup::{MemoryMode, memory_mode};
pub use environment::{Environment, INIT_TIMEOUT, SHUTDOWN_GRACE, StartError};
pub use extract::{ExtractError, MAX_UNZIPPED_BYTES, extract_zip};
pub use launcher::{
    Credentials, Launcher, LauncherError, RUNTIMES_ENV, RuntimeKind, Transport, parse_runtime_map,
};
pub use log::{InvocationLog, LOG_CAPACITY_BYTES, MAX_LINE_BYTES};
pub use placement::CpuPlacement;
pub use portico_rapi::MAX_PAYLOAD_BYTES;
pub use process::group_alive;

/// `errorMessage` of a `Function.ResponseSizeTooLarge` failure.
pub const RESPONSE_TOO_LARGE_MESSAGE: &str =
    "Response payload size exceeded maximum allowed payload size (6291556 bytes).";

/// Everything needed to start environments of one function version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSpec {
    /// `AWS_LAMBDA_FUNCTION_NAME`.
    pub function_name: String,
    /// Unqualified function ARN; the default `Lambda-Runtime-Invoked-Function-Arn`.
    pub function_arn: String,
    /// `$LATEST` or a published version number.
    pub version: String,
    /// Runtime id: `nodejs20.x`, `python3.12`, `provided.al2023`, …
    pub runtime: String,
    /// Handler string (`index.handler`, `lambda_function.lambda_handler`, anything for
    /// `provided*`).
    pub handler: String,
    /// Already-extracted code (`LAMBDA_TASK_ROOT`, the working directory); only read.
    pub code_dir: PathBuf,
    /// The user's environment variables (reserved names are overridden).
    pub environment: BTreeMap<String, String>,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`; the cgroup `memory.max` when cgroups are delegated.
    pub memory_mb: u32,
    /// Invocation timeout.
    pub timeout: Duration,
    /// `AWS_REGION`.
    pub region: String,
    /// Account id (for the caller's ARNs; the runtime does not see it directly).
    pub account_id: String,
}

/// One invocation request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeInput {
    /// Request id (a UUID): `context.awsRequestId`, and in every platform log line.
    pub request_id: String,
    /// Event bytes, passed to the runtime untouched.
    pub payload: Bytes,
    /// ARN the caller used (qualified when a version or alias was named); defaults to
    /// [`FunctionSpec::function_arn`].
    pub invoked_function_arn: Option<String>,
    /// Client context JSON (already base64-decoded from `X-Amz-Client-Context`).
    pub client_context: Option<String>,
    /// Cognito identity JSON.
    pub cognito_identity: Option<String>,
    /// X-Ray trace header; a fresh one is generated when absent.
    pub trace_id: Option<String>,
}

impl InvokeInput {
    /// An input with just a request id and a payload.
    #[must_use]
    pub fn new(request_id: impl Into<String>, payload: impl Into<Bytes>) -> Self {
        Self {
            request_id: request_id.into(),
            payload: payload.into(),
            invoked_function_arn: None,
            client_context: None,
            cognito_identity: None,
            trace_id: None,
        }
    }
}

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvokeOutcome {
    /// Success: the function's result bytes (JSON as the runtime serialised it).
    Response(Bytes),
    /// The handler failed: the error document exactly as the runtime posted it
    /// (`{"errorType":..,"errorMessage":..,"trace":[..]}` for Node.js,
    /// `{"errorMessage":..,"errorType":..,"requestId":..,"stackTrace":[..]}` for Python).
    /// Answer with HTTP 200 and `X-Amz-Function-Error: Unhandled`. The environment stays warm.
    FunctionError {
        /// The error document.
        payload: Bytes,
    },
    /// The platform failed the invocation (`Sandbox.Timedout`, `Runtime.ExitError`,
    /// `Function.ResponseSizeTooLarge`, init errors such as `Runtime.ImportModuleError`). The
    /// environment is dead (its process group killed) and must be discarded.
    Failed {
        /// AWS error type.
        error_type: String,
        /// AWS error message, e.g. `RequestId: {id} Error: Task timed out after 3.00 seconds`.
        message: String,
        /// The runtime's own error document when it reported the failure itself (an init error
        /// posted to `/init/error`, with its `stackTrace`/`trace` and `requestId`): Lambda
        /// answers with it verbatim.
        document: Option<Bytes>,
    },
}

impl InvokeOutcome {
    /// The response body for a [`InvokeOutcome::Failed`] outcome: the runtime's document when
    /// there is one, else `{errorType, errorMessage}` in the field order AWS uses (`errorMessage`
    /// first only for `Function.ResponseSizeTooLarge`); `None` for other outcomes.
    #[must_use]
    pub fn failure_payload(&self) -> Option<Bytes> {
        let Self::Failed {
            error_type,
            message,
            document,
        } = self
        else {
            return None;
        };
        if let Some(doc) = document {
            return Some(doc.clone());
        }
        let t = serde_json::Value::from(error_type.as_str());
        let m = serde_json::Value::from(message.as_str());
        let body = if error_type == "Function.ResponseSizeTooLarge" {
            format!(r#"{{"errorMessage":{m},"errorType":{t}}}"#)
        } else {
            format!(r#"{{"errorType":{t},"errorMessage":{m}}}"#)
        };
        Some(Bytes::from(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pools move environments across tasks and await invocations inside spawned tasks.
    #[test]
    fn environments_and_their_futures_are_send() {
        fn send<T: Send>(_: &T) {}
        fn send_type<T: Send>() {}
        send_type::<Environment>();
        send_type::<Launcher>();
        #[allow(clippy::diverging_sub_expression, unreachable_code, unused_variables)]
        let _ = || {
            let env: &mut Environment = unimplemented!();
            send(&env.invoke(InvokeInput::new("id", "{}")));
            let env: Environment = unimplemented!();
            send(&env.shutdown());
        };
    }

    #[test]
    fn failure_payloads_use_aws_field_order() {
        let o = InvokeOutcome::Failed {
            error_type: "Sandbox.Timedout".to_owned(),
            message: "RequestId: r Error: Task timed out after 3.00 seconds".to_owned(),
            document: None,
        };
        assert_eq!(
            o.failure_payload().unwrap(),
            r#"{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: r Error: Task timed out after 3.00 seconds"}"#
        );
        let o = InvokeOutcome::Failed {
            error_type: "Function.ResponseSizeTooLarge".to_owned(),
            message: RESPONSE_TOO_LARGE_MESSAGE.to_owned(),
            document: None,
        };
        assert_eq!(
            o.failure_payload().unwrap(),
            r#"{"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}"#
        );
        assert_eq!(
            InvokeOutcome::Response(Bytes::new()).failure_payload(),
            None
        );
    }
}
