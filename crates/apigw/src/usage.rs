//! Usage-plan usage: `GetUsage` (requests used and quota left per key and day) and
//! `UpdateUsage` (`replace /remaining`, a temporary extension of a key's quota).
//!
//! Requests are counted by the data plane; this module reads and adjusts the counts through
//! [`portico_core::UsageLedger`]. A plan without a quota counts nothing, so its usage is
//! empty, and a key no stage of the plan serves yet is left out of the answer.

use std::collections::BTreeMap;

use portico_core::{AwsError, QuotaPeriod, QuotaSpec};
use portico_model::apigateway::{GetUsageRequest, UpdateUsageRequest, Usage, UsagePlan};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::Call;
use crate::doc::required;
use crate::persist::{KIND_USAGEPLAN, StoredPlan};

/// The widest date range one `GetUsage` lists (one entry per day per key): Portico's own
/// bound, ten years, so a mistyped year cannot ask for millions of days.
const MAX_DAYS: i64 = 3660;

/// Days since the epoch of a `YYYY-MM-DD` date.
fn epoch_day(date: &str, field: &str) -> Result<i64, AwsError> {
    let invalid = || AwsError::bad_request(format!("Invalid {field} specified: {date}"));
    let mut parts = date.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid());
    };
    let digits = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(y, 4) && digits(m, 2) && digits(d, 2)) {
        return Err(invalid());
    }
    let (y, m, d) = (
        y.parse::<i32>().map_err(|_| invalid())?,
        m.parse::<u8>().map_err(|_| invalid())?,
        d.parse::<u8>().map_err(|_| invalid())?,
    );
    let month = time::Month::try_from(m).map_err(|_| invalid())?;
    let date = time::Date::from_calendar_date(y, month, d).map_err(|_| invalid())?;
    // 2440588 is the Julian day number of 1970-01-01.
    Ok(i64::from(date.to_julian_day()) - 2_440_588)
}

fn today() -> (i64, String) {
    let now = time::OffsetDateTime::now_utc();
    let date = now.date();
    (
        now.unix_timestamp().div_euclid(86_400),
        format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        ),
    )
}

/// The plan's quota as the data plane counts it; `None` when the plan has none.
fn quota_of(plan: &UsagePlan) -> Option<QuotaSpec> {
    let quota = plan.quota.as_ref()?;
    Some(QuotaSpec {
        limit: i64::from(quota.limit?),
        offset: i64::from(quota.offset.unwrap_or(0)),
        period: QuotaPeriod::parse(quota.period.as_deref()?)?,
    })
}

async fn load_plan(call: &Call<'_>, id: &str) -> Result<StoredPlan, AwsError> {
    call.get_child(KIND_USAGEPLAN, id)
        .await?
        .ok_or_else(|| AwsError::not_found("Invalid Usage Plan ID specified"))
}

/// `[[used, remaining], ...]` per key, for the keys the ledger has counted.
fn usage_items(
    call: &Call<'_>,
    plan_id: &str,
    quota: Option<&QuotaSpec>,
    keys: &[String],
    first: i64,
    last: i64,
) -> BTreeMap<String, Vec<Vec<i64>>> {
    let (Some(ledger), Some(quota)) = (call.service.usage.as_ref(), quota) else {
        return BTreeMap::new();
    };
    keys.iter()
        .filter_map(|key| {
            let days = ledger.daily_usage(plan_id, key, quota, first, last)?;
            let pairs = days.iter().map(|d| vec![d.used, d.remaining]).collect();
            Some((key.clone(), pairs))
        })
        .collect()
}

pub(crate) async fn get_usage(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetUsageRequest = decode(input)?;
    let input_name = "getUsageInput";
    let plan_id = required(req.usage_plan_id, input_name, "usagePlanId")?;
    let start = required(req.start_date, input_name, "startDate")?;
    let end = required(req.end_date, input_name, "endDate")?;
    let first = epoch_day(&start, "startDate")?;
    let last = epoch_day(&end, "endDate")?;
    if last < first {
        return Err(AwsError::bad_request(
            "The endDate must not be before the startDate",
        ));
    }
    if last - first >= MAX_DAYS {
        return Err(AwsError::bad_request(format!(
            "The date range must not exceed {MAX_DAYS} days"
        )));
    }
    let stored = load_plan(call, &plan_id).await?;
    let keys: Vec<String> = match req.key_id {
        Some(key) => stored.keys.iter().filter(|k| **k == key).cloned().collect(),
        None => stored.keys.clone(),
    };
    let quota = quota_of(&stored.plan);
    let items = usage_items(call, &plan_id, quota.as_ref(), &keys, first, last);
    OperationOutput::json(
        op,
        &Usage {
            usage_plan_id: Some(plan_id),
            start_date: Some(start),
            end_date: Some(end),
            position: None,
            items: Some(items),
        },
    )
}

pub(crate) async fn update_usage(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UpdateUsageRequest = decode(input)?;
    let input_name = "updateUsageInput";
    let plan_id = required(req.usage_plan_id, input_name, "usagePlanId")?;
    let key_id = required(req.key_id, input_name, "keyId")?;
    let stored = load_plan(call, &plan_id).await?;
    if !stored.keys.contains(&key_id) {
        return Err(AwsError::not_found(
            "Invalid Usage Plan Key identifier specified",
        ));
    }
    let mut remaining = None;
    for patch in req.patch_operations.unwrap_or_default() {
        let path = patch.path.as_deref().unwrap_or("");
        match (patch.op.as_deref().unwrap_or(""), path) {
            ("replace", "/remaining") => {
                let value = patch
                    .value
                    .as_deref()
                    .and_then(|v| v.parse::<i64>().ok())
                    .filter(|v| *v >= 0)
                    .ok_or_else(|| AwsError::bad_request("Invalid patch value specified"))?;
                remaining = Some(value);
            }
            (op_name, _) => {
                return Err(AwsError::bad_request(format!(
                    "Invalid patch path  '{path}' specified for op '{op_name}'. Must be one of: [/remaining]"
                )));
            }
        }
    }
    let quota = quota_of(&stored.plan);
    if let Some(remaining) = remaining {
        let Some(quota) = quota.as_ref() else {
            return Err(AwsError::bad_request(format!(
                "Usage plan {plan_id} has no quota to update"
            )));
        };
        let ledger = call.service.usage.as_ref().ok_or_else(|| {
            AwsError::new(
                "NotImplementedException",
                501,
                "This Portico serves no data plane to count usage in",
            )
        })?;
        ledger.set_remaining(&plan_id, &key_id, quota, remaining);
    }
    let (day, date) = today();
    let items = usage_items(
        call,
        &plan_id,
        quota.as_ref(),
        std::slice::from_ref(&key_id),
        day,
        day,
    );
    OperationOutput::json(
        op,
        &Usage {
            usage_plan_id: Some(plan_id),
            start_date: Some(date.clone()),
            end_date: Some(date),
            position: None,
            items: Some(items),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_days_since_the_epoch() {
        assert_eq!(epoch_day("1970-01-01", "startDate").unwrap(), 0);
        assert_eq!(epoch_day("2024-03-01", "startDate").unwrap(), 19_783);
        assert_eq!(
            epoch_day("2024-02-30", "endDate").unwrap_err().message,
            "Invalid endDate specified: 2024-02-30"
        );
        assert!(epoch_day("2024-3-01", "startDate").is_err());
        assert!(epoch_day("20240301", "startDate").is_err());
        assert!(epoch_day("2024-03-01-", "startDate").is_err());
    }
}
