//! A minimal CloudWatch Logs service: what a user needs to read function output with the AWS
//! CLI and SDKs (`aws logs get-log-events`, `filter-log-events`, `describe-log-groups`,
//! `describe-log-streams`, and CLI v2's `aws logs tail`, which is FilterLogEvents).
//!
//! It speaks awsJson 1.1 (`X-Amz-Target: Logs_20140328.{Operation}`, see `portico-protocol`)
//! and serves CreateLogGroup, DeleteLogGroup, DescribeLogGroups, CreateLogStream,
//! DeleteLogStream, DescribeLogStreams, PutLogEvents, GetLogEvents and FilterLogEvents. Lambda
//! feeds it through [`FunctionLogSink`]: each execution environment's output goes to
//! `/aws/lambda/{FunctionName}`, one stream per environment, group and stream created on first
//! output.
//!
//! What it is not: events live in memory only (the store holds control-plane state, not
//! telemetry), a bounded window per stream ([`MAX_EVENTS_PER_STREAM`] events,
//! [`MAX_BYTES_PER_STREAM`] bytes), gone on restart; there is no retention policy, no metric or
//! subscription filter, no Insights query, no KMS, no tags, and filter patterns are the term
//! kind only (see [`pattern`]).

mod events;
mod groups;
pub mod pattern;
mod shapes;
mod store;
pub mod token;

use std::sync::Arc;

use portico_core::{AwsError, FunctionLogSink, LogLine, LogTarget, Scope};
use portico_protocol::{OperationOutput, json_input};

use store::{Event, Store};
pub use store::{MAX_BYTES_PER_STREAM, MAX_EVENTS_PER_STREAM};

/// The operations served, by their `X-Amz-Target` names.
pub const OPERATIONS: &[&str] = &[
    "CreateLogGroup",
    "DeleteLogGroup",
    "DescribeLogGroups",
    "CreateLogStream",
    "DeleteLogStream",
    "DescribeLogStreams",
    "PutLogEvents",
    "GetLogEvents",
    "FilterLogEvents",
];

/// The CloudWatch Logs service.
#[derive(Debug, Default)]
pub struct Logs {
    store: Store,
}

impl Logs {
    #[must_use]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Runs one operation (named as in [`OPERATIONS`]) on its JSON body.
    ///
    /// # Errors
    /// The operation's AWS error.
    pub fn handle(
        &self,
        scope: &Scope,
        operation: &str,
        body: &[u8],
    ) -> Result<OperationOutput, AwsError> {
        // Only creating a group makes a region's entry: reads of a region never written to
        // see an empty one, so requests naming made-up regions cannot grow the store.
        let region = if operation == "CreateLogGroup" {
            self.store
                .region_or_create(&scope.account_id, &scope.region)
        } else {
            self.store
                .region(&scope.account_id, &scope.region)
                .unwrap_or_else(|| Arc::new(store::Region::empty(&scope.account_id, &scope.region)))
        };
        match operation {
            "CreateLogGroup" => groups::create_group(&region, json_input(body)?),
            "DeleteLogGroup" => groups::delete_group(&region, json_input(body)?),
            "DescribeLogGroups" => groups::describe_groups(&region, json_input(body)?),
            "CreateLogStream" => groups::create_stream(&region, json_input(body)?),
            "DeleteLogStream" => groups::delete_stream(&region, json_input(body)?),
            "DescribeLogStreams" => groups::describe_streams(&region, json_input(body)?),
            "PutLogEvents" => events::put(&self.store, &region, json_input(body)?),
            "GetLogEvents" => events::get(&region, json_input(body)?),
            "FilterLogEvents" => events::filter(&region, json_input(body)?),
            other => Err(AwsError::new(
                "UnknownOperationException",
                400,
                format!("Unknown operation {other}"),
            )),
        }
    }
}

impl FunctionLogSink for Logs {
    fn append(&self, target: &LogTarget<'_>, lines: &mut dyn Iterator<Item = LogLine>) {
        let now = now_ms();
        let region = self
            .store
            .region_or_create(target.account_id, target.region);
        let stream = region
            .group_or_create(target.group, now)
            .stream_or_create(target.stream, now);
        let mut events = stream.lock();
        for line in lines {
            events.push(Event {
                timestamp: line.timestamp_ms,
                ingestion_time: now,
                id: self.store.event_id(),
                message: line.message,
                newline: true,
            });
        }
    }
}

pub(crate) use portico_core::logsink::now_ms;

/// `InvalidParameterException`, CloudWatch Logs' answer to bad input.
pub(crate) fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidParameterException", 400, message)
}

pub(crate) fn group_not_found() -> AwsError {
    AwsError::new(
        "ResourceNotFoundException",
        400,
        "The specified log group does not exist.",
    )
}

pub(crate) fn stream_not_found() -> AwsError {
    AwsError::new(
        "ResourceNotFoundException",
        400,
        "The specified log stream does not exist.",
    )
}

/// The validation error for a missing required member.
pub(crate) fn null_member(member: &str) -> AwsError {
    invalid(format!(
        "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    ))
}

/// A required member, or the validation error for its absence.
pub(crate) fn required<T>(value: Option<T>, member: &str) -> Result<T, AwsError> {
    value.ok_or_else(|| null_member(member))
}

/// A `limit` member within `1..=max`, or `default`.
pub(crate) fn limit(value: Option<i64>, max: usize, default: usize) -> Result<usize, AwsError> {
    match value {
        None => Ok(default),
        Some(v) if v < 1 => Err(invalid(format!(
            "1 validation error detected: Value '{v}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        ))),
        Some(v) if usize::try_from(v).map_or(true, |v| v > max) => Err(invalid(format!(
            "1 validation error detected: Value '{v}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to {max}"
        ))),
        Some(v) => Ok(usize::try_from(v).unwrap_or(default)),
    }
}

#[cfg(test)]
mod tests;
