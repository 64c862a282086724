//! CreateStage, GetStage(s), UpdateStage, DeleteStage. Every change that alters what a stage
//! serves is published to the data plane.

use std::collections::BTreeMap;

use portico_core::AwsError;
use portico_model::apigateway::{
    CreateStageRequest, DeleteStageRequest, FlushStageCacheRequest, GetStageRequest,
    GetStagesRequest, Stage, Stages, UpdateStageRequest,
};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::doc::required;
use crate::persist::{KIND_DEPLOYMENT, KIND_STAGE, deployment_doc_id, stage_doc_id};
use crate::restapi::unescape_pointer;
use crate::{Call, now_epoch_seconds};

/// `cacheClusterStatus`: the cache is usable at once (AWS passes through
/// `CREATE_IN_PROGRESS` for minutes first).
fn cache_status(enabled: bool) -> String {
    if enabled {
        "AVAILABLE"
    } else {
        "NOT_AVAILABLE"
    }
    .to_owned()
}

fn stage_not_found() -> AwsError {
    AwsError::not_found("Invalid Stage identifier specified")
}

/// Stage names are `[A-Za-z0-9_-]`, at most 128 characters.
pub(crate) fn check_stage_name(name: &str) -> Result<(), AwsError> {
    let valid = !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(AwsError::bad_request(
            "Stage name only allows a-zA-Z0-9_- and must be at most 128 characters",
        ))
    }
}

/// A new stage with AWS's defaults.
pub(crate) fn new_stage(name: &str, deployment_id: &str, description: Option<String>) -> Stage {
    let now = now_epoch_seconds();
    Stage {
        deployment_id: Some(deployment_id.to_owned()),
        stage_name: Some(name.to_owned()),
        description,
        cache_cluster_enabled: Some(false),
        cache_cluster_status: Some("NOT_AVAILABLE".to_owned()),
        method_settings: Some(BTreeMap::new()),
        tracing_enabled: Some(false),
        created_date: Some(now),
        last_updated_date: Some(now),
        ..Default::default()
    }
}

async fn check_deployment_exists(call: &Call<'_>, api_id: &str, id: &str) -> Result<(), AwsError> {
    let found: Option<Value> = call
        .get_child(KIND_DEPLOYMENT, &deployment_doc_id(api_id, id))
        .await?;
    found
        .map(|_| ())
        .ok_or_else(|| AwsError::bad_request("Deployment id does not exist"))
}

pub(crate) async fn create(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: CreateStageRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "createStageInput", "restApiId")?;
    let name = required(req.stage_name, "createStageInput", "stageName")?;
    let deployment_id = required(req.deployment_id, "createStageInput", "deploymentId")?;
    check_stage_name(&name)?;
    let _guard = call.service.writes.lock().await;
    call.load_api(&api_id).await?;
    check_deployment_exists(call, &api_id, &deployment_id).await?;
    let key = stage_doc_id(&api_id, &name);
    if call.get_child::<Value>(KIND_STAGE, &key).await?.is_some() {
        return Err(AwsError::conflict("Stage already exists"));
    }
    let mut stage = new_stage(&name, &deployment_id, req.description);
    stage.variables = req.variables;
    stage.tags = req.tags;
    stage.documentation_version = req.documentation_version;
    if let Some(enabled) = req.cache_cluster_enabled {
        stage.cache_cluster_enabled = Some(enabled);
        stage.cache_cluster_status = Some(cache_status(enabled));
    }
    stage.cache_cluster_size = req.cache_cluster_size;
    if let Some(tracing) = req.tracing_enabled {
        stage.tracing_enabled = Some(tracing);
    }
    call.put_child(KIND_STAGE, &key, &api_id, &stage).await?;
    call.publish_stage(&api_id, &stage).await?;
    OperationOutput::json(op, &stage)
}

pub(crate) async fn get(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetStageRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "getStageInput", "restApiId")?;
    let name = required(req.stage_name, "getStageInput", "stageName")?;
    call.load_api(&api_id).await?;
    let stage: Stage = call
        .get_child(KIND_STAGE, &stage_doc_id(&api_id, &name))
        .await?
        .ok_or_else(stage_not_found)?;
    OperationOutput::json(op, &stage)
}

pub(crate) async fn list(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetStagesRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "getStagesInput", "restApiId")?;
    call.load_api(&api_id).await?;
    let mut stages: Vec<Stage> = call.list_children(KIND_STAGE, &api_id).await?;
    if let Some(deployment_id) = req.deployment_id {
        stages.retain(|s| s.deployment_id.as_deref() == Some(deployment_id.as_str()));
    }
    OperationOutput::json(op, &Stages { item: Some(stages) })
}

pub(crate) async fn update(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UpdateStageRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "updateStageInput", "restApiId")?;
    let name = required(req.stage_name, "updateStageInput", "stageName")?;
    let _guard = call.service.writes.lock().await;
    call.load_api(&api_id).await?;
    let key = stage_doc_id(&api_id, &name);
    let mut stage: Stage = call
        .get_child(KIND_STAGE, &key)
        .await?
        .ok_or_else(stage_not_found)?;
    for patch in req.patch_operations.unwrap_or_default() {
        let value = patch.value.unwrap_or_default();
        let path = patch.path.unwrap_or_default();
        let op_name = patch.op.as_deref().unwrap_or("");
        if crate::settings::apply(&mut stage, op_name, &path, &value)? {
            continue;
        }
        match (op_name, path.as_str()) {
            ("replace", "/deploymentId") => {
                check_deployment_exists(call, &api_id, &value).await?;
                stage.deployment_id = Some(value);
            }
            ("replace", "/description") => stage.description = Some(value),
            ("replace", "/tracingEnabled") => stage.tracing_enabled = Some(value == "true"),
            ("replace", "/cacheClusterEnabled") => {
                stage.cache_cluster_enabled = Some(value == "true");
                stage.cache_cluster_status = Some(cache_status(value == "true"));
            }
            ("replace", "/cacheClusterSize") => stage.cache_cluster_size = Some(value),
            ("replace" | "add", p) if p.starts_with("/variables/") => {
                stage
                    .variables
                    .get_or_insert_with(BTreeMap::new)
                    .insert(unescape_pointer(&p["/variables/".len()..]), value);
            }
            ("remove", p) if p.starts_with("/variables/") => {
                if let Some(vars) = stage.variables.as_mut() {
                    vars.remove(&unescape_pointer(&p["/variables/".len()..]));
                }
            }
            ("add" | "remove" | "replace" | "move" | "copy" | "test", p) => {
                return Err(AwsError::bad_request(format!("Invalid patch path {p}")));
            }
            _ => {
                return Err(AwsError::bad_request(
                    "Invalid patch operation specified. Must be 'add'|'remove'|'replace'",
                ));
            }
        }
    }
    stage.last_updated_date = Some(now_epoch_seconds());
    call.put_child(KIND_STAGE, &key, &api_id, &stage).await?;
    call.publish_stage(&api_id, &stage).await?;
    OperationOutput::json(op, &stage)
}

pub(crate) async fn delete(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteStageRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "deleteStageInput", "restApiId")?;
    let name = required(req.stage_name, "deleteStageInput", "stageName")?;
    let _guard = call.service.writes.lock().await;
    call.load_api(&api_id).await?;
    let key = stage_doc_id(&api_id, &name);
    if call.get_child::<Value>(KIND_STAGE, &key).await?.is_none() {
        return Err(stage_not_found());
    }
    call.delete_doc(KIND_STAGE, &key).await?;
    call.sink().remove(&call.stage_key(&api_id, &name));
    Ok(OperationOutput::empty(op))
}

/// FlushStageCache: the stage is compiled afresh, which starts it with an empty cache.
pub(crate) async fn flush_cache(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: FlushStageCacheRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "flushStageCacheInput", "restApiId")?;
    let name = required(req.stage_name, "flushStageCacheInput", "stageName")?;
    call.load_api(&api_id).await?;
    let stage: Stage = call
        .get_child(KIND_STAGE, &stage_doc_id(&api_id, &name))
        .await?
        .ok_or_else(stage_not_found)?;
    call.publish_stage(&api_id, &stage).await?;
    Ok(OperationOutput::empty(op))
}
