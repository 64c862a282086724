//! CreateRouteResponse, GetRouteResponse(s), UpdateRouteResponse, DeleteRouteResponse: the
//! WebSocket route responses that make a route two-way.

use portico_core::{AwsError, ids};
use portico_model::apigatewayv2::{
    CreateRouteResponseRequest, DeleteRouteResponseRequest, GetRouteResponseRequest,
    GetRouteResponsesRequest, RouteResponse, RouteResponses, UpdateRouteResponseRequest,
};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Call;
use crate::doc::{ApiDoc, paginate, required};

/// A route response with the route it belongs to, as the API document stores it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredRouteResponse {
    #[serde(rename = "routeId")]
    pub route_id: String,
    #[serde(flatten)]
    pub response: RouteResponse,
}

fn not_found(id: &str) -> AwsError {
    AwsError::not_found(format!("Invalid RouteResponse identifier specified {id}"))
}

/// The route must exist, and route responses exist for WebSocket APIs only.
fn check_route(doc: &mut ApiDoc, route_id: &str) -> Result<(), AwsError> {
    doc.route_mut(route_id)?;
    if doc.is_websocket() {
        Ok(())
    } else {
        Err(AwsError::bad_request(
            "Route responses are supported only for WEBSOCKET APIs",
        ))
    }
}

fn position(doc: &ApiDoc, route_id: &str, id: &str) -> Result<usize, AwsError> {
    doc.route_responses
        .iter()
        .position(|r| r.route_id == route_id && r.response.route_response_id.as_deref() == Some(id))
        .ok_or_else(|| not_found(id))
}

fn check_key_free(
    doc: &ApiDoc,
    route_id: &str,
    key: &str,
    except: Option<&str>,
) -> Result<(), AwsError> {
    let taken = doc.route_responses.iter().any(|r| {
        r.route_id == route_id
            && r.response.route_response_key.as_deref() == Some(key)
            && r.response.route_response_id.as_deref() != except
    });
    if taken {
        Err(AwsError::conflict(format!(
            "RouteResponse with key {key} already exists for this route"
        )))
    } else {
        Ok(())
    }
}

pub(crate) async fn create(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: CreateRouteResponseRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let route_id = required(req.route_id, "RouteId")?;
    let key = required(req.route_response_key, "RouteResponseKey")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    check_route(&mut doc, &route_id)?;
    check_key_free(&doc, &route_id, &key, None)?;
    let response = RouteResponse {
        model_selection_expression: req.model_selection_expression,
        response_models: req.response_models,
        response_parameters: req.response_parameters,
        route_response_id: Some(ids::short_id()),
        route_response_key: Some(key),
    };
    doc.route_responses.push(StoredRouteResponse {
        route_id,
        response: response.clone(),
    });
    call.save_api(&doc, Some(version)).await?;
    call.auto_deploy(&doc).await?;
    OperationOutput::json(op, &response)
}

pub(crate) async fn get(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetRouteResponseRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let route_id = required(req.route_id, "RouteId")?;
    let id = required(req.route_response_id, "RouteResponseId")?;
    let (mut doc, _) = call.load_api(&api_id).await?;
    doc.route_mut(&route_id)?;
    let at = position(&doc, &route_id, &id)?;
    OperationOutput::json(op, &doc.route_responses[at].response)
}

pub(crate) async fn list(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetRouteResponsesRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let route_id = required(req.route_id, "RouteId")?;
    let (mut doc, _) = call.load_api(&api_id).await?;
    doc.route_mut(&route_id)?;
    let responses: Vec<RouteResponse> = doc
        .route_responses
        .into_iter()
        .filter(|r| r.route_id == route_id)
        .map(|r| r.response)
        .collect();
    let (items, next_token) = paginate(
        responses,
        |r| r.route_response_id.as_deref(),
        req.next_token.as_deref(),
        req.max_results.as_deref(),
    )?;
    OperationOutput::json(
        op,
        &RouteResponses {
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
    let req: UpdateRouteResponseRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let route_id = required(req.route_id, "RouteId")?;
    let id = required(req.route_response_id, "RouteResponseId")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    doc.route_mut(&route_id)?;
    let at = position(&doc, &route_id, &id)?;
    if let Some(key) = &req.route_response_key {
        check_key_free(&doc, &route_id, key, Some(&id))?;
    }
    let response = &mut doc.route_responses[at].response;
    if let Some(v) = req.route_response_key {
        response.route_response_key = Some(v);
    }
    if let Some(v) = req.model_selection_expression {
        response.model_selection_expression = Some(v);
    }
    if let Some(v) = req.response_models {
        response.response_models = Some(v);
    }
    if let Some(v) = req.response_parameters {
        response.response_parameters = Some(v);
    }
    let response = response.clone();
    call.save_api(&doc, Some(version)).await?;
    call.auto_deploy(&doc).await?;
    OperationOutput::json(op, &response)
}

pub(crate) async fn delete(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteRouteResponseRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let route_id = required(req.route_id, "RouteId")?;
    let id = required(req.route_response_id, "RouteResponseId")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    doc.route_mut(&route_id)?;
    let at = position(&doc, &route_id, &id)?;
    doc.route_responses.remove(at);
    call.save_api(&doc, Some(version)).await?;
    call.auto_deploy(&doc).await?;
    Ok(OperationOutput::empty(op))
}
