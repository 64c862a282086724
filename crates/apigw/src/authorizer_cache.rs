//! `FlushStageAuthorizersCache`: forget every Lambda authorizer answer a stage has cached.
//!
//! Cached answers live in the data plane's compiled stage, one cache per authorizer, created
//! empty with each compilation; republishing the stage is how the control plane reaches them,
//! as `FlushStageCache` does for the response cache. The recompiled stage also starts with an
//! empty response cache (a later request reaches the integration once more); usage-plan quota
//! counters are kept across the recompile.

use portico_core::AwsError;
use portico_model::apigateway::{FlushStageAuthorizersCacheRequest, Stage};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::Call;
use crate::doc::required;
use crate::persist::{KIND_STAGE, stage_doc_id};

pub(crate) async fn flush_stage_authorizers_cache(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: FlushStageAuthorizersCacheRequest = decode(input)?;
    let input_name = "flushStageAuthorizersCacheInput";
    let api_id = required(req.rest_api_id, input_name, "restApiId")?;
    let name = required(req.stage_name, input_name, "stageName")?;
    call.load_api(&api_id).await?;
    let stage: Stage = call
        .get_child(KIND_STAGE, &stage_doc_id(&api_id, &name))
        .await?
        .ok_or_else(|| AwsError::not_found("Invalid Stage identifier specified"))?;
    call.publish_stage(&api_id, &stage).await?;
    Ok(OperationOutput::empty(op))
}
