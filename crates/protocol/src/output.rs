//! Writes operation outputs and AWS errors the way each service does on the wire.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use portico_core::AwsError;
use portico_model::binding::{Location, Operation};
use serde::Serialize;
use serde_json::Value;

use crate::Service;

/// An operation's answer before it becomes an HTTP response.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationOutput {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
    /// `Content-Type` of `body`; `None` for empty bodies.
    pub content_type: Option<&'static str>,
}

impl OperationOutput {
    /// The operation's success code with no body (deletes: 202 or 204).
    pub fn empty(operation: &Operation) -> Self {
        Self {
            status: operation.success_code,
            headers: Vec::new(),
            body: Bytes::new(),
            content_type: None,
        }
    }

    /// Serializes an output struct: members bound to headers or the status code leave the
    /// JSON body and travel where the model says.
    pub fn json<T: Serialize>(operation: &Operation, output: &T) -> Result<Self, AwsError> {
        let mut value = serde_json::to_value(output)
            .map_err(|e| AwsError::internal(format!("Could not serialize output: {e}")))?;
        let mut status = operation.success_code;
        let mut headers = Vec::new();
        if let Value::Object(map) = &mut value {
            for binding in operation.output_bindings {
                let Some(member) = map.remove(binding.member) else {
                    continue;
                };
                match binding.location {
                    Location::StatusCode => {
                        if let Some(code) = member.as_u64().and_then(|c| u16::try_from(c).ok()) {
                            status = code;
                        }
                    }
                    Location::Header => {
                        let text = match member {
                            Value::String(s) => s,
                            other => other.to_string(),
                        };
                        headers.push((binding.location_name, text));
                    }
                    _ => {}
                }
            }
        }
        let body = serde_json::to_vec(&value)
            .map_err(|e| AwsError::internal(format!("Could not serialize output: {e}")))?;
        Ok(Self {
            status,
            headers,
            body: Bytes::from(body),
            content_type: Some("application/json"),
        })
    }

    /// Turns the output into the HTTP response, with the request id header. An operation that
    /// has a request id of its own (Lambda `Invoke` answers with the invocation's) sets
    /// `x-amzn-RequestId` in its headers, and that one is sent instead.
    pub fn into_response(self, request_id: &str) -> Response<Bytes> {
        let own_id = self
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("x-amzn-RequestId"));
        let mut builder =
            Response::builder().status(StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK));
        if !own_id {
            builder = builder.header("x-amzn-RequestId", request_id);
        }
        if let Some(content_type) = self.content_type {
            builder = builder.header(http::header::CONTENT_TYPE, content_type);
        }
        for (name, value) in &self.headers {
            if let Ok(value) = HeaderValue::from_str(value) {
                builder = builder.header(*name, value);
            }
        }
        builder
            .body(self.body)
            .unwrap_or_else(|_| Response::new(Bytes::new()))
    }
}

/// Lambda exceptions whose message member is `message` rather than `Message` (from the model).
const LAMBDA_LOWERCASE_MESSAGE: &[&str] = &[
    "CapacityProviderLimitExceededException",
    "CodeStorageExceededException",
    "FunctionVersionsPerCapacityProviderLimitExceededException",
    "InvalidParameterValueException",
    "InvalidRequestContentException",
    "PolicyLengthExceededException",
    "PreconditionFailedException",
    "ProvisionedConcurrencyConfigNotFoundException",
    "RequestTooLargeException",
    "ResourceConflictException",
    "ResourceNotReadyException",
    "SerializedRequestEntityTooLargeException",
    "TooManyRequestsException",
    "UnsupportedMediaTypeException",
];

/// The error envelope of a service: API Gateway sends `{"message":…}`, Lambda
/// `{"Type":"User","Message":…}` (or `message` for some exceptions); both name the exception in
/// `x-amzn-ErrorType`, which is where botocore reads the code from. awsJson services (CloudWatch
/// Logs) name it in the body too: `{"__type":…,"message":…}`.
pub fn error_response(service: Service, error: &AwsError, request_id: &str) -> Response<Bytes> {
    let mut body = serde_json::Map::new();
    match service {
        Service::Lambda => {
            let kind = if error.status >= 500 {
                "Service"
            } else {
                "User"
            };
            body.insert("Type".into(), Value::from(kind));
            let key = if LAMBDA_LOWERCASE_MESSAGE.contains(&error.code) {
                "message"
            } else {
                "Message"
            };
            body.insert(key.into(), Value::from(error.message.as_str()));
        }
        Service::ApiGateway | Service::ApiGatewayV2 => {
            body.insert("message".into(), Value::from(error.message.as_str()));
        }
        Service::Logs => {
            body.insert("__type".into(), Value::from(error.code));
            body.insert("message".into(), Value::from(error.message.as_str()));
        }
    }
    for (name, value) in &error.extra {
        body.insert((*name).into(), Value::from(value.as_str()));
    }
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("x-amzn-RequestId", request_id)
        .header("x-amzn-ErrorType", error.code)
        .header(
            http::header::CONTENT_TYPE,
            if service == Service::Logs {
                crate::AMZ_JSON_1_1
            } else {
                "application/json"
            },
        );
    if let Some(seconds) = error.retry_after {
        builder = builder.header(http::header::RETRY_AFTER, seconds.to_string());
    }
    let bytes = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
    builder
        .body(Bytes::from(bytes))
        .unwrap_or_else(|_| Response::new(Bytes::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use portico_model::binding::{Binding, ValueKind};

    static OUT: &[Binding] = &[
        Binding {
            member: "FunctionError",
            location: Location::Header,
            location_name: "X-Amz-Function-Error",
            kind: ValueKind::String,
        },
        Binding {
            member: "StatusCode",
            location: Location::StatusCode,
            location_name: "",
            kind: ValueKind::Integer,
        },
    ];
    static OP: Operation = Operation {
        name: "T",
        method: "POST",
        uri: "/",
        query_literals: &[],
        success_code: 201,
        input: None,
        output: None,
        bindings: &[],
        payload: None,
        output_bindings: OUT,
        output_payload: None,
    };

    #[test]
    fn bound_output_members_leave_the_body() {
        let out = OperationOutput::json(
            &OP,
            &serde_json::json!({"id":"abc","FunctionError":"Unhandled","StatusCode":200}),
        )
        .unwrap();
        assert_eq!(out.status, 200);
        assert_eq!(
            out.headers,
            vec![("X-Amz-Function-Error", "Unhandled".to_owned())]
        );
        assert_eq!(out.body, Bytes::from(r#"{"id":"abc"}"#));
        let resp = out.into_response("rid");
        assert_eq!(resp.headers()["content-type"], "application/json");
        assert_eq!(resp.headers()["x-amzn-requestid"], "rid");
    }

    #[test]
    fn an_operation_may_bring_its_own_request_id() {
        let mut out = OperationOutput::empty(&OP);
        out.headers
            .push(("x-amzn-RequestId", "invocation-id".to_owned()));
        let resp = out.into_response("control-plane-id");
        let ids: Vec<_> = resp.headers().get_all("x-amzn-requestid").iter().collect();
        assert_eq!(ids, vec!["invocation-id"]);
    }

    #[test]
    fn error_envelopes_per_service() {
        let err = AwsError::not_found("Invalid API identifier specified 123456789012:abc");
        let resp = error_response(Service::ApiGateway, &err, "r");
        assert_eq!(resp.status(), 404);
        assert_eq!(resp.headers()["x-amzn-errortype"], "NotFoundException");
        assert_eq!(
            resp.body(),
            &Bytes::from(r#"{"message":"Invalid API identifier specified 123456789012:abc"}"#)
        );
        let err = AwsError::resource_not_found(
            "Function not found: arn:aws:lambda:us-east-1:123456789012:function:x",
        );
        let resp = error_response(Service::Lambda, &err, "r");
        assert_eq!(
            resp.body(),
            &Bytes::from(
                r#"{"Type":"User","Message":"Function not found: arn:aws:lambda:us-east-1:123456789012:function:x"}"#
            )
        );
        let err = AwsError::resource_conflict("Function already exist: x");
        let resp = error_response(Service::Lambda, &err, "r");
        assert_eq!(
            resp.body(),
            &Bytes::from(r#"{"Type":"User","message":"Function already exist: x"}"#)
        );
        let err = AwsError::new(
            "ResourceNotFoundException",
            400,
            "The specified log group does not exist.",
        );
        let resp = error_response(Service::Logs, &err, "r");
        assert_eq!(resp.status(), 400);
        assert_eq!(resp.headers()["content-type"], "application/x-amz-json-1.1");
        assert_eq!(
            resp.body(),
            &Bytes::from(
                r#"{"__type":"ResourceNotFoundException","message":"The specified log group does not exist."}"#
            )
        );
    }
}
