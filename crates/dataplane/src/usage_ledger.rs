//! The data plane's side of `GetUsage` and `UpdateUsage`: every quota counter (see
//! [`crate::usage::QuotaCounters`]) keeps, under the same per-key lock the request path
//! already takes, a short log of its last days (requests admitted, quota left). The control
//! plane reads and adjusts it through [`UsageLedger`].
//!
//! The log costs the request path nothing beyond the counter it already updates: today's
//! entry is bumped in place, and a new entry is pushed once a day per key.

use std::collections::VecDeque;
use std::sync::Arc;

use portico_core::{DailyUsage, QuotaPeriod, QuotaSpec, UsageLedger};

use crate::DataPlane;
use crate::usage::{Counter, Period};

/// How many days of usage a key keeps: the 90 days AWS lets usage be read back for, with
/// some slack for time zones of the caller's dates.
const KEPT_DAYS: usize = 92;

/// One key's quota state under one plan and period kind.
#[derive(Debug, Default)]
pub(crate) struct CounterState {
    /// `(period index, used in that period)`; `None` until the first request.
    pub current: Option<(i64, i64)>,
    pub days: DayLog,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Day {
    day: i64,
    used: i64,
    remaining: i64,
}

/// The last [`KEPT_DAYS`] days with activity, oldest first.
#[derive(Debug, Default)]
pub(crate) struct DayLog {
    days: VecDeque<Day>,
}

impl DayLog {
    /// Notes one request on `day` (counted when `admitted`) and the quota left after it.
    pub fn record(&mut self, day: i64, admitted: bool, remaining: i64) {
        let used = i64::from(admitted);
        match self.days.back_mut() {
            // `>=`: a clock stepping back a day keeps counting into the newest entry rather
            // than breaking the log's order.
            Some(last) if last.day >= day => {
                last.used += used;
                last.remaining = remaining;
            }
            _ => self.push(Day {
                day,
                used,
                remaining,
            }),
        }
    }

    /// Sets the quota left on `day` without counting a request.
    fn set_remaining(&mut self, day: i64, remaining: i64) {
        match self.days.back_mut() {
            Some(last) if last.day >= day => last.remaining = remaining,
            _ => self.push(Day {
                day,
                used: 0,
                remaining,
            }),
        }
    }

    fn push(&mut self, day: Day) {
        if self.days.len() == KEPT_DAYS {
            self.days.pop_front();
        }
        self.days.push_back(day);
    }
}

fn period(p: QuotaPeriod) -> Period {
    match p {
        QuotaPeriod::Day => Period::Day,
        QuotaPeriod::Week => Period::Week,
        QuotaPeriod::Month => Period::Month,
    }
}

/// The quota period index of a day (see [`Period::index`]).
fn period_of_day(p: Period, day: i64) -> i64 {
    time::OffsetDateTime::from_unix_timestamp(day.saturating_mul(86_400))
        .map(|t| p.index(t))
        // Out of `time`'s range: only reachable with absurd dates; every such day is its
        // own period, so nothing carries into it.
        .unwrap_or(day)
}

/// Usage per day from `first` to `last` out of one counter's state.
fn days_between(state: &CounterState, quota: &QuotaSpec, first: i64, last: i64) -> Vec<DailyUsage> {
    let p = period(quota.period);
    // What is left at the end of the latest logged day before the range, by period.
    let mut carry: Option<(i64, i64)> = state
        .days
        .days
        .iter()
        .rev()
        .find(|d| d.day < first)
        .map(|d| (period_of_day(p, d.day), d.remaining));
    let mut logged = state.days.days.iter().filter(|d| d.day >= first).peekable();
    let mut out = Vec::with_capacity(usize::try_from(last - first + 1).unwrap_or(0));
    for day in first..=last {
        let index = period_of_day(p, day);
        if let Some(entry) = logged.next_if(|d| d.day == day) {
            carry = Some((index, entry.remaining));
            out.push(DailyUsage {
                used: entry.used,
                remaining: entry.remaining,
            });
            continue;
        }
        let remaining = match carry {
            Some((i, left)) if i == index => left,
            Some(_) => quota.limit,
            // Before the key's first request the offset still stands.
            None => quota.limit - quota.offset,
        };
        out.push(DailyUsage { used: 0, remaining });
    }
    out
}

impl DataPlane {
    fn counter(&self, plan_id: &str, key_id: &str, p: Period) -> Option<Counter> {
        let counters = self
            .quotas
            .counters
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        counters
            .get(&(plan_id.to_owned(), key_id.to_owned(), p))
            .cloned()
    }
}

impl UsageLedger for DataPlane {
    fn daily_usage(
        &self,
        plan_id: &str,
        key_id: &str,
        quota: &QuotaSpec,
        first_day: i64,
        last_day: i64,
    ) -> Option<Vec<DailyUsage>> {
        let counter = self.counter(plan_id, key_id, period(quota.period))?;
        let state = counter.lock().unwrap_or_else(|e| e.into_inner());
        Some(days_between(&state, quota, first_day, last_day))
    }

    fn set_remaining(&self, plan_id: &str, key_id: &str, quota: &QuotaSpec, remaining: i64) {
        let p = period(quota.period);
        // Registered here when no stage has counted the key yet: a stage compiled later
        // adopts it (see `QuotaCounters::adopt`).
        let counter: Counter = {
            let mut counters = self
                .quotas
                .counters
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            Arc::clone(
                counters
                    .entry((plan_id.to_owned(), key_id.to_owned(), p))
                    .or_default(),
            )
        };
        let now = time::OffsetDateTime::now_utc();
        let mut state = counter.lock().unwrap_or_else(|e| e.into_inner());
        state.current = Some((p.index(now), quota.limit - remaining));
        state
            .days
            .set_remaining(now.unix_timestamp().div_euclid(86_400), remaining);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(limit: i64, offset: i64) -> QuotaSpec {
        QuotaSpec {
            limit,
            offset,
            period: QuotaPeriod::Day,
        }
    }

    fn pairs(v: Vec<DailyUsage>) -> Vec<(i64, i64)> {
        v.into_iter().map(|d| (d.used, d.remaining)).collect()
    }

    #[test]
    fn log_counts_a_day_in_place_and_keeps_92_days() {
        let mut log = DayLog::default();
        log.record(10, true, 4);
        log.record(10, true, 3);
        log.record(10, false, 3);
        assert_eq!(
            log.days.iter().copied().collect::<Vec<_>>(),
            vec![Day {
                day: 10,
                used: 2,
                remaining: 3
            }]
        );
        for day in 11..200 {
            log.record(day, true, 0);
        }
        assert_eq!(log.days.len(), KEPT_DAYS);
        assert_eq!(log.days.front().map(|d| d.day), Some(200 - 92));
    }

    #[test]
    fn days_without_requests_carry_within_a_period() {
        let state = CounterState {
            current: Some((20, 3)),
            days: DayLog {
                days: [Day {
                    day: 20,
                    used: 3,
                    remaining: 2,
                }]
                .into(),
            },
        };
        // Daily quota: the day before has the offset-free full limit only if nothing ran;
        // a new day is a new period.
        assert_eq!(
            pairs(days_between(&state, &quota(5, 1), 19, 21)),
            vec![(0, 4), (3, 2), (0, 5)]
        );
        let weekly = QuotaSpec {
            period: QuotaPeriod::Week,
            ..quota(5, 0)
        };
        // Day 20 (1970-01-21) is a Wednesday; its week runs to day 25 (Monday is day 25).
        assert_eq!(
            pairs(days_between(&state, &weekly, 20, 25)),
            vec![(3, 2), (0, 2), (0, 2), (0, 2), (0, 2), (0, 5)]
        );
    }

    struct NoLambda;

    impl portico_core::Invoker for NoLambda {
        fn invoke(
            &self,
            _: portico_core::InvokeRequest,
        ) -> portico_core::BoxFuture<'_, Result<portico_core::InvokeResult, portico_core::AwsError>>
        {
            Box::pin(async { Err(portico_core::AwsError::not_found("no functions here")) })
        }
    }

    #[test]
    fn ledger_reads_and_resets_counts() {
        let plane = DataPlane::new(Arc::new(NoLambda));
        let q = quota(3, 0);
        assert_eq!(plane.daily_usage("p", "k", &q, 0, 0), None);
        plane.set_remaining("p", "k", &q, 10);
        let today = time::OffsetDateTime::now_utc()
            .unix_timestamp()
            .div_euclid(86_400);
        assert_eq!(
            plane.daily_usage("p", "k", &q, today, today).map(pairs),
            Some(vec![(0, 10)])
        );
    }
}
