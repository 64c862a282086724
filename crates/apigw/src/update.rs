//! UpdateMethod, UpdateMethodResponse, UpdateIntegration and UpdateIntegrationResponse: JSON
//! Patch operations (`~1`-escaped keys, string values) applied to one node of the API document.

use std::collections::BTreeMap;

use portico_core::AwsError;
use portico_model::apigateway::{
    Integration, IntegrationResponse, Method, MethodResponse, PatchOperation,
    UpdateIntegrationRequest, UpdateIntegrationResponseRequest, UpdateMethodRequest,
    UpdateMethodResponseRequest,
};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::Call;
use crate::doc::{integration_not_found, required, response_not_found};
use crate::restapi::unescape_pointer;

/// One patch operation, split.
struct Patch {
    op: String,
    path: String,
    value: Option<String>,
}

fn patches(operations: Option<Vec<PatchOperation>>) -> Vec<Patch> {
    operations
        .unwrap_or_default()
        .into_iter()
        .map(|p| Patch {
            op: p.op.unwrap_or_default(),
            path: p.path.unwrap_or_default(),
            value: p.value,
        })
        .collect()
}

fn bad_path(patch: &Patch) -> AwsError {
    if matches!(
        patch.op.as_str(),
        "add" | "remove" | "replace" | "move" | "copy" | "test"
    ) {
        AwsError::bad_request(format!("Invalid patch path {}", patch.path))
    } else {
        AwsError::bad_request("Invalid patch operation specified. Must be 'add'|'remove'|'replace'")
    }
}

fn boolean(value: Option<&str>) -> bool {
    value == Some("true")
}

/// `add`/`replace`/`remove` on one key of a map member (`/requestTemplates/application~1json`).
fn patch_map<V>(
    map: &mut Option<BTreeMap<String, V>>,
    patch: &Patch,
    prefix: &str,
    convert: impl Fn(Option<&str>) -> Result<V, AwsError>,
) -> Result<bool, AwsError> {
    let Some(key) = patch.path.strip_prefix(prefix) else {
        return Ok(false);
    };
    let key = unescape_pointer(key);
    if key.is_empty() {
        return Err(bad_path(patch));
    }
    match patch.op.as_str() {
        "add" | "replace" => {
            let value = convert(patch.value.as_deref())?;
            map.get_or_insert_with(BTreeMap::new).insert(key, value);
        }
        "remove" => {
            if let Some(m) = map.as_mut() {
                m.remove(&key);
                if m.is_empty() {
                    *map = None;
                }
            }
        }
        _ => return Err(bad_path(patch)),
    }
    Ok(true)
}

fn text(value: Option<&str>) -> Result<String, AwsError> {
    Ok(value.unwrap_or_default().to_owned())
}

fn flag(value: Option<&str>) -> Result<bool, AwsError> {
    Ok(boolean(value))
}

fn template(value: Option<&str>) -> Result<String, AwsError> {
    match value {
        Some(v) => Ok(v.to_owned()),
        None => Err(AwsError::bad_request(
            "Invalid null or empty value in requestTemplates",
        )),
    }
}

fn apply_method(method: &mut Method, patch: &Patch) -> Result<(), AwsError> {
    if patch_map(
        &mut method.request_parameters,
        patch,
        "/requestParameters/",
        flag,
    )? || patch_map(&mut method.request_models, patch, "/requestModels/", text)?
    {
        return Ok(());
    }
    let value = patch.value.clone();
    match (patch.op.as_str(), patch.path.as_str()) {
        ("replace", "/authorizationType") => {
            let kind = value.unwrap_or_default();
            if !["NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"].contains(&kind.as_str()) {
                return Err(AwsError::bad_request(
                    "Invalid authorization type specified. Valid options are NONE,AWS_IAM,CUSTOM,COGNITO_USER_POOLS",
                ));
            }
            method.authorization_type = Some(kind);
        }
        ("replace", "/authorizerId") => method.authorizer_id = value,
        ("replace", "/apiKeyRequired") => method.api_key_required = Some(boolean(value.as_deref())),
        ("replace", "/requestValidatorId") => {
            method.request_validator_id = value.filter(|v| !v.is_empty())
        }
        ("replace", "/operationName") => method.operation_name = value,
        ("add", p) if p.starts_with("/authorizationScopes") => {
            if let Some(v) = value {
                method
                    .authorization_scopes
                    .get_or_insert_with(Vec::new)
                    .push(v);
            }
        }
        _ => return Err(bad_path(patch)),
    }
    Ok(())
}

fn apply_method_response(response: &mut MethodResponse, patch: &Patch) -> Result<(), AwsError> {
    if patch_map(
        &mut response.response_parameters,
        patch,
        "/responseParameters/",
        flag,
    )? || patch_map(
        &mut response.response_models,
        patch,
        "/responseModels/",
        text,
    )? {
        return Ok(());
    }
    Err(bad_path(patch))
}

fn apply_integration(integration: &mut Integration, patch: &Patch) -> Result<(), AwsError> {
    if patch_map(
        &mut integration.request_templates,
        patch,
        "/requestTemplates/",
        template,
    )? || patch_map(
        &mut integration.request_parameters,
        patch,
        "/requestParameters/",
        text,
    )? {
        return Ok(());
    }
    if let Some(key) = patch.path.strip_prefix("/cacheKeyParameters/") {
        let key = unescape_pointer(key);
        let list = integration
            .cache_key_parameters
            .get_or_insert_with(Vec::new);
        match patch.op.as_str() {
            "add" if !list.contains(&key) => list.push(key),
            "add" => {}
            "remove" => list.retain(|k| *k != key),
            _ => return Err(bad_path(patch)),
        }
        return Ok(());
    }
    let value = patch.value.clone();
    match (patch.op.as_str(), patch.path.as_str()) {
        ("replace", "/uri") => integration.uri = value,
        ("replace", "/httpMethod") => integration.http_method = value,
        ("replace", "/credentials") => integration.credentials = value,
        ("replace", "/connectionType") => integration.connection_type = value,
        ("replace", "/connectionId") => integration.connection_id = value,
        ("replace", "/cacheNamespace") => integration.cache_namespace = value,
        ("replace", "/contentHandling") => {
            integration.content_handling = check_content_handling(value)?
        }
        ("replace", "/passthroughBehavior") => {
            let behavior = value.unwrap_or_default();
            if !["WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"].contains(&behavior.as_str()) {
                return Err(AwsError::bad_request(format!(
                    "Invalid passthrough behavior specified: {behavior}. Valid options are WHEN_NO_MATCH,WHEN_NO_TEMPLATES,NEVER"
                )));
            }
            integration.passthrough_behavior = Some(behavior);
        }
        ("replace", "/timeoutInMillis") => {
            let timeout = value
                .as_deref()
                .and_then(|v| v.parse::<i32>().ok())
                .filter(|t| (50..=29_000).contains(t))
                .ok_or_else(|| {
                    AwsError::bad_request("Timeout should be between 50 ms and 29000 ms")
                })?;
            integration.timeout_in_millis = Some(timeout);
        }
        _ => return Err(bad_path(patch)),
    }
    Ok(())
}

fn check_content_handling(value: Option<String>) -> Result<Option<String>, AwsError> {
    match value.as_deref() {
        None | Some("") => Ok(None),
        Some("CONVERT_TO_BINARY" | "CONVERT_TO_TEXT") => Ok(value),
        Some(other) => Err(AwsError::bad_request(format!(
            "Invalid content handling specified: {other}"
        ))),
    }
}

fn apply_integration_response(
    response: &mut IntegrationResponse,
    patch: &Patch,
) -> Result<(), AwsError> {
    if patch_map(
        &mut response.response_templates,
        patch,
        "/responseTemplates/",
        text,
    )? || patch_map(
        &mut response.response_parameters,
        patch,
        "/responseParameters/",
        text,
    )? {
        return Ok(());
    }
    match (patch.op.as_str(), patch.path.as_str()) {
        ("replace", "/selectionPattern") => response.selection_pattern = patch.value.clone(),
        ("replace", "/contentHandling") => {
            response.content_handling = check_content_handling(patch.value.clone())?
        }
        _ => return Err(bad_path(patch)),
    }
    Ok(())
}

pub(crate) async fn update_method(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UpdateMethodRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "updateMethodInput", "restApiId")?;
    let resource_id = required(req.resource_id, "updateMethodInput", "resourceId")?;
    let http_method = required(req.http_method, "updateMethodInput", "httpMethod")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    let method = doc.method_mut(&resource_id, &http_method)?;
    for patch in patches(req.patch_operations) {
        apply_method(method, &patch)?;
    }
    let out = method.clone();
    crate::method::check_authorizer(
        &doc,
        out.authorization_type.as_deref().unwrap_or_default(),
        out.authorizer_id.as_deref(),
    )?;
    call.save_api(&doc, Some(version)).await?;
    OperationOutput::json(op, &out)
}

pub(crate) async fn update_method_response(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UpdateMethodResponseRequest = decode(input)?;
    let input_name = "updateMethodResponseInput";
    let api_id = required(req.rest_api_id, input_name, "restApiId")?;
    let resource_id = required(req.resource_id, input_name, "resourceId")?;
    let http_method = required(req.http_method, input_name, "httpMethod")?;
    let status = required(req.status_code, input_name, "statusCode")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    let response = doc
        .method_mut(&resource_id, &http_method)?
        .method_responses
        .as_mut()
        .and_then(|r| r.get_mut(&status))
        .ok_or_else(response_not_found)?;
    for patch in patches(req.patch_operations) {
        apply_method_response(response, &patch)?;
    }
    let out = response.clone();
    call.save_api(&doc, Some(version)).await?;
    OperationOutput::json(op, &out)
}

pub(crate) async fn update_integration(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UpdateIntegrationRequest = decode(input)?;
    let input_name = "updateIntegrationInput";
    let api_id = required(req.rest_api_id, input_name, "restApiId")?;
    let resource_id = required(req.resource_id, input_name, "resourceId")?;
    let http_method = required(req.http_method, input_name, "httpMethod")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    let integration = doc.integration_mut(&resource_id, &http_method)?;
    for patch in patches(req.patch_operations) {
        apply_integration(integration, &patch)?;
    }
    let out = integration.clone();
    call.save_api(&doc, Some(version)).await?;
    OperationOutput::json(op, &out)
}

pub(crate) async fn update_integration_response(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UpdateIntegrationResponseRequest = decode(input)?;
    let input_name = "updateIntegrationResponseInput";
    let api_id = required(req.rest_api_id, input_name, "restApiId")?;
    let resource_id = required(req.resource_id, input_name, "resourceId")?;
    let http_method = required(req.http_method, input_name, "httpMethod")?;
    let status = required(req.status_code, input_name, "statusCode")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    let response = doc
        .method_mut(&resource_id, &http_method)?
        .method_integration
        .as_mut()
        .ok_or_else(integration_not_found)?
        .integration_responses
        .as_mut()
        .and_then(|r| r.get_mut(&status))
        .ok_or_else(response_not_found)?;
    for patch in patches(req.patch_operations) {
        apply_integration_response(response, &patch)?;
    }
    let out = response.clone();
    call.save_api(&doc, Some(version)).await?;
    OperationOutput::json(op, &out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(op: &str, path: &str, value: Option<&str>) -> Patch {
        Patch {
            op: op.into(),
            path: path.into(),
            value: value.map(str::to_owned),
        }
    }

    #[test]
    fn method_patches() {
        let mut m = Method::default();
        apply_method(&mut m, &p("replace", "/apiKeyRequired", Some("true"))).unwrap();
        apply_method(
            &mut m,
            &p(
                "add",
                "/requestParameters/method.request.querystring.q",
                Some("true"),
            ),
        )
        .unwrap();
        apply_method(
            &mut m,
            &p("add", "/requestModels/application~1json", Some("Empty")),
        )
        .unwrap();
        assert_eq!(m.api_key_required, Some(true));
        assert_eq!(
            m.request_parameters,
            Some(BTreeMap::from([(
                "method.request.querystring.q".to_owned(),
                true
            )]))
        );
        assert_eq!(
            m.request_models,
            Some(BTreeMap::from([(
                "application/json".to_owned(),
                "Empty".to_owned()
            )]))
        );
        apply_method(
            &mut m,
            &p(
                "remove",
                "/requestParameters/method.request.querystring.q",
                None,
            ),
        )
        .unwrap();
        assert_eq!(m.request_parameters, None);
        let e = apply_method(&mut m, &p("replace", "/httpMethod", Some("GET"))).unwrap_err();
        assert_eq!(e.message, "Invalid patch path /httpMethod");
        let e = apply_method(&mut m, &p("delete", "/apiKeyRequired", None)).unwrap_err();
        assert_eq!(
            e.message,
            "Invalid patch operation specified. Must be 'add'|'remove'|'replace'"
        );
    }

    #[test]
    fn integration_patches() {
        let mut i = Integration::default();
        apply_integration(&mut i, &p("replace", "/timeoutInMillis", Some("1000"))).unwrap();
        apply_integration(
            &mut i,
            &p("add", "/requestTemplates/application~1json", Some("{}")),
        )
        .unwrap();
        apply_integration(
            &mut i,
            &p(
                "add",
                "/requestParameters/integration.request.header.X",
                Some("'v'"),
            ),
        )
        .unwrap();
        assert_eq!(i.timeout_in_millis, Some(1000));
        assert_eq!(
            i.request_templates.as_ref().unwrap()["application/json"],
            "{}"
        );
        assert_eq!(
            i.request_parameters.as_ref().unwrap()["integration.request.header.X"],
            "'v'"
        );
        let e = apply_integration(&mut i, &p("replace", "/timeoutInMillis", Some("30000")))
            .unwrap_err();
        assert_eq!(e.message, "Timeout should be between 50 ms and 29000 ms");
        let mut r = IntegrationResponse::default();
        apply_integration_response(&mut r, &p("replace", "/selectionPattern", Some("4\\d{2}")))
            .unwrap();
        assert_eq!(r.selection_pattern.as_deref(), Some("4\\d{2}"));
    }
}
