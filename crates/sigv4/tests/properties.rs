//! Property: any request aws-sigv4's signer signs, the verifier accepts; with one byte of its
//! path, query, a signed header, the body or the signature changed, it refuses with a
//! mismatch; and the string-to-sign the mismatch shows is the one the signature was made from.

mod common;

use std::time::Duration;

use aws_sigv4::sign::v4;
use common::{AKID, Req, SECRET};
use portico_sigv4::{Expectation, SigV4Error, StaticCredentials, parse_amz_date, verify};
use proptest::prelude::*;

const T: &str = "20261122T053000Z";

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9._~-]{1,8}",
        Just("a%20b".to_owned()),
        Just("arn%3Aaws%3Alambda".to_owned()),
        Just("%E2%9C%93".to_owned()),
        Just("{id}".to_owned()),
    ]
}

fn query_part() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_.~-]{0,6}",
        Just("x%2Fy".to_owned()),
        Just("a%20b".to_owned())
    ]
}

#[derive(Debug, Clone)]
struct Shape {
    method: &'static str,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    token: bool,
    presigned: bool,
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH"]),
        prop::collection::vec(segment(), 1..5),
        prop::collection::vec(("[a-z]{1,5}", query_part()), 0..4),
        prop::collection::vec(("[a-z]{1,6}", "[a-zA-Z0-9 ,;=/]{1,12}"), 0..3),
        prop::collection::vec(any::<u8>(), 0..64),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(method, segments, query, headers, body, token, presigned)| Shape {
                method,
                path: format!("/prod/{}", segments.join("/")),
                query: (!query.is_empty()).then(|| {
                    query
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join("&")
                }),
                // Prefixed so they cannot collide with the headers signing adds.
                headers: headers
                    .into_iter()
                    .filter(|(_, v)| !v.trim().is_empty())
                    .map(|(k, v)| (format!("x-p-{k}"), v))
                    .collect(),
                body,
                token,
                presigned,
            },
        )
}

fn signed(shape: &Shape) -> Req {
    let mut req = Req::new(
        shape.method,
        &shape.path,
        shape.query.as_deref(),
        &shape.body,
    );
    for (k, v) in &shape.headers {
        req = req.header(k, v);
    }
    req.sign(
        "us-east-1",
        "execute-api",
        parse_amz_date(T).unwrap(),
        shape.token.then_some("SESSION/TOKEN+1=="),
        shape.presigned.then_some(600),
    )
}

fn check(req: &Req) -> Result<(), SigV4Error> {
    let mut creds = StaticCredentials::new();
    creds.insert(AKID, SECRET);
    let expected = Expectation {
        service: "execute-api",
        region: Some("us-east-1"),
        now: parse_amz_date(T).unwrap(),
        max_skew: Duration::from_secs(300),
    };
    verify(&req.signed(), &expected, &creds).map(|_| ())
}

/// Flips a byte that is not `%`, `/`, `&` or `=` (those change structure, not content).
fn flip(s: &str, at: usize) -> Option<String> {
    let bytes = s.as_bytes();
    let candidates: Vec<usize> = (0..bytes.len())
        .filter(|&i| bytes[i].is_ascii_alphanumeric())
        .collect();
    let i = *candidates.get(at % candidates.len().max(1))?;
    let mut out = bytes.to_vec();
    out[i] = if out[i] == b'z' { b'y' } else { b'z' };
    String::from_utf8(out).ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn signed_requests_verify(shape in shape()) {
        prop_assert_eq!(check(&signed(&shape)), Ok(()));
    }

    #[test]
    fn changed_requests_do_not(shape in shape(), which in 0..4usize, at in any::<usize>()) {
        let req = signed(&shape);
        let mut changed = req.clone();
        match which {
            0 => {
                let Some(path) = flip(&req.path, at) else { return Ok(()) };
                // Percent-escapes are case-insensitive on the wire but not in SigV4; a flip that
                // only changes case of an escape digit is still a change.
                if path == req.path { return Ok(()) }
                changed.path = path;
            }
            1 => {
                let Some(body) = (!req.body.is_empty()).then(|| {
                    let mut b = req.body.clone();
                    let i = at % b.len();
                    b[i] ^= 0x01;
                    b
                }) else { return Ok(()) };
                changed.body = body;
            }
            2 => {
                let Some((name, value)) = shape.headers.first() else { return Ok(()) };
                let Some(value) = flip(value, at) else { return Ok(()) };
                if value.trim() == shape.headers[0].1.trim() { return Ok(()) }
                changed.headers.insert(
                    http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    value.parse().unwrap(),
                );
            }
            _ => changed = tamper_signature(&req).1,
        }
        let refused = check(&changed);
        prop_assert!(
            matches!(refused, Err(SigV4Error::SignatureMismatch { .. })),
            "{:?}", refused
        );
    }

    #[test]
    fn the_shown_string_to_sign_is_the_signed_one(shape in shape()) {
        let req = signed(&shape);
        let (original, tampered) = tamper_signature(&req);
        let Err(SigV4Error::SignatureMismatch { string_to_sign, .. }) = check(&tampered) else {
            return Err(TestCaseError::fail("expected a mismatch"));
        };
        let key = v4::generate_signing_key(SECRET, parse_amz_date(T).unwrap(), "us-east-1", "execute-api");
        prop_assert_eq!(v4::calculate_signature(key, string_to_sign.as_bytes()), original);
    }
}

/// The signature (header or presigned query) and the request with its last digit changed.
fn tamper_signature(req: &Req) -> (String, Req) {
    let mut tampered = req.clone();
    let flip = |sig: &str| {
        let mut s = sig.to_owned();
        let last = if s.ends_with('0') { "1" } else { "0" };
        s.pop();
        s.push_str(last);
        s
    };
    match req.headers.get("authorization") {
        Some(auth) => {
            let auth = auth.to_str().unwrap();
            let (head, sig) = auth.rsplit_once("Signature=").unwrap();
            let changed = format!("{head}Signature={}", flip(sig));
            tampered
                .headers
                .insert("authorization", changed.parse().unwrap());
            (sig.to_owned(), tampered)
        }
        None => {
            let query = req.query.clone().unwrap();
            let mut sig = String::new();
            let pairs: Vec<String> = query
                .split('&')
                .map(|p| match p.strip_prefix("X-Amz-Signature=") {
                    Some(s) => {
                        sig = s.to_owned();
                        format!("X-Amz-Signature={}", flip(s))
                    }
                    None => p.to_owned(),
                })
                .collect();
            tampered.query = Some(pairs.join("&"));
            (sig, tampered)
        }
    }
}
