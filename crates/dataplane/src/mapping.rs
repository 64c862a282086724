//! Parameter mapping (`requestParameters` of an integration, `responseParameters` of an
//! integration response): parsed once at deployment into [`Source`]s, evaluated per request
//! against the method request or the integration response.
//!
//! Stage variables are fixed for the life of a compiled stage, so `stageVariables.x` sources
//! and `${stageVariables.x}` inside integration URIs are resolved at compile time.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::params::RequestParts;

/// Where a mapped value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `'literal'` or a resolved stage variable.
    Static(String),
    /// `method.request.header.X` (last value).
    Header(String),
    /// `method.request.multivalueheader.X` (all values, comma-joined for a header).
    MultiHeader(String),
    /// `method.request.querystring.X` (last value).
    Query(String),
    /// `method.request.multivaluequerystring.X` (all values).
    MultiQuery(String),
    /// `method.request.path.X`.
    Path(String),
    /// `method.request.body` / `integration.response.body`.
    Body,
    /// `method.request.body.a.b` / `integration.response.body.a.b`: a JSONPath without `$`.
    BodyPath(Vec<String>),
    /// `integration.response.header.X` (last value).
    ResponseHeader(String),
    /// `integration.response.multivalueheader.X`.
    ResponseMultiHeader(String),
    /// `context.a.b`.
    Context(Vec<String>),
}

fn dotted(path: &str) -> Vec<String> {
    path.trim_start_matches('$')
        .trim_start_matches('.')
        .split('.')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Source {
    /// Parses a source expression; `None` for one API Gateway would have refused.
    pub fn parse(expression: &str, variables: &BTreeMap<String, String>) -> Option<Self> {
        let e = expression.trim();
        if e.len() >= 2 && e.starts_with('\'') && e.ends_with('\'') {
            return Some(Self::Static(e[1..e.len() - 1].to_owned()));
        }
        if let Some(name) = e.strip_prefix("stageVariables.") {
            return Some(Self::Static(
                variables.get(name).cloned().unwrap_or_default(),
            ));
        }
        if let Some(path) = e.strip_prefix("context.") {
            return Some(Self::Context(dotted(path)));
        }
        for prefix in ["method.request.", "integration.response."] {
            let Some(rest) = e.strip_prefix(prefix) else {
                continue;
            };
            if rest == "body" {
                return Some(Self::Body);
            }
            if let Some(path) = rest.strip_prefix("body.") {
                return Some(Self::BodyPath(dotted(path)));
            }
            let (kind, name) = rest.split_once('.')?;
            let name = name.to_owned();
            let request = prefix == "method.request.";
            return match (request, kind) {
                (true, "header") => Some(Self::Header(name)),
                (true, "multivalueheader") => Some(Self::MultiHeader(name)),
                (true, "querystring") => Some(Self::Query(name)),
                (true, "multivaluequerystring") => Some(Self::MultiQuery(name)),
                (true, "path") => Some(Self::Path(name)),
                (false, "header") => Some(Self::ResponseHeader(name)),
                (false, "multivalueheader") => Some(Self::ResponseMultiHeader(name)),
                _ => None,
            };
        }
        None
    }
}

/// Where a request parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Header,
    Query,
    Path,
}

/// One `integration.request.{header|querystring|path}.{name}` mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestParameter {
    pub target: Target,
    pub name: String,
    pub source: Source,
}

/// Compiles integration `requestParameters`; unusable entries are reported by `on_invalid`.
pub fn compile_request_parameters(
    parameters: Option<&BTreeMap<String, String>>,
    variables: &BTreeMap<String, String>,
    mut on_invalid: impl FnMut(&str, &str),
) -> Vec<RequestParameter> {
    let mut out = Vec::new();
    for (dest, expression) in parameters.into_iter().flatten() {
        let target = if let Some(name) = dest.strip_prefix("integration.request.header.") {
            (Target::Header, name)
        } else if let Some(name) = dest.strip_prefix("integration.request.querystring.") {
            (Target::Query, name)
        } else if let Some(name) = dest.strip_prefix("integration.request.path.") {
            (Target::Path, name)
        } else {
            on_invalid(dest, expression);
            continue;
        };
        match Source::parse(expression, variables) {
            Some(source) => out.push(RequestParameter {
                target: target.0,
                name: target.1.to_owned(),
                source,
            }),
            None => on_invalid(dest, expression),
        }
    }
    out
}

/// What a source is evaluated against.
pub(crate) struct Inputs<'a> {
    pub parts: &'a RequestParts,
    pub path_parameters: &'a [(&'a str, &'a str)],
    /// The method request body, or the integration response body.
    pub body: &'a [u8],
    /// Integration response headers (names lower-case), empty for requests.
    pub response_headers: &'a [(String, String)],
    /// `$context`, built only when a `context.*` source asks for it.
    pub context: &'a dyn Fn() -> Value,
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn walk<'v>(mut value: &'v Value, path: &[String]) -> Option<&'v Value> {
    for key in path {
        value = match value {
            Value::Object(map) => map.get(key)?,
            Value::Array(items) => items.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

/// Evaluates a source to its values (several for multi-value sources); empty when absent.
pub(crate) fn evaluate(source: &Source, inputs: &Inputs<'_>) -> Vec<String> {
    let by_name = |pairs: &[(String, String)], name: &str, all: bool| -> Vec<String> {
        let mut found: Vec<String> = pairs
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect();
        if !all && found.len() > 1 {
            found.drain(..found.len() - 1);
        }
        found
    };
    match source {
        Source::Static(v) => vec![v.clone()],
        Source::Header(n) => by_name(&inputs.parts.headers, n, false),
        Source::MultiHeader(n) => by_name(&inputs.parts.headers, n, true),
        Source::Query(n) => {
            let mut values: Vec<String> = inputs
                .parts
                .query
                .iter()
                .filter(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
                .collect();
            values.drain(..values.len().saturating_sub(1));
            values
        }
        Source::MultiQuery(n) => inputs
            .parts
            .query
            .iter()
            .filter(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .collect(),
        Source::Path(n) => inputs
            .path_parameters
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| vec![(*v).to_owned()])
            .unwrap_or_default(),
        Source::Body => vec![String::from_utf8_lossy(inputs.body).into_owned()],
        Source::BodyPath(path) => serde_json::from_slice::<Value>(inputs.body)
            .ok()
            .and_then(|v| walk(&v, path).map(text))
            .into_iter()
            .collect(),
        Source::ResponseHeader(n) => by_name(inputs.response_headers, n, false),
        Source::ResponseMultiHeader(n) => by_name(inputs.response_headers, n, true),
        Source::Context(path) => {
            let context = (inputs.context)();
            walk(&context, path)
                .filter(|v| !v.is_null())
                .map(text)
                .into_iter()
                .collect()
        }
    }
}

/// `{name}` placeholders of an integration URI, split once at deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UriPart {
    Literal(String),
    Placeholder(String),
}

/// Splits a URI on `{name}` placeholders after resolving `${stageVariables.x}`.
pub fn compile_uri(uri: &str, variables: &BTreeMap<String, String>) -> Vec<UriPart> {
    let resolved = resolve_stage_variables(uri, variables);
    let mut parts = Vec::new();
    let mut rest = resolved.as_str();
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        if open > 0 {
            parts.push(UriPart::Literal(rest[..open].to_owned()));
        }
        let name = &rest[open + 1..close];
        parts.push(UriPart::Placeholder(
            name.strip_suffix('+').unwrap_or(name).to_owned(),
        ));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(UriPart::Literal(rest.to_owned()));
    }
    parts
}

/// Replaces `${stageVariables.x}` (missing variables become empty, as AWS renders them).
pub fn resolve_stage_variables(text: &str, variables: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${stageVariables.") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "${stageVariables.".len()..];
        match after.find('}') {
            Some(end) => {
                if let Some(v) = variables.get(&after[..end]) {
                    out.push_str(v);
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        BTreeMap::from([("host".to_owned(), "127.0.0.1:9000".to_owned())])
    }

    #[test]
    fn sources_parse() {
        let v = vars();
        assert_eq!(
            Source::parse("'abc'", &v),
            Some(Source::Static("abc".into()))
        );
        assert_eq!(
            Source::parse("stageVariables.host", &v),
            Some(Source::Static("127.0.0.1:9000".into()))
        );
        assert_eq!(
            Source::parse("method.request.multivaluequerystring.q", &v),
            Some(Source::MultiQuery("q".into()))
        );
        assert_eq!(
            Source::parse("integration.response.body.a.b", &v),
            Some(Source::BodyPath(vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            Source::parse("context.identity.sourceIp", &v),
            Some(Source::Context(vec!["identity".into(), "sourceIp".into()]))
        );
        assert_eq!(Source::parse("method.request.cookie.x", &v), None);
        assert_eq!(Source::parse("integration.response.path.x", &v), None);
    }

    #[test]
    fn evaluation() {
        let parts = RequestParts {
            query: vec![
                ("q".into(), "1".into()),
                ("q".into(), "2".into()),
                ("r".into(), "x y".into()),
            ],
            headers: vec![("X-A".into(), "a1".into()), ("X-A".into(), "a2".into())],
        };
        let context = || serde_json::json!({"identity": {"sourceIp": "10.0.0.1"}, "stage": "s"});
        let inputs = Inputs {
            parts: &parts,
            path_parameters: &[("id", "7%20x")],
            body: br#"{"a":{"b":[5,{"c":"d"}]}}"#,
            response_headers: &[],
            context: &context,
        };
        let eval = |s: &str| evaluate(&Source::parse(s, &vars()).unwrap(), &inputs);
        assert_eq!(eval("method.request.querystring.q"), vec!["2"]);
        assert_eq!(
            eval("method.request.multivaluequerystring.q"),
            vec!["1", "2"]
        );
        assert_eq!(eval("method.request.header.x-a"), vec!["a2"]);
        assert_eq!(
            eval("method.request.multivalueheader.X-A"),
            vec!["a1", "a2"]
        );
        assert_eq!(eval("method.request.path.id"), vec!["7%20x"]);
        assert_eq!(eval("method.request.body.a.b.1.c"), vec!["d"]);
        assert_eq!(eval("method.request.body.a.b"), vec![r#"[5,{"c":"d"}]"#]);
        assert_eq!(eval("context.identity.sourceIp"), vec!["10.0.0.1"]);
        assert!(eval("method.request.querystring.none").is_empty());
    }

    #[test]
    fn uris() {
        assert_eq!(
            compile_uri(
                "http://${stageVariables.host}/pets/{id}/{proxy+}?x=1",
                &vars()
            ),
            vec![
                UriPart::Literal("http://127.0.0.1:9000/pets/".into()),
                UriPart::Placeholder("id".into()),
                UriPart::Literal("/".into()),
                UriPart::Placeholder("proxy".into()),
                UriPart::Literal("?x=1".into()),
            ]
        );
        assert_eq!(
            resolve_stage_variables("a${stageVariables.none}b${stageVariables.x", &vars()),
            "ab${stageVariables.x"
        );
    }

    #[test]
    fn request_parameters_compile() {
        let params = BTreeMap::from([
            (
                "integration.request.header.X-Id".to_owned(),
                "method.request.path.id".to_owned(),
            ),
            ("integration.request.cookie.c".to_owned(), "'x'".to_owned()),
        ]);
        let mut invalid = Vec::new();
        let compiled =
            compile_request_parameters(Some(&params), &vars(), |d, _| invalid.push(d.to_owned()));
        assert_eq!(
            compiled,
            vec![RequestParameter {
                target: Target::Header,
                name: "X-Id".into(),
                source: Source::Path("id".into())
            }]
        );
        assert_eq!(invalid, vec!["integration.request.cookie.c"]);
    }
}
