//! GetAccount, UpdateAccount: the per-account, per-region API Gateway settings.
//!
//! Until updated, the account answers AWS's defaults (10 000 requests per second steady,
//! 5 000 burst, usage plans enabled). Only `cloudwatchRoleArn` and `features` are writable,
//! as in AWS; the throttle is a service quota there, not a setting.

use portico_core::AwsError;
use portico_model::apigateway::{Account, ThrottleSettings, UpdateAccountRequest};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::Call;

const KIND_ACCOUNT: &str = "apigw.account";
const ACCOUNT_ID: &str = "account";
/// Account-level documents have no API; this parent groups them.
const ACCOUNT_PARENT: &str = "_account";

/// The account as AWS shows it before anything was set.
fn default_account() -> Account {
    Account {
        cloudwatch_role_arn: None,
        throttle_settings: Some(ThrottleSettings {
            burst_limit: Some(5000),
            rate_limit: Some(10000.0),
        }),
        features: Some(vec!["UsagePlans".to_owned()]),
        api_key_version: Some("4".to_owned()),
    }
}

async fn load(call: &Call<'_>) -> Result<Account, AwsError> {
    Ok(call
        .get_child(KIND_ACCOUNT, ACCOUNT_ID)
        .await?
        .unwrap_or_else(default_account))
}

pub(crate) async fn get_account(
    call: &Call<'_>,
    op: &'static Operation,
    _input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    OperationOutput::json(op, &load(call).await?)
}

pub(crate) async fn update_account(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UpdateAccountRequest = decode(input)?;
    let _guard = call.service.writes.lock().await;
    let mut account = load(call).await?;
    for patch in req.patch_operations.unwrap_or_default() {
        let path = patch.path.as_deref().unwrap_or("");
        let value = patch.value.filter(|v| !v.is_empty());
        match (patch.op.as_deref().unwrap_or(""), path) {
            ("replace", "/cloudwatchRoleArn") => account.cloudwatch_role_arn = value,
            ("add", "/features") => {
                let feature = value.ok_or_else(|| {
                    AwsError::bad_request("Invalid feature specified: a value is required")
                })?;
                let features = account.features.get_or_insert_with(Vec::new);
                if !features.contains(&feature) {
                    features.push(feature);
                }
            }
            ("remove", "/features") => {
                if let (Some(features), Some(feature)) = (account.features.as_mut(), value) {
                    features.retain(|f| *f != feature);
                }
            }
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
    call.put_child(KIND_ACCOUNT, ACCOUNT_ID, ACCOUNT_PARENT, &account)
        .await?;
    OperationOutput::json(op, &account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_aws_defaults() {
        let shown = serde_json::to_value(default_account()).unwrap();
        assert_eq!(
            shown,
            serde_json::json!({
                "throttleSettings": {"burstLimit": 5000, "rateLimit": 10000.0},
                "features": ["UsagePlans"],
                "apiKeyVersion": "4"
            })
        );
    }
}
