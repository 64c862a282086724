//! TagResource, UntagResource, GetTags.
//!
//! API Gateway ARNs carry no account (`arn:aws:apigateway:{region}::/restapis/{id}`); the
//! path after `::` names the resource. Tags live on the resource itself (the RestApi in its
//! API document, the Stage, the ApiKey, the UsagePlan), so GetRestApi and GetStage show them
//! without a second lookup.

use std::collections::BTreeMap;

use portico_core::AwsError;
use portico_model::apigateway::{
    ApiKey, GetTagsRequest, Stage, TagResourceRequest, Tags, UntagResourceRequest,
};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::Call;
use crate::doc::required;
use crate::persist::{
    KEYS_PARENT, KIND_APIKEY, KIND_STAGE, KIND_USAGEPLAN, PLANS_PARENT, StoredPlan, stage_doc_id,
};

/// A taggable resource named by an ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    RestApi(String),
    Stage(String, String),
    ApiKey(String),
    UsagePlan(String),
}

fn invalid_arn() -> AwsError {
    AwsError::bad_request("Invalid input resource arn")
}

/// Parses `arn:aws:apigateway:{region}::/{path}` for this region.
fn target(arn: &str, region: &str) -> Result<Target, AwsError> {
    let rest = arn
        .strip_prefix("arn:")
        .and_then(|r| r.split_once(":apigateway:"))
        .map(|(_, r)| r)
        .ok_or_else(invalid_arn)?;
    let (arn_region, path) = rest.split_once("::").ok_or_else(invalid_arn)?;
    if arn_region != region {
        return Err(invalid_arn());
    }
    let parts: Vec<&str> = path.split('/').collect();
    let valid = |s: &&str| !s.is_empty();
    match parts.as_slice() {
        ["", "restapis", id] if valid(id) => Ok(Target::RestApi((*id).to_owned())),
        ["", "restapis", id, "stages", name] if valid(id) && valid(name) => {
            Ok(Target::Stage((*id).to_owned(), (*name).to_owned()))
        }
        ["", "apikeys", id] if valid(id) => Ok(Target::ApiKey((*id).to_owned())),
        ["", "usageplans", id] if valid(id) => Ok(Target::UsagePlan((*id).to_owned())),
        _ => Err(invalid_arn()),
    }
}

/// Reads the tags of `target`, lets `change` edit them, and writes them back when asked.
async fn with_tags(
    call: &Call<'_>,
    target: &Target,
    write: bool,
    change: impl FnOnce(&mut BTreeMap<String, String>),
) -> Result<BTreeMap<String, String>, AwsError> {
    let finish = |tags: &mut Option<BTreeMap<String, String>>| {
        let mut current = tags.take().unwrap_or_default();
        change(&mut current);
        *tags = (!current.is_empty()).then(|| current.clone());
        current
    };
    match target {
        Target::RestApi(api_id) => {
            let (mut doc, version) = call.load_api(api_id).await?;
            let tags = finish(&mut doc.api.tags);
            if write {
                call.save_api(&doc, Some(version)).await?;
            }
            Ok(tags)
        }
        Target::Stage(api_id, name) => {
            call.load_api(api_id).await?;
            let key = stage_doc_id(api_id, name);
            let mut stage: Stage = call
                .get_child(KIND_STAGE, &key)
                .await?
                .ok_or_else(|| AwsError::not_found("Invalid Stage identifier specified"))?;
            let tags = finish(&mut stage.tags);
            if write {
                call.put_child(KIND_STAGE, &key, api_id, &stage).await?;
                call.publish_stage(api_id, &stage).await?;
            }
            Ok(tags)
        }
        Target::ApiKey(id) => {
            let mut key: ApiKey = call
                .get_child(KIND_APIKEY, id)
                .await?
                .ok_or_else(|| AwsError::not_found("Invalid API Key identifier specified"))?;
            let tags = finish(&mut key.tags);
            if write {
                call.put_child(KIND_APIKEY, id, KEYS_PARENT, &key).await?;
            }
            Ok(tags)
        }
        Target::UsagePlan(id) => {
            let mut stored: StoredPlan = call
                .get_child(KIND_USAGEPLAN, id)
                .await?
                .ok_or_else(|| AwsError::not_found("Invalid Usage Plan ID specified"))?;
            let tags = finish(&mut stored.plan.tags);
            if write {
                call.put_child(KIND_USAGEPLAN, id, PLANS_PARENT, &stored)
                    .await?;
            }
            Ok(tags)
        }
    }
}

pub(crate) async fn tag_resource(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: TagResourceRequest = decode(input)?;
    let arn = required(req.resource_arn, "tagResourceInput", "resourceArn")?;
    let new_tags = required(req.tags, "tagResourceInput", "tags")?;
    let target = target(&arn, &call.scope.region)?;
    let _guard = call.service.writes.lock().await;
    with_tags(call, &target, true, |tags| tags.extend(new_tags)).await?;
    Ok(OperationOutput::empty(op))
}

pub(crate) async fn untag_resource(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UntagResourceRequest = decode(input)?;
    let arn = required(req.resource_arn, "untagResourceInput", "resourceArn")?;
    let keys = required(req.tag_keys, "untagResourceInput", "tagKeys")?;
    let target = target(&arn, &call.scope.region)?;
    let _guard = call.service.writes.lock().await;
    with_tags(call, &target, true, |tags| {
        tags.retain(|k, _| !keys.contains(k));
    })
    .await?;
    Ok(OperationOutput::empty(op))
}

pub(crate) async fn get_tags(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetTagsRequest = decode(input)?;
    let arn = required(req.resource_arn, "getTagsInput", "resourceArn")?;
    let target = target(&arn, &call.scope.region)?;
    let tags = with_tags(call, &target, false, |_| {}).await?;
    OperationOutput::json(op, &Tags { tags: Some(tags) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_name_their_resource() {
        let t = |arn: &str| target(arn, "us-east-1");
        assert_eq!(
            t("arn:aws:apigateway:us-east-1::/restapis/abc123").unwrap(),
            Target::RestApi("abc123".into())
        );
        assert_eq!(
            t("arn:aws:apigateway:us-east-1::/restapis/abc123/stages/prod").unwrap(),
            Target::Stage("abc123".into(), "prod".into())
        );
        assert_eq!(
            t("arn:aws:apigateway:us-east-1::/apikeys/k1").unwrap(),
            Target::ApiKey("k1".into())
        );
        assert_eq!(
            t("arn:aws:apigateway:us-east-1::/usageplans/p1").unwrap(),
            Target::UsagePlan("p1".into())
        );
        for bad in [
            "arn:aws:apigateway:eu-west-1::/restapis/abc123",
            "arn:aws:lambda:us-east-1::/restapis/abc123",
            "arn:aws:apigateway:us-east-1::/restapis/",
            "arn:aws:apigateway:us-east-1::/restapis/a/resources/b",
            "restapis/abc",
        ] {
            assert_eq!(t(bad).unwrap_err().message, "Invalid input resource arn");
        }
    }
}
