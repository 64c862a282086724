//! Lambda proxy integration (REST, payload format 1.0): the event the function receives and
//! the rules its answer must follow.

use bytes::Bytes;
use serde_json::Value;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::context::write_proxy_request_context;
use crate::integration::{Exchange, trace_id};
use crate::json_out::JsonObject;
use crate::params::{last_values, multi_values};

/// The request headers as the function sees them: the client's, plus the ones the gateway
/// adds in front of every integration (`X-Amzn-Trace-Id`, `X-Forwarded-*`).
fn event_headers(exchange: &Exchange<'_>) -> Vec<(String, String)> {
    let parts = &exchange.parts;
    let mut headers = parts.headers.clone();
    if parts.header("x-amzn-trace-id").is_none() {
        headers.push((
            "X-Amzn-Trace-Id".to_owned(),
            trace_id(exchange.meta.request_time_epoch),
        ));
    }
    let forwarded_for = match parts.header("x-forwarded-for") {
        Some(previous) => format!("{previous}, {}", exchange.meta.source_ip),
        None => exchange.meta.source_ip.clone(),
    };
    headers.retain(|(n, _)| {
        !n.eq_ignore_ascii_case("x-forwarded-for")
            && !n.eq_ignore_ascii_case("x-forwarded-port")
            && !n.eq_ignore_ascii_case("x-forwarded-proto")
    });
    let port = parts
        .header("host")
        .and_then(|h| h.rsplit_once(':'))
        .map(|(_, p)| p.to_owned())
        .unwrap_or_else(|| "80".to_owned());
    headers.push(("X-Forwarded-For".to_owned(), forwarded_for));
    headers.push(("X-Forwarded-Port".to_owned(), port));
    headers.push(("X-Forwarded-Proto".to_owned(), "http".to_owned()));
    headers
}

/// Builds the REST proxy event. A request whose `Content-Type` is one of the API's binary
/// media types carries its body base64-encoded, with `isBase64Encoded: true`. Written straight
/// into the payload ([`JsonObject`]): this runs on every proxy request.
pub(crate) fn event(exchange: &Exchange<'_>) -> Vec<u8> {
    let (stage, method, meta, parts) = (
        exchange.stage,
        exchange.method,
        &exchange.meta,
        &exchange.parts,
    );
    let headers = event_headers(exchange);
    let binary = parts
        .header("content-type")
        .is_some_and(|ct| stage.is_binary(ct));
    let body = &exchange.body;
    let mut out = Vec::with_capacity(2048 + body.len() * 4 / 3);
    let mut event = JsonObject::begin(&mut out);
    event.str("resource", &method.resource_path);
    event.str("path", &meta.path);
    event.str("httpMethod", &meta.http_method);
    event.string_map("headers", last_values(&headers, true).into_iter());
    event.multi_map("multiValueHeaders", &multi_values(&headers, true));
    event.string_map(
        "queryStringParameters",
        last_values(&parts.query, false).into_iter(),
    );
    event.multi_map(
        "multiValueQueryStringParameters",
        &multi_values(&parts.query, false),
    );
    event.string_map("pathParameters", exchange.path_parameters.iter().copied());
    event.string_map(
        "stageVariables",
        stage
            .variables
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    event.object("requestContext", |context| {
        write_proxy_request_context(context, stage, method, meta);
    });
    if body.is_empty() {
        event.null("body");
    } else if binary {
        event.str("body", &BASE64.encode(body));
    } else {
        event.str("body", &String::from_utf8_lossy(body));
    }
    event.bool("isBase64Encoded", binary && !body.is_empty());
    event.end();
    out
}

/// A function's answer, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProxyResponse {
    pub status: u16,
    /// Header lines in order: each `multiValueHeaders` value on its own line, then the
    /// `headers` value unless the same name already carries that exact value.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub is_base64: bool,
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
    let mut is_base64 = false;
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
                Value::Null => {}
                Value::Bool(b) => is_base64 = b,
                _ => return None,
            },
            _ => return None,
        }
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, values) in multi {
        for value in values {
            headers.push((name.clone(), value));
        }
    }
    for (name, value) in single {
        let duplicate = headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case(&name) && *v == value);
        if !duplicate {
            headers.push((name, value));
        }
    }
    Some(ProxyResponse {
        status,
        headers,
        body,
        is_base64,
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
            vec![
                ("X".into(), "value-multi".into()),
                ("X".into(), "value-solo".into())
            ]
        );
        let r = parse_response(
            br#"{"multiValueHeaders":{"Set-Cookie":["a=1","b=2"]},"headers":{"set-cookie":"a=1"},"isBase64Encoded":true}"#,
        )
        .unwrap();
        assert_eq!(
            r.headers,
            vec![
                ("Set-Cookie".into(), "a=1".into()),
                ("Set-Cookie".into(), "b=2".into())
            ]
        );
        assert!(r.is_base64);
        assert!(parse_response(br#"{"isBase64Encoded":"yes"}"#).is_none());
        assert!(parse_response(br#"{"statusCode":200,"wrongValue":"value"}"#).is_none());
        assert!(parse_response(br#""hello""#).is_none());
        assert!(parse_response(br#"{"statusCode":"abc"}"#).is_none());
        assert!(parse_response(br#"{"body":{"a":1}}"#).is_none());
        assert!(parse_response(br#"{"multiValueHeaders":{"X":"no"}}"#).is_none());
    }
}
