//! How anything invokes a Lambda function: the data plane, the Lambda `Invoke` operation and
//! (later) authorizers all go through [`Invoker`], implemented by the Lambda service.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;

use crate::AwsError;

/// A boxed, sendable future: what dyn-compatible async trait methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// `X-Amz-Invocation-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InvocationType {
    #[default]
    RequestResponse,
    Event,
    DryRun,
}

/// One invocation of a function.
#[derive(Debug, Clone)]
pub struct InvokeRequest {
    /// Region the function lives in (taken from its ARN, or the caller's region).
    pub region: String,
    /// Account the function lives in.
    pub account_id: String,
    /// The function's name (already resolved from a name, partial ARN or full ARN).
    pub function_name: String,
    /// Version or alias, `None` for `$LATEST`.
    pub qualifier: Option<String>,
    /// The event bytes.
    pub payload: Bytes,
    pub invocation_type: InvocationType,
    /// Base64 `X-Amz-Client-Context`.
    pub client_context: Option<String>,
    /// The ARN of the caller on whose behalf the function runs (`X-Amz-Source-Arn`).
    pub source_arn: Option<String>,
    /// Whether the caller wants the last 4 KB of the log (`X-Amz-Log-Type: Tail`).
    pub log_tail: bool,
}

/// What an invocation produced.
#[derive(Debug, Clone, PartialEq)]
pub struct InvokeResult {
    /// The function's result, or the error object when `function_error` is set.
    pub payload: Bytes,
    /// `X-Amz-Function-Error` (`Unhandled`) when the function failed.
    pub function_error: Option<String>,
    /// `X-Amz-Executed-Version`.
    pub executed_version: String,
    /// `X-Amz-Log-Result`: base64 of the log tail, when asked for.
    pub log_result: Option<String>,
    /// The invocation's request id.
    pub request_id: String,
}

/// Something that runs functions.
pub trait Invoker: Send + Sync {
    /// Invokes a function; errors are the ones Lambda's `Invoke` operation answers with
    /// (`ResourceNotFoundException`, `TooManyRequestsException`, ...). A function's own failure
    /// is not an error: it is an [`InvokeResult`] with `function_error` set.
    fn invoke(&self, request: InvokeRequest) -> BoxFuture<'_, Result<InvokeResult, AwsError>>;
}
