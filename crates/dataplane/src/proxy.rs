//! Lambda proxy integration (REST, payload format 1.0): the event the function receives and
//! the rules its answer must follow.

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::context::{RequestMeta, proxy_request_context};
use crate::params::{RequestParts, multi_values};
use crate::snapshot::{CompiledMethod, CompiledStage};

fn string_map(pairs: Vec<(String, String)>) -> Value {
    if pairs.is_empty() {
        return Value::Null;
    }
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    )
}

fn multi_map(pairs: Vec<(String, Vec<String>)>) -> Value {
    if pairs.is_empty() {
        return Value::Null;
    }
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k, Value::Array(v.into_iter().map(Value::String).collect())))
            .collect(),
    )
}

/// Builds the REST proxy event.
pub(crate) fn event(
    stage: &CompiledStage,
    method: &CompiledMethod,
    meta: &RequestMeta,
    parts: &RequestParts,
    path_parameters: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut event = Map::with_capacity(12);
    event.insert("resource".into(), method.resource_path.clone().into());
    event.insert("path".into(), meta.path.clone().into());
    event.insert("httpMethod".into(), meta.http_method.clone().into());
    event.insert("headers".into(), string_map(parts.single_headers()));
    event.insert(
        "multiValueHeaders".into(),
        multi_map(multi_values(&parts.headers, true)),
    );
    event.insert(
        "queryStringParameters".into(),
        string_map(parts.single_query()),
    );
    event.insert(
        "multiValueQueryStringParameters".into(),
        multi_map(multi_values(&parts.query, false)),
    );
    event.insert(
        "pathParameters".into(),
        string_map(
            path_parameters
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ),
    );
    event.insert(
        "stageVariables".into(),
        string_map(
            stage
                .variables
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
    );
    event.insert(
        "requestContext".into(),
        proxy_request_context(stage, method, meta),
    );
    event.insert(
        "body".into(),
        if body.is_empty() {
            Value::Null
        } else {
            Value::String(String::from_utf8_lossy(body).into_owned())
        },
    );
    event.insert("isBase64Encoded".into(), false.into());
    serde_json::to_vec(&Value::Object(event)).unwrap_or_default()
}

/// A function's answer, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProxyResponse {
    pub status: u16,
    /// Header name and value; a name that appears in both `multiValueHeaders` and `headers` is
    /// sent once, its values joined with `, ` (multi-values first).
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Applies the REST proxy response rules; `None` means the gateway answers 502.
pub(crate) fn parse_response(payload: &[u8]) -> Option<ProxyResponse> {
    let Value::Object(map) = serde_json::from_slice::<Value>(payload).ok()? else {
        return None;
    };
    let mut status = 200u16;
    let mut single: Vec<(String, String)> = Vec::new();
    let mut multi: Vec<(String, Vec<String>)> = Vec::new();
    let mut body = Bytes::new();
    for (key, value) in map {
        match key.as_str() {
            "statusCode" => {
                status = match &value {
                    Value::Number(n) => u16::try_from(n.as_u64()?).ok()?,
                    Value::String(s) => s.trim().parse().ok()?,
                    Value::Null => 200,
                    _ => return None,
                };
                if !(100..=599).contains(&status) {
                    return None;
                }
            }
            "headers" => match value {
                Value::Null => {}
                Value::Object(headers) => {
                    for (name, v) in headers {
                        if v.is_null() {
                            continue;
                        }
                        single.push((name, scalar_text(&v)?));
                    }
                }
                _ => return None,
            },
            "multiValueHeaders" => match value {
                Value::Null => {}
                Value::Object(headers) => {
                    for (name, v) in headers {
                        match v {
                            Value::Null => {}
                            Value::Array(values) => multi.push((
                                name,
                                values.iter().map(scalar_text).collect::<Option<Vec<_>>>()?,
                            )),
                            _ => return None,
                        }
                    }
                }
                _ => return None,
            },
            "body" => match value {
                Value::Null => {}
                Value::String(s) => body = Bytes::from(s),
                _ => return None,
            },
            "isBase64Encoded" => match value {
                Value::Null | Value::Bool(_) => {}
                _ => return None,
            },
            _ => return None,
        }
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, values) in multi {
        let mut values = values;
        if let Some(pos) = single
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            values.push(single.remove(pos).1);
        }
        headers.push((name, values.join(", ")));
    }
    headers.extend(single);
    Some(ProxyResponse {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_rules() {
        let r =
            parse_response(br#"{"statusCode":"201","headers":{"X-A":"1","B":true},"body":"hi"}"#)
                .unwrap();
        assert_eq!(r.status, 201);
        assert_eq!(
            r.headers,
            vec![("X-A".into(), "1".into()), ("B".into(), "true".into())]
        );
        assert_eq!(r.body, Bytes::from("hi"));
        let r = parse_response(
            br#"{"multiValueHeaders":{"X":["value-multi"]},"headers":{"X":"value-solo"}}"#,
        )
        .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(
            r.headers,
            vec![("X".into(), "value-multi, value-solo".into())]
        );
        assert!(parse_response(br#"{"statusCode":200,"wrongValue":"value"}"#).is_none());
        assert!(parse_response(br#""hello""#).is_none());
        assert!(parse_response(br#"{"statusCode":"abc"}"#).is_none());
        assert!(parse_response(br#"{"body":{"a":1}}"#).is_none());
        assert!(parse_response(br#"{"multiValueHeaders":{"X":"no"}}"#).is_none());
    }
}
