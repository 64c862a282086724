//! Concurrency limits: a function's reserved concurrency and the account's pool, counted with
//! atomics on the invoke path (no lock), and PutFunctionConcurrency, GetFunctionConcurrency,
//! DeleteFunctionConcurrency.
//!
//! A function with reserved concurrency `N` runs at most `N` invocations at once and does not
//! draw from the account pool; every other function shares what the account limit leaves after
//! all reservations. An invocation beyond its limit is throttled (429), as Lambda does for
//! synchronous calls; asynchronous ones wait in their queue instead.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use portico_core::{AwsError, Scope};
use portico_model::binding::Operation;
use portico_model::lambda::{
    Concurrency, DeleteFunctionConcurrencyRequest, GetFunctionConcurrencyRequest,
    GetFunctionConcurrencyResponse, PutFunctionConcurrencyRequest,
};
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::Lambda;
use crate::function::resolve_unqualified;
use crate::snapshot::mutate;

/// Lambda's default account concurrency limit.
pub const DEFAULT_ACCOUNT_CONCURRENCY: i64 = 1000;
/// What the account must keep unreserved.
const MIN_UNRESERVED: i64 = 100;

/// In-flight invocations of one function against its reservation (`-1`: none). Shared by
/// every snapshot of the function so updates do not reset the count.
#[derive(Debug)]
pub(crate) struct Gate {
    in_flight: AtomicI64,
    reserved: AtomicI64,
    /// Payload bytes of asynchronous invocations accepted and not yet finished.
    queued_bytes: AtomicI64,
}

/// Most payload bytes one function's asynchronous queue holds. Lambda's queue is durable and
/// practically unbounded; ours is memory, so past this an `Event` invocation is throttled
/// instead of growing the server without limit.
pub(crate) const MAX_QUEUED_BYTES: i64 = 64 * 1024 * 1024;

/// One accepted asynchronous invocation's place in its function's queue.
pub(crate) struct Queued {
    gate: Arc<Gate>,
    bytes: i64,
}

impl Drop for Queued {
    fn drop(&mut self) {
        self.gate
            .queued_bytes
            .fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// Accepts an asynchronous invocation of `bytes` into the function's queue.
pub(crate) fn enqueue(gate: &Arc<Gate>, bytes: usize) -> Result<Queued, AwsError> {
    let bytes = i64::try_from(bytes).unwrap_or(i64::MAX).max(1);
    if gate.queued_bytes.fetch_add(bytes, Ordering::AcqRel) + bytes > MAX_QUEUED_BYTES {
        gate.queued_bytes.fetch_sub(bytes, Ordering::AcqRel);
        return Err(throttled("ConcurrentInvocationLimitExceeded"));
    }
    Ok(Queued {
        gate: gate.clone(),
        bytes,
    })
}

impl Gate {
    pub fn new(reserved: Option<i32>) -> Arc<Self> {
        Arc::new(Self {
            in_flight: AtomicI64::new(0),
            reserved: AtomicI64::new(reserved.map_or(-1, i64::from)),
            queued_bytes: AtomicI64::new(0),
        })
    }

    pub fn set_reserved(&self, reserved: Option<i32>) {
        self.reserved
            .store(reserved.map_or(-1, i64::from), Ordering::Release);
    }

    fn reserved(&self) -> Option<i64> {
        let r = self.reserved.load(Ordering::Acquire);
        (r >= 0).then_some(r)
    }
}

/// The account's concurrency: its limit, what functions reserve, what unreserved functions run.
#[derive(Debug)]
pub(crate) struct Account {
    limit: AtomicI64,
    reserved_total: AtomicI64,
    in_flight: AtomicI64,
}

impl Default for Account {
    fn default() -> Self {
        Self {
            limit: AtomicI64::new(DEFAULT_ACCOUNT_CONCURRENCY),
            reserved_total: AtomicI64::new(0),
            in_flight: AtomicI64::new(0),
        }
    }
}

impl Account {
    pub fn limit(&self) -> i64 {
        self.limit.load(Ordering::Acquire)
    }

    pub fn set_limit(&self, limit: i64) {
        self.limit.store(limit, Ordering::Release);
    }

    pub fn unreserved(&self) -> i64 {
        self.limit() - self.reserved_total.load(Ordering::Acquire)
    }

    pub fn add_reserved(&self, delta: i64) {
        self.reserved_total.fetch_add(delta, Ordering::AcqRel);
    }
}

/// One admitted invocation; dropping it frees its slot.
pub(crate) struct Slot {
    counter: Arc<dyn Counter>,
}

trait Counter: Send + Sync {
    fn release(&self);
}

impl Counter for Gate {
    fn release(&self) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Counter for Account {
    fn release(&self) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.counter.release();
    }
}

/// `429 TooManyRequestsException`, worded and shaped as Lambda sends it.
pub(crate) fn throttled(reason: &str) -> AwsError {
    AwsError::too_many_requests("Rate Exceeded.").with_extra("Reason", reason)
}

/// Admits one invocation or refuses it with Lambda's throttling error.
pub(crate) fn admit(gate: &Arc<Gate>, account: &Arc<Account>) -> Result<Slot, AwsError> {
    if let Some(reserved) = gate.reserved() {
        if gate.in_flight.fetch_add(1, Ordering::AcqRel) >= reserved {
            gate.release();
            return Err(throttled(
                "ReservedFunctionConcurrentInvocationLimitExceeded",
            ));
        }
        return Ok(Slot {
            counter: gate.clone(),
        });
    }
    if account.in_flight.fetch_add(1, Ordering::AcqRel) >= account.unreserved() {
        account.release();
        return Err(throttled("ConcurrentInvocationLimitExceeded"));
    }
    Ok(Slot {
        counter: account.clone(),
    })
}

pub(crate) async fn put(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: PutFunctionConcurrencyRequest = decode(input)?;
    let (scope, name) = resolve_unqualified(scope, req.function_name)?;
    let value = req.reserved_concurrent_executions.ok_or_else(|| {
        AwsError::validation("1 validation error detected: Value null at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must not be null")
    })?;
    if value < 0 {
        return Err(AwsError::validation(format!(
            "1 validation error detected: Value '{value}' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0"
        )));
    }
    let account = lambda.account.clone();
    let (previous, function) = mutate(lambda, &scope, &name, |stored| {
        let previous = stored.reserved_concurrency;
        let unreserved_after =
            account.unreserved() + i64::from(previous.unwrap_or(0)) - i64::from(value);
        if unreserved_after < MIN_UNRESERVED {
            return Err(AwsError::invalid_parameter_value(format!(
                "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED}]."
            )));
        }
        stored.reserved_concurrency = Some(value);
        Ok(previous)
    })
    .await?;
    lambda
        .account
        .add_reserved(i64::from(value) - i64::from(previous.unwrap_or(0)));
    function.gate.set_reserved(Some(value));
    OperationOutput::json(
        op,
        &Concurrency {
            reserved_concurrent_executions: Some(value),
        },
    )
}

pub(crate) async fn get(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetFunctionConcurrencyRequest = decode(input)?;
    let (scope, name) = resolve_unqualified(scope, req.function_name)?;
    let function = lambda.existing(&scope, &name)?;
    OperationOutput::json(
        op,
        &GetFunctionConcurrencyResponse {
            reserved_concurrent_executions: function.stored.reserved_concurrency,
        },
    )
}

pub(crate) async fn delete(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteFunctionConcurrencyRequest = decode(input)?;
    let (scope, name) = resolve_unqualified(scope, req.function_name)?;
    let (previous, function) = mutate(lambda, &scope, &name, |stored| {
        Ok(stored.reserved_concurrency.take())
    })
    .await?;
    lambda
        .account
        .add_reserved(-i64::from(previous.unwrap_or(0)));
    function.gate.set_reserved(None);
    Ok(OperationOutput {
        status: 204,
        ..OperationOutput::empty(op)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_concurrency_throttles_beyond_its_value() {
        let account = Arc::new(Account::default());
        let gate = Gate::new(Some(2));
        let a = admit(&gate, &account).unwrap();
        let _b = admit(&gate, &account).unwrap();
        let e = admit(&gate, &account).err().unwrap();
        assert_eq!(
            (e.code, e.status, e.message.as_str()),
            ("TooManyRequestsException", 429, "Rate Exceeded.")
        );
        assert_eq!(
            e.extra,
            vec![(
                "Reason",
                "ReservedFunctionConcurrentInvocationLimitExceeded".to_owned()
            )]
        );
        drop(a);
        assert!(admit(&gate, &account).is_ok());
        gate.set_reserved(Some(0));
        assert!(admit(&gate, &account).is_err());
    }

    #[test]
    fn the_asynchronous_queue_is_bounded() {
        let gate = Gate::new(None);
        let big = enqueue(&gate, MAX_QUEUED_BYTES as usize - 10).unwrap();
        let e = enqueue(&gate, 11).err().unwrap();
        assert_eq!(
            (e.code, e.message.as_str()),
            ("TooManyRequestsException", "Rate Exceeded.")
        );
        let small = enqueue(&gate, 10).unwrap();
        drop(big);
        drop(small);
        assert!(enqueue(&gate, MAX_QUEUED_BYTES as usize).is_ok());
    }

    #[test]
    fn the_account_pool_is_what_reservations_leave() {
        let account = Arc::new(Account::default());
        account.set_limit(3);
        account.add_reserved(2);
        let gate = Gate::new(None);
        let _a = admit(&gate, &account).unwrap();
        let e = admit(&gate, &account).err().unwrap();
        assert_eq!(
            e.extra,
            vec![("Reason", "ConcurrentInvocationLimitExceeded".to_owned())]
        );
        assert_eq!(account.unreserved(), 1);
    }
}
