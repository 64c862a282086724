//! The API Gateway v2 control plane (`apigatewayv2` 2018-11-29): HTTP APIs and WebSocket APIs.
//!
//! Operations arrive decoded by `portico-protocol`; this crate validates them, keeps state in
//! the `Store`, and answers with the generated v2 shapes (camelCase bodies, ISO-8601 dates).
//! Nothing here serves traffic: a deployment freezes the API (the API object, its routes and
//! integrations), and every stage that points at a deployment is published through
//! [`StageSink`] to the v2 data plane, which compiles it once.
//!
//! State layout mirrors the REST control plane: one document per API holds the API, its
//! routes and its integrations, so every edit is one versioned write and freezing a deployment
//! is a copy; deployments and stages are documents of their own, children of the API.
//! Auto-deploying stages (`autoDeploy: true`, the quick-create `$default` stage) get a new
//! deployment after every change to the API, which is how edits go live at once.
//!
//! Not here: models, integration responses, domain names, VPC links, import/export.
//! Those operations answer `NotImplementedException`.

mod api;
mod authorizer;
mod doc;
mod integration;
mod persist;
mod route;
mod route_response;
mod stage;

use std::sync::Arc;

use portico_core::{AwsError, Scope, StageSink};
use portico_protocol::{OperationInput, OperationOutput};
use portico_store::Store;

pub use persist::publish_all_stages;

/// The API Gateway v2 control plane.
pub struct ApiGatewayV2 {
    store: Arc<dyn Store>,
    sink: Arc<dyn StageSink>,
    /// `apiEndpoint` template: `{scheme}://{api-id}.execute-api.localhost:{port}`.
    endpoint_port: u16,
    /// Serializes this node's writes so read-modify-write of an API document does not race
    /// itself; other nodes are kept honest by the store's version check.
    writes: tokio::sync::Mutex<()>,
}

/// What an operation handler gets besides its input.
pub(crate) struct Call<'a> {
    pub scope: &'a Scope,
    pub service: &'a ApiGatewayV2,
}

impl ApiGatewayV2 {
    /// `endpoint_port` is the port the listener serves the data plane on; it goes into each
    /// API's `apiEndpoint` so the URL the CLI prints is one a client can call.
    pub fn new(store: Arc<dyn Store>, sink: Arc<dyn StageSink>, endpoint_port: u16) -> Self {
        Self {
            store,
            sink,
            endpoint_port,
            writes: tokio::sync::Mutex::new(()),
        }
    }

    /// Runs one operation.
    pub async fn handle(
        &self,
        scope: &Scope,
        input: OperationInput,
    ) -> Result<OperationOutput, AwsError> {
        let call = Call {
            scope,
            service: self,
        };
        let op = input.operation;
        let fields = input.input;
        match op.name {
            "CreateApi" => api::create(&call, op, fields).await,
            "GetApi" => api::get(&call, op, fields).await,
            "GetApis" => api::list(&call, op, fields).await,
            "UpdateApi" => api::update(&call, op, fields).await,
            "DeleteApi" => api::delete(&call, op, fields).await,
            "DeleteCorsConfiguration" => api::delete_cors(&call, op, fields).await,
            "CreateRoute" => route::create(&call, op, fields).await,
            "GetRoute" => route::get(&call, op, fields).await,
            "GetRoutes" => route::list(&call, op, fields).await,
            "UpdateRoute" => route::update(&call, op, fields).await,
            "DeleteRoute" => route::delete(&call, op, fields).await,
            "CreateRouteResponse" => route_response::create(&call, op, fields).await,
            "GetRouteResponse" => route_response::get(&call, op, fields).await,
            "GetRouteResponses" => route_response::list(&call, op, fields).await,
            "UpdateRouteResponse" => route_response::update(&call, op, fields).await,
            "DeleteRouteResponse" => route_response::delete(&call, op, fields).await,
            "CreateIntegration" => integration::create(&call, op, fields).await,
            "GetIntegration" => integration::get(&call, op, fields).await,
            "GetIntegrations" => integration::list(&call, op, fields).await,
            "UpdateIntegration" => integration::update(&call, op, fields).await,
            "DeleteIntegration" => integration::delete(&call, op, fields).await,
            "CreateStage" => stage::create(&call, op, fields).await,
            "GetStage" => stage::get(&call, op, fields).await,
            "GetStages" => stage::list(&call, op, fields).await,
            "UpdateStage" => stage::update(&call, op, fields).await,
            "DeleteStage" => stage::delete(&call, op, fields).await,
            "CreateAuthorizer" => authorizer::create(&call, op, fields).await,
            "GetAuthorizer" => authorizer::get(&call, op, fields).await,
            "GetAuthorizers" => authorizer::list(&call, op, fields).await,
            "UpdateAuthorizer" => authorizer::update(&call, op, fields).await,
            "DeleteAuthorizer" => authorizer::delete(&call, op, fields).await,
            "CreateDeployment" => stage::create_deployment(&call, op, fields).await,
            "GetDeployment" => stage::get_deployment(&call, op, fields).await,
            "GetDeployments" => stage::list_deployments(&call, op, fields).await,
            "DeleteDeployment" => stage::delete_deployment(&call, op, fields).await,
            other => Err(AwsError::new(
                "NotImplementedException",
                501,
                format!("Portico does not implement the API Gateway v2 operation {other} yet"),
            )),
        }
    }
}

#[cfg(test)]
mod tests;
