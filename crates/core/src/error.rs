//! The one error type every control-plane operation returns.
//!
//! It carries what the wire needs (the exception name, the HTTP status, the message) and
//! nothing about how it is written: the `protocol` crate serializes it per service (API
//! Gateway's `{"message":…}`, Lambda's `{"Type":"User","Message":…}`), so each error kind maps
//! to its AWS answer here, in one place.

use std::fmt;

/// An error as AWS reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsError {
    /// The exception name, sent as `x-amzn-ErrorType` (e.g. `NotFoundException`).
    pub code: &'static str,
    /// The HTTP status code.
    pub status: u16,
    /// The human-readable message, verbatim as AWS words it where known.
    pub message: String,
    /// `Retry-After` seconds, for throttling errors.
    pub retry_after: Option<u32>,
    /// Extra body members some exceptions carry (Lambda's `Reason`, for one).
    pub extra: Vec<(&'static str, String)>,
}

impl AwsError {
    pub fn new(code: &'static str, status: u16, message: impl Into<String>) -> Self {
        Self {
            code,
            status,
            message: message.into(),
            retry_after: None,
            extra: Vec::new(),
        }
    }

    /// Adds an extra body member.
    pub fn with_extra(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.extra.push((name, value.into()));
        self
    }

    // === API Gateway (apigateway, apigatewayv2) ===

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new("BadRequestException", 400, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new("NotFoundException", 404, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new("ConflictException", 409, message)
    }

    pub fn limit_exceeded(message: impl Into<String>) -> Self {
        Self::new("LimitExceededException", 429, message)
    }

    pub fn too_many_requests(message: impl Into<String>) -> Self {
        Self::new("TooManyRequestsException", 429, message)
    }

    /// Wrong JSON type for a member, as AWS's Java deserializer reports it.
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new("SerializationException", 400, message)
    }

    /// Constraint violations (`1 validation error detected: …`).
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationException", 400, message)
    }

    /// A route no operation serves.
    pub fn unknown_operation(message: impl Into<String>) -> Self {
        Self::new("UnknownOperationException", 404, message)
    }

    // === Lambda ===

    pub fn resource_not_found(message: impl Into<String>) -> Self {
        Self::new("ResourceNotFoundException", 404, message)
    }

    pub fn resource_conflict(message: impl Into<String>) -> Self {
        Self::new("ResourceConflictException", 409, message)
    }

    pub fn invalid_parameter_value(message: impl Into<String>) -> Self {
        Self::new("InvalidParameterValueException", 400, message)
    }

    pub fn invalid_request_content(message: impl Into<String>) -> Self {
        Self::new("InvalidRequestContentException", 400, message)
    }

    pub fn request_too_large(message: impl Into<String>) -> Self {
        Self::new("RequestTooLargeException", 413, message)
    }

    pub fn code_storage_exceeded(message: impl Into<String>) -> Self {
        Self::new("CodeStorageExceededException", 400, message)
    }

    /// An internal failure: the service could not do what was asked.
    pub fn service(message: impl Into<String>) -> Self {
        Self::new("ServiceException", 500, message)
    }

    /// API Gateway's internal failure.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("InternalFailureException", 500, message)
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for AwsError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_carry_aws_names_and_statuses() {
        let e = AwsError::not_found("Invalid Resource identifier specified");
        assert_eq!((e.code, e.status), ("NotFoundException", 404));
        let e = AwsError::resource_not_found("Function not found: x");
        assert_eq!((e.code, e.status), ("ResourceNotFoundException", 404));
        assert_eq!(
            AwsError::bad_request("x").to_string(),
            "BadRequestException (400): x"
        );
    }
}
