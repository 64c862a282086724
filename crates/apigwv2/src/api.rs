//! CreateApi (with quick create), GetApi(s), UpdateApi, DeleteApi, DeleteCorsConfiguration.

use portico_core::{AwsError, ids};
use portico_model::apigatewayv2::{
    Api, Apis, Cors, CreateApiRequest, DeleteApiRequest, DeleteCorsConfigurationRequest,
    GetApiRequest, GetApisRequest, Integration, Route, Stage, UpdateApiRequest,
};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::Call;
use crate::doc::{ApiDoc, child_id, now_iso, paginate, required};
use crate::route::check_route_key;

/// The only route selection expression an HTTP API has.
pub(crate) const HTTP_ROUTE_SELECTION: &str = "${request.method} ${request.path}";

fn check_cors(cors: &Cors) -> Result<(), AwsError> {
    if let Some(age) = cors.max_age
        && !(-1..=86_400).contains(&age)
    {
        return Err(AwsError::bad_request(
            "MaxAge must be between -1 and 86400 seconds",
        ));
    }
    let any_origin = cors
        .allow_origins
        .iter()
        .flatten()
        .any(|origin| origin == "*");
    if cors.allow_credentials == Some(true) && any_origin {
        return Err(AwsError::bad_request(
            "allow-credentials is not supported when allow-origins contains a wildcard",
        ));
    }
    Ok(())
}

/// What quick create's `target` names: a Lambda function ARN or an HTTP URL.
fn quick_integration(target: &str) -> Result<Integration, AwsError> {
    let mut integration = Integration {
        integration_id: Some(child_id()),
        api_gateway_managed: Some(true),
        connection_type: Some("INTERNET".to_owned()),
        integration_uri: Some(target.to_owned()),
        timeout_in_millis: Some(30_000),
        ..Default::default()
    };
    if target.starts_with("arn:") {
        if portico_core::arn::parse_function_name(target).is_err() {
            return Err(AwsError::bad_request(format!(
                "Invalid target specified: {target}"
            )));
        }
        integration.integration_type = Some("AWS_PROXY".to_owned());
        integration.integration_method = Some("POST".to_owned());
        integration.payload_format_version = Some("2.0".to_owned());
    } else if target.starts_with("http://") || target.starts_with("https://") {
        integration.integration_type = Some("HTTP_PROXY".to_owned());
        integration.integration_method = Some("ANY".to_owned());
        integration.payload_format_version = Some("1.0".to_owned());
    } else {
        return Err(AwsError::bad_request(format!(
            "Invalid target specified: {target}"
        )));
    }
    Ok(integration)
}

pub(crate) fn api_endpoint(call: &Call<'_>, api_id: &str, websocket: bool) -> String {
    let scheme = if websocket { "ws" } else { "http" };
    format!(
        "{scheme}://{api_id}.execute-api.localhost:{}",
        call.service.endpoint_port
    )
}

pub(crate) async fn create(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: CreateApiRequest = decode(input)?;
    let name = required(req.name, "Name")?;
    let protocol = required(req.protocol_type, "ProtocolType")?;
    let websocket = match protocol.as_str() {
        "HTTP" => false,
        "WEBSOCKET" => true,
        _ => {
            return Err(AwsError::bad_request(
                "Invalid protocol specified. Must be one of [HTTP, WEBSOCKET]",
            ));
        }
    };
    let route_selection = match (websocket, req.route_selection_expression) {
        (false, None) => HTTP_ROUTE_SELECTION.to_owned(),
        (false, Some(given)) if given == HTTP_ROUTE_SELECTION => given,
        (false, Some(_)) => {
            return Err(AwsError::bad_request(
                "Unsupported route selection expression for HTTP protocol APIs",
            ));
        }
        (true, Some(given)) => given,
        (true, None) => {
            return Err(AwsError::bad_request(
                "RouteSelectionExpression is required for WEBSOCKET protocol APIs",
            ));
        }
    };
    if let Some(cors) = &req.cors_configuration {
        if websocket {
            return Err(AwsError::bad_request(
                "CORS configuration is supported only for HTTP APIs",
            ));
        }
        check_cors(cors)?;
    }
    if websocket && (req.target.is_some() || req.route_key.is_some()) {
        return Err(AwsError::bad_request(
            "Quick create is supported only for HTTP APIs",
        ));
    }
    if req.target.is_none() && (req.route_key.is_some() || req.credentials_arn.is_some()) {
        return Err(AwsError::bad_request(
            "RouteKey and CredentialsArn are supported only with a Target (quick create)",
        ));
    }
    let api_id = ids::api_id();
    let api = Api {
        api_endpoint: Some(api_endpoint(call, &api_id, websocket)),
        api_id: Some(api_id.clone()),
        api_key_selection_expression: Some(
            req.api_key_selection_expression
                .unwrap_or_else(|| "$request.header.x-api-key".to_owned()),
        ),
        cors_configuration: req.cors_configuration,
        created_date: Some(now_iso()),
        description: req.description,
        disable_execute_api_endpoint: Some(req.disable_execute_api_endpoint.unwrap_or(false)),
        disable_schema_validation: req.disable_schema_validation,
        ip_address_type: Some(req.ip_address_type.unwrap_or_else(|| "ipv4".to_owned())),
        name: Some(name),
        protocol_type: Some(protocol),
        route_selection_expression: Some(route_selection),
        tags: Some(req.tags.unwrap_or_default()),
        version: req.version,
        ..Default::default()
    };
    let mut doc = ApiDoc {
        api,
        routes: Vec::new(),
        integrations: Vec::new(),
        authorizers: Vec::new(),
        route_responses: Vec::new(),
    };
    if let Some(target) = req.target {
        let mut integration = quick_integration(&target)?;
        integration.credentials_arn = req.credentials_arn;
        let route_key = req.route_key.unwrap_or_else(|| "$default".to_owned());
        check_route_key(&doc, &route_key)?;
        doc.routes.push(Route {
            api_gateway_managed: Some(true),
            api_key_required: Some(false),
            authorization_type: Some("NONE".to_owned()),
            route_id: Some(child_id()),
            route_key: Some(route_key),
            target: integration
                .integration_id
                .as_ref()
                .map(|id| format!("integrations/{id}")),
            ..Default::default()
        });
        doc.integrations.push(integration);
    }
    let _guard = call.service.writes.lock().await;
    call.save_api(&doc, None).await?;
    if !doc.routes.is_empty() {
        let now = now_iso();
        let mut stage = Stage {
            api_gateway_managed: Some(true),
            auto_deploy: Some(true),
            created_date: Some(now.clone()),
            default_route_settings: Some(crate::stage::default_route_settings(false)),
            last_updated_date: Some(now),
            route_settings: Some(Default::default()),
            stage_name: Some("$default".to_owned()),
            stage_variables: Some(Default::default()),
            tags: Some(Default::default()),
            ..Default::default()
        };
        let frozen = call.deploy(&doc, None, true).await?;
        call.activate(&api_id, &mut stage, &frozen).await?;
    }
    OperationOutput::json(op, &doc.api)
}

pub(crate) async fn get(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetApiRequest = decode(input)?;
    let (doc, _) = call.load_api(&required(req.api_id, "ApiId")?).await?;
    OperationOutput::json(op, &doc.api)
}

pub(crate) async fn list(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetApisRequest = decode(input)?;
    let apis: Vec<Api> = call.list_apis().await?.into_iter().map(|d| d.api).collect();
    let (items, next_token) = paginate(
        apis,
        |a| a.api_id.as_deref(),
        req.next_token.as_deref(),
        req.max_results.as_deref(),
    )?;
    OperationOutput::json(
        op,
        &Apis {
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
    let req: UpdateApiRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    let websocket = doc.is_websocket();
    if let Some(cors) = req.cors_configuration {
        if websocket {
            return Err(AwsError::bad_request(
                "CORS configuration is supported only for HTTP APIs",
            ));
        }
        check_cors(&cors)?;
        doc.api.cors_configuration = Some(cors);
    }
    if let Some(expression) = req.route_selection_expression {
        if !websocket && expression != HTTP_ROUTE_SELECTION {
            return Err(AwsError::bad_request(
                "Unsupported route selection expression for HTTP protocol APIs",
            ));
        }
        doc.api.route_selection_expression = Some(expression);
    }
    if let Some(target) = req.target {
        // Quick-create targets retarget the integration quick create made.
        let managed = doc
            .integrations
            .iter_mut()
            .find(|i| i.api_gateway_managed == Some(true))
            .ok_or_else(|| {
                AwsError::bad_request("Target can be updated only on a quick-created API")
            })?;
        let replacement = quick_integration(&target)?;
        managed.integration_uri = replacement.integration_uri;
        managed.integration_type = replacement.integration_type;
        managed.integration_method = replacement.integration_method;
        managed.payload_format_version = replacement.payload_format_version;
    }
    let api = &mut doc.api;
    if let Some(name) = req.name {
        api.name = Some(name);
    }
    if let Some(description) = req.description {
        api.description = Some(description);
    }
    if let Some(version) = req.version {
        api.version = Some(version);
    }
    if let Some(expression) = req.api_key_selection_expression {
        api.api_key_selection_expression = Some(expression);
    }
    if let Some(disable) = req.disable_execute_api_endpoint {
        api.disable_execute_api_endpoint = Some(disable);
    }
    if let Some(disable) = req.disable_schema_validation {
        api.disable_schema_validation = Some(disable);
    }
    if let Some(kind) = req.ip_address_type {
        api.ip_address_type = Some(kind);
    }
    call.save_api(&doc, Some(version)).await?;
    call.auto_deploy(&doc).await?;
    OperationOutput::json(op, &doc.api)
}

pub(crate) async fn delete(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteApiRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let _guard = call.service.writes.lock().await;
    call.load_api(&api_id).await?;
    call.delete_api_tree(&api_id).await?;
    call.sink()
        .remove_api(&call.scope.account_id, &call.scope.region, &api_id);
    Ok(OperationOutput::empty(op))
}

pub(crate) async fn delete_cors(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteCorsConfigurationRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    doc.api.cors_configuration = None;
    call.save_api(&doc, Some(version)).await?;
    call.auto_deploy(&doc).await?;
    Ok(OperationOutput::empty(op))
}
