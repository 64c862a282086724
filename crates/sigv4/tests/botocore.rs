//! Requests signed by botocore (the AWS CLI's signer), recorded by botocore_sign.py, verify;
//! each with one byte changed does not.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use portico_sigv4::{
    Expectation, SigV4Error, SignedRequest, StaticCredentials, parse_amz_date, verify,
};
use serde_json::Value;

struct Case {
    name: String,
    method: String,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Vec<u8>,
}

fn load() -> (Vec<Case>, StaticCredentials, String, String) {
    let v: Value =
        serde_json::from_str(include_str!("botocore_signed.json")).expect("fixture is JSON");
    let mut creds = StaticCredentials::new();
    for (id, pair) in v["keys"].as_object().unwrap() {
        match pair[1].as_str() {
            Some(token) => creds.insert_temporary(id, pair[0].as_str().unwrap(), token),
            None => creds.insert(id, pair[0].as_str().unwrap()),
        }
    }
    let cases = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut headers = HeaderMap::new();
            for h in c["headers"].as_array().unwrap() {
                headers.append(
                    HeaderName::from_bytes(h[0].as_str().unwrap().as_bytes()).unwrap(),
                    HeaderValue::from_str(h[1].as_str().unwrap()).unwrap(),
                );
            }
            Case {
                name: c["name"].as_str().unwrap().to_owned(),
                method: c["method"].as_str().unwrap().to_owned(),
                path: c["path"].as_str().unwrap().to_owned(),
                query: c["query"].as_str().map(str::to_owned),
                headers,
                body: c["body"].as_str().unwrap().as_bytes().to_vec(),
            }
        })
        .collect();
    (
        cases,
        creds,
        v["host"].as_str().unwrap().to_owned(),
        v["now"].as_str().unwrap().to_owned(),
    )
}

fn run(case: &Case, host: &str, now: &str, creds: &StaticCredentials) -> Result<(), SigV4Error> {
    let request = SignedRequest {
        method: &case.method,
        path: &case.path,
        query: case.query.as_deref(),
        host,
        headers: &case.headers,
        body: &case.body,
    };
    let expected = Expectation {
        service: "execute-api",
        region: Some("us-east-1"),
        now: parse_amz_date(now).unwrap(),
        max_skew: Duration::from_secs(300),
    };
    verify(&request, &expected, creds).map(|_| ())
}

#[test]
fn botocore_signed_requests_verify() {
    let (cases, creds, host, now) = load();
    assert_eq!(cases.len(), 6);
    for case in &cases {
        assert_eq!(run(case, &host, &now, &creds), Ok(()), "{}", case.name);
    }
}

#[test]
fn one_changed_byte_fails() {
    let (cases, creds, host, now) = load();
    for case in &cases {
        let mut path = case.path.clone().into_bytes();
        let last = path.len() - 1;
        path[last] ^= 0x01;
        let changed = Case {
            path: String::from_utf8(path).unwrap(),
            name: case.name.clone(),
            method: case.method.clone(),
            query: case.query.clone(),
            headers: case.headers.clone(),
            body: case.body.clone(),
        };
        assert!(
            matches!(
                run(&changed, &host, &now, &creds),
                Err(SigV4Error::SignatureMismatch { .. })
            ),
            "{}",
            case.name
        );
        if !case.body.is_empty() {
            let mut body = case.body.clone();
            body[0] ^= 0x01;
            let changed = Case {
                body,
                name: case.name.clone(),
                method: case.method.clone(),
                path: case.path.clone(),
                query: case.query.clone(),
                headers: case.headers.clone(),
            };
            assert!(
                matches!(
                    run(&changed, &host, &now, &creds),
                    Err(SigV4Error::SignatureMismatch { .. })
                ),
                "{}",
                case.name
            );
        }
    }
}

#[test]
fn a_temporary_key_without_its_token_is_unrecognised() {
    let (cases, creds, host, now) = load();
    let case = cases
        .iter()
        .find(|c| c.name == "temporary credentials")
        .unwrap();
    let mut headers = case.headers.clone();
    headers.remove("x-amz-security-token");
    let changed = Case {
        headers,
        name: case.name.clone(),
        method: case.method.clone(),
        path: case.path.clone(),
        query: case.query.clone(),
        body: case.body.clone(),
    };
    assert_eq!(
        run(&changed, &host, &now, &creds),
        Err(SigV4Error::UnknownAccessKey)
    );
}
