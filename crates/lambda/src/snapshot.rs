//! What a stored function becomes in the registry — a snapshot of `$LATEST` and its versions,
//! each with an environment pool — and the one way a function document changes ([`mutate`]):
//! under the service's write lock, as one conditional store write followed by a new snapshot.

use std::sync::Arc;

use portico_core::arn::function_arn;
use portico_core::{AwsError, Scope};
use portico_model::lambda::FunctionConfiguration;
use portico_store::NewDocument;
use tokio::sync::MutexGuard;

use crate::Lambda;
use crate::code::{ensure_extracted, package_dir, remove_unused, task_dir};
use crate::concurrency::Gate;
use crate::function::store_error;
use crate::pool::Pool;
use crate::registry::{Function, FunctionKey, Version};
use crate::state::{KIND_FUNCTION, StoredFunction};

fn spec_for(
    key: &FunctionKey,
    configuration: &FunctionConfiguration,
    dir: &std::path::Path,
) -> portico_sandbox::FunctionSpec {
    let sha = configuration.code_sha256.as_deref().unwrap_or_default();
    portico_sandbox::FunctionSpec {
        function_name: key.name.clone(),
        function_arn: function_arn(&key.region, &key.account_id, &key.name),
        version: configuration
            .version
            .clone()
            .unwrap_or_else(|| "$LATEST".to_owned()),
        runtime: configuration.runtime.clone().unwrap_or_default(),
        handler: configuration.handler.clone().unwrap_or_default(),
        code_dir: task_dir(&package_dir(dir, sha)),
        environment: configuration
            .environment
            .as_ref()
            .and_then(|e| e.variables.clone())
            .unwrap_or_default(),
        memory_mb: configuration.memory_size.unwrap_or(128).max(128) as u32,
        timeout: std::time::Duration::from_secs(configuration.timeout.unwrap_or(3).max(1) as u64),
        region: key.region.clone(),
        account_id: key.account_id.clone(),
    }
}

/// A version for `configuration`: the previous snapshot's when it runs exactly the same
/// code and settings (its environments stay warm), else a fresh pool.
fn version_for(
    lambda: &Lambda,
    key: &FunctionKey,
    dir: &std::path::Path,
    configuration: &FunctionConfiguration,
    previous: Option<&Arc<Version>>,
) -> Arc<Version> {
    let spec = spec_for(key, configuration, dir);
    let pool = match previous {
        Some(previous) if **previous.pool.spec() == spec => {
            if previous.configuration == *configuration {
                return previous.clone();
            }
            // New metadata only (a description, a RevisionId): the environments stay warm.
            previous.pool.clone()
        }
        _ => Arc::new(Pool::new(
            Arc::new(spec),
            lambda.launcher.clone(),
            lambda.function_logs.clone(),
            lambda.config.max_environments_per_function,
            lambda.config.idle_timeout,
        )),
    };
    Arc::new(Version {
        configuration: configuration.clone(),
        pool,
    })
}

/// Turns a stored function into the registry's snapshot and publishes it. Pools of the
/// previous snapshot that are not carried over are retired in the background.
pub(crate) fn install(
    lambda: &Lambda,
    key: FunctionKey,
    stored: StoredFunction,
    store_version: u64,
    previous: Option<&Function>,
) -> Arc<Function> {
    let scope = Scope::new(key.account_id.clone(), key.region.clone());
    let dir = lambda.function_dir(&scope, &key.name);
    let latest = version_for(
        lambda,
        &key,
        &dir,
        &stored.configuration,
        previous.map(|p| &p.latest),
    );
    let versions = stored
        .versions
        .iter()
        .filter_map(|c| {
            let number = c.version.clone()?;
            let before = previous.and_then(|p| p.versions.get(&number));
            Some((number, version_for(lambda, &key, &dir, c, before)))
        })
        .collect();
    let gate = previous.map_or_else(
        || Gate::new(stored.reserved_concurrency),
        |p| p.gate.clone(),
    );
    let function = Arc::new(Function {
        stored,
        store_version,
        dir,
        latest,
        versions,
        gate,
    });
    lambda.registry.insert(key, function.clone());
    if let Some(previous) = previous {
        let replaced: Vec<Arc<Pool>> = previous
            .pools()
            .filter(|old| {
                !function
                    .pools()
                    .any(|new| Arc::ptr_eq(&old.pool, &new.pool))
            })
            .map(|old| old.pool.clone())
            .collect();
        if !replaced.is_empty() {
            tokio::spawn(async move {
                for pool in replaced {
                    pool.retire().await;
                }
            });
        }
    }
    function
}

/// The package digests a function still uses.
pub(crate) fn packages_in_use(stored: &StoredFunction) -> Vec<String> {
    stored
        .versions
        .iter()
        .chain(std::iter::once(&stored.configuration))
        .filter_map(|c| c.code_sha256.clone())
        .collect()
}

/// Changes one function: runs `change` on a copy of its stored document under the write
/// lock, writes it back conditionally, and publishes the new snapshot.
pub(crate) async fn mutate<T>(
    lambda: &Lambda,
    scope: &Scope,
    name: &str,
    change: impl FnOnce(&mut StoredFunction) -> Result<T, AwsError>,
) -> Result<(T, Arc<Function>), AwsError> {
    let guard = lambda.writes.lock().await;
    mutate_locked(lambda, &guard, scope, name, change).await
}

/// [`mutate`] for a caller that already holds the write lock (to do more under it, such as
/// storing a code package or removing unused ones).
pub(crate) async fn mutate_locked<T>(
    lambda: &Lambda,
    _held: &MutexGuard<'_, ()>,
    scope: &Scope,
    name: &str,
    change: impl FnOnce(&mut StoredFunction) -> Result<T, AwsError>,
) -> Result<(T, Arc<Function>), AwsError> {
    let current = lambda.existing(scope, name)?;
    let mut stored = current.stored.clone();
    let result = change(&mut stored)?;
    let body = serde_json::to_value(&stored)
        .map_err(|e| AwsError::service(format!("Could not encode the function: {e}")))?;
    let store_version = lambda
        .store
        .put_if_version(
            NewDocument::new(scope.partition(), KIND_FUNCTION, name, body),
            current.store_version,
        )
        .await
        .map_err(store_error)?;
    let key = FunctionKey {
        account_id: scope.account_id.clone(),
        region: scope.region.clone(),
        name: name.to_owned(),
    };
    let function = install(lambda, key, stored, store_version, Some(&current));
    Ok((result, function))
}

/// Loads every stored function into the registry (start-up), and drops code packages no
/// configuration uses any more.
pub(crate) async fn load_all(lambda: &Lambda) -> Result<(), AwsError> {
    let docs = lambda
        .store
        .list_all(KIND_FUNCTION)
        .await
        .map_err(store_error)?;
    for doc in docs {
        let Some(scope) = Scope::from_partition(&doc.partition) else {
            continue;
        };
        let stored: StoredFunction = serde_json::from_value(doc.body)
            .map_err(|e| AwsError::service(format!("A stored function is unreadable: {e}")))?;
        let dir = lambda.function_dir(&scope, &doc.id);
        let in_use = packages_in_use(&stored);
        for sha in &in_use {
            if let Err(error) = ensure_extracted(dir.clone(), sha).await {
                tracing::warn!(function = %doc.id, %error, "function code could not be restored");
            }
        }
        remove_unused(dir, in_use).await;
        lambda
            .account
            .add_reserved(i64::from(stored.reserved_concurrency.unwrap_or(0)));
        let key = FunctionKey {
            account_id: scope.account_id,
            region: scope.region,
            name: doc.id,
        };
        install(lambda, key, stored, doc.version, None);
    }
    Ok(())
}
