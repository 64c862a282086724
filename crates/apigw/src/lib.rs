//! The API Gateway control plane (REST APIs, `apigateway` 2015-07-09).
//!
//! Operations arrive decoded by `portico-protocol`; this crate validates them, keeps state in
//! the `Store`, and answers with the generated output shapes. Nothing here serves traffic: a
//! deployment freezes the API's definition, and every stage that points at a deployment is
//! published through [`StageSink`] to the data plane, which compiles it once.
//!
//! State layout: one document per REST API holds the whole definition (the API, its resources,
//! their methods, integrations and responses). API Gateway's objects form a tree that is always
//! edited a node at a time and always read whole when deployed, so one aggregate per API makes
//! every edit atomic (cascading deletes included) with a single versioned write, and freezing a
//! deployment is a copy. Deployments and stages are documents of their own.

mod account;
mod authorizer;
mod authorizer_cache;
mod deployment;
mod doc;
mod keys;
mod keys_import;
mod method;
mod model;
mod model_template;
mod openapi;
mod page;
mod persist;
mod resource;
mod responses;
mod restapi;
mod settings;
mod stage;
mod tags;
mod test_invoke;
mod update;
mod usage;

use std::sync::Arc;

use portico_core::{AwsError, MethodTester, Scope, StageSink, UsageLedger};
use portico_protocol::{OperationInput, OperationOutput};
use portico_store::Store;

pub use persist::publish_all_stages;

/// The API Gateway (v1) control plane.
pub struct ApiGateway {
    store: Arc<dyn Store>,
    sink: Arc<dyn StageSink>,
    /// Serializes this node's writes so read-modify-write of an API document does not race
    /// itself; other nodes are kept honest by the store's version check.
    writes: tokio::sync::Mutex<()>,
    /// Runs TestInvokeMethod and TestInvokeAuthorizer (the data plane); without one those
    /// operations are not available.
    tester: Option<Arc<dyn MethodTester>>,
    /// Reads and adjusts usage-plan quota counts (GetUsage, UpdateUsage); without one
    /// GetUsage lists no usage and UpdateUsage is not available.
    usage: Option<Arc<dyn UsageLedger>>,
}

/// What an operation handler gets besides its input.
pub(crate) struct Call<'a> {
    pub scope: &'a Scope,
    pub service: &'a ApiGateway,
}

impl ApiGateway {
    pub fn new(store: Arc<dyn Store>, sink: Arc<dyn StageSink>) -> Self {
        Self {
            store,
            sink,
            writes: tokio::sync::Mutex::new(()),
            tester: None,
            usage: None,
        }
    }

    /// Answers TestInvokeMethod through `tester`.
    pub fn with_method_tester(mut self, tester: Arc<dyn MethodTester>) -> Self {
        self.tester = Some(tester);
        self
    }

    /// Answers GetUsage and UpdateUsage from `ledger` (the data plane, which counts requests).
    pub fn with_usage_ledger(mut self, ledger: Arc<dyn UsageLedger>) -> Self {
        self.usage = Some(ledger);
        self
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
        // ImportRestApi and PutRestApi carry the definition as a raw (blob) body.
        let body = &input.payload;
        match op.name {
            "CreateRestApi" => restapi::create(&call, op, fields).await,
            "GetRestApi" => restapi::get(&call, op, fields).await,
            "GetRestApis" => restapi::list(&call, op, fields).await,
            "DeleteRestApi" => restapi::delete(&call, op, fields).await,
            "UpdateRestApi" => restapi::update(&call, op, fields).await,
            "GetResources" => resource::list(&call, op, fields).await,
            "GetResource" => resource::get(&call, op, fields).await,
            "CreateResource" => resource::create(&call, op, fields).await,
            "DeleteResource" => resource::delete(&call, op, fields).await,
            "UpdateResource" => resource::update(&call, op, fields).await,
            "PutMethod" => method::put_method(&call, op, fields).await,
            "GetMethod" => method::get_method(&call, op, fields).await,
            "DeleteMethod" => method::delete_method(&call, op, fields).await,
            "PutMethodResponse" => method::put_method_response(&call, op, fields).await,
            "GetMethodResponse" => method::get_method_response(&call, op, fields).await,
            "DeleteMethodResponse" => method::delete_method_response(&call, op, fields).await,
            "PutIntegration" => method::put_integration(&call, op, fields).await,
            "GetIntegration" => method::get_integration(&call, op, fields).await,
            "DeleteIntegration" => method::delete_integration(&call, op, fields).await,
            "PutIntegrationResponse" => method::put_integration_response(&call, op, fields).await,
            "GetIntegrationResponse" => method::get_integration_response(&call, op, fields).await,
            "DeleteIntegrationResponse" => {
                method::delete_integration_response(&call, op, fields).await
            }
            "UpdateMethod" => update::update_method(&call, op, fields).await,
            "UpdateMethodResponse" => update::update_method_response(&call, op, fields).await,
            "UpdateIntegration" => update::update_integration(&call, op, fields).await,
            "UpdateIntegrationResponse" => {
                update::update_integration_response(&call, op, fields).await
            }
            "PutGatewayResponse" => responses::put_gateway_response(&call, op, fields).await,
            "GetGatewayResponse" => responses::get_gateway_response(&call, op, fields).await,
            "GetGatewayResponses" => responses::get_gateway_responses(&call, op, fields).await,
            "UpdateGatewayResponse" => responses::update_gateway_response(&call, op, fields).await,
            "DeleteGatewayResponse" => responses::delete_gateway_response(&call, op, fields).await,
            "CreateRequestValidator" => {
                responses::create_request_validator(&call, op, fields).await
            }
            "GetRequestValidator" => responses::get_request_validator(&call, op, fields).await,
            "GetRequestValidators" => responses::get_request_validators(&call, op, fields).await,
            "UpdateRequestValidator" => {
                responses::update_request_validator(&call, op, fields).await
            }
            "DeleteRequestValidator" => {
                responses::delete_request_validator(&call, op, fields).await
            }
            "CreateAuthorizer" => authorizer::create(&call, op, fields).await,
            "GetAuthorizer" => authorizer::get(&call, op, fields).await,
            "GetAuthorizers" => authorizer::list(&call, op, fields).await,
            "UpdateAuthorizer" => authorizer::update(&call, op, fields).await,
            "DeleteAuthorizer" => authorizer::delete(&call, op, fields).await,
            "CreateModel" => model::create(&call, op, fields).await,
            "GetModel" => model::get(&call, op, fields).await,
            "GetModels" => model::list(&call, op, fields).await,
            "UpdateModel" => model::update(&call, op, fields).await,
            "DeleteModel" => model::delete(&call, op, fields).await,
            "GetModelTemplate" => model_template::get_model_template(&call, op, fields).await,
            "CreateApiKey" => keys::create_api_key(&call, op, fields).await,
            "GetApiKey" => keys::get_api_key(&call, op, fields).await,
            "GetApiKeys" => keys::get_api_keys(&call, op, fields).await,
            "UpdateApiKey" => keys::update_api_key(&call, op, fields).await,
            "DeleteApiKey" => keys::delete_api_key(&call, op, fields).await,
            "CreateUsagePlan" => keys::create_usage_plan(&call, op, fields).await,
            "GetUsagePlan" => keys::get_usage_plan(&call, op, fields).await,
            "GetUsagePlans" => keys::get_usage_plans(&call, op, fields).await,
            "UpdateUsagePlan" => keys::update_usage_plan(&call, op, fields).await,
            "DeleteUsagePlan" => keys::delete_usage_plan(&call, op, fields).await,
            "CreateUsagePlanKey" => keys::create_usage_plan_key(&call, op, fields).await,
            "GetUsagePlanKey" => keys::get_usage_plan_key(&call, op, fields).await,
            "GetUsagePlanKeys" => keys::get_usage_plan_keys(&call, op, fields).await,
            "DeleteUsagePlanKey" => keys::delete_usage_plan_key(&call, op, fields).await,
            "ImportApiKeys" => keys_import::import_api_keys(&call, op, fields, body).await,
            "GetUsage" => usage::get_usage(&call, op, fields).await,
            "UpdateUsage" => usage::update_usage(&call, op, fields).await,
            "UpdateDeployment" => deployment::update(&call, op, fields).await,
            "TagResource" => tags::tag_resource(&call, op, fields).await,
            "UntagResource" => tags::untag_resource(&call, op, fields).await,
            "GetTags" => tags::get_tags(&call, op, fields).await,
            "GetAccount" => account::get_account(&call, op, fields).await,
            "UpdateAccount" => account::update_account(&call, op, fields).await,
            "ImportRestApi" => openapi::import_rest_api(&call, op, fields, body).await,
            "PutRestApi" => openapi::put_rest_api(&call, op, fields, body).await,
            "GetExport" => openapi::get_export(&call, op, fields).await,
            "CreateDeployment" => deployment::create(&call, op, fields).await,
            "GetDeployment" => deployment::get(&call, op, fields).await,
            "GetDeployments" => deployment::list(&call, op, fields).await,
            "DeleteDeployment" => deployment::delete(&call, op, fields).await,
            "CreateStage" => stage::create(&call, op, fields).await,
            "GetStage" => stage::get(&call, op, fields).await,
            "GetStages" => stage::list(&call, op, fields).await,
            "DeleteStage" => stage::delete(&call, op, fields).await,
            "UpdateStage" => stage::update(&call, op, fields).await,
            "FlushStageCache" => stage::flush_cache(&call, op, fields).await,
            "FlushStageAuthorizersCache" => {
                authorizer_cache::flush_stage_authorizers_cache(&call, op, fields).await
            }
            "TestInvokeMethod" => test_invoke::test_invoke_method(&call, op, fields).await,
            "TestInvokeAuthorizer" => test_invoke::test_invoke_authorizer(&call, op, fields).await,
            other => Err(AwsError::new(
                "NotImplementedException",
                501,
                format!("Portico does not implement the API Gateway operation {other} yet"),
            )),
        }
    }
}

/// Seconds since the epoch, as API Gateway timestamps are written.
pub(crate) fn now_epoch_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
