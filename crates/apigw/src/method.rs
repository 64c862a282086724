//! Methods, method responses, integrations and integration responses.

use portico_core::AwsError;
use portico_core::arn::parse_lambda_integration_uri;
use portico_model::apigateway::{
    DeleteIntegrationRequest, DeleteIntegrationResponseRequest, DeleteMethodRequest,
    DeleteMethodResponseRequest, GetIntegrationRequest, GetIntegrationResponseRequest,
    GetMethodRequest, GetMethodResponseRequest, Integration, IntegrationResponse, Method,
    MethodResponse, PutIntegrationRequest, PutIntegrationResponseRequest, PutMethodRequest,
    PutMethodResponseRequest,
};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::Call;
use crate::doc::{ApiDoc, check_http_method, integration_not_found, required, response_not_found};

const AUTHORIZATION_TYPES: &[&str] = &["NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"];
const INTEGRATION_TYPES: &[&str] = &["HTTP", "AWS", "MOCK", "HTTP_PROXY", "AWS_PROXY"];
const PASSTHROUGH_BEHAVIORS: &[&str] = &["WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"];

fn check_status_code(status: &str) -> Result<(), AwsError> {
    let valid = status.len() == 3
        && status.bytes().all(|b| b.is_ascii_digit())
        && (b'1'..=b'5').contains(&status.as_bytes()[0]);
    if valid {
        Ok(())
    } else {
        Err(AwsError::bad_request("Invalid status code specified"))
    }
}

/// CUSTOM and COGNITO_USER_POOLS methods must name an authorizer of the API.
pub(crate) fn check_authorizer(
    doc: &ApiDoc,
    authorization_type: &str,
    authorizer_id: Option<&str>,
) -> Result<(), AwsError> {
    let needs = matches!(authorization_type, "CUSTOM" | "COGNITO_USER_POOLS");
    if needs && authorizer_id.is_none_or(|id| doc.authorizer(id).is_err()) {
        return Err(AwsError::bad_request(
            "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.",
        ));
    }
    Ok(())
}

/// The path labels every method-level operation carries.
struct MethodAddress {
    api_id: String,
    resource_id: String,
    http_method: String,
}

fn address(
    input: &str,
    api_id: Option<String>,
    resource_id: Option<String>,
    http_method: Option<String>,
) -> Result<MethodAddress, AwsError> {
    Ok(MethodAddress {
        api_id: required(api_id, input, "restApiId")?,
        resource_id: required(resource_id, input, "resourceId")?,
        http_method: required(http_method, input, "httpMethod")?,
    })
}

pub(crate) async fn put_method(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: PutMethodRequest = decode(input)?;
    let at = address(
        "putMethodInput",
        req.rest_api_id,
        req.resource_id,
        req.http_method,
    )?;
    let authorization_type = required(
        req.authorization_type,
        "putMethodInput",
        "authorizationType",
    )?;
    check_http_method(&at.http_method)?;
    if !AUTHORIZATION_TYPES.contains(&authorization_type.as_str()) {
        return Err(AwsError::bad_request(
            "Invalid authorization type specified. Valid options are NONE,AWS_IAM,CUSTOM,COGNITO_USER_POOLS",
        ));
    }
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&at.api_id).await?;
    check_authorizer(&doc, &authorization_type, req.authorizer_id.as_deref())?;
    if let Some(validator) = req.request_validator_id.as_deref()
        && !doc
            .request_validators
            .iter()
            .any(|v| v.id.as_deref() == Some(validator))
    {
        return Err(AwsError::bad_request(
            "Invalid Request Validator identifier specified",
        ));
    }
    crate::model::check_request_models(&doc, req.request_models.as_ref())?;
    let resource = doc.resource_mut(&at.resource_id)?;
    let methods = resource
        .resource_methods
        .get_or_insert_with(Default::default);
    if methods.contains_key(&at.http_method) {
        return Err(AwsError::conflict(
            "Method already exists for this resource",
        ));
    }
    let method = Method {
        http_method: Some(at.http_method.clone()),
        authorization_type: Some(authorization_type),
        authorizer_id: req.authorizer_id,
        api_key_required: Some(req.api_key_required.unwrap_or(false)),
        request_validator_id: req.request_validator_id,
        operation_name: req.operation_name,
        request_parameters: req.request_parameters,
        request_models: req.request_models,
        authorization_scopes: req.authorization_scopes,
        ..Default::default()
    };
    methods.insert(at.http_method, method.clone());
    call.save_api(&doc, Some(version)).await?;
    OperationOutput::json(op, &method)
}

pub(crate) async fn get_method(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetMethodRequest = decode(input)?;
    let at = address(
        "getMethodInput",
        req.rest_api_id,
        req.resource_id,
        req.http_method,
    )?;
    let (doc, _) = call.load_api(&at.api_id).await?;
    OperationOutput::json(op, doc.method(&at.resource_id, &at.http_method)?)
}

pub(crate) async fn delete_method(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteMethodRequest = decode(input)?;
    let at = address(
        "deleteMethodInput",
        req.rest_api_id,
        req.resource_id,
        req.http_method,
    )?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&at.api_id).await?;
    doc.method(&at.resource_id, &at.http_method)?;
    let resource = doc.resource_mut(&at.resource_id)?;
    if let Some(methods) = resource.resource_methods.as_mut() {
        methods.remove(&at.http_method);
        if methods.is_empty() {
            resource.resource_methods = None;
        }
    }
    call.save_api(&doc, Some(version)).await?;
    Ok(OperationOutput::empty(op))
}

pub(crate) async fn put_method_response(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: PutMethodResponseRequest = decode(input)?;
    let at = address(
        "putMethodResponseInput",
        req.rest_api_id,
        req.resource_id,
        req.http_method,
    )?;
    let status = required(req.status_code, "putMethodResponseInput", "statusCode")?;
    check_status_code(&status)?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&at.api_id).await?;
    let method = doc.method_mut(&at.resource_id, &at.http_method)?;
    let response = MethodResponse {
        status_code: Some(status.clone()),
        response_parameters: req.response_parameters,
        response_models: req.response_models,
    };
    method
        .method_responses
        .get_or_insert_with(Default::default)
        .insert(status, response.clone());
    call.save_api(&doc, Some(version)).await?;
    OperationOutput::json(op, &response)
}

pub(crate) async fn get_method_response(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetMethodResponseRequest = decode(input)?;
    let at = address(
        "getMethodResponseInput",
        req.rest_api_id,
        req.resource_id,
        req.http_method,
    )?;
    let status = required(req.status_code, "getMethodResponseInput", "statusCode")?;
    let (doc, _) = call.load_api(&at.api_id).await?;
    let response = doc
        .method(&at.resource_id, &at.http_method)?
        .method_responses
        .as_ref()
        .and_then(|r| r.get(&status))
        .ok_or_else(response_not_found)?;
    OperationOutput::json(op, response)
}

pub(crate) async fn delete_method_response(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteMethodResponseRequest = decode(input)?;
    let at = address(
        "deleteMethodResponseInput",
        req.rest_api_id,
        req.resource_id,
        req.http_method,
    )?;
    let status = required(req.status_code, "deleteMethodResponseInput", "statusCode")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&at.api_id).await?;
    let method = doc.method_mut(&at.resource_id, &at.http_method)?;
    let removed = method
        .method_responses
        .as_mut()
        .and_then(|r| r.remove(&status));
    if removed.is_none() {
        return Err(response_not_found());
    }
    call.save_api(&doc, Some(version)).await?;
    Ok(OperationOutput::empty(op))
}

/// The URI with every `${stageVariables.x}` replaced by a plain name, so that a function
/// named by a stage variable validates as the ARN it becomes at request time.
fn without_stage_variables(uri: &str) -> String {
    let mut out = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(start) = rest.find("${stageVariables.") {
        out.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => {
                out.push_str("stageVariable");
                rest = &rest[start + end + 1..];
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

/// Checks an integration's type, method and URI as AWS does on PutIntegration.
fn check_integration(
    kind: &str,
    http_method: Option<&str>,
    uri: Option<&str>,
) -> Result<(), AwsError> {
    if !INTEGRATION_TYPES.contains(&kind) {
        return Err(AwsError::validation(format!(
            "1 validation error detected: Value '{kind}' at 'putIntegrationInput.type' failed to satisfy constraint: Member must satisfy enum value set: [HTTP, AWS, MOCK, HTTP_PROXY, AWS_PROXY]"
        )));
    }
    if kind == "MOCK" {
        return Ok(());
    }
    match http_method {
        None | Some("") => {
            return Err(AwsError::bad_request(
                "Enumeration value for HttpMethod must be non-empty",
            ));
        }
        Some(m) => check_http_method(m)?,
    }
    let uri = uri.unwrap_or("");
    match kind {
        "HTTP" | "HTTP_PROXY" => {
            let rest = uri
                .strip_prefix("http://")
                .or_else(|| uri.strip_prefix("https://"));
            if rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) {
                return Err(AwsError::bad_request(
                    "Invalid HTTP endpoint specified for URI",
                ));
            }
        }
        _ => {
            if !uri.starts_with("arn:") {
                return Err(AwsError::bad_request(
                    "Invalid ARN specified in the request",
                ));
            }
            if !uri.contains(":path/") && !uri.contains(":action/") {
                return Err(AwsError::bad_request(
                    "AWS ARN for integration must contain path or action",
                ));
            }
            if kind == "AWS_PROXY"
                && parse_lambda_integration_uri(&without_stage_variables(uri)).is_none()
            {
                return Err(AwsError::bad_request(
                    "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations.",
                ));
            }
        }
    }
    Ok(())
}

pub(crate) async fn put_integration(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: PutIntegrationRequest = decode(input)?;
    let at = address(
        "putIntegrationInput",
        req.rest_api_id,
        req.resource_id,
        req.http_method,
    )?;
    let kind = required(req.r#type, "putIntegrationInput", "type")?;
    check_integration(
        &kind,
        req.integration_http_method.as_deref(),
        req.uri.as_deref(),
    )?;
    let passthrough = req
        .passthrough_behavior
        .unwrap_or_else(|| "WHEN_NO_MATCH".to_owned());
    if !PASSTHROUGH_BEHAVIORS.contains(&passthrough.as_str()) {
        return Err(AwsError::bad_request(format!(
            "Invalid passthrough behavior specified: {passthrough}. Valid options are WHEN_NO_MATCH,WHEN_NO_TEMPLATES,NEVER"
        )));
    }
    let timeout = req.timeout_in_millis.unwrap_or(29_000);
    if !(50..=29_000).contains(&timeout) {
        return Err(AwsError::bad_request(
            "Timeout should be between 50 ms and 29000 ms",
        ));
    }
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&at.api_id).await?;
    let method = doc.method_mut(&at.resource_id, &at.http_method)?;
    let is_http = matches!(kind.as_str(), "HTTP" | "HTTP_PROXY");
    let integration = Integration {
        http_method: if kind == "MOCK" {
            None
        } else {
            req.integration_http_method
        },
        uri: req.uri,
        connection_type: req
            .connection_type
            .or(is_http.then(|| "INTERNET".to_owned())),
        connection_id: req.connection_id,
        credentials: req.credentials,
        request_parameters: req.request_parameters,
        request_templates: req.request_templates,
        passthrough_behavior: Some(passthrough),
        content_handling: req.content_handling,
        timeout_in_millis: Some(timeout),
        cache_namespace: Some(
            req.cache_namespace
                .unwrap_or_else(|| at.resource_id.clone()),
        ),
        cache_key_parameters: Some(req.cache_key_parameters.unwrap_or_default()),
        tls_config: req.tls_config,
        r#type: Some(kind),
        ..Default::default()
    };
    method.method_integration = Some(integration.clone());
    call.save_api(&doc, Some(version)).await?;
    OperationOutput::json(op, &integration)
}

pub(crate) async fn get_integration(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetIntegrationRequest = decode(input)?;
    let at = address(
        "getIntegrationInput",
        req.rest_api_id,
        req.resource_id,
        req.http_method,
    )?;
    let (doc, _) = call.load_api(&at.api_id).await?;
    let integration = doc
        .method(&at.resource_id, &at.http_method)?
        .method_integration
        .as_ref()
        .ok_or_else(integration_not_found)?;
    OperationOutput::json(op, integration)
}

pub(crate) async fn delete_integration(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteIntegrationRequest = decode(input)?;
    let at = address(
        "deleteIntegrationInput",
        req.rest_api_id,
        req.resource_id,
        req.http_method,
    )?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&at.api_id).await?;
    let method = doc.method_mut(&at.resource_id, &at.http_method)?;
    if method.method_integration.take().is_none() {
        return Err(integration_not_found());
    }
    call.save_api(&doc, Some(version)).await?;
    Ok(OperationOutput::empty(op))
}

pub(crate) async fn put_integration_response(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: PutIntegrationResponseRequest = decode(input)?;
    let at = address(
        "putIntegrationResponseInput",
        req.rest_api_id,
        req.resource_id,
        req.http_method,
    )?;
    let status = required(req.status_code, "putIntegrationResponseInput", "statusCode")?;
    check_status_code(&status)?;
    if let Some(content_handling) = req.content_handling.as_deref()
        && !matches!(content_handling, "CONVERT_TO_BINARY" | "CONVERT_TO_TEXT")
    {
        return Err(AwsError::bad_request(format!(
            "Invalid content handling specified: {content_handling}"
        )));
    }
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&at.api_id).await?;
    let method = doc.method(&at.resource_id, &at.http_method)?;
    if !method
        .method_responses
        .as_ref()
        .is_some_and(|r| r.contains_key(&status))
    {
        return Err(response_not_found());
    }
    let integration = doc.integration_mut(&at.resource_id, &at.http_method)?;
    let response = IntegrationResponse {
        status_code: Some(status.clone()),
        selection_pattern: req.selection_pattern,
        response_parameters: req.response_parameters,
        response_templates: req.response_templates,
        content_handling: req.content_handling,
    };
    integration
        .integration_responses
        .get_or_insert_with(Default::default)
        .insert(status, response.clone());
    call.save_api(&doc, Some(version)).await?;
    OperationOutput::json(op, &response)
}

pub(crate) async fn get_integration_response(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetIntegrationResponseRequest = decode(input)?;
    let at = address(
        "getIntegrationResponseInput",
        req.rest_api_id,
        req.resource_id,
        req.http_method,
    )?;
    let status = required(req.status_code, "getIntegrationResponseInput", "statusCode")?;
    let (doc, _) = call.load_api(&at.api_id).await?;
    let response = doc
        .method(&at.resource_id, &at.http_method)?
        .method_integration
        .as_ref()
        .ok_or_else(integration_not_found)?
        .integration_responses
        .as_ref()
        .and_then(|r| r.get(&status))
        .ok_or_else(response_not_found)?;
    OperationOutput::json(op, response)
}

pub(crate) async fn delete_integration_response(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteIntegrationResponseRequest = decode(input)?;
    let at = address(
        "deleteIntegrationResponseInput",
        req.rest_api_id,
        req.resource_id,
        req.http_method,
    )?;
    let status = required(
        req.status_code,
        "deleteIntegrationResponseInput",
        "statusCode",
    )?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&at.api_id).await?;
    let integration = doc.integration_mut(&at.resource_id, &at.http_method)?;
    if integration
        .integration_responses
        .as_mut()
        .and_then(|r| r.remove(&status))
        .is_none()
    {
        return Err(response_not_found());
    }
    call.save_api(&doc, Some(version)).await?;
    Ok(OperationOutput::empty(op))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_variables_in_lambda_uris_validate() {
        let uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:${stageVariables.fn}/invocations";
        assert_eq!(
            without_stage_variables(uri),
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:stageVariable/invocations"
        );
        assert!(check_integration("AWS_PROXY", Some("POST"), Some(uri)).is_ok());
        assert_eq!(
            without_stage_variables("a${stageVariables.x"),
            "a${stageVariables.x"
        );
    }
}
