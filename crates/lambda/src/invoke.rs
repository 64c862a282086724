//! Invoke: the operation, and the [`Invoker`] the data plane calls.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use portico_core::{
    AwsError, BoxFuture, InvocationType, InvokeRequest, InvokeResult, Invoker, Scope,
};
use portico_model::binding::Operation;
use portico_model::lambda::InvocationRequest;
use portico_protocol::{OperationInput, OperationOutput, decode};
use portico_sandbox::InvokeOutcome;

use crate::Lambda;
use crate::concurrency::{Account, Gate, Queued, admit, enqueue};
use crate::function::{not_found, resolve};
use crate::policy;
use crate::registry::Version;
use portico_sandbox::InvokeInput;

/// Lambda's synchronous payload limit, request and response alike.
pub(crate) const MAX_SYNC_PAYLOAD: usize = 6 * 1024 * 1024;
/// The limit for asynchronous (`Event`) payloads.
const MAX_ASYNC_PAYLOAD: usize = 1024 * 1024;

fn parse_invocation_type(value: Option<&str>) -> Result<InvocationType, AwsError> {
    match value {
        None | Some("RequestResponse") => Ok(InvocationType::RequestResponse),
        Some("Event") => Ok(InvocationType::Event),
        Some("DryRun") => Ok(InvocationType::DryRun),
        Some(other) => Err(AwsError::validation(format!(
            "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
        ))),
    }
}

fn check_payload(payload: &[u8], invocation_type: InvocationType) -> Result<(), AwsError> {
    let limit = if invocation_type == InvocationType::Event {
        MAX_ASYNC_PAYLOAD
    } else {
        MAX_SYNC_PAYLOAD
    };
    if payload.len() > limit {
        return Err(AwsError::request_too_large(format!(
            "Request must be smaller than {limit} bytes for the InvokeFunction operation"
        )));
    }
    if !payload.iter().all(u8::is_ascii_whitespace)
        && let Err(error) = serde_json::from_slice::<serde::de::IgnoredAny>(payload)
    {
        return Err(AwsError::invalid_request_content(format!(
            "Could not parse request body into json: Could not parse payload into json: {error}"
        )));
    }
    Ok(())
}

/// Delays before the second and third attempt of a failed asynchronous invocation (Lambda's).
pub(crate) const ASYNC_RETRY_DELAYS: [Duration; 2] =
    [Duration::from_secs(60), Duration::from_secs(120)];
/// Longest pause between admission attempts of a throttled asynchronous invocation.
const ASYNC_THROTTLE_BACKOFF_MAX: Duration = Duration::from_secs(5);

fn access_denied(arn: &str) -> AwsError {
    AwsError::new(
        "AccessDeniedException",
        403,
        format!(
            "User: apigateway.amazonaws.com is not authorized to perform: lambda:InvokeFunction on resource: {arn} because no resource-based policy allows the lambda:InvokeFunction action"
        ),
    )
}

impl Lambda {
    /// Runs one invocation (for the `Invoker`, the `Invoke` operation and function URLs).
    pub(crate) async fn run(&self, request: InvokeRequest) -> Result<InvokeResult, AwsError> {
        let scope = Scope::new(request.account_id.clone(), request.region.clone());
        let qualifier = request.qualifier.as_deref();
        let missing = || not_found(&scope, &request.function_name, qualifier);
        let function = self
            .registry
            .get(&request.account_id, &request.region, &request.function_name)
            .ok_or_else(missing)?;
        let resolved = function.resolve(qualifier).ok_or_else(missing)?;
        let unqualified_arn = function
            .stored
            .configuration
            .function_arn
            .clone()
            .unwrap_or_default();
        let invoked_arn = match qualifier {
            Some(q) => format!("{unqualified_arn}:{q}"),
            None => unqualified_arn,
        };
        // A call on behalf of API Gateway (it names a source ARN) needs a resource-policy
        // grant, whether or not the function has a policy at all, as on AWS.
        if let Some(source_arn) = request.source_arn.as_deref()
            && self.enforces_permissions()
            && !policy::allows(&function.stored, &resolved.policy_key, source_arn)
        {
            return Err(access_denied(&invoked_arn));
        }
        check_payload(&request.payload, request.invocation_type)?;
        let request_id = portico_core::ids::request_id();
        let mut input = InvokeInput::new(request_id.clone(), request.payload);
        input.client_context = request.client_context;
        if qualifier.is_some() {
            input.invoked_function_arn = Some(invoked_arn);
        }
        let version = resolved.version;
        let executed_version = version.name().to_owned();
        let empty = |request_id: String, executed_version: String| InvokeResult {
            payload: Bytes::new(),
            function_error: None,
            executed_version,
            log_result: None,
            request_id,
        };
        match request.invocation_type {
            InvocationType::DryRun => Ok(empty(request_id, executed_version)),
            InvocationType::Event => {
                let queued = enqueue(&function.gate, input.payload.len())?;
                let gate = function.gate.clone();
                let account = self.account.clone();
                let delays = self.async_retry_delays;
                tokio::spawn(run_event(version, gate, account, input, delays, queued));
                Ok(empty(request_id, executed_version))
            }
            InvocationType::RequestResponse => {
                let slot = admit(&function.gate, &self.account)?;
                let done = version.pool.invoke(input, request.log_tail, slot).await?;
                let (payload, function_error) = match done.outcome {
                    InvokeOutcome::Response(payload) => (payload, None),
                    InvokeOutcome::FunctionError { payload } => {
                        (payload, Some("Unhandled".to_owned()))
                    }
                    failed @ InvokeOutcome::Failed { .. } => (
                        failed.failure_payload().unwrap_or_default(),
                        Some("Unhandled".to_owned()),
                    ),
                };
                let log_result = done
                    .log_tail
                    .map(|tail| base64::engine::general_purpose::STANDARD.encode(tail));
                Ok(InvokeResult {
                    payload,
                    function_error,
                    executed_version,
                    log_result,
                    request_id,
                })
            }
        }
    }
}

/// One asynchronous invocation: waits while throttled instead of failing, and retries a
/// failed run twice, as Lambda's event queue does. Ends when the function is deleted.
async fn run_event(
    version: Arc<Version>,
    gate: Arc<Gate>,
    account: Arc<Account>,
    input: InvokeInput,
    delays: [Duration; 2],
    // Held until the invocation is done with, freeing its place in the queue.
    _queued: Queued,
) {
    for attempt in 0..=delays.len() {
        let mut backoff = Duration::from_millis(50);
        let slot = loop {
            match admit(&gate, &account) {
                Ok(slot) => break slot,
                Err(_) => {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(ASYNC_THROTTLE_BACKOFF_MAX);
                }
            }
        };
        let outcome = version.pool.invoke(input.clone(), false, slot).await;
        match outcome {
            Err(_) => return,
            Ok(done) if matches!(done.outcome, InvokeOutcome::Response(_)) => return,
            Ok(_) => {
                let Some(delay) = delays.get(attempt) else {
                    tracing::warn!(request_id = %input.request_id, function = %version.pool.spec().function_name, "asynchronous invocation failed after its retries");
                    return;
                };
                tracing::info!(request_id = %input.request_id, attempt = attempt + 1, "asynchronous invocation failed; retrying");
                tokio::time::sleep(*delay).await;
            }
        }
    }
}

impl Invoker for Lambda {
    fn invoke(&self, request: InvokeRequest) -> BoxFuture<'_, Result<InvokeResult, AwsError>> {
        Box::pin(self.run(request))
    }
}

/// The `Invoke` operation.
pub(crate) async fn invoke_operation(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: OperationInput,
) -> Result<OperationOutput, AwsError> {
    let req: InvocationRequest = decode(input.input)?;
    let invocation_type = parse_invocation_type(req.invocation_type.as_deref())?;
    let (target, reference) = resolve(scope, req.function_name, req.qualifier.as_deref())?;
    let qualifier = req.qualifier.or(reference.qualifier);
    let result = lambda
        .run(InvokeRequest {
            region: target.region,
            account_id: target.account_id,
            function_name: reference.name,
            qualifier,
            payload: input.payload,
            invocation_type,
            client_context: req.client_context,
            source_arn: None,
            log_tail: req.log_type.as_deref() == Some("Tail"),
        })
        .await?;
    let status = match invocation_type {
        InvocationType::RequestResponse => op.success_code,
        InvocationType::Event => 202,
        InvocationType::DryRun => 204,
    };
    // Only a synchronous answer names the version that ran (AWS's Event and DryRun answers
    // carry just the status).
    // The answer carries the invocation's request id (the function's `context.awsRequestId`).
    let mut headers = vec![("x-amzn-RequestId", result.request_id)];
    if invocation_type == InvocationType::RequestResponse {
        headers.push(("X-Amz-Executed-Version", result.executed_version));
    }
    if let Some(error) = result.function_error {
        headers.push(("X-Amz-Function-Error", error));
    }
    if let Some(log) = result.log_result {
        headers.push(("X-Amz-Log-Result", log));
    }
    let has_body = invocation_type == InvocationType::RequestResponse;
    Ok(OperationOutput {
        status,
        headers,
        body: result.payload,
        content_type: has_body.then_some("application/json"),
    })
}
