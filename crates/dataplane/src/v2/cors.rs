//! `corsConfiguration`: preflight requests answered by the gateway itself, and the CORS
//! headers put on (and overriding the backend's on) every response to an allowed origin.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use portico_model::apigatewayv2::Cors;

/// A CORS configuration with its header values prepared once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CompiledCors {
    origins: Vec<String>,
    any_origin: bool,
    methods: Option<String>,
    headers: Option<String>,
    expose: Option<String>,
    max_age: Option<String>,
    credentials: bool,
}

fn joined(values: Option<&Vec<String>>, lower: bool) -> Option<String> {
    let values = values.filter(|v| !v.is_empty())?;
    let text = values.join(",");
    Some(if lower {
        text.to_ascii_lowercase()
    } else {
        text
    })
}

const CORS_HEADERS: [&str; 6] = [
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "access-control-max-age",
    "access-control-allow-credentials",
];

impl CompiledCors {
    pub fn new(cors: &Cors) -> Self {
        let origins = cors.allow_origins.clone().unwrap_or_default();
        Self {
            any_origin: origins.iter().any(|o| o == "*"),
            origins,
            methods: joined(cors.allow_methods.as_ref(), false),
            headers: joined(cors.allow_headers.as_ref(), true),
            expose: joined(cors.expose_headers.as_ref(), true),
            max_age: cors.max_age.filter(|age| *age >= 0).map(|a| a.to_string()),
            credentials: cors.allow_credentials == Some(true),
        }
    }

    /// The `Access-Control-Allow-Origin` value for a request `Origin`, if it is allowed.
    fn allowed_origin(&self, origin: &str) -> Option<String> {
        if self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
            Some(origin.to_owned())
        } else if self.any_origin {
            Some("*".to_owned())
        } else {
            None
        }
    }

    /// A preflight is an `OPTIONS` with `Origin` and `Access-Control-Request-Method`.
    pub fn is_preflight(method: &http::Method, headers: &HeaderMap) -> bool {
        method == http::Method::OPTIONS
            && headers.contains_key(http::header::ORIGIN)
            && headers.contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD)
    }

    /// The gateway's own answer to a preflight: `204` with the configured headers when the
    /// origin is allowed, without them when it is not.
    pub fn preflight(&self, headers: &HeaderMap) -> Response<Bytes> {
        let mut response = Response::new(Bytes::new());
        *response.status_mut() = StatusCode::NO_CONTENT;
        let origin = headers
            .get(http::header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if let Some(allowed) = self.allowed_origin(origin) {
            let out = response.headers_mut();
            put(out, "access-control-allow-origin", Some(&allowed));
            put(out, "access-control-allow-methods", self.methods.as_deref());
            put(out, "access-control-allow-headers", self.headers.as_deref());
            put(out, "access-control-max-age", self.max_age.as_deref());
            if self.credentials {
                put(out, "access-control-allow-credentials", Some("true"));
            }
        }
        response
    }

    /// Replaces whatever CORS headers the backend sent with the configured ones.
    pub fn decorate(&self, request: &HeaderMap, response: &mut Response<Bytes>) {
        let out = response.headers_mut();
        for name in CORS_HEADERS {
            out.remove(name);
        }
        let Some(origin) = request
            .get(http::header::ORIGIN)
            .and_then(|v| v.to_str().ok())
        else {
            return;
        };
        if let Some(allowed) = self.allowed_origin(origin) {
            put(out, "access-control-allow-origin", Some(&allowed));
            put(out, "access-control-expose-headers", self.expose.as_deref());
            if self.credentials {
                put(out, "access-control-allow-credentials", Some("true"));
            }
        }
    }
}

fn put(headers: &mut HeaderMap, name: &'static str, value: Option<&str>) {
    if let Some(value) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
        headers.insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors() -> CompiledCors {
        CompiledCors::new(&Cors {
            allow_origins: Some(vec!["https://example.com".into()]),
            allow_methods: Some(vec!["GET".into(), "POST".into()]),
            allow_headers: Some(vec!["Content-Type".into(), "X-Api".into()]),
            expose_headers: Some(vec!["X-Out".into()]),
            max_age: Some(300),
            allow_credentials: Some(true),
        })
    }

    fn request(origin: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("origin", HeaderValue::from_str(origin).unwrap());
        h.insert(
            "access-control-request-method",
            HeaderValue::from_static("GET"),
        );
        h
    }

    #[test]
    fn preflight_for_an_allowed_origin() {
        let r = cors().preflight(&request("https://example.com"));
        assert_eq!(r.status(), 204);
        let h = r.headers();
        assert_eq!(h["access-control-allow-origin"], "https://example.com");
        assert_eq!(h["access-control-allow-methods"], "GET,POST");
        assert_eq!(h["access-control-allow-headers"], "content-type,x-api");
        assert_eq!(h["access-control-max-age"], "300");
        assert_eq!(h["access-control-allow-credentials"], "true");
        let r = cors().preflight(&request("https://evil.com"));
        assert_eq!(r.status(), 204);
        assert!(r.headers().get("access-control-allow-origin").is_none());
    }

    #[test]
    fn responses_get_configured_headers_only() {
        let mut response = Response::new(Bytes::new());
        response
            .headers_mut()
            .insert("access-control-allow-origin", HeaderValue::from_static("*"));
        cors().decorate(&request("https://example.com"), &mut response);
        assert_eq!(
            response.headers()["access-control-allow-origin"],
            "https://example.com"
        );
        assert_eq!(response.headers()["access-control-expose-headers"], "x-out");
        let mut response = Response::new(Bytes::new());
        cors().decorate(&request("https://evil.com"), &mut response);
        assert!(response.headers().is_empty());
    }
}
