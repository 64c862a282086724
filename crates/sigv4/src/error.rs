//! Why a request's signature was refused, worded as AWS words it.
//!
//! Sources for the wording: API Gateway's 403 troubleshooting article
//! (repost.aws/knowledge-center/api-gateway-troubleshoot-403-forbidden) for "Missing
//! Authentication Token", "The security token included in the request is invalid." and
//! "Signature expired"; AWS's answers quoted in public bug reports for the incomplete
//! `Authorization` header ("Authorization header requires 'Credential' parameter. ...
//! Authorization=...") and the "Signature expired: {date} is now earlier than {limit}
//! ({now} - 5 min.)" form; /work/shared/docs/aws-behaviour.md §8.3 for the mismatch message
//! with its canonical request and string-to-sign. The credential-scope and date-format
//! sentences are the ones AWS's signature service uses for every SigV4 service; they are
//! marked unverified for execute-api in docs/architecture.md.

use portico_core::AwsError;

/// A refused signature. Every variant is a 403 at AWS; [`SigV4Error::error_type`] is the
/// `x-amzn-ErrorType` (and `__type`) AWS sends with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// No `Authorization` header and no presigned query parameters.
    #[error("Missing Authentication Token")]
    MissingAuthenticationToken,
    /// An `Authorization` header (or presigned query) lacking required parts.
    #[error("{0}")]
    IncompleteSignature(String),
    /// The access key id is not one the provider knows, or the session token presented with
    /// it is not the one it was issued with.
    #[error("The security token included in the request is invalid.")]
    UnknownAccessKey,
    /// The request was signed more than the allowed skew ago (or its presigned URL expired).
    #[error("{0}")]
    Expired(String),
    /// The signing time lies further in the future than the allowed skew.
    #[error("{0}")]
    NotYetCurrent(String),
    /// The credential scope or date is malformed or names another service, region or day.
    #[error("{0}")]
    InvalidScope(String),
    /// `x-amz-content-sha256` does not match the body.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    ContentSha256Mismatch,
    /// The recomputed signature differs. Carries what the signature should have been computed
    /// over, which AWS includes in its answer so callers can find their mistake.
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'{canonical_request}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n"
    )]
    SignatureMismatch {
        canonical_request: String,
        string_to_sign: String,
    },
}

impl SigV4Error {
    /// The message AWS puts in the body (`{"message": ...}`).
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// `x-amzn-ErrorType`.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            Self::IncompleteSignature(_) => "IncompleteSignatureException",
            Self::UnknownAccessKey => "UnrecognizedClientException",
            Self::Expired(_)
            | Self::NotYetCurrent(_)
            | Self::InvalidScope(_)
            | Self::ContentSha256Mismatch
            | Self::SignatureMismatch { .. } => "InvalidSignatureException",
        }
    }

    /// The HTTP status: AWS answers every signature failure with 403.
    pub fn status(&self) -> u16 {
        403
    }
}

impl From<&SigV4Error> for AwsError {
    fn from(e: &SigV4Error) -> Self {
        AwsError::new(e.error_type(), e.status(), e.message())
    }
}
