//! The Lambda service: its control plane (functions, code and configuration updates,
//! versions, aliases, resource policies, reserved concurrency, tags, account settings), `Invoke`
//! and the invoke orchestrator that keeps execution environments warm.
//!
//! Functions are documents in the `Store` (the source of truth, read on control-plane calls and
//! at start-up; one aggregate per function) and snapshots in an in-memory registry (what
//! invocations read: no store access and no global lock on the invoke path). Code is kept as
//! files under the data directory, one directory per package digest: the zip as uploaded and
//! its extraction, which is what runtimes run from.
//!
//! Function URLs are configured here and served by [`Lambda::invoke_function_url`], which the
//! listener calls for hosts `{url-id}.lambda-url.{region}.on.aws`.
//!
//! What this crate is not: it runs no process itself (`portico-sandbox` does), serves no HTTP
//! (`portico` binds the operations this crate answers), and has no S3, layers, container
//! images or event source mappings.

mod alias;
mod code;
mod concurrency;
mod config;
mod function;
mod invoke;
mod logs;
mod policy;
mod pool;
mod registry;
mod run_to_end;
mod snapshot;
mod state;
mod tags;
#[cfg(test)]
mod tests;
mod update;
mod url;
mod url_invoke;
mod validate;
mod versions;

use std::path::PathBuf;
use std::sync::Arc;

use portico_core::{AwsError, Scope};
use portico_protocol::{OperationInput, OperationOutput};
use portico_store::Store;

use concurrency::Account;
pub use concurrency::DEFAULT_ACCOUNT_CONCURRENCY;
pub use config::LambdaConfig;
use registry::Registry;
pub use url_invoke::{FunctionUrlRequest, FunctionUrlResponse};

/// Stops execution environments that sat idle past the configured timeout, until the service
/// is dropped. One sweep over the registry's pools every quarter of the timeout (between 50 ms
/// and 30 s): an environment lives at most a quarter longer than the timeout, and the sweep
/// costs nothing on the invoke path.
async fn reap_idle_environments(
    registry: std::sync::Weak<Registry>,
    idle_timeout: std::time::Duration,
) {
    let every = (idle_timeout / 4).clamp(
        std::time::Duration::from_millis(50),
        std::time::Duration::from_secs(30),
    );
    loop {
        tokio::time::sleep(every).await;
        let Some(registry) = registry.upgrade() else {
            return;
        };
        let now = std::time::Instant::now();
        let expired: Vec<_> = registry
            .all()
            .iter()
            .flat_map(|function| {
                function
                    .pools()
                    .flat_map(|version| version.pool.take_expired(now))
                    .collect::<Vec<_>>()
            })
            .collect();
        drop(registry);
        for environment in expired {
            tracing::debug!(
                function = %environment.spec().function_name,
                "stopping an idle execution environment"
            );
            environment.shutdown().await;
        }
    }
}

/// Largest request body a function URL accepts (Lambda's synchronous payload limit).
pub const MAX_FUNCTION_URL_BODY: usize = invoke::MAX_SYNC_PAYLOAD;

/// The Lambda service.
pub struct Lambda {
    store: Arc<dyn Store>,
    config: LambdaConfig,
    /// Shared with the idle-environment reaper, which must not keep the service alive.
    registry: Arc<Registry>,
    launcher: Arc<portico_sandbox::Launcher>,
    /// The account's concurrency limit and what runs against it.
    account: Arc<Account>,
    /// Pauses before retrying a failed asynchronous invocation (Lambda's 1 and 2 minutes;
    /// shorter in tests).
    async_retry_delays: [std::time::Duration; 2],
    /// Where function output goes (CloudWatch Logs, once attached).
    function_logs: Arc<logs::FunctionLogs>,
    /// Whether API Gateway's calls need the function's resource policy to allow them (AWS's
    /// rule; on by default). Off, every call from the gateway is let through.
    enforce_permissions: std::sync::atomic::AtomicBool,
    /// Serializes this node's control-plane writes so the registry and the store change
    /// together.
    writes: tokio::sync::Mutex<()>,
}

impl Lambda {
    /// Opens the service and loads every stored function into the registry. Environments
    /// start lazily, on a function's first invocation.
    pub async fn open(store: Arc<dyn Store>, config: LambdaConfig) -> Result<Arc<Self>, AwsError> {
        let launcher = portico_sandbox::Launcher::new(config.runtime_dir.clone())
            .map_err(|e| AwsError::service(e.to_string()))?
            .with_placement(config.placement.clone());
        let lambda = Arc::new(Self {
            store,
            launcher: Arc::new(launcher),
            config,
            registry: Arc::default(),
            account: Arc::new(Account::default()),
            async_retry_delays: invoke::ASYNC_RETRY_DELAYS,
            function_logs: Arc::default(),
            enforce_permissions: std::sync::atomic::AtomicBool::new(true),
            writes: tokio::sync::Mutex::new(()),
        });
        snapshot::load_all(&lambda).await?;
        tokio::spawn(reap_idle_environments(
            Arc::downgrade(&lambda.registry),
            lambda.config.idle_timeout,
        ));
        Ok(lambda)
    }

    /// Runs one control-plane operation.
    pub async fn handle(
        self: &Arc<Self>,
        scope: &Scope,
        input: OperationInput,
    ) -> Result<OperationOutput, AwsError> {
        let op = input.operation;
        match op.name {
            "CreateFunction" => function::create(self, scope, op, input.input).await,
            "GetFunction" => function::get(self, scope, op, input.input).await,
            "GetFunctionConfiguration" => {
                function::get_configuration(self, scope, op, input.input).await
            }
            "ListFunctions" => function::list(self, scope, op, input.input).await,
            "DeleteFunction" => function::delete(self, scope, op, input.input).await,
            "UpdateFunctionCode" => update::update_code(self, scope, op, input.input).await,
            "UpdateFunctionConfiguration" => {
                update::update_configuration(self, scope, op, input.input).await
            }
            "PublishVersion" => versions::publish(self, scope, op, input.input).await,
            "ListVersionsByFunction" => versions::list(self, scope, op, input.input).await,
            "CreateAlias" => alias::create(self, scope, op, input.input).await,
            "GetAlias" => alias::get(self, scope, op, input.input).await,
            "ListAliases" => alias::list(self, scope, op, input.input).await,
            "UpdateAlias" => alias::update(self, scope, op, input.input).await,
            "DeleteAlias" => alias::delete(self, scope, op, input.input).await,
            "AddPermission" => policy::add(self, scope, op, input.input).await,
            "GetPolicy" => policy::get(self, scope, op, input.input).await,
            "RemovePermission" => policy::remove(self, scope, op, input.input).await,
            "PutFunctionConcurrency" => concurrency::put(self, scope, op, input.input).await,
            "GetFunctionConcurrency" => concurrency::get(self, scope, op, input.input).await,
            "DeleteFunctionConcurrency" => concurrency::delete(self, scope, op, input.input).await,
            "TagResource" => tags::tag(self, scope, op, input.input).await,
            "UntagResource" => tags::untag(self, scope, op, input.input).await,
            "ListTags" => tags::list(self, scope, op, input.input).await,
            "CreateFunctionUrlConfig" => url::create(self, scope, op, input.input).await,
            "GetFunctionUrlConfig" => url::get(self, scope, op, input.input).await,
            "UpdateFunctionUrlConfig" => url::update(self, scope, op, input.input).await,
            "DeleteFunctionUrlConfig" => url::delete(self, scope, op, input.input).await,
            "ListFunctionUrlConfigs" => url::list(self, scope, op, input.input).await,
            "GetAccountSettings" => tags::account_settings(self, scope, op).await,
            "Invoke" => invoke::invoke_operation(self, scope, op, input).await,
            other => Err(AwsError::new(
                "NotImplementedException",
                501,
                format!("Portico does not implement the Lambda operation {other} yet"),
            )),
        }
    }

    /// Serves a stored code zip for `GetFunction`'s `Code.Location`; `name` may carry a
    /// qualifier (`name:3`, `name:live`) for the code of a version or alias.
    pub async fn code_zip(&self, region: &str, name: &str) -> Option<Vec<u8>> {
        let (name, qualifier) = match name.split_once(':') {
            Some((name, q)) => (name, Some(q)),
            None => (name, None),
        };
        let function = self.registry.get(&self.config.account_id, region, name)?;
        let sha = function::configuration_of(&function, qualifier)?
            .code_sha256
            .clone()?;
        tokio::fs::read(code::zip_path(&code::package_dir(&function.dir, &sha)))
            .await
            .ok()
    }

    /// Sets the account's concurrency limit (default [`DEFAULT_ACCOUNT_CONCURRENCY`]): what
    /// all functions without reserved concurrency share, less what functions reserve.
    pub fn set_account_concurrency_limit(&self, limit: u32) {
        self.account.set_limit(i64::from(limit));
    }

    /// Whether a call made on behalf of an API Gateway source ARN must be allowed by the
    /// function's resource policy (default `true`, as on AWS). `false` lets every such call
    /// through, for local setups that never run `add-permission`.
    pub fn set_enforce_permissions(&self, enforce: bool) {
        self.enforce_permissions
            .store(enforce, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn enforces_permissions(&self) -> bool {
        self.enforce_permissions
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Sends every invocation's log lines (function output framed by `START`, `END` and
    /// `REPORT`) to `sink`, as Lambda sends them to CloudWatch Logs. Only the first sink set
    /// counts.
    pub fn set_log_sink(&self, sink: Arc<dyn portico_core::FunctionLogSink>) {
        self.function_logs.set(sink);
    }

    /// Stops every execution environment (on shutdown): no runtime process outlives the server.
    pub async fn shutdown(&self) {
        self.registry.shutdown_all().await;
    }

    fn function_dir(&self, scope: &Scope, name: &str) -> PathBuf {
        self.config
            .data_dir
            .join("lambda")
            .join(&scope.account_id)
            .join(&scope.region)
            .join(name)
    }
}
