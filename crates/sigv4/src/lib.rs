//! Verifying incoming AWS Signature Version 4 requests.
//!
//! A request signed by an AWS SDK or CLI (or `botocore.auth.SigV4Auth`) carries its signature
//! in the `Authorization` header or, presigned, in `X-Amz-*` query parameters. [`verify`]
//! finds it, checks the credential scope, the signing time against the allowed clock skew and
//! `x-amz-content-sha256` against the body, looks the secret up through a
//! [`CredentialsProvider`], and recomputes the signature with `aws-sigv4` (the signer the AWS
//! Rust SDK uses), comparing in constant time. Every refusal is a [`SigV4Error`] whose message
//! and `x-amzn-ErrorType` are AWS's.
//!
//! This crate is not an authorizer: it says who signed (the access key) and that the request
//! is intact, not what that key may do. Policies, the HTTP layer and the choice of which
//! requests must be signed belong to the callers (the execute-api data plane for `AWS_IAM`
//! methods). SigV4a (ECDSA, multi-region) and S3's chunked payload signing are not supported.

mod canonical;
mod credentials;
mod error;
mod parse;
mod time;

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SessionTokenMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::HeaderMap;
use subtle::ConstantTimeEq;

pub use credentials::{CredentialsProvider, SigningSecret, StaticCredentials};
pub use error::SigV4Error;
pub use time::{format_amz_date, parse_amz_date};

use parse::{Location, Parts, Scope};

/// The clock skew execute-api (like every SigV4 service) allows between the signing time and
/// its own clock: "An API request must reach AWS within 5 minutes of the timestamp in the
/// request" (repost.aws/knowledge-center/lambda-sdk-signature), and AWS's refusal reads
/// "Signature expired: ... ({now} - 5 min.)".
pub const DEFAULT_MAX_SKEW: Duration = Duration::from_secs(300);

/// A received request, as the verifier needs to see it.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// The path exactly as received (still percent-encoded).
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: Option<&'a str>,
    /// The host the client addressed: the `Host` header, else the URI authority.
    pub host: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// What the verifier holds a signature to.
#[derive(Debug, Clone, Copy)]
pub struct Expectation<'a> {
    /// The signing name the scope must carry (`execute-api` for invoking APIs).
    pub service: &'a str,
    /// The region the scope must carry; `None` accepts any.
    pub region: Option<&'a str>,
    pub now: SystemTime,
    pub max_skew: Duration,
}

impl<'a> Expectation<'a> {
    /// `service` in `region`, now, with AWS's five minutes of skew.
    pub fn new(service: &'a str, region: Option<&'a str>) -> Self {
        Self {
            service,
            region,
            now: SystemTime::now(),
            max_skew: DEFAULT_MAX_SKEW,
        }
    }
}

/// A request whose signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified<'a> {
    pub access_key_id: Cow<'a, str>,
    /// The region of the credential scope.
    pub region: Cow<'a, str>,
    /// A session token was presented (temporary credentials).
    pub session_token: bool,
    pub signed_at: SystemTime,
    /// The signature came in the query string (a presigned URL).
    pub presigned: bool,
}

fn owned<'a>(parts: &Cow<'a, str>, piece: &str) -> Cow<'a, str> {
    match parts {
        // The piece borrows from a borrowed credential: hand the borrow out unchanged.
        Cow::Borrowed(whole) => {
            let start = piece.as_ptr() as usize - whole.as_ptr() as usize;
            Cow::Borrowed(&whole[start..start + piece.len()])
        }
        Cow::Owned(_) => Cow::Owned(piece.to_owned()),
    }
}

/// Checks a request's SigV4 signature. See the crate documentation for what is checked.
pub fn verify<'a>(
    request: &SignedRequest<'a>,
    expected: &Expectation<'_>,
    provider: &dyn CredentialsProvider,
) -> Result<Verified<'a>, SigV4Error> {
    let parts = parse::parts(request.headers, request.query)?;
    let scope = Scope::parse(&parts.credential)?;
    if scope.service != expected.service {
        return Err(SigV4Error::InvalidScope(format!(
            "Credential should be scoped to correct service: '{}'. ",
            expected.service
        )));
    }
    if expected.region.is_some_and(|r| r != scope.region) {
        return Err(SigV4Error::InvalidScope(
            "Credential should be scoped to a valid region. ".to_owned(),
        ));
    }
    let signed_at = if parts.http_date {
        time::parse_http_date(&parts.date)
    } else {
        time::parse_amz_date(&parts.date)
    }
    .ok_or_else(|| {
        SigV4Error::InvalidScope(format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
            parts.date
        ))
    })?;
    let amz_date = time::format_amz_date(signed_at);
    if scope.date != &amz_date[..8] {
        return Err(SigV4Error::InvalidScope(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{}'.",
            scope.date,
            &amz_date[..8],
            parts.date
        )));
    }
    check_time(&parts, signed_at, &amz_date, expected)?;
    let secret = provider
        .secret(scope.access_key_id)
        .ok_or(SigV4Error::UnknownAccessKey)?;
    if let Some(required) = &secret.session_token
        && parts.security_token.as_deref() != Some(required.as_str())
    {
        return Err(SigV4Error::UnknownAccessKey);
    }
    let payload = payload_hash(request)?;
    let computed = if parts.http_date {
        None
    } else {
        resign(request, &parts, &scope, signed_at, secret, &payload)
    };
    let verified = match computed {
        Some(signature) => bool::from(signature.as_bytes().ct_eq(parts.signature.as_bytes())),
        None => {
            let (_, string_to_sign) = canonical(request, &parts, &scope, &amz_date, &payload);
            let key = v4::generate_signing_key(
                &secret.secret_access_key,
                signed_at,
                scope.region,
                scope.service,
            );
            let signature = v4::calculate_signature(key, string_to_sign.as_bytes());
            bool::from(signature.as_bytes().ct_eq(parts.signature.as_bytes()))
        }
    };
    if !verified {
        let (canonical_request, string_to_sign) =
            canonical(request, &parts, &scope, &amz_date, &payload);
        return Err(SigV4Error::SignatureMismatch {
            canonical_request,
            string_to_sign,
        });
    }
    Ok(Verified {
        access_key_id: owned(&parts.credential, scope.access_key_id),
        region: owned(&parts.credential, scope.region),
        session_token: parts.security_token.is_some(),
        signed_at,
        presigned: matches!(parts.location, Location::Query { .. }),
    })
}

fn minutes(d: Duration) -> String {
    if d.as_secs().is_multiple_of(60) {
        format!("{} min.", d.as_secs() / 60)
    } else {
        format!("{} sec.", d.as_secs())
    }
}

/// Too old (beyond the skew, or past a presigned URL's `X-Amz-Expires`) or too far ahead.
fn check_time(
    parts: &Parts<'_>,
    signed_at: SystemTime,
    amz_date: &str,
    expected: &Expectation<'_>,
) -> Result<(), SigV4Error> {
    let now = expected.now;
    let validity = match parts.location {
        Location::Header => expected.max_skew,
        Location::Query { expires } => Duration::from_secs(expires),
    };
    if let Some(limit) = now.checked_sub(validity)
        && signed_at < limit
    {
        return Err(SigV4Error::Expired(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - {})",
            format_amz_date(limit),
            format_amz_date(now),
            minutes(validity)
        )));
    }
    if let Some(limit) = now.checked_add(expected.max_skew)
        && signed_at > limit
    {
        return Err(SigV4Error::NotYetCurrent(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + {})",
            format_amz_date(limit),
            format_amz_date(now),
            minutes(expected.max_skew)
        )));
    }
    Ok(())
}

/// The payload hash the client signed: `x-amz-content-sha256` when sent (checked against the
/// body unless `UNSIGNED-PAYLOAD`), else `None` for "hash the body".
fn payload_hash<'r>(request: &SignedRequest<'r>) -> Result<Option<&'r str>, SigV4Error> {
    let Some(value) = request.headers.get("x-amz-content-sha256") else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| SigV4Error::ContentSha256Mismatch)?;
    if value != "UNSIGNED-PAYLOAD"
        && !value.eq_ignore_ascii_case(&canonical::sha256_hex(request.body))
    {
        return Err(SigV4Error::ContentSha256Mismatch);
    }
    Ok(Some(value))
}

/// The signature aws-sigv4 computes for the request as the client described it; `None` when
/// the request cannot even be expressed (an unparsable host or path), which then fails as a
/// mismatch.
fn resign(
    request: &SignedRequest<'_>,
    parts: &Parts<'_>,
    scope: &Scope<'_>,
    signed_at: SystemTime,
    secret: &SigningSecret,
    payload: &Option<&str>,
) -> Option<String> {
    let presigned = matches!(parts.location, Location::Query { .. });
    let query = match request.query {
        Some(q) if presigned => Cow::Owned(parse::query_without_auth(q)),
        Some(q) => Cow::Borrowed(q),
        None => Cow::Borrowed(""),
    };
    let mut url = String::with_capacity(8 + request.host.len() + request.path.len() + query.len());
    url.push_str("http://");
    url.push_str(request.host);
    url.push_str(request.path);
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query);
    }
    let signed: Vec<&str> = parts.signed_headers.split(';').collect();
    // aws-sigv4 adds x-amz-date and the token itself, from the signing time and identity.
    let headers =
        signed
            .iter()
            .filter(|n| **n != "x-amz-date" && **n != "x-amz-security-token")
            .flat_map(|name| -> Box<dyn Iterator<Item = (&str, &str)>> {
                if *name == "host" {
                    Box::new(std::iter::once(("host", request.host)))
                } else {
                    Box::new(request.headers.get_all(*name).iter().filter_map(move |v| {
                        Some((*name, std::str::from_utf8(v.as_bytes()).ok()?))
                    }))
                }
            });
    let body = match payload {
        Some("UNSIGNED-PAYLOAD") => SignableBody::UnsignedPayload,
        Some(hash) => SignableBody::Precomputed((*hash).to_owned()),
        None => SignableBody::Bytes(request.body),
    };
    let signable = SignableRequest::new(request.method, url, headers, body).ok()?;
    let mut settings = SigningSettings::default();
    // Only the headers the client listed are passed in, so none must be dropped: the default
    // exclusions (user-agent among them) would break clients that sign them.
    settings.excluded_headers = None;
    // Header auth: a token sent but left out of SignedHeaders was added after signing (older
    // SDKs did); presigned URLs always sign the token as a query parameter.
    if parts.location == Location::Header && !signed.contains(&"x-amz-security-token") {
        settings.session_token_mode = SessionTokenMode::Exclude;
    }
    if let Location::Query { expires } = parts.location {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(expires));
    }
    let identity: Identity = Credentials::new(
        scope.access_key_id,
        secret.secret_access_key.clone(),
        parts.security_token.as_ref().map(|t| t.to_string()),
        None,
        "portico",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(scope.region)
        .name(scope.service)
        .time(signed_at)
        .settings(settings)
        .build()
        .ok()?
        .into();
    sign(signable, &params)
        .ok()
        .map(|out| out.signature().to_owned())
}

/// The canonical request and string-to-sign as AWS shows them in a mismatch.
fn canonical(
    request: &SignedRequest<'_>,
    parts: &Parts<'_>,
    scope: &Scope<'_>,
    amz_date: &str,
    payload: &Option<&str>,
) -> (String, String) {
    let hashed;
    let payload_hash = match payload {
        Some(hash) => *hash,
        None => {
            hashed = canonical::sha256_hex(request.body);
            &hashed
        }
    };
    canonical::build(&canonical::Input {
        method: request.method,
        path: request.path,
        query: request.query.unwrap_or(""),
        host: request.host,
        headers: request.headers,
        signed_headers: &parts.signed_headers,
        payload_hash,
        amz_date,
        scope: &scope.string(),
    })
}
