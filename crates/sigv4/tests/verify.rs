//! Requests signed by aws-sigv4's own signer verify; changed ones are refused with AWS's words.

mod common;

use std::time::{Duration, SystemTime};

use common::{AKID, Req, SECRET};
use portico_sigv4::{Expectation, SigV4Error, StaticCredentials, Verified, parse_amz_date, verify};

fn at(s: &str) -> SystemTime {
    parse_amz_date(s).unwrap()
}

fn creds() -> StaticCredentials {
    let mut c = StaticCredentials::new();
    c.insert(AKID, SECRET);
    c
}

fn expect(now: &str) -> Expectation<'static> {
    Expectation {
        service: "execute-api",
        region: Some("us-east-1"),
        now: at(now),
        max_skew: Duration::from_secs(300),
    }
}

fn check(req: &Req, now: &str) -> Result<Verified<'static>, SigV4Error> {
    verify(&req.signed(), &expect(now), &creds()).map(|v| Verified {
        access_key_id: v.access_key_id.into_owned().into(),
        region: v.region.into_owned().into(),
        ..v
    })
}

const T: &str = "20261122T053000Z";

fn get() -> Req {
    Req::new("GET", "/prod/pets/1", Some("a=1&b=x%2Fy"), b"")
        .header("accept", "application/json")
        .sign("us-east-1", "execute-api", at(T), None, None)
}

#[test]
fn a_signed_get_verifies() {
    let v = check(&get(), T).unwrap();
    assert_eq!(
        v,
        Verified {
            access_key_id: AKID.into(),
            region: "us-east-1".into(),
            session_token: false,
            signed_at: at(T),
            presigned: false,
        }
    );
}

#[test]
fn a_signed_post_with_token_and_content_sha_verifies() {
    let body = br#"{"name":"rex","kind":"dog"}"#;
    let req = Req::new("POST", "/prod/pets", None, body)
        .header("content-type", "application/json")
        .header(
            "x-amz-content-sha256",
            "0ad2a8e3b0c5c5a4e3a3f93d2f9f4b1c2e7f1f0b0b0f1e2d3c4b5a6978877665",
        );
    // The header must match the body: a wrong one is refused before the signature is checked.
    let wrong = req
        .clone()
        .sign("us-east-1", "execute-api", at(T), Some("TOKEN"), None);
    assert_eq!(
        check(&wrong, T).unwrap_err().message(),
        "The provided 'x-amz-content-sha256' header does not match what was computed."
    );
    let mut right = req;
    right
        .headers
        .insert("x-amz-content-sha256", sha256_hex(body).parse().unwrap());
    let right = right.sign("us-east-1", "execute-api", at(T), Some("TOKEN"), None);
    let v = check(&right, T).unwrap();
    assert!(v.session_token);
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

#[test]
fn presigned_urls_verify_until_they_expire() {
    let req = Req::new("GET", "/prod/pets", Some("limit=5"), b"").sign(
        "us-east-1",
        "execute-api",
        at(T),
        Some("TOK"),
        Some(900),
    );
    assert!(req.headers.get("authorization").is_none());
    let v = check(&req, "20261122T054400Z").unwrap();
    assert!(v.presigned && v.session_token);
    assert_eq!(
        check(&req, "20261122T054600Z").unwrap_err(),
        SigV4Error::Expired(
            "Signature expired: 20261122T053000Z is now earlier than 20261122T053100Z (20261122T054600Z - 15 min.)".into()
        )
    );
}

#[test]
fn stale_and_future_dates_are_refused_as_aws_words_it() {
    let req = get();
    assert!(check(&req, "20261122T053500Z").is_ok());
    let e = check(&req, "20261122T053501Z").unwrap_err();
    assert_eq!(
        e.message(),
        "Signature expired: 20261122T053000Z is now earlier than 20261122T053001Z (20261122T053501Z - 5 min.)"
    );
    assert_eq!(e.error_type(), "InvalidSignatureException");
    assert_eq!(
        check(&req, "20261122T052459Z").unwrap_err().message(),
        "Signature not yet current: 20261122T053000Z is still later than 20261122T052959Z (20261122T052459Z + 5 min.)"
    );
}

#[test]
fn unknown_keys_and_wrong_tokens() {
    let req = get();
    let e = verify(&req.signed(), &expect(T), &StaticCredentials::new()).unwrap_err();
    assert_eq!(e, SigV4Error::UnknownAccessKey);
    assert_eq!(
        e.message(),
        "The security token included in the request is invalid."
    );
    assert_eq!(e.error_type(), "UnrecognizedClientException");
    let mut temp = StaticCredentials::new();
    temp.insert_temporary(AKID, SECRET, "TOKEN");
    assert_eq!(
        verify(&req.signed(), &expect(T), &temp).unwrap_err(),
        SigV4Error::UnknownAccessKey
    );
    let with_token = Req::new("GET", "/prod/pets", None, b"").sign(
        "us-east-1",
        "execute-api",
        at(T),
        Some("TOKEN"),
        None,
    );
    assert!(verify(&with_token.signed(), &expect(T), &temp).is_ok());
}

#[test]
fn scope_must_name_the_service_region_and_day() {
    let other_service =
        Req::new("GET", "/", None, b"").sign("us-east-1", "apigateway", at(T), None, None);
    assert_eq!(
        check(&other_service, T).unwrap_err().message(),
        "Credential should be scoped to correct service: 'execute-api'. "
    );
    let other_region =
        Req::new("GET", "/", None, b"").sign("eu-west-1", "execute-api", at(T), None, None);
    assert_eq!(
        check(&other_region, T).unwrap_err().message(),
        "Credential should be scoped to a valid region. "
    );
    let mut other_day = get();
    other_day
        .headers
        .insert("x-amz-date", "20261123T053000Z".parse().unwrap());
    assert_eq!(
        check(&other_day, T).unwrap_err().message(),
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261122' != '20261123', from '20261123T053000Z'."
    );
    let mut bad_date = get();
    bad_date
        .headers
        .insert("x-amz-date", "2026-11-22".parse().unwrap());
    assert_eq!(
        check(&bad_date, T).unwrap_err().message(),
        "Date must be in ISO-8601 'basic format'. Got '2026-11-22'. See http://en.wikipedia.org/wiki/ISO_8601"
    );
}

#[test]
fn a_mismatch_shows_the_canonical_request_and_string_to_sign() {
    let mut req = Req::new("GET", "/prod/pets/1", Some("b=x%2Fy&a=1"), b"").sign(
        "us-east-1",
        "execute-api",
        at(T),
        None,
        None,
    );
    let auth = req.headers["authorization"].to_str().unwrap().to_owned();
    let tampered = auth.replace("Signature=", "Signature=0");
    req.headers.insert(
        "authorization",
        tampered[..tampered.len() - 1].parse().unwrap(),
    );
    let e = check(&req, T).unwrap_err();
    assert_eq!(e.error_type(), "InvalidSignatureException");
    let canonical = "GET\n/prod/pets/1\na=1&b=x%2Fy\nhost:abc123.execute-api.localhost:4566\nx-amz-date:20261122T053000Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let SigV4Error::SignatureMismatch {
        canonical_request,
        string_to_sign,
    } = &e
    else {
        panic!("{e:?}");
    };
    assert_eq!(canonical_request, canonical);
    let expected_sts = format!(
        "AWS4-HMAC-SHA256\n20261122T053000Z\n20261122/us-east-1/execute-api/aws4_request\n{}",
        sha256_hex(canonical.as_bytes())
    );
    assert_eq!(string_to_sign, &expected_sts);
    assert_eq!(
        e.message(),
        format!(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'{canonical}'\n\nThe String-to-Sign should have been\n'{expected_sts}'\n"
        )
    );
}

#[test]
fn missing_and_incomplete() {
    let req = Req::new("GET", "/prod/pets", None, b"");
    assert_eq!(
        check(&req, T).unwrap_err(),
        SigV4Error::MissingAuthenticationToken
    );
    let req = req.header("authorization", "Bearer xyz");
    let e = check(&req, T).unwrap_err();
    assert_eq!(e.error_type(), "IncompleteSignatureException");
}

#[test]
fn headers_aws_sigv4_excludes_by_default_verify_when_the_client_signed_them() {
    // Clients such as Postman sign user-agent; aws-sigv4's signer would leave it out, so the
    // client's signature is made here from the string-to-sign the verifier reports.
    let mut req = Req::new("GET", "/prod/pets", None, b"")
        .header("user-agent", "PostmanRuntime/7.39")
        .sign("us-east-1", "execute-api", at(T), None, None);
    let auth = req.headers["authorization"].to_str().unwrap().to_owned();
    let auth = auth.replace(
        "SignedHeaders=host;x-amz-date",
        "SignedHeaders=host;user-agent;x-amz-date",
    );
    req.headers.insert("authorization", auth.parse().unwrap());
    let Err(SigV4Error::SignatureMismatch {
        canonical_request,
        string_to_sign,
    }) = check(&req, T)
    else {
        panic!("the old signature cannot cover user-agent");
    };
    assert!(canonical_request.contains("\nuser-agent:PostmanRuntime/7.39\n"));
    let key = aws_sigv4::sign::v4::generate_signing_key(SECRET, at(T), "us-east-1", "execute-api");
    let signature = aws_sigv4::sign::v4::calculate_signature(key, string_to_sign.as_bytes());
    let (head, _) = auth.rsplit_once("Signature=").unwrap();
    req.headers.insert(
        "authorization",
        format!("{head}Signature={signature}").parse().unwrap(),
    );
    assert!(check(&req, T).is_ok());
}

#[test]
fn requests_dated_by_the_http_date_header_verify() {
    // AWS accepts `Date` in place of `X-Amz-Date`; aws-sigv4 cannot sign that shape, so the
    // signature is made from the verifier's own string-to-sign as above.
    let mut req = Req::new("GET", "/prod/pets", None, b"")
        .header("date", "Sun, 22 Nov 2026 05:30:00 GMT")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/execute-api/aws4_request, SignedHeaders=date;host, Signature=00",
        );
    let Err(SigV4Error::SignatureMismatch {
        canonical_request,
        string_to_sign,
    }) = check(&req, T)
    else {
        panic!("00 is no signature");
    };
    assert_eq!(
        canonical_request,
        "GET\n/prod/pets\n\ndate:Sun, 22 Nov 2026 05:30:00 GMT\nhost:abc123.execute-api.localhost:4566\n\ndate;host\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let key = aws_sigv4::sign::v4::generate_signing_key(SECRET, at(T), "us-east-1", "execute-api");
    let signature = aws_sigv4::sign::v4::calculate_signature(key, string_to_sign.as_bytes());
    req.headers.insert(
        "authorization",
        format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/execute-api/aws4_request, SignedHeaders=date;host, Signature={signature}").parse().unwrap(),
    );
    assert!(check(&req, T).is_ok());
}
