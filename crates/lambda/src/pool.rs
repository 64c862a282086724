//! The warm execution environments of one function version.
//!
//! An invocation takes the most recently idle environment (LIFO keeps the hottest process busy
//! and lets the others sit), or starts one while fewer than the limit exist; beyond the limit it
//! waits for one to come free. An environment whose invocation failed fatally (timeout, crash)
//! is discarded and never returns to the pool, so a broken process hurts only its own call.
//!
//! A pool is retired when its version's code or configuration changes: its idle environments
//! stop at once and busy ones stop when their invocation ends, so the next invocation starts an
//! environment of the new code while in-flight ones finish on the old.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use portico_core::AwsError;
use portico_sandbox::{Environment, FunctionSpec, InvokeInput, InvokeOutcome, Launcher};
use tokio::sync::Semaphore;

use crate::run_to_end::RunToEnd;

/// Bytes of log `X-Amz-Log-Result` carries.
const LOG_TAIL_BYTES: usize = 4096;

pub(crate) struct Pool {
    spec: Arc<FunctionSpec>,
    launcher: Arc<Launcher>,
    logs: Arc<crate::logs::FunctionLogs>,
    /// Idle environments with the time each came free, most recently used last (so the
    /// longest idle first). Held only to push, pop or cut expired ones off the front.
    idle: Mutex<Vec<(Environment, Instant)>>,
    /// Idle environments older than this are stopped by [`Pool::take_expired`].
    idle_timeout: Duration,
    /// One permit per environment that may exist.
    permits: Semaphore,
    retired: AtomicBool,
}

/// What one invocation produced, and its log tail when asked for.
pub(crate) struct PoolOutcome {
    pub outcome: InvokeOutcome,
    pub log_tail: Option<String>,
}

impl Pool {
    pub fn new(
        spec: Arc<FunctionSpec>,
        launcher: Arc<Launcher>,
        logs: Arc<crate::logs::FunctionLogs>,
        max_environments: usize,
        idle_timeout: Duration,
    ) -> Self {
        Self {
            spec,
            launcher,
            logs,
            idle: Mutex::new(Vec::new()),
            idle_timeout,
            permits: Semaphore::new(max_environments.max(1)),
            retired: AtomicBool::new(false),
        }
    }

    pub fn spec(&self) -> &Arc<FunctionSpec> {
        &self.spec
    }

    fn take_idle(&self) -> Option<Environment> {
        self.idle
            .lock()
            .ok()?
            .pop()
            .map(|(environment, _)| environment)
    }

    fn drain_idle(&self) -> Vec<Environment> {
        match self.idle.lock() {
            Ok(mut idle) => idle.drain(..).map(|(environment, _)| environment).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Takes out the environments idle for longer than the pool's idle timeout at `now`; the
    /// caller stops them. They sit at the front: the stack is ordered by when each came free.
    pub fn take_expired(&self, now: Instant) -> Vec<Environment> {
        let Ok(mut idle) = self.idle.lock() else {
            return Vec::new();
        };
        let fresh = idle
            .iter()
            .position(|(_, since)| now.saturating_duration_since(*since) < self.idle_timeout)
            .unwrap_or(idle.len());
        idle.drain(..fresh)
            .map(|(environment, _)| environment)
            .collect()
    }

    /// How many environments are warm and unused.
    #[cfg(test)]
    pub fn idle_count(&self) -> usize {
        self.idle.lock().map_or(0, |idle| idle.len())
    }

    /// Runs one invocation in a warm (or newly started) environment. With `want_log`, the
    /// last 4 KB of the invocation's log (START … REPORT) come back too. `hold` (a concurrency
    /// slot) is kept until the invocation ends.
    ///
    /// The invocation runs to its end even if the caller stops waiting for it, as on Lambda
    /// ([`RunToEnd`]): a client that hangs up neither cuts its function short nor costs the
    /// environment, which goes back to the pool warm.
    pub fn invoke<H: Send + 'static>(
        self: &Arc<Self>,
        input: InvokeInput,
        want_log: bool,
        hold: H,
    ) -> RunToEnd<Result<PoolOutcome, AwsError>> {
        let pool = Arc::clone(self);
        RunToEnd::new(async move {
            let done = pool.run(input, want_log).await;
            drop(hold);
            done
        })
    }

    async fn run(&self, input: InvokeInput, want_log: bool) -> Result<PoolOutcome, AwsError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| AwsError::resource_conflict("The function is being deleted."))?;
        let mut environment = match self.take_idle() {
            Some(environment) => environment,
            None => match Environment::start(self.spec.clone(), &self.launcher).await {
                Ok(environment) => environment,
                Err(error) => {
                    tracing::warn!(function = %self.spec.function_name, %error, "execution environment did not start");
                    return Ok(PoolOutcome {
                        outcome: error.failure(&input.request_id),
                        log_tail: None,
                    });
                }
            },
        };
        let outcome = environment.invoke(input).await;
        let log_tail = want_log.then(|| environment.last_log().tail(LOG_TAIL_BYTES));
        self.logs.publish(&self.spec, &mut environment);
        // A failed invocation has already killed its environment; the others go back, to a
        // pool whose code is still current. One whose runtime exited after answering is
        // respawned by its next invocation, so asking the kernel here would only cost a
        // system call per invocation.
        if !matches!(outcome, InvokeOutcome::Failed { .. }) {
            if self.retired.load(Ordering::Acquire) {
                tokio::spawn(environment.shutdown());
            } else if let Ok(mut idle) = self.idle.lock() {
                idle.push((environment, Instant::now()));
            }
        }
        Ok(PoolOutcome { outcome, log_tail })
    }

    /// Stops the idle environments and makes busy ones stop after their invocation: the
    /// version's code or configuration was replaced.
    pub async fn retire(&self) {
        self.retired.store(true, Ordering::Release);
        for environment in self.drain_idle() {
            environment.shutdown().await;
        }
    }

    #[cfg(test)]
    pub fn is_retired(&self) -> bool {
        self.retired.load(Ordering::Acquire)
    }

    /// Stops every environment and refuses new invocations.
    pub async fn shutdown(&self) {
        self.permits.close();
        self.retire().await;
    }
}
