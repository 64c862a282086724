//! How the API Gateway control plane reads and adjusts usage-plan quota usage (`GetUsage`,
//! `UpdateUsage`) without depending on the data plane, which is where requests are counted.
//!
//! Days are UTC calendar days numbered from the epoch (`unix_seconds.div_euclid(86_400)`), so
//! neither side needs a date type to talk to the other. The control plane passes the plan's
//! current quota with every call: the data plane only knows the quotas of plans published in
//! a stage, and a plan's limit may have changed since a key last made a request.

/// The calendar period a quota counts in (UTC; weeks start on Monday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuotaPeriod {
    Day,
    Week,
    Month,
}

impl QuotaPeriod {
    /// `DAY`, `WEEK` or `MONTH`, as usage plans spell it.
    pub fn parse(period: &str) -> Option<Self> {
        match period {
            "DAY" => Some(Self::Day),
            "WEEK" => Some(Self::Week),
            "MONTH" => Some(Self::Month),
            _ => None,
        }
    }
}

/// A usage plan's quota as the control plane currently defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaSpec {
    pub limit: i64,
    /// Requests counted as already made in the first period.
    pub offset: i64,
    pub period: QuotaPeriod,
}

/// One day of a key's usage: `[used, remaining]` as `GetUsage` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyUsage {
    /// Requests admitted that day.
    pub used: i64,
    /// Quota left at the end of that day (or now, for today).
    pub remaining: i64,
}

/// The data plane's record of quota usage, by usage plan and API key.
pub trait UsageLedger: Send + Sync {
    /// The key's usage on each day from `first_day` to `last_day` (inclusive), one entry a
    /// day; `None` when the data plane keeps no count for the key under the plan (no stage
    /// of the plan has served the key, and no `UpdateUsage` named it), which `GetUsage`
    /// shows by leaving the key out.
    fn daily_usage(
        &self,
        plan_id: &str,
        key_id: &str,
        quota: &QuotaSpec,
        first_day: i64,
        last_day: i64,
    ) -> Option<Vec<DailyUsage>>;

    /// Sets how many requests the key has left in the current quota period (`UpdateUsage`
    /// `replace /remaining`); takes effect on the key's next request in every stage.
    fn set_remaining(&self, plan_id: &str, key_id: &str, quota: &QuotaSpec, remaining: i64);
}
