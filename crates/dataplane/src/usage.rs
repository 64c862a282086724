//! API keys and usage plans on a stage: which keys are valid, each key's throttle (plan-wide
//! and per method) and quota. The control plane publishes them inside the stage document
//! (member `porticoUsagePlans`); they are compiled with the stage, and each key's counters
//! are its own (no state shared between keys).
//!
//! Quota counters outlive the compiled stage: a stage is recompiled on every redeploy and on
//! every key or plan change, and AWS does not forgive a key its used quota for either.
//! [`QuotaCounters`] holds them by usage plan, key and quota period; each freshly compiled
//! stage adopts the counters already running, so every stage of a plan also counts against
//! one quota per key, as AWS counts it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Deserialize;

use crate::gateway::GatewayResponse;
use crate::throttle::TokenBucket;
use crate::usage_ledger::CounterState;

#[derive(Debug, Deserialize)]
struct Throttle {
    #[serde(rename = "rateLimit")]
    rate_limit: Option<f64>,
    #[serde(rename = "burstLimit")]
    burst_limit: Option<i32>,
}

#[derive(Debug, Deserialize)]
struct QuotaSettings {
    limit: Option<i64>,
    offset: Option<i64>,
    period: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PublishedKey {
    id: String,
    value: String,
    enabled: bool,
}

#[derive(Debug, Deserialize)]
struct PublishedPlan {
    id: String,
    throttle: Option<Throttle>,
    quota: Option<QuotaSettings>,
    #[serde(rename = "methodThrottle", default)]
    method_throttle: HashMap<String, Throttle>,
    keys: Vec<PublishedKey>,
}

/// The calendar period a quota counts in (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    /// A number that changes exactly when a new period starts.
    pub fn index(self, now: time::OffsetDateTime) -> i64 {
        let days = now.unix_timestamp().div_euclid(86_400);
        match self {
            Period::Day => days,
            // 1970-01-01 was a Thursday; shifting by 3 makes weeks start on Monday.
            Period::Week => (days + 3).div_euclid(7),
            Period::Month => i64::from(now.year()) * 12 + i64::from(u8::from(now.month())),
        }
    }
}

/// One key's count under one plan and period kind, with its daily log (`GetUsage`).
pub(crate) type Counter = Arc<Mutex<CounterState>>;

/// Requests counted against a key's quota in the current period.
#[derive(Debug)]
pub struct Quota {
    limit: i64,
    period: Period,
    offset: i64,
    /// Shared with the [`QuotaCounters`] entry for the plan, key and period.
    state: Counter,
}

impl Quota {
    /// Counts one request at `now`; `false` when the quota is used up.
    pub fn try_count_at(&self, now: time::OffsetDateTime) -> bool {
        let index = self.period.index(now);
        let day = now.unix_timestamp().div_euclid(86_400);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let used = match state.current {
            Some((i, used)) if i == index => used,
            // The offset counts only in the first period.
            Some(_) => 0,
            None => self.offset,
        };
        let admitted = used < self.limit;
        let used = used + i64::from(admitted);
        state.current = Some((index, used));
        state.days.record(day, admitted, self.limit - used);
        admitted
    }
}

/// One API key as a stage sees it.
pub struct KeyUsage {
    pub key_id: String,
    /// The usage plan that gives this stage the key.
    pub plan_id: String,
    pub enabled: bool,
    throttle: Option<TokenBucket>,
    method_throttle: HashMap<String, TokenBucket>,
    quota: Option<Quota>,
}

fn bucket(throttle: &Throttle) -> Option<TokenBucket> {
    TokenBucket::new(throttle.rate_limit?, f64::from(throttle.burst_limit?))
}

/// Compiles the stage's usage plans into its keys, by key value.
pub fn compile(stage: &serde_json::Value) -> HashMap<String, KeyUsage> {
    let plans: Vec<PublishedPlan> = stage
        .get("porticoUsagePlans")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let mut keys = HashMap::new();
    for plan in plans {
        for key in plan.keys {
            let quota = plan.quota.as_ref().and_then(|q| {
                Some(Quota {
                    limit: q.limit?,
                    period: match q.period.as_deref()? {
                        "DAY" => Period::Day,
                        "WEEK" => Period::Week,
                        _ => Period::Month,
                    },
                    offset: q.offset.unwrap_or(0),
                    state: Arc::default(),
                })
            });
            let usage = KeyUsage {
                key_id: key.id,
                plan_id: plan.id.clone(),
                enabled: key.enabled,
                throttle: plan.throttle.as_ref().and_then(bucket),
                method_throttle: plan
                    .method_throttle
                    .iter()
                    .filter_map(|(k, t)| Some((k.clone(), bucket(t)?)))
                    .collect(),
                quota,
            };
            // A key belongs to one plan per stage; should two name it, the first wins.
            if keys.contains_key(&key.value) {
                tracing::warn!(plan = %plan.id, key = %usage.key_id, "API key is in two usage plans of one stage; the first applies");
                continue;
            }
            keys.insert(key.value, usage);
        }
    }
    keys
}

/// Quota counters by usage plan, API key and quota period, kept by the data plane across
/// stage recompiles. Entries live as long as the data plane: one small counter per plan and
/// key ever published.
#[derive(Default)]
pub struct QuotaCounters {
    /// By usage plan id, key id and period.
    pub(crate) counters: Mutex<HashMap<(String, String, Period), Counter>>,
}

impl QuotaCounters {
    /// Points the quotas of a freshly compiled stage's keys at the counters already running
    /// for the same plan, key and period (registering new ones otherwise).
    pub fn adopt(&self, keys: &mut HashMap<String, KeyUsage>) {
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        for usage in keys.values_mut() {
            if let Some(quota) = usage.quota.as_mut() {
                let id = (usage.plan_id.clone(), usage.key_id.clone(), quota.period);
                quota.state = counters
                    .entry(id)
                    .or_insert_with(|| quota.state.clone())
                    .clone();
            }
        }
    }
}

impl KeyUsage {
    /// The plan's per-method throttle (`/pets/GET`), then the plan throttle, then the quota.
    pub fn admit(&self, method_key: &str) -> Result<(), GatewayResponse> {
        if let Some(bucket) = self.method_throttle.get(method_key)
            && !bucket.try_take()
        {
            return Err(GatewayResponse::throttled());
        }
        if let Some(bucket) = &self.throttle
            && !bucket.try_take()
        {
            return Err(GatewayResponse::throttled());
        }
        if let Some(quota) = &self.quota
            && !quota.try_count_at(time::OffsetDateTime::now_utc())
        {
            return Err(GatewayResponse::quota_exceeded());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    #[test]
    fn compiled_keys_and_quota() {
        let stage = json!({"porticoUsagePlans": [{
            "id": "p1", "throttle": {"rateLimit": 100.0, "burstLimit": 100},
            "quota": {"limit": 2, "offset": 1, "period": "DAY"},
            "methodThrottle": {"/slow/GET": {"rateLimit": 0.0, "burstLimit": 1}},
            "keys": [{"id": "k1", "value": "v1", "enabled": true},
                     {"id": "k2", "value": "v2", "enabled": false}]
        }]});
        let keys = compile(&stage);
        assert_eq!(keys.len(), 2);
        assert!(!keys["v2"].enabled);
        let k1 = &keys["v1"];
        assert_eq!(k1.key_id, "k1");
        // The per-method bucket holds one request.
        assert!(k1.admit("/slow/GET").is_ok());
        assert_eq!(
            k1.admit("/slow/GET").unwrap_err().response_type,
            "THROTTLED"
        );
        // Offset 1 + one counted request = limit 2.
        assert_eq!(
            k1.admit("/other/GET").unwrap_err().response_type,
            "QUOTA_EXCEEDED"
        );
    }

    #[test]
    fn quota_counts_survive_a_recompile() {
        let stage = |limit: i64, period: &str| {
            json!({"porticoUsagePlans": [{
                "id": "p1", "quota": {"limit": limit, "period": period},
                "keys": [{"id": "k1", "value": "v1", "enabled": true}]
            }]})
        };
        let counters = QuotaCounters::default();
        let mut first = compile(&stage(2, "DAY"));
        counters.adopt(&mut first);
        assert!(first["v1"].admit("/GET").is_ok());
        // Recompiled (a redeploy, or the limit raised): the request already made still counts.
        let mut second = compile(&stage(3, "DAY"));
        counters.adopt(&mut second);
        assert!(second["v1"].admit("/GET").is_ok());
        assert!(second["v1"].admit("/GET").is_ok());
        assert_eq!(
            second["v1"].admit("/GET").unwrap_err().response_type,
            "QUOTA_EXCEEDED"
        );
        // The old compilation, still serving in-flight requests, shares the counter.
        assert!(first["v1"].admit("/GET").is_err());
        // A new period kind is a new quota.
        let mut weekly = compile(&stage(1, "WEEK"));
        counters.adopt(&mut weekly);
        assert!(weekly["v1"].admit("/GET").is_ok());
        // Without adoption a compilation counts from zero (what used to happen).
        let fresh = compile(&stage(1, "DAY"));
        assert!(fresh["v1"].admit("/GET").is_ok());
    }

    #[test]
    fn quota_periods_reset() {
        let q = Quota {
            limit: 1,
            period: Period::Day,
            offset: 0,
            state: Arc::default(),
        };
        assert!(q.try_count_at(datetime!(2024-03-01 23:59 UTC)));
        assert!(!q.try_count_at(datetime!(2024-03-01 23:59:59 UTC)));
        assert!(q.try_count_at(datetime!(2024-03-02 00:00 UTC)));
        // 2024-03-03 is a Sunday, 03-04 a Monday.
        assert_eq!(
            Period::Week.index(datetime!(2024-03-03 12:00 UTC)) + 1,
            Period::Week.index(datetime!(2024-03-04 00:00 UTC))
        );
        assert_ne!(
            Period::Month.index(datetime!(2024-03-31 23:00 UTC)),
            Period::Month.index(datetime!(2024-04-01 00:00 UTC))
        );
    }
}
