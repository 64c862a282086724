//! Finding the signature in a request: the `Authorization` header or presigned query
//! parameters, and the credential scope inside either.

use std::borrow::Cow;

use http::HeaderMap;

use crate::SigV4Error;

pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The query parameters presigned auth adds; aws-sigv4 re-adds all but the signature when it
/// re-signs, so they are removed from the query it is given.
pub(crate) const QUERY_AUTH_PARAMS: [&str; 7] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Security-Token",
    "X-Amz-Signature",
];

/// Where the signature came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    Header,
    /// Presigned URL, valid for this many seconds after its `X-Amz-Date`.
    Query {
        expires: u64,
    },
}

/// The signature and what it covers, as the client stated them.
#[derive(Debug)]
pub(crate) struct Parts<'a> {
    pub location: Location,
    pub credential: Cow<'a, str>,
    pub signed_headers: Cow<'a, str>,
    pub signature: Cow<'a, str>,
    /// `X-Amz-Date` (or, for header auth without it, the HTTP `Date` header).
    pub date: Cow<'a, str>,
    /// The date came from the HTTP `Date` header.
    pub http_date: bool,
    pub security_token: Option<Cow<'a, str>>,
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
}

/// Finds the signature: the `Authorization` header first, else presigned query parameters.
pub(crate) fn parts<'a>(
    headers: &'a HeaderMap,
    query: Option<&'a str>,
) -> Result<Parts<'a>, SigV4Error> {
    if let Some(auth) = header(headers, "authorization") {
        return from_header(auth, headers);
    }
    if let Some(query) = query.filter(|q| is_presigned(q)) {
        return from_query(query);
    }
    Err(SigV4Error::MissingAuthenticationToken)
}

fn is_presigned(query: &str) -> bool {
    form_urlencoded::parse(query.as_bytes()).any(|(k, _)| {
        matches!(
            k.as_ref(),
            "X-Amz-Algorithm" | "X-Amz-Credential" | "X-Amz-Signature"
        )
    })
}

/// `AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/execute-api/aws4_request,
/// SignedHeaders=host;x-amz-date, Signature=hex`.
fn from_header<'a>(auth: &'a str, headers: &'a HeaderMap) -> Result<Parts<'a>, SigV4Error> {
    let params = auth
        .strip_prefix(ALGORITHM)
        .filter(|rest| rest.starts_with(' '))
        .unwrap_or("");
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for param in params.split(',') {
        let Some((name, value)) = param.trim().split_once('=') else {
            continue;
        };
        match name {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed_headers = Some(value),
            "Signature" => signature = Some(value),
            _ => {}
        }
    }
    let amz_date = header(headers, "x-amz-date");
    let http_date = header(headers, "date");
    let date = amz_date.or(http_date);
    let (Some(credential), Some(signed_headers), Some(signature), Some(date)) =
        (credential, signed_headers, signature, date)
    else {
        // AWS names every missing part, in this order, then echoes the header.
        let mut message = String::new();
        for (present, name) in [
            (credential.is_some(), "Credential"),
            (signature.is_some(), "Signature"),
            (signed_headers.is_some(), "SignedHeaders"),
        ] {
            if !present {
                message.push_str("Authorization header requires '");
                message.push_str(name);
                message.push_str("' parameter. ");
            }
        }
        if date.is_none() {
            message.push_str(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
            );
        }
        message.push_str("Authorization=");
        message.push_str(auth);
        return Err(SigV4Error::IncompleteSignature(message));
    };
    Ok(Parts {
        location: Location::Header,
        credential: Cow::Borrowed(credential),
        signed_headers: Cow::Borrowed(signed_headers),
        signature: Cow::Borrowed(signature),
        date: Cow::Borrowed(date),
        http_date: amz_date.is_none(),
        security_token: header(headers, "x-amz-security-token").map(Cow::Borrowed),
    })
}

fn from_query(query: &str) -> Result<Parts<'_>, SigV4Error> {
    let (mut algorithm, mut credential, mut date, mut signed_headers) = (None, None, None, None);
    let (mut signature, mut expires, mut token) = (None, None, None);
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "X-Amz-Algorithm" => algorithm = Some(value),
            "X-Amz-Credential" => credential = Some(value),
            "X-Amz-Date" => date = Some(value),
            "X-Amz-SignedHeaders" => signed_headers = Some(value),
            "X-Amz-Signature" => signature = Some(value),
            "X-Amz-Expires" => expires = Some(value),
            "X-Amz-Security-Token" => token = Some(value),
            _ => {}
        }
    }
    let expires = expires.and_then(|e| e.parse::<u64>().ok());
    match (
        algorithm.filter(|a| a == ALGORITHM),
        credential,
        signature,
        date,
        signed_headers,
        expires,
    ) {
        (Some(_), Some(credential), Some(signature), Some(date), Some(signed_headers), Some(expires)) => {
            Ok(Parts {
                location: Location::Query { expires },
                credential,
                signed_headers,
                signature,
                date,
                http_date: false,
                security_token: token,
            })
        }
        _ => Err(SigV4Error::IncompleteSignature(
            "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires'. Re-examine the query-string parameters."
                .to_owned(),
        )),
    }
}

/// `AKID/yyyymmdd/region/service/aws4_request`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scope<'a> {
    pub access_key_id: &'a str,
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

impl<'a> Scope<'a> {
    /// Splits a credential; the access key id is everything before the last four parts.
    pub(crate) fn parse(credential: &'a str) -> Result<Self, SigV4Error> {
        let mut parts = credential.rsplitn(5, '/');
        let terminator = parts.next().unwrap_or("");
        let (service, region, date, access_key_id) =
            (parts.next(), parts.next(), parts.next(), parts.next());
        match (access_key_id, date, region, service) {
            (Some(access_key_id), Some(date), Some(region), Some(service))
                if terminator == "aws4_request" && !access_key_id.is_empty() =>
            {
                Ok(Self {
                    access_key_id,
                    date,
                    region,
                    service,
                })
            }
            _ => Err(SigV4Error::InvalidScope(format!(
                "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'. "
            ))),
        }
    }

    /// `yyyymmdd/region/service/aws4_request`.
    pub(crate) fn string(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

/// The query with the presigned auth parameters removed, raw pairs kept as sent.
pub(crate) fn query_without_auth(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let raw_name = pair.split_once('=').map_or(pair, |(n, _)| n);
        let name = form_urlencoded::parse(raw_name.as_bytes())
            .next()
            .map(|(n, _)| n);
        if name.is_some_and(|n| QUERY_AUTH_PARAMS.contains(&n.as_ref())) {
            continue;
        }
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(pair);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        let s = Scope::parse("AKID/20261122/us-east-1/execute-api/aws4_request").unwrap();
        assert_eq!(
            s,
            Scope {
                access_key_id: "AKID",
                date: "20261122",
                region: "us-east-1",
                service: "execute-api"
            }
        );
        assert_eq!(s.string(), "20261122/us-east-1/execute-api/aws4_request");
        assert_eq!(
            Scope::parse("AKID/20261122/us-east-1/execute-api/aws4").unwrap_err(),
            SigV4Error::InvalidScope(
                "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4'. "
                    .into()
            )
        );
        assert!(Scope::parse("20261122/us-east-1/execute-api/aws4_request").is_err());
        assert!(Scope::parse("/20261122/us-east-1/execute-api/aws4_request").is_err());
    }

    #[test]
    fn incomplete_headers_name_every_missing_part() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer abc".parse().unwrap());
        assert_eq!(
            parts(&headers, None).unwrap_err(),
            SigV4Error::IncompleteSignature(
                "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=Bearer abc".into()
            )
        );
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=A/20261122/r/s/aws4_request, SignedHeaders=host"
                .parse()
                .unwrap(),
        );
        headers.insert("x-amz-date", "20261122T000000Z".parse().unwrap());
        assert_eq!(
            parts(&headers, None).unwrap_err(),
            SigV4Error::IncompleteSignature(
                "Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 Credential=A/20261122/r/s/aws4_request, SignedHeaders=host".into()
            )
        );
    }

    #[test]
    fn nothing_signed_is_a_missing_token() {
        let headers = HeaderMap::new();
        assert_eq!(
            parts(&headers, Some("a=1&b=2")).unwrap_err(),
            SigV4Error::MissingAuthenticationToken
        );
        assert_eq!(
            parts(&headers, None).unwrap_err(),
            SigV4Error::MissingAuthenticationToken
        );
        assert!(matches!(
            parts(&headers, Some("X-Amz-Signature=abc")).unwrap_err(),
            SigV4Error::IncompleteSignature(_)
        ));
    }

    #[test]
    fn auth_params_leave_the_query() {
        assert_eq!(
            query_without_auth("a=1&X-Amz-Date=x&X-Amz-Signature=s&b=%2F&X-Amz-Credential=c"),
            "a=1&b=%2F"
        );
        assert_eq!(query_without_auth("X-Amz-Signature=s"), "");
    }
}
