//! Gateway responses: the answers API Gateway itself gives when a request cannot reach, or
//! comes back badly from, its integration. Every failure of the pipeline maps to one here.
//!
//! The bodies are byte-exact with what AWS sends by default. Note the two spellings AWS uses:
//! responses rendered from the default gateway-response template have no space after the colon
//! (`{"message":"Forbidden"}`), while integration failures carry one
//! (`{"message": "Internal server error"}`).

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};

/// A response the gateway generates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayResponse {
    pub status: u16,
    /// `x-amzn-ErrorType`.
    pub error_type: &'static str,
    /// The exact body.
    pub body: String,
    /// The gateway response type an API can customise (`MISSING_AUTHENTICATION_TOKEN`, ...).
    pub response_type: &'static str,
    /// `$context.error.message`.
    pub message: String,
    /// `$context.error.validationErrorString`: what request validation found (empty otherwise).
    pub validation_error: String,
}

fn templated(message: &str) -> String {
    format!("{{\"message\":{}}}", serde_json::Value::from(message))
}

impl GatewayResponse {
    /// MISSING_AUTHENTICATION_TOKEN: no resource or method matches.
    pub fn missing_authentication_token() -> Self {
        Self {
            status: 403,
            error_type: "MissingAuthenticationTokenException",
            body: templated("Missing Authentication Token"),
            validation_error: String::new(),
            response_type: "MISSING_AUTHENTICATION_TOKEN",
            message: "Missing Authentication Token".to_owned(),
        }
    }

    /// A stage that does not exist on an API that does.
    pub fn forbidden() -> Self {
        Self {
            status: 403,
            error_type: "ForbiddenException",
            body: templated("Forbidden"),
            validation_error: String::new(),
            response_type: "DEFAULT_4XX",
            message: "Forbidden".to_owned(),
        }
    }

    /// An API id that names no deployed API. AWS has no DNS name for it at all; emulators
    /// answer 404 with this wording.
    pub fn unknown_api(api_id: &str) -> Self {
        Self {
            status: 404,
            error_type: "NotFoundException",
            body: templated(&format!(
                "The API id '{api_id}' does not correspond to a deployed API Gateway API"
            )),
            validation_error: String::new(),
            response_type: "DEFAULT_4XX",
            message: String::new(),
        }
    }

    /// INTEGRATION_FAILURE as Lambda proxy integrations answer it (malformed output, function
    /// error).
    pub fn bad_gateway() -> Self {
        Self {
            status: 502,
            error_type: "InternalServerErrorException",
            body: "{\"message\": \"Internal server error\"}".to_owned(),
            validation_error: String::new(),
            response_type: "INTEGRATION_FAILURE",
            message: "Internal server error".to_owned(),
        }
    }

    /// API_CONFIGURATION_ERROR or an integration the gateway could not call (Lambda refused).
    pub fn internal_server_error() -> Self {
        Self {
            status: 500,
            error_type: "InternalServerErrorException",
            body: "{\"message\": \"Internal server error\"}".to_owned(),
            validation_error: String::new(),
            response_type: "API_CONFIGURATION_ERROR",
            message: "Internal server error".to_owned(),
        }
    }

    /// INTEGRATION_TIMEOUT.
    pub fn integration_timeout() -> Self {
        Self {
            status: 504,
            error_type: "InternalServerErrorException",
            body: "{\"message\": \"Endpoint request timed out\"}".to_owned(),
            validation_error: String::new(),
            response_type: "INTEGRATION_TIMEOUT",
            message: "Endpoint request timed out".to_owned(),
        }
    }

    /// UNSUPPORTED_MEDIA_TYPE: passthrough refused.
    pub fn unsupported_media_type() -> Self {
        Self {
            status: 415,
            error_type: "UnsupportedMediaTypeException",
            body: templated("Unsupported Media Type"),
            validation_error: String::new(),
            response_type: "UNSUPPORTED_MEDIA_TYPE",
            message: "Unsupported Media Type".to_owned(),
        }
    }

    /// REQUEST_TOO_LARGE.
    pub fn request_too_large() -> Self {
        Self {
            status: 413,
            error_type: "RequestTooLargeException",
            body: templated("Request Too Long"),
            validation_error: String::new(),
            response_type: "REQUEST_TOO_LARGE",
            message: "Request Too Long".to_owned(),
        }
    }

    /// BAD_REQUEST_PARAMETERS: required parameters missing (names as declared).
    pub fn missing_parameters(names: &[&str]) -> Self {
        let message = format!(
            "Missing required request parameters: [{}]",
            names.join(", ")
        );
        Self {
            status: 400,
            error_type: "BadRequestException",
            body: templated(&message),
            validation_error: message.clone(),
            response_type: "BAD_REQUEST_PARAMETERS",
            message,
        }
    }

    /// INVALID_API_KEY: a method requiring an API key got none, or an unusable one.
    pub fn invalid_api_key() -> Self {
        Self {
            status: 403,
            error_type: "ForbiddenException",
            body: templated("Forbidden"),
            validation_error: String::new(),
            response_type: "INVALID_API_KEY",
            message: "Forbidden".to_owned(),
        }
    }

    /// THROTTLED: the stage, method or usage plan rate limit is exhausted.
    pub fn throttled() -> Self {
        Self {
            status: 429,
            error_type: "TooManyRequestsException",
            body: templated("Too Many Requests"),
            validation_error: String::new(),
            response_type: "THROTTLED",
            message: "Too Many Requests".to_owned(),
        }
    }

    /// QUOTA_EXCEEDED: the usage plan quota for the key is used up.
    pub fn quota_exceeded() -> Self {
        Self {
            status: 429,
            error_type: "LimitExceededException",
            body: templated("Limit Exceeded"),
            validation_error: String::new(),
            response_type: "QUOTA_EXCEEDED",
            message: "Limit Exceeded".to_owned(),
        }
    }

    /// ACCESS_DENIED: `Cache-Control: max-age=0` from a caller not allowed
    /// `execute-api:InvalidateCache`, on a method whose strategy is `FAIL_WITH_403`.
    pub fn cache_invalidation_denied(method_arn: &str) -> Self {
        let message = format!(
            "User: anonymous is not authorized to perform: execute-api:InvalidateCache on resource: {method_arn}"
        );
        Self {
            status: 403,
            error_type: "AccessDeniedException",
            body: format!(
                "{{\"Message\":{}}}",
                serde_json::Value::from(message.as_str())
            ),
            validation_error: String::new(),
            response_type: "ACCESS_DENIED",
            message,
        }
    }

    pub fn into_response(self, request_id: &str) -> Response<Bytes> {
        let mut response = Response::new(Bytes::from(self.body));
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Ok(id) = HeaderValue::from_str(request_id) {
            headers.insert("x-amzn-requestid", id);
        }
        headers.insert(
            "x-amzn-errortype",
            HeaderValue::from_static(self.error_type),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_byte_exact() {
        let r = GatewayResponse::missing_authentication_token().into_response("id");
        assert_eq!(r.status(), 403);
        assert_eq!(
            r.body(),
            &Bytes::from(r#"{"message":"Missing Authentication Token"}"#)
        );
        assert_eq!(
            r.headers()["x-amzn-errortype"],
            "MissingAuthenticationTokenException"
        );
        assert_eq!(r.headers()["content-type"], "application/json");
        let r = GatewayResponse::bad_gateway().into_response("id");
        assert_eq!(
            r.body(),
            &Bytes::from(r#"{"message": "Internal server error"}"#)
        );
    }
}
