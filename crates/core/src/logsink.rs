//! How a function's output reaches the log service.
//!
//! The Lambda service hands each invocation's log lines (the function's output framed by the
//! `START` / `END` / `REPORT` platform lines) to a [`FunctionLogSink`]; the CloudWatch Logs
//! service implements it. Neither depends on the other, as with [`crate::Invoker`] and
//! [`crate::StageSink`].
//!
//! The sink sits on the invoke path, so its contract is strict: it takes the lines by value (the
//! Lambda side already owns them, so no line is copied on the way), it never waits on IO, and
//! any lock it takes is held only while it appends in memory.

/// Now, in milliseconds since the Unix epoch: the clock of log timestamps and ingestion times.
#[must_use]
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// One log line as the Lambda side produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    pub message: String,
}

/// Where lines go: a stream of a log group in one account and region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogTarget<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    /// `/aws/lambda/{FunctionName}` for function output.
    pub group: &'a str,
    /// `YYYY/MM/DD/[{version}]{32 hex}` for function output: one per execution environment.
    pub stream: &'a str,
}

/// Receives function log lines.
pub trait FunctionLogSink: Send + Sync {
    /// Appends `lines` (oldest first) to the target stream, creating its group and the stream
    /// when they do not exist yet, as Lambda does on a function's first output. Must not block.
    fn append(&self, target: &LogTarget<'_>, lines: &mut dyn Iterator<Item = LogLine>);
}
