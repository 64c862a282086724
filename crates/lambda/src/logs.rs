//! Hands each invocation's log lines to the CloudWatch Logs service, when one is attached.
//!
//! Group `/aws/lambda/{FunctionName}`, stream the environment's `AWS_LAMBDA_LOG_STREAM_NAME`,
//! as Lambda names them. The lines move out of the environment's log (no copy); the group name
//! is built in a per-thread buffer, so publishing allocates nothing once a thread has served
//! a function. Every line of an invocation carries the time it was published, since the
//! sandbox does not timestamp lines as it reads them.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

use portico_core::{FunctionLogSink, LogLine, LogTarget};
use portico_sandbox::{Environment, FunctionSpec};

/// Where function output goes; nowhere until [`crate::Lambda::set_log_sink`] is called.
#[derive(Default)]
pub(crate) struct FunctionLogs {
    sink: OnceLock<Arc<dyn FunctionLogSink>>,
}

thread_local! {
    static GROUP: RefCell<String> = const { RefCell::new(String::new()) };
}

impl FunctionLogs {
    /// Attaches the sink; later calls are ignored (one log service per server).
    pub(crate) fn set(&self, sink: Arc<dyn FunctionLogSink>) {
        let _ = self.sink.set(sink);
    }

    /// Moves the last invocation's lines of `environment` to the sink.
    pub(crate) fn publish(&self, spec: &FunctionSpec, environment: &mut Environment) {
        let Some(sink) = self.sink.get() else {
            return;
        };
        let timestamp_ms = portico_core::logsink::now_ms();
        GROUP.with_borrow_mut(|group| {
            group.clear();
            group.push_str("/aws/lambda/");
            group.push_str(&spec.function_name);
            let (stream, lines) = environment.drain_last_log();
            let target = LogTarget {
                account_id: &spec.account_id,
                region: &spec.region,
                group,
                stream,
            };
            sink.append(
                &target,
                &mut lines.map(|message| LogLine {
                    timestamp_ms,
                    message,
                }),
            );
        });
    }
}
