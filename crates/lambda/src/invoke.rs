//! Invoke: the operation, and the [`Invoker`] the data plane calls.

use std::sync::Arc;

use bytes::Bytes;
use portico_core::{
    AwsError, BoxFuture, InvocationType, InvokeRequest, InvokeResult, Invoker, Scope,
};
use portico_model::binding::Operation;
use portico_model::lambda::InvocationRequest;
use portico_protocol::{OperationInput, OperationOutput, decode};
use portico_sandbox::InvokeOutcome;

use crate::Lambda;
use crate::function::{not_found, resolve};
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

impl Lambda {
    async fn run(&self, request: InvokeRequest) -> Result<InvokeResult, AwsError> {
        let scope = Scope::new(request.account_id.clone(), request.region.clone());
        let function = self
            .registry
            .get(&request.account_id, &request.region, &request.function_name)
            .ok_or_else(|| {
                not_found(&scope, &request.function_name, request.qualifier.as_deref())
            })?;
        if let Some(q) = request.qualifier.as_deref()
            && q != "$LATEST"
        {
            return Err(not_found(&scope, &request.function_name, Some(q)));
        }
        check_payload(&request.payload, request.invocation_type)?;
        let request_id = portico_core::ids::request_id();
        let mut input = InvokeInput::new(request_id.clone(), request.payload);
        input.client_context = request.client_context;
        if let Some(q) = request.qualifier.as_deref() {
            let arn = function
                .configuration
                .function_arn
                .as_deref()
                .unwrap_or_default();
            input.invoked_function_arn = Some(format!("{arn}:{q}"));
        }
        let empty = |request_id: String| InvokeResult {
            payload: Bytes::new(),
            function_error: None,
            executed_version: "$LATEST".to_owned(),
            log_result: None,
            request_id,
        };
        match request.invocation_type {
            InvocationType::DryRun => Ok(empty(request_id)),
            InvocationType::Event => {
                let function = function.clone();
                tokio::spawn(async move {
                    if let Err(error) = function.pool.invoke(input).await {
                        tracing::warn!(%error, "asynchronous invocation failed");
                    }
                });
                Ok(empty(request_id))
            }
            InvocationType::RequestResponse => {
                let (payload, function_error) = match function.pool.invoke(input).await? {
                    InvokeOutcome::Response(payload) => (payload, None),
                    InvokeOutcome::FunctionError { payload } => {
                        (payload, Some("Unhandled".to_owned()))
                    }
                    failed @ InvokeOutcome::Failed { .. } => (
                        failed.failure_payload().unwrap_or_default(),
                        Some("Unhandled".to_owned()),
                    ),
                };
                Ok(InvokeResult {
                    payload,
                    function_error,
                    executed_version: "$LATEST".to_owned(),
                    log_result: None,
                    request_id,
                })
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
    let mut headers = vec![("X-Amz-Executed-Version", result.executed_version)];
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
