//! AWS JSON 1.1, server side (CloudWatch Logs speaks it).
//!
//! Every request is `POST /` with `X-Amz-Target: {ServicePrefix}.{Operation}` and the whole
//! input as a JSON body; answers are `200` with the output as JSON; errors are `400` (`500` for
//! the service's own failures) with `{"__type": "...Exception", "message": "..."}`, which is
//! where botocore reads the code from. Both travel as `application/x-amz-json-1.1`.

use bytes::Bytes;
use http::HeaderMap;
use portico_core::AwsError;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::OperationOutput;

/// `X-Amz-Target` prefix of CloudWatch Logs.
pub const LOGS_TARGET_PREFIX: &str = "Logs_20140328";

/// Content type of awsJson 1.1 requests and answers.
pub const AMZ_JSON_1_1: &str = "application/x-amz-json-1.1";

/// The operation an awsJson request names, checked against the service's prefix and its list
/// of operations (so that the answer for an unknown one is the protocol's, not the service's).
///
/// # Errors
/// `UnknownOperationException` when the target is missing, of another service, or not one of
/// `operations`.
pub fn json_target(
    headers: &HeaderMap,
    prefix: &str,
    operations: &[&'static str],
) -> Result<&'static str, AwsError> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let named = target
        .split_once('.')
        .filter(|(p, _)| *p == prefix)
        .map(|(_, op)| op);
    named
        .and_then(|op| operations.iter().copied().find(|known| *known == op))
        .ok_or_else(|| {
            AwsError::new(
                "UnknownOperationException",
                400,
                format!("Unknown operation {target}"),
            )
        })
}

/// Deserializes an awsJson request body into the operation's input (an empty body is `{}`).
///
/// # Errors
/// `SerializationException` (400) when the body is not JSON or a member has the wrong type.
pub fn json_input<T: DeserializeOwned>(body: &[u8]) -> Result<T, AwsError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body)
        .map_err(|e| AwsError::serialization(format!("Could not read the request: {e}")))
}

impl OperationOutput {
    /// An awsJson 1.1 answer: `200` with `output` as the body.
    ///
    /// # Errors
    /// `ServiceUnavailableException` should `output` not serialize (it always does for the
    /// plain structs services answer with).
    pub fn aws_json<T: Serialize>(output: &T) -> Result<Self, AwsError> {
        let body = serde_json::to_vec(output).map_err(|e| {
            AwsError::new(
                "ServiceUnavailableException",
                500,
                format!("Could not serialize output: {e}"),
            )
        })?;
        Ok(Self {
            status: 200,
            headers: Vec::new(),
            body: Bytes::from(body),
            content_type: Some(AMZ_JSON_1_1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPS: &[&str] = &["GetLogEvents", "PutLogEvents"];

    fn with_target(target: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-amz-target", target.parse().unwrap());
        h
    }

    #[test]
    fn the_target_names_a_known_operation_of_the_service() {
        assert_eq!(
            json_target(
                &with_target("Logs_20140328.GetLogEvents"),
                LOGS_TARGET_PREFIX,
                OPS
            ),
            Ok("GetLogEvents")
        );
        let error = json_target(
            &with_target("Logs_20140328.PutRetentionPolicy"),
            LOGS_TARGET_PREFIX,
            OPS,
        )
        .unwrap_err();
        assert_eq!(
            (error.code, error.status),
            ("UnknownOperationException", 400)
        );
        assert_eq!(
            error.message,
            "Unknown operation Logs_20140328.PutRetentionPolicy"
        );
        assert!(json_target(&with_target("Other.GetLogEvents"), LOGS_TARGET_PREFIX, OPS).is_err());
        assert!(json_target(&HeaderMap::new(), LOGS_TARGET_PREFIX, OPS).is_err());
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct In {
        #[serde(rename = "logGroupName")]
        name: Option<String>,
    }

    #[test]
    fn bodies_deserialize_and_empty_is_an_empty_object() {
        assert_eq!(json_input::<In>(b"").unwrap(), In { name: None });
        assert_eq!(
            json_input::<In>(br#"{"logGroupName":"/g"}"#).unwrap(),
            In {
                name: Some("/g".into())
            }
        );
        let error = json_input::<In>(br#"{"logGroupName":5}"#).unwrap_err();
        assert_eq!((error.code, error.status), ("SerializationException", 400));
    }

    #[test]
    fn outputs_are_amz_json() {
        let out = OperationOutput::aws_json(&serde_json::json!({"events": []})).unwrap();
        assert_eq!(out.status, 200);
        assert_eq!(out.content_type, Some(AMZ_JSON_1_1));
        assert_eq!(&out.body[..], br#"{"events":[]}"#);
    }
}
