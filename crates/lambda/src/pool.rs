//! The warm execution environments of one function version.
//!
//! An invocation takes the most recently idle environment (LIFO keeps the hottest process busy
//! and lets the others sit), or starts one while fewer than the limit exist; beyond the limit it
//! waits for one to come free. An environment whose invocation failed fatally (timeout, crash)
//! is discarded and never returns to the pool, so a broken process hurts only its own call.

use std::sync::Arc;
use std::sync::Mutex;

use portico_core::AwsError;
use portico_sandbox::{Environment, FunctionSpec, InvokeInput, InvokeOutcome, Launcher};
use tokio::sync::Semaphore;

pub(crate) struct Pool {
    spec: Arc<FunctionSpec>,
    launcher: Arc<Launcher>,
    /// Idle environments, most recently used last. Held only to push or pop.
    idle: Mutex<Vec<Environment>>,
    /// One permit per environment that may exist.
    permits: Semaphore,
}

impl Pool {
    pub fn new(spec: Arc<FunctionSpec>, launcher: Arc<Launcher>, max_environments: usize) -> Self {
        Self {
            spec,
            launcher,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(max_environments.max(1)),
        }
    }

    fn take_idle(&self) -> Option<Environment> {
        self.idle.lock().ok()?.pop()
    }

    fn put_idle(&self, environment: Environment) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(environment);
        }
    }

    /// Runs one invocation in a warm (or newly started) environment.
    pub async fn invoke(&self, input: InvokeInput) -> Result<InvokeOutcome, AwsError> {
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
                    return Ok(error.failure(&input.request_id));
                }
            },
        };
        let outcome = environment.invoke(input).await;
        // A failed invocation has already killed its environment; only live ones go back.
        if !matches!(outcome, InvokeOutcome::Failed { .. }) && environment.is_alive() {
            self.put_idle(environment);
        }
        Ok(outcome)
    }

    /// Stops every environment and refuses new invocations.
    pub async fn shutdown(&self) {
        self.permits.close();
        let drained: Vec<Environment> = match self.idle.lock() {
            Ok(mut idle) => idle.drain(..).collect(),
            Err(_) => Vec::new(),
        };
        for environment in drained {
            environment.shutdown().await;
        }
    }
}
