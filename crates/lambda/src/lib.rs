//! The Lambda service: its control plane (CreateFunction, GetFunction, ListFunctions,
//! DeleteFunction, Invoke) and the invoke orchestrator that keeps execution environments warm.
//!
//! Functions are documents in the `Store` (the source of truth, read on control-plane calls and
//! at start-up) and entries in an in-memory registry (what invocations read: no store access on
//! the invoke path). Code is kept as files under the data directory: the zip as uploaded and
//! its extraction, which is what runtimes run from.

mod code;
mod config;
mod function;
mod invoke;
mod pool;
mod registry;
mod validate;

use std::path::PathBuf;
use std::sync::Arc;

use portico_core::{AwsError, Scope};
use portico_protocol::{OperationInput, OperationOutput};
use portico_store::Store;

pub use config::LambdaConfig;
use registry::Registry;

/// The Lambda service.
pub struct Lambda {
    store: Arc<dyn Store>,
    config: LambdaConfig,
    registry: Registry,
    launcher: Arc<portico_sandbox::Launcher>,
    /// Serializes this node's control-plane writes (create/delete) so the registry and the
    /// store change together.
    writes: tokio::sync::Mutex<()>,
}

impl Lambda {
    /// Opens the service and loads every stored function into the registry. Environments
    /// start lazily, on a function's first invocation.
    pub async fn open(store: Arc<dyn Store>, config: LambdaConfig) -> Result<Arc<Self>, AwsError> {
        let launcher = portico_sandbox::Launcher::new(config.runtime_dir.clone())
            .map_err(|e| AwsError::service(e.to_string()))?;
        let lambda = Arc::new(Self {
            store,
            launcher: Arc::new(launcher),
            config,
            registry: Registry::default(),
            writes: tokio::sync::Mutex::new(()),
        });
        function::load_all(&lambda).await?;
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
            "Invoke" => invoke::invoke_operation(self, scope, op, input).await,
            other => Err(AwsError::new(
                "NotImplementedException",
                501,
                format!("Portico does not implement the Lambda operation {other} yet"),
            )),
        }
    }

    /// Serves a stored code zip for `GetFunction`'s `Code.Location`.
    pub async fn code_zip(&self, region: &str, name: &str) -> Option<Vec<u8>> {
        let function = self.registry.get(&self.config.account_id, region, name)?;
        tokio::fs::read(function.zip_path()).await.ok()
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
