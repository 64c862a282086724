//! The Lambda proxy events of HTTP APIs: payload format 2.0 and 1.0.

use base64::Engine;
use serde_json::{Map, Value, json};

use super::compile::CompiledHttpStage;
use crate::iam::Caller;
use crate::json_out::JsonObject;

/// Everything an event says about one request, gathered once.
pub(crate) struct RequestFacts<'a> {
    pub stage: &'a CompiledHttpStage,
    pub route_key: &'a str,
    pub method: &'a str,
    /// The path as received, stage prefix included.
    pub raw_path: &'a str,
    /// The query string as received (`""` when none).
    pub raw_query: &'a str,
    /// Lower-case names with every value, in arrival order, forwarding headers included.
    pub headers: &'a [(String, Vec<String>)],
    pub path_parameters: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
    pub request_id: &'a str,
    /// `dd/MMM/yyyy:HH:mm:ss +0000`.
    pub time: &'a str,
    pub time_epoch: i64,
    pub source_ip: &'a str,
    pub domain_name: &'a str,
    /// What an authorizer established, shaped for each payload version.
    pub authorizer: Option<&'a AuthorizerContext>,
}

/// `requestContext.authorizer` as each payload version carries it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AuthorizerContext {
    /// Payload 2.0: `{"lambda": {...}}` or `{"jwt": {"claims": {...}, "scopes": [...]}}`.
    pub v2: Value,
    /// Payload 1.0: `{"principalId": ..., ...context}` or `{"claims": {...}, "scopes": ...}`.
    pub v1: Value,
    /// An `AWS_IAM` route's signed caller, which payload 1.0 shows in
    /// `requestContext.identity` (payload 2.0 has it in `authorizer.iam`).
    pub iam_caller: Option<Caller>,
}

impl RequestFacts<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.last())
            .map(String::as_str)
    }

    fn user_agent(&self) -> &str {
        self.header("user-agent").unwrap_or("")
    }

    fn domain_prefix(&self) -> &str {
        self.domain_name.split('.').next().unwrap_or("")
    }

    /// Decoded query pairs in arrival order, grouped by key.
    fn query(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for (key, value) in form_urlencoded::parse(self.raw_query.as_bytes()) {
            match out.iter_mut().find(|(k, _)| *k == key) {
                Some((_, values)) => values.push(value.into_owned()),
                None => out.push((key.into_owned(), vec![value.into_owned()])),
            }
        }
        out
    }

    /// The body as the event carries it: text as is, anything else base64.
    fn body(&self) -> (Option<String>, bool) {
        if self.body.is_empty() {
            return (None, false);
        }
        let textual = self.header("content-type").is_some_and(is_text_type);
        match (textual, std::str::from_utf8(self.body)) {
            (true, Ok(text)) => (Some(text.to_owned()), false),
            _ => (
                Some(base64::engine::general_purpose::STANDARD.encode(self.body)),
                true,
            ),
        }
    }

    fn path_parameters(&self) -> Option<Value> {
        (!self.path_parameters.is_empty()).then(|| {
            Value::Object(
                self.path_parameters
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
                    .collect(),
            )
        })
    }

    fn stage_variables(&self) -> Option<Value> {
        (!self.stage.variables.is_empty()).then(|| {
            Value::Object(
                self.stage
                    .variables
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                    .collect(),
            )
        })
    }
}

/// Media types HTTP APIs pass to Lambda as text; every other body is base64-encoded.
fn is_text_type(content_type: &str) -> bool {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    media.starts_with("text/")
        || media.contains("json")
        || media.contains("xml")
        || media.contains("javascript")
        || media == "application/x-www-form-urlencoded"
        || media.ends_with("+yaml")
        || media == "application/yaml"
}

/// Payload format 2.0. Optional members are left out when empty, as AWS sends them. Written
/// straight into the payload ([`JsonObject`]): this runs on every request of a 2.0 route.
pub(crate) fn event_v2(facts: &RequestFacts<'_>) -> Vec<u8> {
    let (body, encoded) = facts.body();
    let mut out = Vec::with_capacity(1536 + body.as_ref().map_or(0, String::len));
    let mut event = JsonObject::begin(&mut out);
    event.str("version", "2.0");
    event.str("routeKey", facts.route_key);
    event.str("rawPath", facts.raw_path);
    event.str("rawQueryString", facts.raw_query);
    let cookies: Vec<&str> = facts
        .headers
        .iter()
        .filter(|(n, _)| n == "cookie")
        .flat_map(|(_, values)| values.iter())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    if !cookies.is_empty() {
        event.value("cookies", &cookies);
    }
    event.object("headers", |headers| {
        for (name, values) in facts.headers.iter().filter(|(n, _)| n != "cookie") {
            match values.as_slice() {
                [one] => headers.str(name, one),
                many => headers.str(name, &many.join(",")),
            }
        }
    });
    let query = facts.query();
    if !query.is_empty() {
        event.object("queryStringParameters", |params| {
            for (key, values) in &query {
                params.str(key, &values.join(","));
            }
        });
    }
    event.object("requestContext", |context| {
        context.str("accountId", &facts.stage.account_id);
        context.str("apiId", &facts.stage.api_id);
        context.str("domainName", facts.domain_name);
        context.str("domainPrefix", facts.domain_prefix());
        context.object("http", |http| {
            http.str("method", facts.method);
            http.str("path", facts.raw_path);
            http.str("protocol", "HTTP/1.1");
            http.str("sourceIp", facts.source_ip);
            http.str("userAgent", facts.user_agent());
        });
        context.str("requestId", facts.request_id);
        context.str("routeKey", facts.route_key);
        context.str("stage", &facts.stage.stage_name);
        context.str("time", facts.time);
        context.int("timeEpoch", facts.time_epoch);
        if let Some(auth) = facts.authorizer {
            context.value("authorizer", &auth.v2);
        }
    });
    if let Some(body) = &body {
        event.str("body", body);
    }
    if !facts.path_parameters.is_empty() {
        event.string_map("pathParameters", facts.path_parameters.iter().copied());
    }
    event.bool("isBase64Encoded", encoded);
    if !facts.stage.variables.is_empty() {
        event.string_map(
            "stageVariables",
            facts
                .stage
                .variables
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
    }
    event.end();
    out
}

/// Payload 2.0 as a value (the Lambda authorizer's 2.0 input is built from it).
pub(crate) fn event_v2_value(facts: &RequestFacts<'_>) -> Value {
    serde_json::from_slice(&event_v2(facts)).unwrap_or_default()
}

/// Payload format 1.0: the REST proxy shape with `version`, lower-case header names and the
/// HTTP API's request context (`resourceId` null, `resourcePath` the route path).
pub(crate) fn event_v1(facts: &RequestFacts<'_>) -> Vec<u8> {
    serde_json::to_vec(&event_v1_value(facts)).unwrap_or_default()
}

/// Payload 1.0 as a value (the Lambda authorizer's 1.0 input is built from it).
pub(crate) fn event_v1_value(facts: &RequestFacts<'_>) -> Value {
    let resource = match facts.route_key.split_once(' ') {
        Some((_, path)) => path,
        None => facts.raw_path,
    };
    let single: Map<String, Value> = facts
        .headers
        .iter()
        .filter_map(|(n, v)| Some((n.clone(), Value::from(v.last()?.as_str()))))
        .collect();
    let multi: Map<String, Value> = facts
        .headers
        .iter()
        .map(|(n, v)| (n.clone(), Value::from(v.clone())))
        .collect();
    let query = facts.query();
    let (single_query, multi_query) = if query.is_empty() {
        (Value::Null, Value::Null)
    } else {
        (
            Value::Object(
                query
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), Value::from(v.last()?.as_str()))))
                    .collect(),
            ),
            Value::Object(
                query
                    .into_iter()
                    .map(|(k, v)| (k, Value::from(v)))
                    .collect(),
            ),
        )
    };
    let (body, encoded) = facts.body();
    let mut event = json!({
        "version": "1.0",
        "resource": resource,
        "path": facts.raw_path,
        "httpMethod": facts.method,
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": single_query,
        "multiValueQueryStringParameters": multi_query,
        "requestContext": {
            "accountId": facts.stage.account_id,
            "apiId": facts.stage.api_id,
            "authorizer": facts
                .authorizer
                .map(|a| a.v1.clone())
                .unwrap_or_else(|| json!({"claims": null, "scopes": null})),
            "domainName": facts.domain_name,
            "domainPrefix": facts.domain_prefix(),
            "extendedRequestId": facts.request_id,
            "httpMethod": facts.method,
            "identity": {
                "accessKey": null,
                "accountId": null,
                "caller": null,
                "cognitoAuthenticationProvider": null,
                "cognitoAuthenticationType": null,
                "cognitoIdentityId": null,
                "cognitoIdentityPoolId": null,
                "principalOrgId": null,
                "sourceIp": facts.source_ip,
                "user": null,
                "userAgent": facts.user_agent(),
                "userArn": null,
            },
            "path": facts.raw_path,
            "protocol": "HTTP/1.1",
            "requestId": facts.request_id,
            "requestTime": facts.time,
            "requestTimeEpoch": facts.time_epoch,
            "resourceId": null,
            "resourcePath": resource,
            "stage": facts.stage.stage_name,
        },
        "pathParameters": facts.path_parameters(),
        "stageVariables": facts.stage_variables(),
        "body": body,
        "isBase64Encoded": encoded,
    });
    if let Some(caller) = facts.authorizer.and_then(|a| a.iam_caller.as_ref())
        && let Some(Value::Object(identity)) = event.pointer_mut("/requestContext/identity")
    {
        caller.fill_identity(identity);
    }
    event
}
