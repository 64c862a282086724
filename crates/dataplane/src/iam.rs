//! `AWS_IAM` method authorization: a method whose `authorizationType` is `AWS_IAM` serves only
//! requests carrying a valid SigV4 signature for the `execute-api` service in the API's region.
//!
//! Which keys are valid: Portico has no IAM, so the keys are configured (`portico serve
//! --credentials AKID:SECRET`, and Portico's own `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`).
//! A key that is not configured is answered as AWS answers an unknown key. Every configured key
//! acts as its account's root user: no policy is evaluated, so a valid signature is enough.
//!
//! Refusals (403, bodies through the API's gateway responses):
//! - nothing signed: `MISSING_AUTHENTICATION_TOKEN`, `{"message":"Missing Authentication Token"}`;
//! - an `Authorization` header lacking parts: the same type, with AWS's "Authorization header
//!   requires ..." message and `IncompleteSignatureException`;
//! - unknown key, bad scope, stale date, wrong signature: `INVALID_SIGNATURE`, with the
//!   sigv4 crate's message and error type (`UnrecognizedClientException` for the unknown key,
//!   `InvalidSignatureException` for the rest).

use bytes::Bytes;
use http::{Request, Response};
use portico_sigv4::{CredentialsProvider, Expectation, SigV4Error, SignedRequest, verify};

use crate::context::{RequestMeta, template_context};
use crate::custom::{self, ErrorRequest};
use crate::gateway::GatewayResponse;
use crate::params::RequestParts;
use crate::snapshot::{CompiledMethod, CompiledStage};

/// The signing name execute-api requests are signed with.
const SERVICE: &str = "execute-api";

/// Who signed an `AWS_IAM` request, for `$context.identity` / `requestContext.identity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    pub access_key: String,
    pub account_id: String,
}

impl Caller {
    /// `caller` and `user`: for an account's root user AWS reports the account id as the
    /// principal id (IAM users would show their `AIDA...` id, roles `{roleId}:{session}`).
    pub fn principal_id(&self) -> &str {
        &self.account_id
    }

    /// `userArn`: the root user's ARN.
    pub fn user_arn(&self) -> String {
        format!("arn:aws:iam::{}:root", self.account_id)
    }

    /// Fills the caller's fields of an `identity` object (`$context.identity`, a REST or
    /// payload 1.0 or WebSocket event's `requestContext.identity`).
    pub fn fill_identity(&self, identity: &mut serde_json::Map<String, serde_json::Value>) {
        identity.insert("accessKey".into(), self.access_key.clone().into());
        identity.insert("accountId".into(), self.account_id.clone().into());
        identity.insert("caller".into(), self.principal_id().into());
        identity.insert("user".into(), self.principal_id().into());
        identity.insert("userArn".into(), self.user_arn().into());
    }
}

/// Verifies a request's SigV4 signature for `execute-api` in `region`: the signer, acting as
/// `account_id`'s root user, or why the signature is refused.
pub(crate) fn verify_caller(
    account_id: &str,
    region: &str,
    parts: (&http::Method, &http::Uri, &http::HeaderMap),
    body: &[u8],
    credentials: &dyn CredentialsProvider,
) -> Result<Caller, SigV4Error> {
    let (method, uri, headers) = parts;
    let host = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .unwrap_or("");
    let signed = SignedRequest {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query(),
        host,
        headers,
        body,
    };
    let verified = verify(
        &signed,
        &Expectation::new(SERVICE, Some(region)),
        credentials,
    )?;
    Ok(Caller {
        access_key: verified.access_key_id.into_owned(),
        account_id: account_id.to_owned(),
    })
}

/// Checks the signature of a request to an `AWS_IAM` method; `Ok(None)` for other methods.
pub(crate) fn authenticate(
    stage: &CompiledStage,
    method: &CompiledMethod,
    request: &Request<Bytes>,
    credentials: &dyn CredentialsProvider,
) -> Result<Option<Caller>, GatewayResponse> {
    if !method.aws_iam {
        return Ok(None);
    }
    verify_caller(
        &stage.account_id,
        &stage.region,
        (request.method(), request.uri(), request.headers()),
        request.body(),
        credentials,
    )
    .map(Some)
    .map_err(|refused| refusal(&refused))
}

/// The gateway response for a refused signature.
fn refusal(error: &SigV4Error) -> GatewayResponse {
    let response_type = match error {
        SigV4Error::MissingAuthenticationToken => {
            return GatewayResponse::missing_authentication_token();
        }
        SigV4Error::IncompleteSignature(_) => "MISSING_AUTHENTICATION_TOKEN",
        _ => "INVALID_SIGNATURE",
    };
    let message = error.message();
    GatewayResponse {
        status: error.status(),
        error_type: error.error_type(),
        body: format!(
            "{{\"message\":{}}}",
            serde_json::Value::from(message.as_str())
        ),
        validation_error: String::new(),
        response_type,
        message,
    }
}

/// Answers a refused request through the API's gateway responses.
pub(crate) fn refuse(
    stage: &CompiledStage,
    method: &CompiledMethod,
    meta: &RequestMeta,
    parts: &RequestParts,
    path_parameters: &[(&str, &str)],
    refused: GatewayResponse,
) -> Response<Bytes> {
    let request = ErrorRequest {
        parts,
        path_parameters,
        context: template_context(stage, method, meta),
        stage_variables: &stage.variables,
    };
    custom::respond(
        &stage.gateway_responses,
        refused,
        &meta.request_id,
        &request,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_worded_and_typed_as_aws() {
        let missing = refusal(&SigV4Error::MissingAuthenticationToken);
        assert_eq!(missing, GatewayResponse::missing_authentication_token());
        let unknown = refusal(&SigV4Error::UnknownAccessKey);
        assert_eq!(unknown.status, 403);
        assert_eq!(unknown.error_type, "UnrecognizedClientException");
        assert_eq!(unknown.response_type, "INVALID_SIGNATURE");
        assert_eq!(
            unknown.body,
            r#"{"message":"The security token included in the request is invalid."}"#
        );
        let mismatch = refusal(&SigV4Error::SignatureMismatch {
            canonical_request: "GET\n/\n".into(),
            string_to_sign: "AWS4-HMAC-SHA256\n".into(),
        });
        assert_eq!(mismatch.error_type, "InvalidSignatureException");
        assert_eq!(
            mismatch.body,
            r#"{"message":"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'GET\n/\n'\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n'\n"}"#
        );
        let incomplete = refusal(&SigV4Error::IncompleteSignature("x".into()));
        assert_eq!(incomplete.error_type, "IncompleteSignatureException");
        assert_eq!(incomplete.response_type, "MISSING_AUTHENTICATION_TOKEN");
    }

    #[test]
    fn callers_are_their_accounts_root() {
        let c = Caller {
            access_key: "AKID".into(),
            account_id: "000000000000".into(),
        };
        assert_eq!(c.principal_id(), "000000000000");
        assert_eq!(c.user_arn(), "arn:aws:iam::000000000000:root");
    }
}
