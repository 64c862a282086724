//! What a function's answer becomes, by payload format (aws-behaviour §4.3).

use base64::Engine;
use bytes::Bytes;
use serde_json::Value;

/// A function's answer, checked and ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FunctionResponse {
    pub status: u16,
    /// Header names and values as the function gave them; `content-type` is always present.
    pub headers: Vec<(String, String)>,
    /// Each becomes its own `set-cookie` header.
    pub cookies: Vec<String>,
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

fn status_code(value: &Value) -> Option<u16> {
    let code = match value {
        Value::Number(n) => u16::try_from(n.as_u64()?).ok()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (100..=599).contains(&code).then_some(code)
}

fn with_content_type(mut headers: Vec<(String, String)>, default: &str) -> Vec<(String, String)> {
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("content-type".to_owned(), default.to_owned()));
    }
    headers
}

/// Payload 2.0: an object with `statusCode` is a structured response; any other valid JSON
/// is the body of a `200` (a JSON string is sent unquoted). `None` means `500`.
pub(crate) fn parse_v2(payload: &[u8]) -> Option<FunctionResponse> {
    let value: Value = serde_json::from_slice(payload).ok()?;
    let structured = match &value {
        Value::Object(map) if map.contains_key("statusCode") => map,
        Value::String(text) => {
            return Some(FunctionResponse {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                cookies: Vec::new(),
                body: Bytes::from(text.clone()),
            });
        }
        other => {
            return Some(FunctionResponse {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                cookies: Vec::new(),
                body: Bytes::from(serde_json::to_vec(other).ok()?),
            });
        }
    };
    let status = status_code(structured.get("statusCode")?)?;
    let mut headers = Vec::new();
    match structured.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (name, value) in map {
                if !value.is_null() {
                    headers.push((name.clone(), scalar_text(value)?));
                }
            }
        }
        Some(_) => return None,
    }
    let mut cookies = Vec::new();
    match structured.get("cookies") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                cookies.push(item.as_str()?.to_owned());
            }
        }
        Some(_) => return None,
    }
    let encoded = match structured.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return None,
    };
    let body = match structured.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(text)) if encoded => Bytes::from(
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .ok()?,
        ),
        Some(Value::String(text)) => Bytes::from(text.clone()),
        Some(_) => return None,
    };
    Some(FunctionResponse {
        status,
        headers: with_content_type(headers, "text/plain; charset=utf-8"),
        cookies,
        body,
    })
}

/// Payload 1.0: the REST proxy rules, except that `isBase64Encoded` is always honoured
/// (HTTP APIs have no binary media types).
pub(crate) fn parse_v1(payload: &[u8]) -> Option<FunctionResponse> {
    let parsed = crate::proxy::parse_response(payload)?;
    let encoded = serde_json::from_slice::<Value>(payload)
        .ok()
        .and_then(|v| v.get("isBase64Encoded").and_then(Value::as_bool))
        .unwrap_or(false);
    let body = if encoded {
        Bytes::from(
            base64::engine::general_purpose::STANDARD
                .decode(&parsed.body)
                .ok()?,
        )
    } else {
        parsed.body
    };
    Some(FunctionResponse {
        status: parsed.status,
        headers: with_content_type(parsed.headers, "application/json"),
        cookies: Vec::new(),
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_infers_responses_without_status_code() {
        let r = parse_v2(br#"{"hello":"world"}"#).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, Bytes::from(r#"{"hello":"world"}"#));
        assert_eq!(
            r.headers,
            vec![("content-type".into(), "application/json".into())]
        );
        let r = parse_v2(br#""Hello""#).unwrap();
        assert_eq!(r.body, Bytes::from("Hello"));
        let r = parse_v2(b"42").unwrap();
        assert_eq!(r.body, Bytes::from("42"));
        assert!(parse_v2(b"not json").is_none());
    }

    #[test]
    fn v2_structured_responses() {
        let r = parse_v2(
            br#"{"statusCode":201,"headers":{"X-A":"1","B":true},"cookies":["a=1","b=2; Path=/"],"body":"hi"}"#,
        )
        .unwrap();
        assert_eq!(r.status, 201);
        assert_eq!(
            r.headers,
            vec![
                ("X-A".into(), "1".into()),
                ("B".into(), "true".into()),
                ("content-type".into(), "text/plain; charset=utf-8".into())
            ]
        );
        assert_eq!(r.cookies, vec!["a=1", "b=2; Path=/"]);
        assert_eq!(r.body, Bytes::from("hi"));
        let r = parse_v2(br#"{"statusCode":200,"body":"aGk=","isBase64Encoded":true}"#).unwrap();
        assert_eq!(r.body, Bytes::from("hi"));
        assert!(parse_v2(br#"{"statusCode":"abc"}"#).is_none());
        assert!(parse_v2(br#"{"statusCode":200,"body":{"a":1}}"#).is_none());
        assert!(parse_v2(br#"{"statusCode":200,"cookies":"a=1"}"#).is_none());
    }

    #[test]
    fn v1_follows_rest_rules_and_decodes_base64() {
        let r = parse_v1(br#"{"statusCode":200,"body":"aGk=","isBase64Encoded":true}"#).unwrap();
        assert_eq!(r.body, Bytes::from("hi"));
        assert_eq!(
            r.headers,
            vec![("content-type".into(), "application/json".into())]
        );
        assert!(parse_v1(br#"{"hello":"world"}"#).is_none());
    }
}
