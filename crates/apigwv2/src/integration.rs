//! CreateIntegration, GetIntegration(s), UpdateIntegration, DeleteIntegration.

use portico_core::AwsError;
use portico_model::apigatewayv2::{
    CreateIntegrationRequest, DeleteIntegrationRequest, GetIntegrationRequest,
    GetIntegrationsRequest, Integration, Integrations, UpdateIntegrationRequest,
};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::Call;
use crate::doc::{ApiDoc, child_id, integration_not_found, paginate, required};

/// Checks an integration against the rules of its API's protocol and fills AWS's defaults.
fn normalize(doc: &ApiDoc, integration: &mut Integration) -> Result<(), AwsError> {
    let websocket = doc.is_websocket();
    let kind = integration.integration_type.clone().unwrap_or_default();
    let allowed: &[&str] = if websocket {
        &["AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK"]
    } else {
        &["AWS_PROXY", "HTTP_PROXY"]
    };
    if !allowed.contains(&kind.as_str()) {
        return Err(AwsError::bad_request(format!(
            "Unsupported integration type '{kind}' for {} protocol APIs. Supported types: {}",
            if websocket { "WEBSOCKET" } else { "HTTP" },
            allowed.join(", ")
        )));
    }
    if kind != "MOCK" && integration.integration_uri.is_none() {
        return Err(AwsError::bad_request(format!(
            "IntegrationUri is required for {kind} integrations"
        )));
    }
    // AWS: "If you create a Lambda integration by using the AWS CLI, CloudFormation, or an
    // SDK, you must specify a payloadFormatVersion" (HTTP APIs); everything else is 1.0.
    if kind == "AWS_PROXY" && !websocket && integration.payload_format_version.is_none() {
        return Err(AwsError::bad_request(
            "PayloadFormatVersion is required for AWS_PROXY integrations of HTTP APIs",
        ));
    }
    let version = integration
        .payload_format_version
        .get_or_insert_with(|| "1.0".to_owned())
        .clone();
    match (kind.as_str(), version.as_str()) {
        (_, "1.0") => {}
        ("AWS_PROXY", "2.0") if !websocket => {}
        _ => {
            return Err(AwsError::bad_request(format!(
                "Unsupported payload format version {version} for {kind} integrations"
            )));
        }
    }
    let max = if websocket { 29_000 } else { 30_000 };
    let timeout = *integration.timeout_in_millis.get_or_insert(max);
    if !(50..=max).contains(&timeout) {
        return Err(AwsError::bad_request(format!(
            "Timeout must be between 50 milliseconds and {max} milliseconds"
        )));
    }
    integration
        .connection_type
        .get_or_insert_with(|| "INTERNET".to_owned());
    match kind.as_str() {
        "AWS_PROXY" | "AWS" => {
            integration
                .integration_method
                .get_or_insert_with(|| "POST".to_owned());
        }
        "HTTP_PROXY" | "HTTP" if integration.integration_method.is_none() => {
            return Err(AwsError::bad_request(format!(
                "IntegrationMethod is required for {kind} integrations"
            )));
        }
        _ => {}
    }
    if kind == "AWS_PROXY"
        && let Some(uri) = integration.integration_uri.as_deref()
        // A stage variable in the URI names the function per stage; it is resolved at deploy.
        && !uri.contains("${stageVariables.")
        && portico_core::arn::parse_function_name(uri).is_err()
        && portico_core::arn::parse_lambda_integration_uri(uri).is_none()
    {
        return Err(AwsError::bad_request(format!(
            "Invalid integration URI specified: {uri}"
        )));
    }
    Ok(())
}

pub(crate) async fn create(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: CreateIntegrationRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let integration_type = required(req.integration_type, "IntegrationType")?;
    let mut integration = Integration {
        connection_id: req.connection_id,
        connection_type: req.connection_type,
        content_handling_strategy: req.content_handling_strategy,
        credentials_arn: req.credentials_arn,
        description: req.description,
        integration_id: Some(child_id()),
        integration_method: req.integration_method,
        integration_subtype: req.integration_subtype,
        integration_type: Some(integration_type),
        integration_uri: req.integration_uri,
        passthrough_behavior: req.passthrough_behavior,
        payload_format_version: req.payload_format_version,
        request_parameters: req.request_parameters,
        request_templates: req.request_templates,
        response_parameters: req.response_parameters,
        template_selection_expression: req.template_selection_expression,
        timeout_in_millis: req.timeout_in_millis,
        ..Default::default()
    };
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    normalize(&doc, &mut integration)?;
    doc.integrations.push(integration.clone());
    call.save_api(&doc, Some(version)).await?;
    call.auto_deploy(&doc).await?;
    OperationOutput::json(op, &integration)
}

pub(crate) async fn get(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetIntegrationRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let id = required(req.integration_id, "IntegrationId")?;
    let (mut doc, _) = call.load_api(&api_id).await?;
    let integration = doc.integration_mut(&id)?.clone();
    OperationOutput::json(op, &integration)
}

pub(crate) async fn list(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetIntegrationsRequest = decode(input)?;
    let (doc, _) = call.load_api(&required(req.api_id, "ApiId")?).await?;
    let (items, next_token) = paginate(
        doc.integrations,
        |i| i.integration_id.as_deref(),
        req.next_token.as_deref(),
        req.max_results.as_deref(),
    )?;
    OperationOutput::json(
        op,
        &Integrations {
            items: Some(items),
            next_token,
        },
    )
}

pub(crate) async fn update(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UpdateIntegrationRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let id = required(req.integration_id, "IntegrationId")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    let mut next = doc.integration_mut(&id)?.clone();
    macro_rules! set {
        ($($field:ident),*) => { $( if let Some(v) = req.$field { next.$field = Some(v); } )* };
    }
    set!(
        connection_id,
        connection_type,
        content_handling_strategy,
        credentials_arn,
        description,
        integration_method,
        integration_subtype,
        integration_type,
        integration_uri,
        passthrough_behavior,
        payload_format_version,
        request_parameters,
        request_templates,
        response_parameters,
        template_selection_expression,
        timeout_in_millis
    );
    normalize(&doc, &mut next)?;
    *doc.integration_mut(&id)? = next.clone();
    call.save_api(&doc, Some(version)).await?;
    call.auto_deploy(&doc).await?;
    OperationOutput::json(op, &next)
}

pub(crate) async fn delete(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteIntegrationRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let id = required(req.integration_id, "IntegrationId")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    let before = doc.integrations.len();
    doc.integrations
        .retain(|i| i.integration_id.as_deref() != Some(id.as_str()));
    if doc.integrations.len() == before {
        return Err(integration_not_found(&id));
    }
    call.save_api(&doc, Some(version)).await?;
    call.auto_deploy(&doc).await?;
    Ok(OperationOutput::empty(op))
}
