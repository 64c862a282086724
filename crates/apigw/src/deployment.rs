//! CreateDeployment, GetDeployment(s), DeleteDeployment.
//!
//! A deployment freezes the API's definition: the stored document is the API and its whole
//! resource tree at that moment, so later edits never reach a stage until deployed again.

use std::collections::BTreeMap;

use portico_core::{AwsError, ids};
use portico_model::apigateway::{
    Authorizer, CreateDeploymentRequest, DeleteDeploymentRequest, Deployment, Deployments,
    GatewayResponse, GetDeploymentRequest, GetDeploymentsRequest, RequestValidator, Resource,
    RestApi, Stage, UpdateDeploymentRequest,
};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::doc::{ApiDoc, required};
use crate::persist::{KIND_DEPLOYMENT, KIND_STAGE, deployment_doc_id};
use crate::stage::{check_stage_name, new_stage};
use crate::{Call, now_epoch_seconds};

/// A deployment as stored: its public fields plus the frozen definition. This is also the
/// `deployment` the data plane receives (see `portico_core::stage::DeployedStage`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FrozenDeployment {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "createdDate")]
    pub created_date: i64,
    pub api: RestApi,
    pub resources: Vec<Resource>,
    /// What the data plane answers its own errors with, frozen like the rest.
    #[serde(
        rename = "gatewayResponses",
        default,
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub gateway_responses: BTreeMap<String, GatewayResponse>,
    #[serde(
        rename = "requestValidators",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub request_validators: Vec<RequestValidator>,
    /// The models request validation checks bodies against.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<portico_model::apigateway::Model>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorizers: Vec<Authorizer>,
}

impl FrozenDeployment {
    fn public(&self) -> Deployment {
        Deployment {
            id: Some(self.id.clone()),
            description: self.description.clone(),
            created_date: Some(self.created_date),
            api_summary: None,
        }
    }
}

fn deployment_not_found() -> AwsError {
    AwsError::not_found("Invalid Deployment identifier specified")
}

/// AWS refuses to deploy an API with no methods, or with a method that has no integration.
fn check_deployable(doc: &ApiDoc) -> Result<(), AwsError> {
    let mut any = false;
    for resource in &doc.resources {
        for method in resource.resource_methods.iter().flat_map(|m| m.values()) {
            any = true;
            if method.method_integration.is_none() {
                return Err(AwsError::bad_request("No integration defined for method"));
            }
        }
    }
    if any {
        Ok(())
    } else {
        Err(AwsError::bad_request(
            "The REST API doesn't contain any methods",
        ))
    }
}

pub(crate) async fn create(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: CreateDeploymentRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "createDeploymentInput", "restApiId")?;
    if let Some(name) = req.stage_name.as_deref() {
        check_stage_name(name)?;
    }
    let _guard = call.service.writes.lock().await;
    let (doc, _) = call.load_api(&api_id).await?;
    check_deployable(&doc)?;
    let frozen = FrozenDeployment {
        id: ids::short_id(),
        description: req.description,
        created_date: now_epoch_seconds(),
        api: doc.api,
        resources: doc.resources,
        gateway_responses: doc.gateway_responses,
        request_validators: doc.request_validators,
        models: doc.models,
        authorizers: doc.authorizers,
    };
    call.put_child(
        KIND_DEPLOYMENT,
        &deployment_doc_id(&api_id, &frozen.id),
        &api_id,
        &frozen,
    )
    .await?;
    if let Some(stage_name) = req.stage_name {
        let key = crate::persist::stage_doc_id(&api_id, &stage_name);
        let existing: Option<Stage> = call.get_child(KIND_STAGE, &key).await?;
        let stage = match existing {
            Some(mut stage) => {
                stage.deployment_id = Some(frozen.id.clone());
                if let Some(variables) = req.variables {
                    stage.variables = Some(variables);
                }
                if let Some(enabled) = req.cache_cluster_enabled {
                    stage.cache_cluster_enabled = Some(enabled);
                }
                if let Some(tracing) = req.tracing_enabled {
                    stage.tracing_enabled = Some(tracing);
                }
                stage.last_updated_date = Some(now_epoch_seconds());
                stage
            }
            None => {
                let mut stage = new_stage(&stage_name, &frozen.id, req.stage_description);
                stage.variables = req.variables;
                if let Some(enabled) = req.cache_cluster_enabled {
                    stage.cache_cluster_enabled = Some(enabled);
                }
                if let Some(tracing) = req.tracing_enabled {
                    stage.tracing_enabled = Some(tracing);
                }
                stage
            }
        };
        call.put_child(KIND_STAGE, &key, &api_id, &stage).await?;
        call.publish_stage(&api_id, &stage).await?;
    }
    OperationOutput::json(op, &frozen.public())
}

pub(crate) async fn get(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetDeploymentRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "getDeploymentInput", "restApiId")?;
    let id = required(req.deployment_id, "getDeploymentInput", "deploymentId")?;
    call.load_api(&api_id).await?;
    let frozen: FrozenDeployment = call
        .get_child(KIND_DEPLOYMENT, &deployment_doc_id(&api_id, &id))
        .await?
        .ok_or_else(deployment_not_found)?;
    OperationOutput::json(op, &frozen.public())
}

pub(crate) async fn list(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetDeploymentsRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "getDeploymentsInput", "restApiId")?;
    call.load_api(&api_id).await?;
    let all: Vec<Deployment> = call
        .list_children::<FrozenDeployment>(KIND_DEPLOYMENT, &api_id)
        .await?
        .iter()
        .map(FrozenDeployment::public)
        .collect();
    let (items, position) =
        crate::page::paginate(all, |d| d.id.as_deref(), req.position.as_deref(), req.limit)?;
    OperationOutput::json(
        op,
        &Deployments {
            items: Some(items),
            position,
        },
    )
}

pub(crate) async fn delete(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteDeploymentRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "deleteDeploymentInput", "restApiId")?;
    let id = required(req.deployment_id, "deleteDeploymentInput", "deploymentId")?;
    let _guard = call.service.writes.lock().await;
    call.load_api(&api_id).await?;
    let doc_id = deployment_doc_id(&api_id, &id);
    let frozen: Option<FrozenDeployment> = call.get_child(KIND_DEPLOYMENT, &doc_id).await?;
    frozen.ok_or_else(deployment_not_found)?;
    let stages: Vec<Stage> = call.list_children(KIND_STAGE, &api_id).await?;
    if stages
        .iter()
        .any(|s| s.deployment_id.as_deref() == Some(id.as_str()))
    {
        return Err(AwsError::bad_request(
            "Active stages pointing to this deployment must be moved or deleted",
        ));
    }
    call.delete_doc(KIND_DEPLOYMENT, &doc_id).await?;
    Ok(OperationOutput::empty(op))
}

pub(crate) async fn update(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UpdateDeploymentRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "updateDeploymentInput", "restApiId")?;
    let id = required(req.deployment_id, "updateDeploymentInput", "deploymentId")?;
    let _guard = call.service.writes.lock().await;
    call.load_api(&api_id).await?;
    let doc_id = deployment_doc_id(&api_id, &id);
    let mut frozen: FrozenDeployment = call
        .get_child(KIND_DEPLOYMENT, &doc_id)
        .await?
        .ok_or_else(deployment_not_found)?;
    // Only the description is the deployment's own; the frozen definition never changes.
    for patch in req.patch_operations.unwrap_or_default() {
        let path = patch.path.as_deref().unwrap_or("");
        match (patch.op.as_deref().unwrap_or(""), path) {
            ("replace", "/description") => frozen.description = patch.value,
            ("add" | "remove" | "replace" | "move" | "copy" | "test", _) => {
                return Err(AwsError::bad_request(format!("Invalid patch path {path}")));
            }
            _ => {
                return Err(AwsError::bad_request(
                    "Invalid patch operation specified. Must be 'add'|'remove'|'replace'",
                ));
            }
        }
    }
    call.put_child(KIND_DEPLOYMENT, &doc_id, &api_id, &frozen)
        .await?;
    OperationOutput::json(op, &frozen.public())
}
