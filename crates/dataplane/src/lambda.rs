//! Lambda integrations (custom `AWS` and `AWS_PROXY`): the invocation through [`Invoker`],
//! the source ARN the resource policy is checked against, and the response rules.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::{HeaderValue, Response};
use portico_core::{AwsError, InvocationType, InvokeRequest, InvokeResult, Invoker};
use serde_json::Value;

use crate::gateway::GatewayResponse;
use crate::integration::Exchange;
use crate::proxy;
use crate::snapshot::{LambdaTarget, RequestMapping, ResponseMapping};
use crate::test_invoke::proxy_function_error;

impl Exchange<'_> {
    /// What the gateway answers when Lambda refuses the call (unknown function, no
    /// permission): 500, with a log line saying how to grant a missing permission.
    fn lambda_refused(&self, error: &AwsError, target: &LambdaTarget) -> GatewayResponse {
        if error.code == "AccessDeniedException" {
            let function = match &target.qualifier {
                Some(q) => format!("{}:{q}", target.function_name),
                None => target.function_name.clone(),
            };
            tracing::warn!(
                api = %self.stage.api_id,
                function = %function,
                source_arn = %self.source_arn(),
                grant = %format!(
                    "aws lambda add-permission --function-name {function} --statement-id apigateway-{}-{} --action lambda:InvokeFunction --principal apigateway.amazonaws.com --source-arn \"{}\"",
                    self.stage.api_id,
                    self.stage.stage_name,
                    self.source_arn()
                ),
                "Execution failed due to configuration error: Invalid permissions on Lambda function"
            );
            self.trace(|| {
                "Execution failed due to configuration error: Invalid permissions on Lambda function"
                    .to_owned()
            });
        } else {
            tracing::warn!(api = %self.stage.api_id, %error, "Execution failed due to configuration error: the Lambda function could not be invoked");
            self.trace(|| {
                format!(
                    "Execution failed due to configuration error: {}",
                    error.message
                )
            });
        }
        GatewayResponse::internal_server_error()
    }

    async fn invoke(
        &self,
        invoker: &dyn Invoker,
        call: &LambdaCall<'_>,
        payload: Bytes,
    ) -> Result<InvokeResult, GatewayResponse> {
        let target = call.target;
        let request = InvokeRequest {
            region: target.region.clone(),
            account_id: target.account_id.clone(),
            function_name: target.function_name.clone(),
            qualifier: target.qualifier.clone(),
            payload,
            invocation_type: InvocationType::RequestResponse,
            client_context: None,
            // With a credentials role the resource policy is not consulted, so no source ARN
            // is presented for it.
            source_arn: (!call.with_credentials).then(|| self.source_arn()),
            log_tail: false,
        };
        let started = self.trace_clock();
        if self.log.is_some() {
            self.trace_lambda_request(&request);
        }
        match tokio::time::timeout(call.timeout, invoker.invoke(request)).await {
            Err(_) => {
                self.trace(|| "Execution failed due to a timeout error".to_owned());
                Err(GatewayResponse::integration_timeout())
            }
            Ok(Err(error)) => Err(self.lambda_refused(&error, target)),
            Ok(Ok(result)) => {
                if self.log.is_some() {
                    self.trace_lambda_response(&result, started);
                }
                Ok(result)
            }
        }
    }
}

/// One Lambda invocation's target and limits.
pub(crate) struct LambdaCall<'a> {
    pub target: &'a LambdaTarget,
    pub timeout: Duration,
    pub with_credentials: bool,
}

pub(crate) async fn lambda_custom(
    exchange: &Exchange<'_>,
    invoker: &dyn Invoker,
    call: &LambdaCall<'_>,
    mapping: &RequestMapping,
    responses: &ResponseMapping,
) -> Result<Response<Bytes>, GatewayResponse> {
    let rendered = exchange.map_request(mapping)?;
    let payload = match rendered {
        None if exchange.body.is_empty() => Bytes::from_static(b"{}"),
        _ => exchange.request_payload(mapping, rendered.as_ref())?,
    };
    let result = exchange.invoke(invoker, call, payload).await?;
    // Lambda errors are selected by their errorMessage; a success has no selection value.
    let error_message = result.function_error.as_ref().and_then(|_| {
        serde_json::from_slice::<Value>(&result.payload)
            .ok()
            .and_then(|v| {
                v.get("errorMessage")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
    });
    exchange.map_response(
        responses,
        error_message.as_deref(),
        &result.payload,
        &[],
        true,
    )
}

pub(crate) async fn lambda_proxy(
    exchange: &Exchange<'_>,
    invoker: &dyn Invoker,
    call: &LambdaCall<'_>,
) -> Result<Response<Bytes>, GatewayResponse> {
    let event = proxy::event(exchange);
    let result = exchange.invoke(invoker, call, Bytes::from(event)).await?;
    if result.function_error.is_some() {
        exchange.trace(|| proxy_function_error(&result));
        return Err(GatewayResponse::bad_gateway());
    }
    let Some(parsed) = proxy::parse_response(&result.payload) else {
        tracing::warn!(api = %exchange.stage.api_id, "Execution failed due to configuration error: Malformed Lambda proxy response");
        exchange.trace(|| {
            "Execution failed due to configuration error: Malformed Lambda proxy response"
                .to_owned()
        });
        return Err(GatewayResponse::bad_gateway());
    };
    let content_type = parsed
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| {
            exchange.trace_content_type_defaulted();
            "application/json".to_owned()
        });
    // A base64 body is decoded only when the client's first Accept type is binary; otherwise
    // the base64 text itself is the body, as AWS answers.
    let body = if parsed.is_base64 && exchange.accepts_binary() {
        match BASE64.decode(&parsed.body) {
            Ok(decoded) => Bytes::from(decoded),
            Err(error) => {
                tracing::warn!(api = %exchange.stage.api_id, %error, "Execution failed due to configuration error: Lambda proxy body is not valid base64");
                return Err(GatewayResponse::bad_gateway());
            }
        }
    } else {
        parsed.body
    };
    let mut response = exchange.base_response(parsed.status, &content_type, body, true);
    let mut first = true;
    for (name, value) in parsed.headers {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            // The function's Content-Type replaces the default; every other name may repeat.
            if n == http::header::CONTENT_TYPE && first {
                response.headers_mut().insert(n, v);
                first = false;
            } else {
                response.headers_mut().append(n, v);
            }
        }
    }
    Ok(response)
}
