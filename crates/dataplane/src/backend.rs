//! `HTTP` and `HTTP_PROXY` integrations: the request sent to the backend, the call itself
//! (one shared pooled client for `http://` and `https://` backends; TLS in [`crate::tls`]),
//! and the response rules.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::context::template_context;
use crate::gateway::GatewayResponse;
use crate::integration::{Exchange, trace_id};
use crate::mapping::{Inputs, RequestParameter, Target, UriPart, evaluate};
use crate::snapshot::{HttpSpec, RequestMapping, ResponseMapping};

type Pool = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The pooled client every HTTP integration shares. Connections made without verifying the
/// certificate's issuer (`insecureSkipVerification`) are pooled apart, so a request that
/// requires verification never reuses one.
#[derive(Clone)]
pub(crate) struct HttpClient {
    verified: Pool,
    skip_ca: Pool,
}

/// Largest backend response read (API Gateway's payload limit).
const MAX_RESPONSE: usize = 10 * 1024 * 1024;

fn pool(tls: rustls::ClientConfig) -> Pool {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    // The TLS layer decides the scheme; the TCP connector must accept `https://` URIs.
    connector.enforce_http(false);
    let connector = HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(connector);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .http1_title_case_headers(true)
        .build(connector)
}

pub(crate) fn client() -> HttpClient {
    HttpClient {
        verified: pool(crate::tls::verifying_config()),
        skip_ca: pool(crate::tls::skip_ca_config()),
    }
}

/// Characters escaped in query values the gateway writes (RFC 3986 unreserved kept).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Request headers never forwarded to a backend, even by HTTP_PROXY.
const NOT_FORWARDED: &[&str] = &[
    "host",
    "connection",
    "content-length",
    "content-md5",
    "expect",
    "max-forwards",
    "proxy-authenticate",
    "server",
    "te",
    "transfer-encoding",
    "trailer",
    "upgrade",
    "www-authenticate",
    "via",
    "keep-alive",
];

/// Backend response headers that would collide with the gateway's own and are handed back
/// renamed `x-amzn-Remapped-{Name}`.
const REMAPPED: &[(&str, &str)] = &[
    ("connection", "Connection"),
    ("content-length", "Content-Length"),
    ("date", "Date"),
    ("server", "Server"),
];

/// Backend response headers dropped from an HTTP_PROXY response.
const DROPPED_RESPONSE: &[&str] = &["transfer-encoding", "via", "keep-alive"];

/// What the backend answered; header names lower-case, in arrival order.
pub(crate) struct BackendResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// The request to send, before it is turned into a hyper request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outgoing {
    pub method: String,
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// `tlsConfig.insecureSkipVerification`: accept a certificate no trusted CA issued.
    pub skip_ca_verification: bool,
}

/// Values of the request parameters, by target, after evaluation.
#[derive(Default)]
struct Mapped {
    headers: Vec<(String, String)>,
    query: Vec<(String, String)>,
    path: Vec<(String, String)>,
}

fn set(list: &mut Vec<(String, String)>, name: &str, value: String, ignore_case: bool) {
    list.retain(|(n, _)| {
        if ignore_case {
            !n.eq_ignore_ascii_case(name)
        } else {
            n != name
        }
    });
    list.push((name.to_owned(), value));
}

impl Exchange<'_> {
    fn mapped(&self, parameters: &[RequestParameter]) -> Mapped {
        let context = || template_context(self.stage, self.method, &self.meta);
        let inputs = Inputs {
            parts: &self.parts,
            path_parameters: &self.path_parameters,
            body: &self.body,
            response_headers: &[],
            context: &context,
        };
        let mut mapped = Mapped::default();
        for parameter in parameters {
            let values = evaluate(&parameter.source, &inputs);
            if values.is_empty() {
                continue;
            }
            match parameter.target {
                // A multi-value source mapped to a header arrives as one comma-joined value.
                Target::Header => set(&mut mapped.headers, &parameter.name, values.join(","), true),
                Target::Query => {
                    mapped.query.retain(|(n, _)| n != &parameter.name);
                    mapped
                        .query
                        .extend(values.into_iter().map(|v| (parameter.name.clone(), v)));
                }
                Target::Path => set(&mut mapped.path, &parameter.name, values.join(","), false),
            }
        }
        mapped
    }

    fn outgoing_method(&self, spec: &HttpSpec) -> String {
        match spec.method.as_deref() {
            None | Some("ANY") => self.meta.http_method.clone(),
            Some(m) => m.to_owned(),
        }
    }

    /// `X-Forwarded-Port`: the port the client connected to, from its `Host`.
    fn forwarded_port(&self) -> String {
        self.parts
            .header("host")
            .and_then(|h| h.rsplit_once(':'))
            .map(|(_, port)| port.to_owned())
            .unwrap_or_else(|| "80".to_owned())
    }

    /// Headers every integration request carries.
    fn gateway_headers(&self, headers: &mut Vec<(String, String)>) {
        if self.parts.header("x-amzn-trace-id").is_none() {
            headers.push((
                "X-Amzn-Trace-Id".to_owned(),
                trace_id(self.meta.request_time_epoch),
            ));
        }
        headers.push((
            "x-amzn-apigateway-api-id".to_owned(),
            self.stage.api_id.clone(),
        ));
    }
}

/// Fills `{name}` placeholders and appends query parameters.
fn build_uri(
    parts: &[UriPart],
    path_values: &[(String, String)],
    query: &[(String, String)],
) -> String {
    let mut uri = String::new();
    for part in parts {
        match part {
            UriPart::Literal(text) => uri.push_str(text),
            UriPart::Placeholder(name) => {
                if let Some((_, v)) = path_values.iter().find(|(n, _)| n == name) {
                    uri.push_str(v);
                }
            }
        }
    }
    for (i, (name, value)) in query.iter().enumerate() {
        let separator = if i > 0 || uri.contains('?') { '&' } else { '?' };
        uri.push(separator);
        uri.extend(utf8_percent_encode(name, QUERY_VALUE));
        uri.push('=');
        uri.extend(utf8_percent_encode(value, QUERY_VALUE));
    }
    uri
}

/// The non-proxy integration request: mapped parameters, template overrides, gateway headers.
pub(crate) fn custom_request(
    exchange: &Exchange<'_>,
    spec: &HttpSpec,
    mapping: &RequestMapping,
) -> Result<Outgoing, GatewayResponse> {
    let rendered = exchange.map_request(mapping)?;
    let mut mapped = exchange.mapped(&spec.parameters);
    let body = match &rendered {
        Some(out) => {
            for (n, v) in &out.overrides.request_header {
                set(&mut mapped.headers, n, v.clone(), true);
            }
            for (n, v) in &out.overrides.request_querystring {
                set(&mut mapped.query, n, v.clone(), false);
            }
            for (n, v) in &out.overrides.request_path {
                set(&mut mapped.path, n, v.clone(), false);
            }
            exchange.request_payload(mapping, Some(out))?
        }
        None => exchange.request_payload(mapping, None)?,
    };
    let mut headers = vec![("Accept".to_owned(), "application/json".to_owned())];
    headers.push((
        "User-Agent".to_owned(),
        format!("AmazonAPIGateway_{}", exchange.stage.api_id),
    ));
    if !body.is_empty() {
        let content_type = exchange
            .parts
            .header("content-type")
            .unwrap_or("application/json");
        headers.push(("Content-Type".to_owned(), content_type.to_owned()));
    }
    exchange.gateway_headers(&mut headers);
    for (n, v) in mapped.headers {
        set(&mut headers, &n, v, true);
    }
    Ok(Outgoing {
        method: exchange.outgoing_method(spec),
        uri: build_uri(&spec.uri, &mapped.path, &mapped.query),
        headers,
        body,
        skip_ca_verification: spec.skip_ca_verification,
    })
}

/// The HTTP_PROXY integration request: the client's request as-is, plus mapped parameters.
pub(crate) fn proxy_request(exchange: &Exchange<'_>, spec: &HttpSpec) -> Outgoing {
    let mut mapped = exchange.mapped(&spec.parameters);
    // A `{proxy}`/`{name}` placeholder nobody mapped takes the method's path parameter of
    // the same name, which is what the console's generated mapping does.
    for (name, value) in &exchange.path_parameters {
        if !mapped.path.iter().any(|(n, _)| n == name) {
            mapped.path.push(((*name).to_owned(), (*value).to_owned()));
        }
    }
    let mut query = exchange.parts.query.clone();
    for (name, _) in &mapped.query {
        query.retain(|(n, _)| n != name);
    }
    query.extend(mapped.query);
    let mut headers: Vec<(String, String)> = exchange
        .parts
        .headers
        .iter()
        .filter(|(n, _)| !NOT_FORWARDED.iter().any(|d| n.eq_ignore_ascii_case(d)))
        .cloned()
        .collect();
    let forwarded_for = match exchange.parts.header("x-forwarded-for") {
        Some(previous) => format!("{previous}, {}", exchange.meta.source_ip),
        None => exchange.meta.source_ip.clone(),
    };
    set(&mut headers, "X-Forwarded-For", forwarded_for, true);
    set(
        &mut headers,
        "X-Forwarded-Port",
        exchange.forwarded_port(),
        true,
    );
    set(&mut headers, "X-Forwarded-Proto", "http".to_owned(), true);
    if exchange.parts.header("user-agent").is_none() {
        headers.push((
            "User-Agent".to_owned(),
            format!("AmazonAPIGateway_{}", exchange.stage.api_id),
        ));
    }
    exchange.gateway_headers(&mut headers);
    for (n, v) in mapped.headers {
        set(&mut headers, &n, v, true);
    }
    Outgoing {
        method: exchange.outgoing_method(spec),
        uri: build_uri(&spec.uri, &mapped.path, &query),
        headers,
        body: exchange.body.clone(),
        skip_ca_verification: spec.skip_ca_verification,
    }
}

/// Why a backend call produced no response.
#[derive(Debug)]
pub(crate) enum BackendError {
    Timeout,
    /// Connection refused, DNS failure, TLS handshake or certificate failure, malformed
    /// answer, unsupported scheme...
    Failed(String),
}

impl BackendError {
    /// The gateway's answer: 504 for a timeout, 500 for an endpoint it could not use.
    pub fn into_gateway(self, api_id: &str, uri: &str) -> GatewayResponse {
        match self {
            BackendError::Timeout => {
                tracing::warn!(api = %api_id, %uri, "Execution failed due to a timeout error");
                GatewayResponse::integration_timeout()
            }
            BackendError::Failed(reason) => {
                tracing::warn!(api = %api_id, %uri, %reason, "Execution failed due to configuration error: Invalid endpoint address");
                GatewayResponse::internal_server_error()
            }
        }
    }
}

fn to_request(outgoing: &Outgoing) -> Result<Request<Full<Bytes>>, BackendError> {
    let mut request = Request::builder()
        .method(outgoing.method.as_str())
        .uri(outgoing.uri.as_str())
        .body(Full::new(outgoing.body.clone()))
        .map_err(|e| BackendError::Failed(e.to_string()))?;
    let headers = request.headers_mut();
    for (name, value) in &outgoing.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(n, v);
        }
    }
    Ok(request)
}

/// Sends the request and reads the whole answer within `timeout`.
pub(crate) async fn call(
    client: &HttpClient,
    outgoing: &Outgoing,
    timeout: Duration,
) -> Result<BackendResponse, BackendError> {
    let request = to_request(outgoing)?;
    let pool = if outgoing.skip_ca_verification {
        &client.skip_ca
    } else {
        &client.verified
    };
    let exchange = async {
        let response = pool
            .request(request)
            .await
            .map_err(|e| BackendError::Failed(format!("{e:?}")))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let body = Limited::new(response.into_body(), MAX_RESPONSE)
            .collect()
            .await
            .map_err(|e| BackendError::Failed(e.to_string()))?
            .to_bytes();
        Ok(BackendResponse {
            status,
            headers,
            body,
        })
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or(Err(BackendError::Timeout))
}

pub(crate) async fn http_custom(
    exchange: &Exchange<'_>,
    client: &HttpClient,
    spec: &HttpSpec,
    mapping: &RequestMapping,
    responses: &ResponseMapping,
) -> Result<Response<Bytes>, GatewayResponse> {
    let outgoing = custom_request(exchange, spec, mapping)?;
    let backend = exchange
        .call_traced(client, &outgoing, spec.timeout)
        .await?;
    let status = backend.status.to_string();
    exchange.map_response(
        responses,
        Some(&status),
        &backend.body,
        &backend.headers,
        false,
    )
}

/// The HTTP_PROXY response headers: reserved names remapped, framing headers dropped.
pub(crate) fn proxy_response_headers(backend: &[(String, String)]) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(backend.len());
    for (name, value) in backend {
        if DROPPED_RESPONSE.contains(&name.as_str()) {
            continue;
        }
        match REMAPPED.iter().find(|(lower, _)| lower == name) {
            Some((_, title)) => out.push((format!("x-amzn-Remapped-{title}"), value.clone())),
            None => out.push((name.clone(), value.clone())),
        }
    }
    out
}

pub(crate) async fn http_proxy(
    exchange: &Exchange<'_>,
    client: &HttpClient,
    spec: &HttpSpec,
) -> Result<Response<Bytes>, GatewayResponse> {
    let outgoing = proxy_request(exchange, spec);
    let backend = exchange
        .call_traced(client, &outgoing, spec.timeout)
        .await?;
    let content_type = backend
        .headers
        .iter()
        .find(|(n, _)| n == "content-type")
        .map(|(_, v)| v.as_str())
        .unwrap_or("application/json");
    let mut response =
        exchange.base_response(backend.status, content_type, backend.body.clone(), false);
    let headers = response.headers_mut();
    for (name, value) in proxy_response_headers(&backend.headers) {
        if name == "content-type" {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.append(n, v);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_building() {
        let parts = vec![
            UriPart::Literal("http://h:1/a/".into()),
            UriPart::Placeholder("id".into()),
            UriPart::Literal("/b".into()),
        ];
        assert_eq!(
            build_uri(
                &parts,
                &[("id".into(), "x%2By".into())],
                &[("q".into(), "a b&c".into()), ("r".into(), "1".into())]
            ),
            "http://h:1/a/x%2By/b?q=a%20b%26c&r=1"
        );
        let with_query = vec![UriPart::Literal("http://h/p?fixed=1".into())];
        assert_eq!(
            build_uri(&with_query, &[], &[("q".into(), "2".into())]),
            "http://h/p?fixed=1&q=2"
        );
        assert_eq!(build_uri(&parts, &[], &[]), "http://h:1/a//b");
    }

    #[test]
    fn proxy_headers_are_remapped_and_dropped() {
        let backend = vec![
            ("date".to_owned(), "Mon".to_owned()),
            ("server".to_owned(), "py".to_owned()),
            ("content-length".to_owned(), "2".to_owned()),
            ("transfer-encoding".to_owned(), "chunked".to_owned()),
            ("x-custom".to_owned(), "1".to_owned()),
        ];
        assert_eq!(
            proxy_response_headers(&backend),
            vec![
                ("x-amzn-Remapped-Date".to_owned(), "Mon".to_owned()),
                ("x-amzn-Remapped-Server".to_owned(), "py".to_owned()),
                ("x-amzn-Remapped-Content-Length".to_owned(), "2".to_owned()),
                ("x-custom".to_owned(), "1".to_owned()),
            ]
        );
    }

    #[test]
    fn https_uris_make_requests() {
        let outgoing = Outgoing {
            method: "GET".into(),
            uri: "https://example.com/a?b=1".into(),
            headers: vec![("X-A".into(), "1".into())],
            body: Bytes::new(),
            skip_ca_verification: false,
        };
        let request = to_request(&outgoing).unwrap();
        assert_eq!(request.uri().scheme_str(), Some("https"));
        assert_eq!(request.headers()["x-a"], "1");
        let bad = Outgoing {
            uri: "not a uri".into(),
            ..outgoing
        };
        assert!(matches!(to_request(&bad), Err(BackendError::Failed(_))));
    }
}
