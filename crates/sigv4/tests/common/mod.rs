//! Signing requests with aws-sigv4's signer, for the tests and benches to verify.
#![allow(dead_code)]

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::{HeaderMap, HeaderName, HeaderValue};

pub const AKID: &str = "AKIDEXAMPLE";
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// A request before and after signing.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub host: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Req {
    pub fn new(method: &str, path: &str, query: Option<&str>, body: &[u8]) -> Self {
        Self {
            method: method.to_owned(),
            host: "abc123.execute-api.localhost:4566".to_owned(),
            path: path.to_owned(),
            query: query.map(str::to_owned),
            headers: HeaderMap::new(),
            body: body.to_vec(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
        self
    }

    pub fn signed(&self) -> portico_sigv4::SignedRequest<'_> {
        portico_sigv4::SignedRequest {
            method: &self.method,
            path: &self.path,
            query: self.query.as_deref(),
            host: &self.host,
            headers: &self.headers,
            body: &self.body,
        }
    }

    /// Signs in place with aws-sigv4: header auth, or presigned for `expires`.
    pub fn sign(
        mut self,
        region: &str,
        service: &str,
        at: SystemTime,
        token: Option<&str>,
        expires: Option<u64>,
    ) -> Self {
        let identity: Identity =
            Credentials::new(AKID, SECRET, token.map(str::to_owned), None, "test").into();
        let mut settings = SigningSettings::default();
        if let Some(expires) = expires {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(Duration::from_secs(expires));
        }
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(service)
            .time(at)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let url = match &self.query {
            Some(q) => format!("http://{}{}?{q}", self.host, self.path),
            None => format!("http://{}{}", self.host, self.path),
        };
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        headers.push(("host".into(), self.host.clone()));
        let signable = SignableRequest::new(
            &self.method,
            url,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(&self.body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        let (new_headers, new_params) = instructions.into_parts();
        for h in new_headers {
            self.headers.insert(
                HeaderName::from_bytes(h.name().as_bytes()).unwrap(),
                HeaderValue::from_str(h.value()).unwrap(),
            );
        }
        if !new_params.is_empty() {
            let mut q = self.query.clone().unwrap_or_default();
            for (k, v) in new_params {
                if !q.is_empty() {
                    q.push('&');
                }
                q.push_str(k);
                q.push('=');
                q.push_str(&aws_smithy_http::query::fmt_string(&v));
            }
            self.query = Some(q);
        }
        self
    }
}
