//! Serving a function URL: the HTTP request becomes a payload-2.0 event, the function's answer
//! becomes the HTTP response by the 2.0 rules (a bare JSON value is a 200 `application/json`
//! body; an object with `statusCode` spells out status, headers, cookies and body).
//!
//! Access: `AWS_IAM` URLs need a signed request (any credentials are accepted, as everywhere
//! in Portico); `NONE` URLs need a policy statement letting `*` call `lambda:InvokeFunctionUrl`,
//! as Lambda requires, else `403 {"Message":"Forbidden"}`.

use base64::Engine;
use bytes::Bytes;
use portico_core::{InvocationType, InvokeRequest};
use serde_json::{Map, Value, json};

use crate::Lambda;
use crate::state::StoredFunction;

/// An HTTP request to a function URL, as the listener received it.
#[derive(Debug, Clone, Default)]
pub struct FunctionUrlRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path as sent, undecoded (`/my/path`).
    pub path: String,
    /// The query string as sent, without `?` (`""` when none).
    pub query: String,
    /// Headers in arrival order (names in any case).
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// The client's address.
    pub source_ip: String,
}

/// The HTTP answer of a function URL.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionUrlResponse {
    pub status: u16,
    /// Response headers; `set-cookie` may repeat.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl FunctionUrlResponse {
    fn json(status: u16, body: &Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: Bytes::from(body.to_string()),
        }
    }

    fn forbidden() -> Self {
        Self::json(403, &json!({"Message": "Forbidden"}))
    }

    fn failed() -> Self {
        Self::json(500, &json!({"message": "Internal Server Error"}))
    }
}

fn is_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else {
        return true;
    };
    let ct = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    ct.starts_with("text/")
        || ct.ends_with("json")
        || ct.ends_with("xml")
        || ct.ends_with("javascript")
        || ct == "application/x-www-form-urlencoded"
}

/// `12/Mar/2020:19:03:58 +0000` and epoch milliseconds.
fn request_time() -> (String, i64) {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let now = time::OffsetDateTime::now_utc();
    let month = MONTHS[usize::from(u8::from(now.month())) - 1];
    let text = format!(
        "{:02}/{month}/{:04}:{:02}:{:02}:{:02} +0000",
        now.day(),
        now.year(),
        now.hour(),
        now.minute(),
        now.second()
    );
    (text, (now.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// The payload-2.0 event of a function URL request.
pub(crate) fn event(
    request: &FunctionUrlRequest,
    url_id: &str,
    region: &str,
    account: &str,
    request_id: &str,
) -> Value {
    let mut headers: Map<String, Value> = Map::new();
    let mut cookies: Vec<Value> = Vec::new();
    for (name, value) in &request.headers {
        let name = name.to_ascii_lowercase();
        if name == "cookie" {
            cookies.extend(
                value
                    .split(';')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(Value::from),
            );
            continue;
        }
        match headers.get_mut(&name) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(value);
            }
            _ => {
                headers.insert(name, Value::from(value.as_str()));
            }
        }
    }
    let mut query: Map<String, Value> = Map::new();
    for (k, v) in form_urlencoded::parse(request.query.as_bytes()) {
        match query.get_mut(k.as_ref()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                query.insert(k.into_owned(), Value::from(v.into_owned()));
            }
        }
    }
    let header = |n: &str| headers.get(n).and_then(Value::as_str).map(str::to_owned);
    let (time, epoch) = request_time();
    let domain = format!("{url_id}.lambda-url.{region}.on.aws");
    let mut event = Map::new();
    event.insert("version".into(), json!("2.0"));
    event.insert("routeKey".into(), json!("$default"));
    event.insert("rawPath".into(), json!(request.path));
    event.insert("rawQueryString".into(), json!(request.query));
    if !cookies.is_empty() {
        event.insert("cookies".into(), Value::Array(cookies));
    }
    let user_agent = header("user-agent").unwrap_or_default();
    let text = is_text(header("content-type").as_deref());
    event.insert("headers".into(), Value::Object(headers));
    if !query.is_empty() {
        event.insert("queryStringParameters".into(), Value::Object(query));
    }
    event.insert(
        "requestContext".into(),
        json!({
            "accountId": account,
            "apiId": url_id,
            "domainName": domain,
            "domainPrefix": url_id,
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": user_agent,
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": time,
            "timeEpoch": epoch,
        }),
    );
    // Text types travel as text when they are UTF-8; everything else as base64.
    let readable = text && std::str::from_utf8(&request.body).is_ok();
    let base64 = !request.body.is_empty() && !readable;
    if !request.body.is_empty() {
        let body = if base64 {
            base64::engine::general_purpose::STANDARD.encode(&request.body)
        } else {
            String::from_utf8_lossy(&request.body).into_owned()
        };
        event.insert("body".into(), Value::from(body));
    }
    event.insert("isBase64Encoded".into(), Value::Bool(base64));
    Value::Object(event)
}

/// The HTTP response a function's result becomes under the payload-2.0 rules.
pub(crate) fn response(payload: &[u8]) -> FunctionUrlResponse {
    let Ok(value) = serde_json::from_slice::<Value>(payload) else {
        return FunctionUrlResponse::failed();
    };
    let Some(object) = value.as_object().filter(|o| o.contains_key("statusCode")) else {
        let body = match &value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        return FunctionUrlResponse {
            status: 200,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: Bytes::from(body),
        };
    };
    let status = match &object["statusCode"] {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    let Some(status) = status
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (100..600).contains(s))
    else {
        return FunctionUrlResponse::failed();
    };
    let mut headers = Vec::new();
    if let Some(Value::Object(map)) = object.get("headers") {
        for (name, value) in map {
            let value = match value {
                Value::String(s) => s.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            headers.push((name.to_ascii_lowercase(), value));
        }
    }
    if !headers.iter().any(|(n, _)| n == "content-type") {
        headers.push(("content-type".to_owned(), "application/json".to_owned()));
    }
    if let Some(Value::Array(cookies)) = object.get("cookies") {
        for cookie in cookies.iter().filter_map(Value::as_str) {
            headers.push(("set-cookie".to_owned(), cookie.to_owned()));
        }
    }
    let text = match object.get("body") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => String::new(),
        Some(other) => other.to_string(),
    };
    let body = if object.get("isBase64Encoded") == Some(&Value::Bool(true)) {
        match base64::engine::general_purpose::STANDARD.decode(text.trim()) {
            Ok(bytes) => Bytes::from(bytes),
            Err(_) => return FunctionUrlResponse::failed(),
        }
    } else {
        Bytes::from(text)
    };
    FunctionUrlResponse {
        status,
        headers,
        body,
    }
}

/// Whether a `NONE` URL's policy lets anyone call it.
fn public_access_allowed(stored: &StoredFunction, key: &str) -> bool {
    stored.policies.get(key).is_some_and(|policy| {
        policy.statements.iter().any(|s| {
            s.get("Effect").and_then(Value::as_str) == Some("Allow")
                && s.get("Principal").and_then(Value::as_str) == Some("*")
                && matches!(
                    s.get("Action").and_then(Value::as_str),
                    Some("lambda:InvokeFunctionUrl" | "lambda:*" | "*")
                )
        })
    })
}

impl Lambda {
    /// Serves one request to the function URL whose host starts with `url_id`
    /// (`{url_id}.lambda-url.{region}.on.aws`); `None` when no URL has that id.
    pub async fn invoke_function_url(
        &self,
        url_id: &str,
        request: FunctionUrlRequest,
    ) -> Option<FunctionUrlResponse> {
        let (key, qualifier) = self.registry.url(url_id)?;
        let function = self.registry.get(&key.account_id, &key.region, &key.name)?;
        let config = function.stored.urls.get(&qualifier)?;
        let signed = request
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("authorization"));
        let account = match config.auth_type.as_deref() {
            Some("AWS_IAM") if signed => key.account_id.clone(),
            Some("AWS_IAM") => return Some(FunctionUrlResponse::forbidden()),
            _ if public_access_allowed(&function.stored, &qualifier) => "anonymous".to_owned(),
            _ => return Some(FunctionUrlResponse::forbidden()),
        };
        let request_id = portico_core::ids::request_id();
        let payload = event(&request, url_id, &key.region, &account, &request_id).to_string();
        let result = self
            .run(InvokeRequest {
                region: key.region.clone(),
                account_id: key.account_id.clone(),
                function_name: key.name.clone(),
                qualifier: (!qualifier.is_empty()).then_some(qualifier),
                payload: Bytes::from(payload),
                invocation_type: InvocationType::RequestResponse,
                client_context: None,
                source_arn: None,
                log_tail: false,
            })
            .await;
        Some(match result {
            Ok(result) if result.function_error.is_none() => response(&result.payload),
            Ok(_) => FunctionUrlResponse::failed(),
            Err(error) if error.status == 429 => {
                FunctionUrlResponse::json(429, &json!({"Message": error.message}))
            }
            Err(_) => FunctionUrlResponse::failed(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> FunctionUrlRequest {
        FunctionUrlRequest {
            method: "POST".into(),
            path: "/my/path".into(),
            query: "a=1&a=2&b=x%20y".into(),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("X-Multi".into(), "1".into()),
                ("x-multi".into(), "2".into()),
                ("Cookie".into(), "c1=v1; c2=v2".into()),
                ("User-Agent".into(), "agent".into()),
            ],
            body: Bytes::from_static(b"{\"k\":1}"),
            source_ip: "192.0.2.1".into(),
        }
    }

    #[test]
    fn the_event_is_payload_2_0() {
        let mut e = event(&request(), "abc", "us-east-1", "anonymous", "rid");
        let context = e["requestContext"].as_object_mut().unwrap();
        assert!(
            context
                .remove("time")
                .unwrap()
                .as_str()
                .unwrap()
                .ends_with(" +0000")
        );
        assert!(context.remove("timeEpoch").unwrap().is_i64());
        assert_eq!(
            e,
            json!({
                "version": "2.0", "routeKey": "$default", "rawPath": "/my/path",
                "rawQueryString": "a=1&a=2&b=x%20y", "cookies": ["c1=v1", "c2=v2"],
                "headers": {"content-type": "application/json", "x-multi": "1,2", "user-agent": "agent"},
                "queryStringParameters": {"a": "1,2", "b": "x y"},
                "requestContext": {
                    "accountId": "anonymous", "apiId": "abc",
                    "domainName": "abc.lambda-url.us-east-1.on.aws", "domainPrefix": "abc",
                    "http": {"method": "POST", "path": "/my/path", "protocol": "HTTP/1.1",
                             "sourceIp": "192.0.2.1", "userAgent": "agent"},
                    "requestId": "rid", "routeKey": "$default", "stage": "$default"},
                "body": "{\"k\":1}", "isBase64Encoded": false
            })
        );
        let mut binary = request();
        binary.headers = vec![("content-type".into(), "image/png".into())];
        binary.body = Bytes::from_static(&[0, 159, 146]);
        let e = event(&binary, "abc", "us-east-1", "anonymous", "rid");
        assert_eq!(
            (e["body"].as_str(), &e["isBase64Encoded"]),
            (Some("AJ+S"), &json!(true))
        );
        let mut empty = request();
        empty.body = Bytes::new();
        empty.query = String::new();
        let e = event(&empty, "abc", "us-east-1", "anonymous", "rid");
        assert!(e.get("body").is_none() && e.get("queryStringParameters").is_none());
    }

    #[test]
    fn responses_follow_the_2_0_rules() {
        let r = response(br#""Hello""#);
        assert_eq!((r.status, r.body.as_ref()), (200, b"Hello".as_ref()));
        let r = response(br#"{"a":1}"#);
        assert_eq!((r.status, r.body.as_ref()), (200, br#"{"a":1}"#.as_ref()));
        let r = response(
            br#"{"statusCode":"201","headers":{"X-A":"b"},"cookies":["s=1","t=2"],"body":"aGk=","isBase64Encoded":true}"#,
        );
        assert_eq!(r.status, 201);
        assert_eq!(r.body, Bytes::from_static(b"hi"));
        assert_eq!(
            r.headers,
            vec![
                ("x-a".to_owned(), "b".to_owned()),
                ("content-type".to_owned(), "application/json".to_owned()),
                ("set-cookie".to_owned(), "s=1".to_owned()),
                ("set-cookie".to_owned(), "t=2".to_owned()),
            ]
        );
        assert_eq!(response(b"not json").status, 500);
        assert_eq!(response(br#"{"statusCode":"abc"}"#).status, 500);
    }
}
