//! CreateRoute, GetRoute(s), UpdateRoute, DeleteRoute.

use portico_core::AwsError;
use portico_model::apigatewayv2::{
    CreateRouteRequest, DeleteRouteRequest, GetRouteRequest, GetRoutesRequest, Route, Routes,
    UpdateRouteRequest,
};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use portico_route::{ErrorKind, parse_route_key};
use serde_json::{Map, Value};

use crate::Call;
use crate::doc::{ApiDoc, child_id, paginate, required, route_not_found};

/// Validates a route key for the API's protocol and refuses one the API already has.
pub(crate) fn check_route_key(doc: &ApiDoc, key: &str) -> Result<(), AwsError> {
    if doc.is_websocket() {
        if key.is_empty() {
            return Err(AwsError::bad_request("RouteKey is required"));
        }
    } else {
        parse_route_key(key).map_err(|e| match e.kind {
            ErrorKind::BadRequest => AwsError::bad_request(e.message),
            ErrorKind::Conflict => AwsError::conflict(e.message),
        })?;
    }
    if doc
        .routes
        .iter()
        .any(|r| r.route_key.as_deref() == Some(key))
    {
        return Err(AwsError::conflict(format!(
            "Route with key {key} already exists for this API"
        )));
    }
    Ok(())
}

fn check_authorization(kind: &str) -> Result<(), AwsError> {
    if matches!(kind, "NONE" | "AWS_IAM" | "CUSTOM" | "JWT") {
        Ok(())
    } else {
        Err(AwsError::bad_request(format!(
            "Invalid authorization type specified: {kind}. Valid options are NONE, AWS_IAM, CUSTOM, JWT"
        )))
    }
}

/// A route that authorizes with `CUSTOM` or `JWT` names an authorizer of that kind.
fn check_authorizer(doc: &ApiDoc, route: &Route) -> Result<(), AwsError> {
    let wanted = match route.authorization_type.as_deref() {
        Some("CUSTOM") => "REQUEST",
        Some("JWT") => "JWT",
        _ => return Ok(()),
    };
    let id = route.authorizer_id.as_deref().unwrap_or_default();
    let found = doc
        .authorizers
        .iter()
        .find(|a| a.authorizer_id.as_deref() == Some(id));
    match found {
        Some(a) if a.authorizer_type.as_deref() == Some(wanted) => Ok(()),
        Some(_) => Err(AwsError::bad_request(format!(
            "Authorizer {id} is not of the type the route's authorization type {} needs",
            route.authorization_type.as_deref().unwrap_or_default()
        ))),
        None => Err(AwsError::bad_request(format!(
            "Invalid authorizer id specified: {id}"
        ))),
    }
}

pub(crate) async fn create(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: CreateRouteRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let route_key = required(req.route_key, "RouteKey")?;
    let authorization_type = req.authorization_type.unwrap_or_else(|| "NONE".to_owned());
    check_authorization(&authorization_type)?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    check_route_key(&doc, &route_key)?;
    let route = Route {
        api_gateway_managed: None,
        api_key_required: Some(req.api_key_required.unwrap_or(false)),
        authorization_scopes: req.authorization_scopes,
        authorization_type: Some(authorization_type),
        authorizer_id: req.authorizer_id,
        model_selection_expression: req.model_selection_expression,
        operation_name: req.operation_name,
        request_models: req.request_models,
        request_parameters: req.request_parameters,
        route_id: Some(child_id()),
        route_key: Some(route_key),
        route_response_selection_expression: req.route_response_selection_expression,
        target: req.target,
    };
    check_authorizer(&doc, &route)?;
    doc.routes.push(route.clone());
    call.save_api(&doc, Some(version)).await?;
    call.auto_deploy(&doc).await?;
    OperationOutput::json(op, &route)
}

pub(crate) async fn get(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetRouteRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let route_id = required(req.route_id, "RouteId")?;
    let (mut doc, _) = call.load_api(&api_id).await?;
    let route = doc.route_mut(&route_id)?.clone();
    OperationOutput::json(op, &route)
}

pub(crate) async fn list(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetRoutesRequest = decode(input)?;
    let (doc, _) = call.load_api(&required(req.api_id, "ApiId")?).await?;
    let (items, next_token) = paginate(
        doc.routes,
        |r| r.route_id.as_deref(),
        req.next_token.as_deref(),
        req.max_results.as_deref(),
    )?;
    OperationOutput::json(
        op,
        &Routes {
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
    let req: UpdateRouteRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let route_id = required(req.route_id, "RouteId")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    let current_key = doc.route_mut(&route_id)?.route_key.clone();
    if let Some(key) = &req.route_key
        && current_key.as_deref() != Some(key.as_str())
    {
        check_route_key(&doc, key)?;
    }
    if let Some(kind) = &req.authorization_type {
        check_authorization(kind)?;
    }
    let route = doc.route_mut(&route_id)?;
    if let Some(key) = req.route_key {
        route.route_key = Some(key);
    }
    if let Some(v) = req.api_key_required {
        route.api_key_required = Some(v);
    }
    if let Some(v) = req.authorization_scopes {
        route.authorization_scopes = Some(v);
    }
    if let Some(v) = req.authorization_type {
        route.authorization_type = Some(v);
    }
    if let Some(v) = req.authorizer_id {
        route.authorizer_id = Some(v);
    }
    if let Some(v) = req.model_selection_expression {
        route.model_selection_expression = Some(v);
    }
    if let Some(v) = req.operation_name {
        route.operation_name = Some(v);
    }
    if let Some(v) = req.request_models {
        route.request_models = Some(v);
    }
    if let Some(v) = req.request_parameters {
        route.request_parameters = Some(v);
    }
    if let Some(v) = req.route_response_selection_expression {
        route.route_response_selection_expression = Some(v);
    }
    if let Some(v) = req.target {
        route.target = Some(v);
    }
    let route = route.clone();
    check_authorizer(&doc, &route)?;
    call.save_api(&doc, Some(version)).await?;
    call.auto_deploy(&doc).await?;
    OperationOutput::json(op, &route)
}

pub(crate) async fn delete(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteRouteRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let route_id = required(req.route_id, "RouteId")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    let before = doc.routes.len();
    doc.routes
        .retain(|r| r.route_id.as_deref() != Some(route_id.as_str()));
    if doc.routes.len() == before {
        return Err(route_not_found(&route_id));
    }
    doc.route_responses.retain(|r| r.route_id != route_id);
    call.save_api(&doc, Some(version)).await?;
    call.auto_deploy(&doc).await?;
    Ok(OperationOutput::empty(op))
}
