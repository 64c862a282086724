//! SigV4 verification of execute-api requests: a signed GET, a POST with a 1 KB body, and the
//! refusal of a tampered POST (which also builds the canonical request for the message).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use common::{AKID, Req, SECRET};
use criterion::{Criterion, black_box, criterion_group, criterion_main};
use portico_sigv4::{Expectation, StaticCredentials, parse_amz_date, verify};

fn bench(c: &mut Criterion) {
    let t = parse_amz_date("20261122T053000Z").expect("valid date");
    let mut creds = StaticCredentials::new();
    creds.insert(AKID, SECRET);
    let expected = Expectation {
        service: "execute-api",
        region: Some("us-east-1"),
        now: t,
        max_skew: Duration::from_secs(300),
    };
    let get = Req::new("GET", "/prod/pets/42", Some("limit=10&type=dog"), b"")
        .header("accept", "application/json")
        .sign("us-east-1", "execute-api", t, None, None);
    let body: Vec<u8> = (0..1024).map(|i| b'a' + (i % 26) as u8).collect();
    let post = Req::new("POST", "/prod/pets", None, &body)
        .header("content-type", "application/json")
        .sign("us-east-1", "execute-api", t, Some("SESSIONTOKEN"), None);
    let mut tampered = post.clone();
    tampered.body[0] = b'Z';

    c.bench_function("verify_get", |b| {
        b.iter(|| verify(black_box(&get.signed()), &expected, &creds).is_ok())
    });
    c.bench_function("verify_post_1k", |b| {
        b.iter(|| verify(black_box(&post.signed()), &expected, &creds).is_ok())
    });
    c.bench_function("refuse_tampered_post_1k", |b| {
        b.iter(|| verify(black_box(&tampered.signed()), &expected, &creds).is_err())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
