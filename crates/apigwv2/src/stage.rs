//! Stages (CreateStage, GetStage(s), UpdateStage, DeleteStage) and deployments
//! (CreateDeployment, GetDeployment(s), DeleteDeployment). Every change to what a stage
//! serves is published to the data plane.

use portico_core::AwsError;
use portico_model::apigatewayv2::{
    CreateDeploymentRequest, CreateStageRequest, DeleteDeploymentRequest, DeleteStageRequest,
    Deployment, Deployments, GetDeploymentRequest, GetDeploymentsRequest, GetStageRequest,
    GetStagesRequest, RouteSettings, Stage, Stages, UpdateStageRequest,
};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::Call;
use crate::doc::{deployment_not_found, now_iso, paginate, required, stage_not_found};
use crate::persist::{FrozenDeployment, KIND_DEPLOYMENT, KIND_STAGE};

/// The route settings AWS reports on a new stage (WebSocket stages carry logging too).
pub(crate) fn default_route_settings(websocket: bool) -> RouteSettings {
    RouteSettings {
        detailed_metrics_enabled: Some(false),
        data_trace_enabled: websocket.then_some(false),
        logging_level: websocket.then(|| "OFF".to_owned()),
        ..Default::default()
    }
}

/// `$default`, or up to 128 of `[A-Za-z0-9_-]`.
fn check_stage_name(name: &str) -> Result<(), AwsError> {
    let valid = name == "$default"
        || (!name.is_empty()
            && name.len() <= 128
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
    if valid {
        Ok(())
    } else {
        Err(AwsError::bad_request(
            "Stage name only allows a-zA-Z0-9_- and must be at most 128 characters, or be $default",
        ))
    }
}

async fn load_deployment(
    call: &Call<'_>,
    api_id: &str,
    id: &str,
) -> Result<FrozenDeployment, AwsError> {
    call.get_child(KIND_DEPLOYMENT, api_id, id)
        .await?
        .ok_or_else(|| deployment_not_found(id))
}

async fn load_stage(call: &Call<'_>, api_id: &str, name: &str) -> Result<Stage, AwsError> {
    call.get_child(KIND_STAGE, api_id, name)
        .await?
        .ok_or_else(|| stage_not_found(name))
}

pub(crate) async fn create(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: CreateStageRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let name = required(req.stage_name, "StageName")?;
    check_stage_name(&name)?;
    let _guard = call.service.writes.lock().await;
    let (doc, _) = call.load_api(&api_id).await?;
    if call
        .get_child::<Value>(KIND_STAGE, &api_id, &name)
        .await?
        .is_some()
    {
        return Err(AwsError::conflict(format!("Stage {name} already exists")));
    }
    let now = now_iso();
    let mut stage = Stage {
        access_log_settings: req.access_log_settings,
        auto_deploy: Some(req.auto_deploy.unwrap_or(false)),
        client_certificate_id: req.client_certificate_id,
        created_date: Some(now.clone()),
        default_route_settings: Some(
            req.default_route_settings
                .unwrap_or_else(|| default_route_settings(doc.is_websocket())),
        ),
        description: req.description,
        last_updated_date: Some(now),
        route_settings: Some(req.route_settings.unwrap_or_default()),
        stage_name: Some(name.clone()),
        stage_variables: Some(req.stage_variables.unwrap_or_default()),
        tags: Some(req.tags.unwrap_or_default()),
        ..Default::default()
    };
    if stage.auto_deploy == Some(true) {
        let frozen = call.deploy(&doc, None, true).await?;
        call.activate(&api_id, &mut stage, &frozen).await?;
    } else if let Some(deployment_id) = req.deployment_id {
        let frozen = load_deployment(call, &api_id, &deployment_id).await?;
        call.activate(&api_id, &mut stage, &frozen).await?;
    } else {
        call.put_child(KIND_STAGE, &api_id, &name, &stage).await?;
    }
    OperationOutput::json(op, &stage)
}

pub(crate) async fn get(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetStageRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let name = required(req.stage_name, "StageName")?;
    call.load_api(&api_id).await?;
    let stage = load_stage(call, &api_id, &name).await?;
    OperationOutput::json(op, &stage)
}

pub(crate) async fn list(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetStagesRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    call.load_api(&api_id).await?;
    let stages: Vec<Stage> = call.list_children(KIND_STAGE, &api_id).await?;
    let (items, next_token) = paginate(
        stages,
        |s| s.stage_name.as_deref(),
        req.next_token.as_deref(),
        req.max_results.as_deref(),
    )?;
    OperationOutput::json(
        op,
        &Stages {
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
    let req: UpdateStageRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let name = required(req.stage_name, "StageName")?;
    let _guard = call.service.writes.lock().await;
    let (doc, _) = call.load_api(&api_id).await?;
    let mut stage = load_stage(call, &api_id, &name).await?;
    let was_auto = stage.auto_deploy == Some(true);
    if let Some(v) = req.access_log_settings {
        stage.access_log_settings = Some(v);
    }
    if let Some(v) = req.auto_deploy {
        stage.auto_deploy = Some(v);
    }
    if let Some(v) = req.client_certificate_id {
        stage.client_certificate_id = Some(v);
    }
    if let Some(v) = req.default_route_settings {
        stage.default_route_settings = Some(v);
    }
    if let Some(v) = req.description {
        stage.description = Some(v);
    }
    if let Some(v) = req.route_settings {
        stage.route_settings = Some(v);
    }
    if let Some(v) = req.stage_variables {
        stage.stage_variables = Some(v);
    }
    if stage.auto_deploy == Some(true) && !was_auto {
        // Turning auto-deploy on deploys the API as it is now.
        let frozen = call.deploy(&doc, None, true).await?;
        call.activate(&api_id, &mut stage, &frozen).await?;
    } else if let Some(deployment_id) = req.deployment_id {
        let frozen = load_deployment(call, &api_id, &deployment_id).await?;
        call.activate(&api_id, &mut stage, &frozen).await?;
    } else {
        stage.last_updated_date = Some(now_iso());
        call.put_child(KIND_STAGE, &api_id, &name, &stage).await?;
        call.republish(&api_id, &stage).await?;
    }
    OperationOutput::json(op, &stage)
}

pub(crate) async fn delete(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteStageRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let name = required(req.stage_name, "StageName")?;
    let _guard = call.service.writes.lock().await;
    call.load_api(&api_id).await?;
    load_stage(call, &api_id, &name).await?;
    call.delete_child(KIND_STAGE, &api_id, &name).await?;
    call.sink().remove(&call.stage_key(&api_id, &name));
    Ok(OperationOutput::empty(op))
}

pub(crate) async fn create_deployment(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: CreateDeploymentRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let _guard = call.service.writes.lock().await;
    let (doc, _) = call.load_api(&api_id).await?;
    if doc.routes.is_empty() {
        return Err(AwsError::bad_request(
            "At least one route is required before deploying the Api.",
        ));
    }
    let stage = match &req.stage_name {
        Some(name) => Some(load_stage(call, &api_id, name).await?),
        None => None,
    };
    let frozen = call.deploy(&doc, req.description, false).await?;
    if let Some(mut stage) = stage {
        call.activate(&api_id, &mut stage, &frozen).await?;
    }
    OperationOutput::json(op, &frozen.public())
}

pub(crate) async fn get_deployment(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetDeploymentRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let id = required(req.deployment_id, "DeploymentId")?;
    call.load_api(&api_id).await?;
    let frozen = load_deployment(call, &api_id, &id).await?;
    OperationOutput::json(op, &frozen.public())
}

pub(crate) async fn list_deployments(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetDeploymentsRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    call.load_api(&api_id).await?;
    let all: Vec<Deployment> = call
        .list_children::<FrozenDeployment>(KIND_DEPLOYMENT, &api_id)
        .await?
        .iter()
        .map(FrozenDeployment::public)
        .collect();
    let (items, next_token) = paginate(
        all,
        |d| d.deployment_id.as_deref(),
        req.next_token.as_deref(),
        req.max_results.as_deref(),
    )?;
    OperationOutput::json(
        op,
        &Deployments {
            items: Some(items),
            next_token,
        },
    )
}

pub(crate) async fn delete_deployment(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteDeploymentRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let id = required(req.deployment_id, "DeploymentId")?;
    let _guard = call.service.writes.lock().await;
    call.load_api(&api_id).await?;
    load_deployment(call, &api_id, &id).await?;
    let stages: Vec<Stage> = call.list_children(KIND_STAGE, &api_id).await?;
    if stages
        .iter()
        .any(|s| s.deployment_id.as_deref() == Some(id.as_str()))
    {
        return Err(AwsError::bad_request(
            "Active stages pointing to this deployment must be moved or deleted",
        ));
    }
    call.delete_child(KIND_DEPLOYMENT, &api_id, &id).await?;
    Ok(OperationOutput::empty(op))
}
