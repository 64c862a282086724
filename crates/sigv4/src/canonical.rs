//! The canonical request and string-to-sign, built from the client's own statement of what it
//! signed. aws-sigv4 keeps its canonical request private, so this is used where the verifier
//! must show or use it directly: the mismatch message (AWS prints both strings) and requests
//! dated only by the HTTP `Date` header (aws-sigv4 always signs `x-amz-date`). The property
//! tests prove it signs identically to aws-sigv4.

use std::fmt::Write;

use aws_smithy_http::label::{EncodingStrategy, fmt_string as encode_path};
use aws_smithy_http::query::fmt_string as encode_query;
use http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::parse::ALGORITHM;

/// Lower-case hex of SHA-256.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut out = String::with_capacity(64);
    for byte in digest {
        // Writing to a String cannot fail.
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// Removes `.`/`..` segments and repeated slashes, as SigV4 does for every service but S3.
fn normalize_path(path: &str) -> String {
    let path = if path.is_empty() { "/" } else { path };
    if !(path.contains('.') || path.contains("//")) && path.starts_with('/') {
        return path.to_owned();
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let mut out = String::with_capacity(path.len());
    for segment in &segments {
        out.push('/');
        out.push_str(segment);
    }
    let trailing = ["/", "/.", "/./", "/..", "/../"]
        .iter()
        .any(|s| path.ends_with(s));
    if out.is_empty() || (trailing && !out.ends_with('/')) {
        out.push('/');
    }
    out
}

/// Query pairs decoded, re-encoded with SigV4's set, sorted; `X-Amz-Signature` left out.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k != "X-Amz-Signature")
        .map(|(k, v)| (encode_query(&k), encode_query(&v)))
        .collect();
    pairs.sort();
    let mut out = String::with_capacity(query.len());
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&k);
        out.push('=');
        out.push_str(&v);
    }
    out
}

/// Trims spaces and folds runs of spaces to one (SigV4 touches spaces only).
fn push_trimmed(out: &mut String, value: &str) {
    let mut previous_space = false;
    for c in value.trim_matches(' ').chars() {
        if c == ' ' && previous_space {
            continue;
        }
        previous_space = c == ' ';
        out.push(c);
    }
}

/// What the client says it signed.
pub(crate) struct Input<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub host: &'a str,
    pub headers: &'a HeaderMap,
    pub signed_headers: &'a str,
    pub payload_hash: &'a str,
    /// `X-Amz-Date` form.
    pub amz_date: &'a str,
    /// `yyyymmdd/region/service/aws4_request`.
    pub scope: &'a str,
}

/// `(canonical request, string to sign)`.
pub(crate) fn build(input: &Input<'_>) -> (String, String) {
    let mut creq = String::with_capacity(256);
    creq.push_str(input.method);
    creq.push('\n');
    creq.push_str(&encode_path(
        normalize_path(input.path),
        EncodingStrategy::Greedy,
    ));
    creq.push('\n');
    creq.push_str(&canonical_query(input.query));
    creq.push('\n');
    for name in input.signed_headers.split(';') {
        creq.push_str(name);
        creq.push(':');
        if name == "host" {
            push_trimmed(&mut creq, input.host);
        } else {
            for (i, value) in input.headers.get_all(name).iter().enumerate() {
                if i > 0 {
                    creq.push(',');
                }
                push_trimmed(&mut creq, &String::from_utf8_lossy(value.as_bytes()));
            }
        }
        creq.push('\n');
    }
    creq.push('\n');
    creq.push_str(input.signed_headers);
    creq.push('\n');
    creq.push_str(input.payload_hash);
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        input.amz_date,
        input.scope,
        sha256_hex(creq.as_bytes())
    );
    (creq, string_to_sign)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalize_like_sigv4() {
        assert_eq!(normalize_path(""), "/");
        assert_eq!(normalize_path("/"), "/");
        assert_eq!(normalize_path("/a/b"), "/a/b");
        assert_eq!(normalize_path("/a//b/./c/../d"), "/a/b/d");
        assert_eq!(normalize_path("/a/b/"), "/a/b/");
        assert_eq!(normalize_path("/a/.."), "/");
        assert_eq!(normalize_path("/a/b/.."), "/a/");
    }

    #[test]
    fn queries_sort_on_encoded_pairs() {
        assert_eq!(canonical_query("b=2&a=%2F&a=1&c"), "a=%2F&a=1&b=2&c=");
        assert_eq!(canonical_query("x=a+b&X-Amz-Signature=s"), "x=a%20b");
    }

    #[test]
    fn aws_example_get_vanilla() {
        // AWS's published SigV4 test suite case "get-vanilla".
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        let (creq, sts) = build(&Input {
            method: "GET",
            path: "/",
            query: "",
            host: "example.amazonaws.com",
            headers: &headers,
            signed_headers: "host;x-amz-date",
            payload_hash: &sha256_hex(b""),
            amz_date: "20150830T123600Z",
            scope: "20150830/us-east-1/service/aws4_request",
        });
        assert_eq!(
            creq,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sts,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
    }
}
