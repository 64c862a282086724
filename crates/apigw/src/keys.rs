//! API keys, usage plans and usage plan keys. They are account-level objects; the data plane
//! learns about them through the stages they apply to: every stage a usage plan names is
//! republished, with the plan's keys and limits, whenever a key or plan changes.

use std::collections::BTreeSet;

use portico_core::{AwsError, ids};
use portico_model::apigateway::{
    ApiKey, ApiKeys, CreateApiKeyRequest, CreateUsagePlanKeyRequest, CreateUsagePlanRequest,
    DeleteApiKeyRequest, DeleteUsagePlanKeyRequest, DeleteUsagePlanRequest, GetApiKeyRequest,
    GetApiKeysRequest, GetUsagePlanKeyRequest, GetUsagePlanKeysRequest, GetUsagePlanRequest,
    QuotaSettings, ThrottleSettings, UpdateApiKeyRequest, UpdateUsagePlanRequest, UsagePlan,
    UsagePlanKey, UsagePlanKeys, UsagePlans,
};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::doc::required;
use crate::persist::{KEYS_PARENT, KIND_APIKEY, KIND_USAGEPLAN, PLANS_PARENT, StoredPlan};
use crate::{Call, now_epoch_seconds};

fn key_not_found() -> AwsError {
    AwsError::not_found("Invalid API Key identifier specified")
}

fn plan_not_found() -> AwsError {
    AwsError::not_found("Invalid Usage Plan ID specified")
}

/// A generated key value: 40 characters of `[A-Za-z0-9]`.
fn key_value() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..40)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn without_value(mut key: ApiKey) -> ApiKey {
    key.value = None;
    key
}

async fn load_key(call: &Call<'_>, id: &str) -> Result<ApiKey, AwsError> {
    call.get_child(KIND_APIKEY, id)
        .await?
        .ok_or_else(key_not_found)
}

async fn load_plan(call: &Call<'_>, id: &str) -> Result<StoredPlan, AwsError> {
    call.get_child(KIND_USAGEPLAN, id)
        .await?
        .ok_or_else(plan_not_found)
}

/// The `(api, stage)` pairs a plan applies to.
fn plan_stages(plan: &UsagePlan) -> BTreeSet<(String, String)> {
    plan.api_stages
        .iter()
        .flatten()
        .filter_map(|s| Some((s.api_id.clone()?, s.stage.clone()?)))
        .collect()
}

/// Republishes stages so the data plane sees the current keys and limits.
async fn republish(call: &Call<'_>, stages: BTreeSet<(String, String)>) -> Result<(), AwsError> {
    for (api_id, stage_name) in stages {
        call.republish_stage(&api_id, &stage_name).await?;
    }
    Ok(())
}

/// Stages of every plan that holds `key_id`.
async fn stages_of_key(
    call: &Call<'_>,
    key_id: &str,
) -> Result<BTreeSet<(String, String)>, AwsError> {
    let plans: Vec<StoredPlan> = call.list_children(KIND_USAGEPLAN, PLANS_PARENT).await?;
    Ok(plans
        .iter()
        .filter(|p| p.keys.iter().any(|k| k == key_id))
        .flat_map(|p| plan_stages(&p.plan))
        .collect())
}

pub(crate) async fn create_api_key(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: CreateApiKeyRequest = decode(input)?;
    let value = match req.value {
        Some(v) if v.len() < 20 => {
            return Err(AwsError::bad_request(
                "API Key value should be at least 20 characters",
            ));
        }
        Some(v) if v.len() > 128 => {
            return Err(AwsError::bad_request(
                "API Key value exceeds maximum size of 128 characters",
            ));
        }
        Some(v) => v,
        None => key_value(),
    };
    let now = now_epoch_seconds();
    let key = ApiKey {
        id: Some(ids::api_id()),
        value: Some(value),
        name: req.name,
        customer_id: req.customer_id,
        description: req.description,
        enabled: Some(req.enabled.unwrap_or(false)),
        created_date: Some(now),
        last_updated_date: Some(now),
        stage_keys: Some(Vec::new()),
        tags: req.tags,
    };
    let id = key.id.clone().unwrap_or_default();
    call.put_child(KIND_APIKEY, &id, KEYS_PARENT, &key).await?;
    OperationOutput::json(op, &key)
}

pub(crate) async fn get_api_key(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetApiKeyRequest = decode(input)?;
    let id = required(req.api_key, "getApiKeyInput", "apiKey")?;
    let key = load_key(call, &id).await?;
    let key = if req.include_value == Some(true) {
        key
    } else {
        without_value(key)
    };
    OperationOutput::json(op, &key)
}

pub(crate) async fn get_api_keys(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetApiKeysRequest = decode(input)?;
    let mut keys: Vec<ApiKey> = call.list_children(KIND_APIKEY, KEYS_PARENT).await?;
    keys.sort_by_key(|k| (k.created_date, k.id.clone()));
    if let Some(prefix) = req.name_query.as_deref() {
        keys.retain(|k| k.name.as_deref().is_some_and(|n| n.starts_with(prefix)));
    }
    if let Some(customer) = req.customer_id.as_deref() {
        keys.retain(|k| k.customer_id.as_deref() == Some(customer));
    }
    if req.include_values != Some(true) {
        keys = keys.into_iter().map(without_value).collect();
    }
    OperationOutput::json(
        op,
        &ApiKeys {
            warnings: None,
            position: None,
            items: Some(keys),
        },
    )
}

pub(crate) async fn update_api_key(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UpdateApiKeyRequest = decode(input)?;
    let id = required(req.api_key, "updateApiKeyInput", "apiKey")?;
    let _guard = call.service.writes.lock().await;
    let mut key = load_key(call, &id).await?;
    for patch in req.patch_operations.unwrap_or_default() {
        let value = patch.value;
        match (
            patch.op.as_deref().unwrap_or(""),
            patch.path.as_deref().unwrap_or(""),
        ) {
            ("replace", "/name") => key.name = value,
            ("replace", "/description") => key.description = value,
            ("replace", "/enabled") => key.enabled = Some(value.as_deref() == Some("true")),
            ("replace", "/customerId") => key.customer_id = value,
            (op_name, path) => {
                return Err(AwsError::bad_request(format!(
                    "Invalid patch path  '{path}' specified for op '{op_name}'. Must be one of: [/description, /enabled, /name, /customerId]"
                )));
            }
        }
    }
    key.last_updated_date = Some(now_epoch_seconds());
    call.put_child(KIND_APIKEY, &id, KEYS_PARENT, &key).await?;
    republish(call, stages_of_key(call, &id).await?).await?;
    OperationOutput::json(op, &without_value(key))
}

pub(crate) async fn delete_api_key(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteApiKeyRequest = decode(input)?;
    let id = required(req.api_key, "deleteApiKeyInput", "apiKey")?;
    let _guard = call.service.writes.lock().await;
    load_key(call, &id).await?;
    let stages = stages_of_key(call, &id).await?;
    let plans: Vec<StoredPlan> = call.list_children(KIND_USAGEPLAN, PLANS_PARENT).await?;
    for mut plan in plans {
        if plan.keys.contains(&id) {
            plan.keys.retain(|k| *k != id);
            let plan_id = plan.plan.id.clone().unwrap_or_default();
            call.put_child(KIND_USAGEPLAN, &plan_id, PLANS_PARENT, &plan)
                .await?;
        }
    }
    call.delete_doc(KIND_APIKEY, &id).await?;
    republish(call, stages).await?;
    Ok(OperationOutput::empty(op))
}

fn check_limits(
    throttle: Option<&ThrottleSettings>,
    quota: Option<&QuotaSettings>,
) -> Result<(), AwsError> {
    if let Some(q) = quota {
        if !matches!(q.period.as_deref(), Some("DAY" | "WEEK" | "MONTH")) {
            return Err(AwsError::bad_request(
                "Invalid quota period specified. Valid options are DAY,WEEK,MONTH",
            ));
        }
        if q.limit.is_none_or(|l| l < 0) {
            return Err(AwsError::bad_request(
                "Quota limit should be a positive integer",
            ));
        }
    }
    if let Some(t) = throttle
        && (t.rate_limit.is_some_and(|r| r < 0.0) || t.burst_limit.is_some_and(|b| b < 0))
    {
        return Err(AwsError::bad_request(
            "Throttle limits should be non-negative",
        ));
    }
    Ok(())
}

pub(crate) async fn create_usage_plan(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: CreateUsagePlanRequest = decode(input)?;
    let name = required(req.name, "createUsagePlanInput", "name")?;
    check_limits(req.throttle.as_ref(), req.quota.as_ref())?;
    let plan = UsagePlan {
        id: Some(ids::short_id()),
        name: Some(name),
        description: req.description,
        api_stages: Some(req.api_stages.unwrap_or_default()),
        throttle: req.throttle,
        quota: req.quota,
        product_code: None,
        tags: req.tags,
    };
    let id = plan.id.clone().unwrap_or_default();
    let stored = StoredPlan {
        plan: plan.clone(),
        keys: Vec::new(),
    };
    call.put_child(KIND_USAGEPLAN, &id, PLANS_PARENT, &stored)
        .await?;
    OperationOutput::json(op, &plan)
}

pub(crate) async fn get_usage_plan(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetUsagePlanRequest = decode(input)?;
    let id = required(req.usage_plan_id, "getUsagePlanInput", "usagePlanId")?;
    OperationOutput::json(op, &load_plan(call, &id).await?.plan)
}

pub(crate) async fn get_usage_plans(
    call: &Call<'_>,
    op: &'static Operation,
    _input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let plans: Vec<StoredPlan> = call.list_children(KIND_USAGEPLAN, PLANS_PARENT).await?;
    OperationOutput::json(
        op,
        &UsagePlans {
            position: None,
            items: Some(plans.into_iter().map(|p| p.plan).collect()),
        },
    )
}

fn number<T: std::str::FromStr>(value: Option<&str>) -> Result<T, AwsError> {
    value
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| AwsError::bad_request("Invalid patch value specified"))
}

pub(crate) async fn update_usage_plan(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UpdateUsagePlanRequest = decode(input)?;
    let id = required(req.usage_plan_id, "updateUsagePlanInput", "usagePlanId")?;
    let _guard = call.service.writes.lock().await;
    let mut stored = load_plan(call, &id).await?;
    let mut stages = plan_stages(&stored.plan);
    let plan = &mut stored.plan;
    for patch in req.patch_operations.unwrap_or_default() {
        let value = patch.value.as_deref();
        let path = patch.path.as_deref().unwrap_or("");
        match (patch.op.as_deref().unwrap_or(""), path) {
            ("replace", "/name") => plan.name = value.map(str::to_owned),
            ("replace", "/description") => plan.description = value.map(str::to_owned),
            ("replace", "/throttle/rateLimit") => {
                plan.throttle
                    .get_or_insert_with(Default::default)
                    .rate_limit = Some(number(value)?)
            }
            ("replace", "/throttle/burstLimit") => {
                plan.throttle
                    .get_or_insert_with(Default::default)
                    .burst_limit = Some(number(value)?)
            }
            ("remove", "/throttle") => plan.throttle = None,
            ("replace", "/quota/limit") => {
                plan.quota.get_or_insert_with(Default::default).limit = Some(number(value)?)
            }
            ("replace", "/quota/offset") => {
                plan.quota.get_or_insert_with(Default::default).offset = Some(number(value)?)
            }
            ("replace", "/quota/period") => {
                plan.quota.get_or_insert_with(Default::default).period = value.map(str::to_owned)
            }
            ("remove", "/quota") => plan.quota = None,
            (op_name @ ("add" | "remove"), "/apiStages") => {
                let (api_id, stage) = value
                    .and_then(|v| v.split_once(':'))
                    .ok_or_else(|| AwsError::bad_request("Invalid API Stage specified"))?;
                let list = plan.api_stages.get_or_insert_with(Vec::new);
                let present = list.iter().position(|s| {
                    s.api_id.as_deref() == Some(api_id) && s.stage.as_deref() == Some(stage)
                });
                match (op_name, present) {
                    ("add", None) => list.push(portico_model::apigateway::ApiStage {
                        api_id: Some(api_id.to_owned()),
                        stage: Some(stage.to_owned()),
                        throttle: None,
                    }),
                    ("remove", Some(i)) => {
                        list.remove(i);
                    }
                    ("remove", None) => {
                        return Err(AwsError::not_found(format!(
                            "Invalid API Stage {{api: {api_id}, stage: {stage}}} specified for usageplan {id}"
                        )));
                    }
                    _ => {}
                }
            }
            _ => {
                return Err(AwsError::bad_request(format!("Invalid patch path {path}")));
            }
        }
    }
    check_limits(plan.throttle.as_ref(), plan.quota.as_ref())?;
    stages.extend(plan_stages(plan));
    let out = plan.clone();
    call.put_child(KIND_USAGEPLAN, &id, PLANS_PARENT, &stored)
        .await?;
    republish(call, stages).await?;
    OperationOutput::json(op, &out)
}

pub(crate) async fn delete_usage_plan(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteUsagePlanRequest = decode(input)?;
    let id = required(req.usage_plan_id, "deleteUsagePlanInput", "usagePlanId")?;
    let _guard = call.service.writes.lock().await;
    let stored = load_plan(call, &id).await?;
    call.delete_doc(KIND_USAGEPLAN, &id).await?;
    republish(call, plan_stages(&stored.plan)).await?;
    Ok(OperationOutput::empty(op))
}

fn plan_key(key: &ApiKey) -> UsagePlanKey {
    UsagePlanKey {
        id: key.id.clone(),
        r#type: Some("API_KEY".to_owned()),
        value: key.value.clone(),
        name: key.name.clone(),
    }
}

pub(crate) async fn create_usage_plan_key(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: CreateUsagePlanKeyRequest = decode(input)?;
    let input_name = "createUsagePlanKeyInput";
    let plan_id = required(req.usage_plan_id, input_name, "usagePlanId")?;
    let key_id = required(req.key_id, input_name, "keyId")?;
    let key_type = required(req.key_type, input_name, "keyType")?;
    if key_type != "API_KEY" {
        return Err(AwsError::bad_request(format!(
            "Invalid key type specified: {key_type}"
        )));
    }
    let _guard = call.service.writes.lock().await;
    let mut stored = load_plan(call, &plan_id).await?;
    let key = load_key(call, &key_id).await?;
    if stored.keys.contains(&key_id) {
        return Err(AwsError::conflict("Usage Plan Key already exists"));
    }
    stored.keys.push(key_id);
    call.put_child(KIND_USAGEPLAN, &plan_id, PLANS_PARENT, &stored)
        .await?;
    republish(call, plan_stages(&stored.plan)).await?;
    OperationOutput::json(op, &plan_key(&key))
}

pub(crate) async fn get_usage_plan_key(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetUsagePlanKeyRequest = decode(input)?;
    let plan_id = required(req.usage_plan_id, "getUsagePlanKeyInput", "usagePlanId")?;
    let key_id = required(req.key_id, "getUsagePlanKeyInput", "keyId")?;
    let stored = load_plan(call, &plan_id).await?;
    if !stored.keys.contains(&key_id) {
        return Err(AwsError::not_found(
            "Invalid Usage Plan Key identifier specified",
        ));
    }
    OperationOutput::json(op, &plan_key(&load_key(call, &key_id).await?))
}

pub(crate) async fn get_usage_plan_keys(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetUsagePlanKeysRequest = decode(input)?;
    let plan_id = required(req.usage_plan_id, "getUsagePlanKeysInput", "usagePlanId")?;
    let stored = load_plan(call, &plan_id).await?;
    let mut items = Vec::new();
    for key_id in &stored.keys {
        if let Some(key) = call.get_child::<ApiKey>(KIND_APIKEY, key_id).await? {
            items.push(plan_key(&key));
        }
    }
    OperationOutput::json(
        op,
        &UsagePlanKeys {
            position: None,
            items: Some(items),
        },
    )
}

pub(crate) async fn delete_usage_plan_key(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteUsagePlanKeyRequest = decode(input)?;
    let plan_id = required(req.usage_plan_id, "deleteUsagePlanKeyInput", "usagePlanId")?;
    let key_id = required(req.key_id, "deleteUsagePlanKeyInput", "keyId")?;
    let _guard = call.service.writes.lock().await;
    let mut stored = load_plan(call, &plan_id).await?;
    if !stored.keys.contains(&key_id) {
        return Err(AwsError::not_found(
            "Invalid Usage Plan Key identifier specified",
        ));
    }
    stored.keys.retain(|k| *k != key_id);
    call.put_child(KIND_USAGEPLAN, &plan_id, PLANS_PARENT, &stored)
        .await?;
    republish(call, plan_stages(&stored.plan)).await?;
    Ok(OperationOutput::empty(op))
}

/// What the data plane receives, inside the published stage, for one usage plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PublishedPlan {
    pub id: String,
    pub throttle: Option<ThrottleSettings>,
    pub quota: Option<QuotaSettings>,
    /// Per-method throttles of this stage, keyed `{resourcePath}/{METHOD}`.
    #[serde(rename = "methodThrottle")]
    pub method_throttle: std::collections::BTreeMap<String, ThrottleSettings>,
    pub keys: Vec<PublishedKey>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PublishedKey {
    pub id: String,
    pub value: String,
    pub enabled: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_values_and_limits() {
        let v = key_value();
        assert_eq!(v.len(), 40);
        assert!(v.bytes().all(|b| b.is_ascii_alphanumeric()));
        let bad = QuotaSettings {
            limit: Some(1),
            offset: None,
            period: Some("YEAR".into()),
        };
        assert_eq!(
            check_limits(None, Some(&bad)).unwrap_err().message,
            "Invalid quota period specified. Valid options are DAY,WEEK,MONTH"
        );
    }
}
