//! HTTP_PROXY integrations of HTTP APIs: the backend URL (path variables, the `$default`
//! route's full path, the query string), `requestParameters` mapping (overwrite, append and
//! remove of headers and query parameters, overwrite of the path), and the answer passed back.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Response, StatusCode};

use crate::backend::{self, BackendError, HttpClient, Outgoing};

/// Request headers a proxy never forwards: hop-by-hop framing and the client's `Host`.
const HOP_BY_HOP: &[&str] = &[
    "host",
    "connection",
    "content-length",
    "expect",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Response headers the gateway sets itself.
const NOT_RETURNED: &[&str] = &[
    "connection",
    "content-length",
    "transfer-encoding",
    "keep-alive",
];

/// Where a mapped value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Header(String),
    Query(String),
    PathParameter(String),
    /// `$request.path`: the request path below the stage.
    Path,
    Context(String),
    StageVariable(String),
    Static(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Overwrite,
    Append,
    Remove,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Header(String),
    Query(String),
    Path,
}

/// One `requestParameters` entry, parsed at deploy time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mapping {
    pub action: Action,
    pub target: Target,
    pub source: Source,
}

/// Parses `overwrite:header.X` → `$request.header.Y` and friends; `None` for keys outside
/// the HTTP API grammar (the control plane is where those are refused).
pub(crate) fn parse_mapping(key: &str, value: &str) -> Option<Mapping> {
    let (action, target) = key.split_once(':')?;
    let action = match action {
        "overwrite" => Action::Overwrite,
        "append" => Action::Append,
        "remove" => Action::Remove,
        _ => return None,
    };
    let target = if target == "path" {
        Target::Path
    } else if let Some(name) = target.strip_prefix("header.") {
        Target::Header(name.to_ascii_lowercase())
    } else if let Some(name) = target.strip_prefix("querystring.") {
        Target::Query(name.to_owned())
    } else {
        return None;
    };
    let source = if value == "$request.path" {
        Source::Path
    } else if let Some(name) = value.strip_prefix("$request.header.") {
        Source::Header(name.to_ascii_lowercase())
    } else if let Some(name) = value.strip_prefix("$request.querystring.") {
        Source::Query(name.to_owned())
    } else if let Some(name) = value.strip_prefix("$request.path.") {
        Source::PathParameter(name.to_owned())
    } else if let Some(name) = value.strip_prefix("$context.") {
        Source::Context(name.to_owned())
    } else if let Some(name) = value.strip_prefix("$stageVariables.") {
        Source::StageVariable(name.to_owned())
    } else {
        Source::Static(value.to_owned())
    };
    Some(Mapping {
        action,
        target,
        source,
    })
}

/// What the mapping sources read from.
pub(crate) struct ProxyInputs<'a> {
    pub method: &'a str,
    /// The path below the stage.
    pub route_path: &'a str,
    pub raw_query: &'a str,
    pub headers: &'a [(String, Vec<String>)],
    pub path_parameters: &'a [(&'a str, &'a str)],
    pub is_default_route: bool,
    pub stage_variables: &'a std::collections::BTreeMap<String, String>,
    pub context: &'a (dyn Fn(&str) -> Option<String> + Sync),
    pub body: Bytes,
}

impl ProxyInputs<'_> {
    fn value(&self, source: &Source) -> Option<String> {
        match source {
            Source::Header(name) => self
                .headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.join(",")),
            Source::Query(name) => form_urlencoded::parse(self.raw_query.as_bytes())
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .reduce(|a, b| format!("{a},{b}")),
            Source::PathParameter(name) => self
                .path_parameters
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| (*v).to_owned()),
            Source::Path => Some(self.route_path.to_owned()),
            Source::Context(name) => (self.context)(name),
            Source::StageVariable(name) => self.stage_variables.get(name).cloned(),
            Source::Static(text) => Some(text.clone()),
        }
    }
}

/// The request sent to the backend.
pub(crate) fn outgoing(
    uri: &str,
    method: Option<&str>,
    mappings: &[Mapping],
    inputs: &ProxyInputs<'_>,
) -> Outgoing {
    let mut headers: Vec<(String, String)> = inputs
        .headers
        .iter()
        .filter(|(n, _)| !HOP_BY_HOP.contains(&n.as_str()))
        .flat_map(|(n, values)| values.iter().map(move |v| (n.clone(), v.clone())))
        .collect();
    let mut query: Vec<(String, String)> = form_urlencoded::parse(inputs.raw_query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut path_override = None;
    for mapping in mappings {
        let value = match mapping.action {
            Action::Remove => None,
            _ => match inputs.value(&mapping.source) {
                Some(v) => Some(v),
                None => continue,
            },
        };
        match (&mapping.target, mapping.action, value) {
            (Target::Header(name), Action::Remove, _) => headers.retain(|(n, _)| n != name),
            (Target::Header(name), Action::Overwrite, Some(v)) => {
                headers.retain(|(n, _)| n != name);
                headers.push((name.clone(), v));
            }
            (Target::Header(name), Action::Append, Some(v)) => {
                match headers.iter_mut().find(|(n, _)| n == name) {
                    Some((_, existing)) => {
                        existing.push(',');
                        existing.push_str(&v);
                    }
                    None => headers.push((name.clone(), v)),
                }
            }
            (Target::Query(name), Action::Remove, _) => query.retain(|(k, _)| k != name),
            (Target::Query(name), Action::Overwrite, Some(v)) => {
                query.retain(|(k, _)| k != name);
                query.push((name.clone(), v));
            }
            (Target::Query(name), Action::Append, Some(v)) => query.push((name.clone(), v)),
            (Target::Path, Action::Overwrite, Some(v)) => path_override = Some(v),
            _ => {}
        }
    }
    let mut url = substitute(uri, inputs.path_parameters);
    if let Some(path) = path_override {
        url = replace_path(&url, &path);
    } else if inputs.is_default_route {
        // The `$default` route forwards the whole request path to the backend.
        url = format!("{}{}", url.trim_end_matches('/'), inputs.route_path);
    }
    if !query.is_empty() {
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query.iter())
            .finish();
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&encoded);
    }
    Outgoing {
        method: match method {
            None | Some("ANY") => inputs.method.to_owned(),
            Some(m) => m.to_owned(),
        },
        uri: url,
        headers,
        body: inputs.body.clone(),
        // HTTP APIs have no `insecureSkipVerification`: public backends are always verified.
        skip_ca_verification: false,
    }
}

/// Replaces `{name}` and `{name+}` in the integration URI with the matched path values.
fn substitute(uri: &str, params: &[(&str, &str)]) -> String {
    let mut out = uri.to_owned();
    for (name, value) in params {
        out = out
            .replace(&format!("{{{name}+}}"), value)
            .replace(&format!("{{{name}}}"), value);
    }
    out
}

/// `scheme://authority` of `url` followed by `path`.
fn replace_path(url: &str, path: &str) -> String {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_end = url[after_scheme..]
        .find('/')
        .map(|i| after_scheme + i)
        .unwrap_or(url.len());
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    format!("{}{}", &url[..authority_end], path)
}

/// Calls the backend and hands its answer back; `Err` is the gateway's status and message.
pub(crate) async fn call(
    client: &HttpClient,
    outgoing: &Outgoing,
    timeout: Duration,
) -> Result<Response<Bytes>, (u16, &'static str)> {
    let backend = match backend::call(client, outgoing, timeout).await {
        Ok(answer) => answer,
        Err(BackendError::Timeout) => {
            tracing::warn!(uri = %outgoing.uri, "HTTP_PROXY integration timed out");
            return Err((503, "Service Unavailable"));
        }
        Err(BackendError::Failed(reason)) => {
            tracing::warn!(uri = %outgoing.uri, %reason, "HTTP_PROXY integration failed");
            return Err((500, "Internal Server Error"));
        }
    };
    let mut response = Response::new(backend.body);
    *response.status_mut() = StatusCode::from_u16(backend.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    for (name, value) in backend.headers {
        if NOT_RETURNED.contains(&name.as_str()) {
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

    fn inputs<'a>(
        headers: &'a [(String, Vec<String>)],
        params: &'a [(&'a str, &'a str)],
        vars: &'a std::collections::BTreeMap<String, String>,
        is_default_route: bool,
    ) -> ProxyInputs<'a> {
        ProxyInputs {
            method: "GET",
            route_path: "/store/checkout",
            raw_query: "a=1&b=2",
            headers,
            path_parameters: params,
            is_default_route,
            stage_variables: vars,
            context: &|name| (name == "requestId").then(|| "rid".to_owned()),
            body: Bytes::new(),
        }
    }

    #[test]
    fn default_route_forwards_the_full_path_and_query() {
        let headers = vec![
            ("host".to_owned(), vec!["x".to_owned()]),
            ("x-a".to_owned(), vec!["1".to_owned()]),
        ];
        let vars = Default::default();
        let out = outgoing(
            "http://backend:8080/",
            Some("ANY"),
            &[],
            &inputs(&headers, &[], &vars, true),
        );
        assert_eq!(out.uri, "http://backend:8080/store/checkout?a=1&b=2");
        assert_eq!(out.method, "GET");
        assert_eq!(out.headers, vec![("x-a".to_owned(), "1".to_owned())]);
    }

    #[test]
    fn parameters_are_mapped() {
        let headers = vec![("x-a".to_owned(), vec!["1".to_owned()])];
        let params = [("proxy", "p/q")];
        let vars = [("env".to_owned(), "prod".to_owned())]
            .into_iter()
            .collect();
        let mappings: Vec<Mapping> = [
            ("append:header.x-a", "$stageVariables.env"),
            ("overwrite:header.x-id", "$context.requestId"),
            ("remove:querystring.a", "''"),
            ("append:querystring.c", "static"),
            ("overwrite:header.x-p", "$request.path.proxy"),
        ]
        .iter()
        .map(|(k, v)| parse_mapping(k, v).unwrap())
        .collect();
        let out = outgoing(
            "http://b/{proxy}",
            Some("POST"),
            &mappings,
            &inputs(&headers, &params, &vars, false),
        );
        assert_eq!(out.uri, "http://b/p/q?b=2&c=static");
        assert_eq!(out.method, "POST");
        assert_eq!(
            out.headers,
            vec![
                ("x-a".to_owned(), "1,prod".to_owned()),
                ("x-id".to_owned(), "rid".to_owned()),
                ("x-p".to_owned(), "p/q".to_owned())
            ]
        );
        let path = [parse_mapping("overwrite:path", "/fixed").unwrap()];
        let out = outgoing(
            "http://b/x?k=v",
            None,
            &path,
            &inputs(&headers, &params, &vars, true),
        );
        assert_eq!(out.uri, "http://b/fixed?a=1&b=2");
        assert!(parse_mapping("rename:header.x", "y").is_none());
    }
}
