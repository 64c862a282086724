//! `x-amazon-apigateway-integration`: the integration of one method, in both directions.
//!
//! The extension spells enums in lower case (`aws_proxy`, `when_no_match`) and keys the
//! integration responses by selection pattern (`default` for none), where the API keys them by
//! status code.

use std::collections::BTreeMap;

use portico_core::arn::parse_lambda_integration_uri;
use portico_model::apigateway::{Integration, IntegrationResponse, TlsConfig};
use serde_json::{Map, Value, json};

use super::document::{boolean, object, scalar_text, string_list, string_map, text};

const TYPES: &[&str] = &["HTTP", "AWS", "MOCK", "HTTP_PROXY", "AWS_PROXY"];
const PASSTHROUGH: &[&str] = &["WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"];

/// Reads the extension; the error is the reason AWS gives after "Unable to put integration".
pub(crate) fn from_extension(ext: &Map<String, Value>) -> Result<Integration, String> {
    let kind = text(ext, "type")
        .map(|t| t.to_ascii_uppercase())
        .ok_or_else(|| "Invalid integration type specified".to_owned())?;
    if !TYPES.contains(&kind.as_str()) {
        return Err(format!("Invalid integration type specified: {kind}"));
    }
    let http_method = text(ext, "httpMethod").map(|m| m.to_ascii_uppercase());
    let uri = text(ext, "uri");
    if kind != "MOCK" {
        if http_method.as_deref().is_none_or(str::is_empty) {
            return Err("Enumeration value for HttpMethod must be non-empty".to_owned());
        }
        let uri = uri.as_deref().unwrap_or("");
        let valid = match kind.as_str() {
            "HTTP" | "HTTP_PROXY" => uri
                .strip_prefix("http://")
                .or_else(|| uri.strip_prefix("https://"))
                .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/')),
            _ => uri.starts_with("arn:"),
        };
        // Lambda proxy URIs must name a function; a stage variable may stand for its name.
        let lambda_uri = uri
            .replace("${stageVariables.", "stageVariable")
            .replace('}', "");
        if valid && kind == "AWS_PROXY" && parse_lambda_integration_uri(&lambda_uri).is_none() {
            return Err("Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations.".to_owned());
        }
        if !valid {
            return Err(if kind.starts_with("HTTP") {
                "Invalid HTTP endpoint specified for URI".to_owned()
            } else {
                "Invalid ARN specified in the request".to_owned()
            });
        }
    }
    let passthrough = text(ext, "passthroughBehavior")
        .map(|p| p.to_ascii_uppercase())
        .unwrap_or_else(|| "WHEN_NO_MATCH".to_owned());
    if !PASSTHROUGH.contains(&passthrough.as_str()) {
        return Err(format!(
            "Invalid passthrough behavior specified: {passthrough}. Valid options are WHEN_NO_MATCH,WHEN_NO_TEMPLATES,NEVER"
        ));
    }
    let timeout = match ext.get("timeoutInMillis") {
        None => 29_000,
        Some(v) => scalar_text(v)
            .and_then(|t| t.parse::<i32>().ok())
            .ok_or_else(|| "Timeout should be between 50 ms and 29000 ms".to_owned())?,
    };
    if !(50..=29_000).contains(&timeout) {
        return Err("Timeout should be between 50 ms and 29000 ms".to_owned());
    }
    let content_handling = text(ext, "contentHandling").map(|c| c.to_ascii_uppercase());
    let mut responses = BTreeMap::new();
    for (pattern, response) in object(ext, "responses").into_iter().flatten() {
        let Some(response) = response.as_object() else {
            continue;
        };
        let status = text(response, "statusCode")
            .ok_or_else(|| format!("Invalid status code specified for response '{pattern}'"))?;
        responses.insert(
            status.clone(),
            IntegrationResponse {
                status_code: Some(status),
                selection_pattern: (pattern != "default").then(|| pattern.clone()),
                response_parameters: string_map(response, "responseParameters"),
                response_templates: string_map(response, "responseTemplates"),
                content_handling: text(response, "contentHandling").map(|c| c.to_ascii_uppercase()),
            },
        );
    }
    let is_http = kind.starts_with("HTTP");
    Ok(Integration {
        http_method: if kind == "MOCK" { None } else { http_method },
        uri,
        connection_type: text(ext, "connectionType")
            .map(|c| c.to_ascii_uppercase())
            .or(is_http.then(|| "INTERNET".to_owned())),
        connection_id: text(ext, "connectionId"),
        credentials: text(ext, "credentials"),
        request_parameters: string_map(ext, "requestParameters"),
        request_templates: string_map(ext, "requestTemplates"),
        passthrough_behavior: Some(passthrough),
        content_handling,
        timeout_in_millis: Some(timeout),
        cache_namespace: text(ext, "cacheNamespace"),
        cache_key_parameters: Some(string_list(ext, "cacheKeyParameters").unwrap_or_default()),
        integration_responses: (!responses.is_empty()).then_some(responses),
        tls_config: object(ext, "tlsConfig").map(|t| TlsConfig {
            insecure_skip_verification: boolean(t, "insecureSkipVerification"),
        }),
        r#type: Some(kind),
        ..Default::default()
    })
}

fn insert_map(out: &mut Map<String, Value>, key: &str, map: &Option<BTreeMap<String, String>>) {
    if let Some(map) = map.as_ref().filter(|m| !m.is_empty()) {
        out.insert(key.to_owned(), json!(map));
    }
}

/// Writes the extension as `GetExport` shows it.
pub(crate) fn to_extension(integration: &Integration) -> Value {
    let mut out = Map::new();
    let lower = |v: &Option<String>| v.as_ref().map(|s| Value::from(s.to_ascii_lowercase()));
    if let Some(kind) = lower(&integration.r#type) {
        out.insert("type".into(), kind);
    }
    if let Some(credentials) = &integration.credentials {
        out.insert("credentials".into(), json!(credentials));
    }
    if let Some(method) = &integration.http_method {
        out.insert("httpMethod".into(), json!(method));
    }
    if let Some(uri) = &integration.uri {
        out.insert("uri".into(), json!(uri));
    }
    if let Some(responses) = integration
        .integration_responses
        .as_ref()
        .filter(|r| !r.is_empty())
    {
        let mut by_pattern = Map::new();
        for response in responses.values() {
            let mut entry = Map::new();
            entry.insert("statusCode".into(), json!(response.status_code));
            insert_map(
                &mut entry,
                "responseParameters",
                &response.response_parameters,
            );
            insert_map(
                &mut entry,
                "responseTemplates",
                &response.response_templates,
            );
            if let Some(handling) = &response.content_handling {
                entry.insert("contentHandling".into(), json!(handling));
            }
            let key = response
                .selection_pattern
                .clone()
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "default".to_owned());
            by_pattern.insert(key, Value::Object(entry));
        }
        out.insert("responses".into(), Value::Object(by_pattern));
    }
    insert_map(
        &mut out,
        "requestParameters",
        &integration.request_parameters,
    );
    insert_map(&mut out, "requestTemplates", &integration.request_templates);
    if let Some(passthrough) = lower(&integration.passthrough_behavior) {
        out.insert("passthroughBehavior".into(), passthrough);
    }
    if let Some(handling) = &integration.content_handling {
        out.insert("contentHandling".into(), json!(handling));
    }
    if let Some(timeout) = integration.timeout_in_millis {
        out.insert("timeoutInMillis".into(), json!(timeout));
    }
    if let Some(namespace) = &integration.cache_namespace {
        out.insert("cacheNamespace".into(), json!(namespace));
    }
    if let Some(keys) = integration
        .cache_key_parameters
        .as_ref()
        .filter(|k| !k.is_empty())
    {
        out.insert("cacheKeyParameters".into(), json!(keys));
    }
    if let Some(connection) = &integration.connection_id {
        out.insert("connectionId".into(), json!(connection));
    }
    if let Some(connection) = integration
        .connection_type
        .as_ref()
        .filter(|c| c.as_str() != "INTERNET")
    {
        out.insert("connectionType".into(), json!(connection));
    }
    if let Some(tls) = &integration.tls_config {
        out.insert(
            "tlsConfig".into(),
            json!({"insecureSkipVerification": tls.insecure_skip_verification.unwrap_or(false)}),
        );
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn lambda_proxy_and_defaults() {
        let by_variable = from_extension(&ext(json!({
            "type": "aws_proxy", "httpMethod": "POST",
            "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:${stageVariables.fn}/invocations"
        })));
        assert!(by_variable.is_ok());
        let integration = from_extension(&ext(json!({
            "type": "aws_proxy", "httpMethod": "post",
            "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:f/invocations"
        })))
        .unwrap();
        assert_eq!(integration.r#type.as_deref(), Some("AWS_PROXY"));
        assert_eq!(integration.http_method.as_deref(), Some("POST"));
        assert_eq!(
            integration.passthrough_behavior.as_deref(),
            Some("WHEN_NO_MATCH")
        );
        assert_eq!(integration.timeout_in_millis, Some(29_000));
        assert_eq!(integration.connection_type, None);
        assert_eq!(integration.cache_key_parameters, Some(vec![]));
    }

    #[test]
    fn responses_are_keyed_by_status_and_round_trip() {
        let source = json!({
            "type": "mock",
            "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
            "passthroughBehavior": "when_no_templates",
            "responses": {
                "default": {"statusCode": "200", "responseTemplates": {"application/json": "{}"}},
                "4\\d{2}": {"statusCode": 404,
                            "responseParameters": {"method.response.header.X": "'y'"}}
            }
        });
        let integration = from_extension(&ext(source)).unwrap();
        let responses = integration.integration_responses.clone().unwrap();
        assert_eq!(responses["200"].selection_pattern, None);
        assert_eq!(
            responses["404"].selection_pattern.as_deref(),
            Some("4\\d{2}")
        );
        assert_eq!(integration.http_method, None);
        let back = to_extension(&integration);
        assert_eq!(back["type"], "mock");
        assert_eq!(back["passthroughBehavior"], "when_no_templates");
        assert_eq!(back["responses"]["default"]["statusCode"], "200");
        assert_eq!(
            back["responses"]["4\\d{2}"]["responseParameters"]["method.response.header.X"],
            "'y'"
        );
        assert_eq!(back["timeoutInMillis"], 29000);
    }

    #[test]
    fn bad_extensions_give_aws_reasons() {
        let err = |v: Value| from_extension(&ext(v)).unwrap_err();
        assert_eq!(
            err(json!({"type": "soap"})),
            "Invalid integration type specified: SOAP"
        );
        assert_eq!(
            err(json!({"type": "aws", "httpMethod": "POST", "uri": "lambda"})),
            "Invalid ARN specified in the request"
        );
        assert_eq!(
            err(json!({"type": "http", "httpMethod": "GET", "uri": "ftp://x"})),
            "Invalid HTTP endpoint specified for URI"
        );
        assert_eq!(
            err(json!({"type": "http_proxy", "uri": "http://x"})),
            "Enumeration value for HttpMethod must be non-empty"
        );
        assert_eq!(
            err(json!({"type": "aws_proxy", "httpMethod": "POST",
                       "uri": "arn:aws:apigateway:us-east-1:sqs:path/1/q"})),
            "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations."
        );
        assert_eq!(
            err(json!({"type": "mock", "timeoutInMillis": 30000})),
            "Timeout should be between 50 ms and 29000 ms"
        );
    }
}
