//! CreateFunction, GetFunction, GetFunctionConfiguration, ListFunctions, DeleteFunction.

use std::collections::BTreeMap;
use std::sync::Arc;

use portico_core::arn::{FunctionRef, function_arn, parse_function_name};
use portico_core::{AwsError, Scope};
use portico_model::binding::Operation;
use portico_model::lambda::{
    CreateFunctionRequest, DeleteFunctionRequest, EnvironmentResponse, EphemeralStorage,
    FunctionCodeLocation, FunctionConfiguration, GetFunctionConfigurationRequest,
    GetFunctionRequest, GetFunctionResponse, ListFunctionsRequest, ListFunctionsResponse,
    LoggingConfig, RuntimeVersionConfig, SnapStartResponse, TracingConfigResponse,
};
use portico_protocol::{OperationOutput, decode};
use portico_store::{NewDocument, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Lambda;
use crate::code::{decode_zip, ensure_extracted, store_code, task_dir};
use crate::pool::Pool;
use crate::registry::{Function, FunctionKey};
use crate::validate::{check_environment, check_memory, check_role, check_runtime, check_timeout};

pub(crate) const KIND_FUNCTION: &str = "lambda.function";

/// A function as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredFunction {
    pub configuration: FunctionConfiguration,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

fn store_error(error: StoreError) -> AwsError {
    AwsError::service(format!("The state store failed: {error}"))
}

fn name_error(value: &str) -> AwsError {
    AwsError::validation(format!(
        "1 validation error detected: Value '{value}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{{2}}(-gov)?-[a-z]+-\\d{{1}}:)?(\\d{{12}}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
    ))
}

/// Lambda's `LastModified` format: `2024-01-01T00:00:00.000+0000`.
fn last_modified_now() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    )
}

/// Resolves a `FunctionName` (name, partial or full ARN) against the caller's scope.
pub(crate) fn resolve(
    scope: &Scope,
    function_name: Option<String>,
    qualifier: Option<&str>,
) -> Result<(Scope, FunctionRef), AwsError> {
    let raw = function_name.ok_or_else(|| name_error("null"))?;
    let reference = parse_function_name(&raw).map_err(|_| name_error(&raw))?;
    if let (Some(from_name), Some(given)) = (reference.qualifier.as_deref(), qualifier)
        && from_name != given
    {
        return Err(AwsError::invalid_parameter_value(
            "The derived qualifier from the function name does not match the specified qualifier.",
        ));
    }
    let target = Scope::new(
        reference
            .account_id
            .clone()
            .unwrap_or_else(|| scope.account_id.clone()),
        reference
            .region
            .clone()
            .unwrap_or_else(|| scope.region.clone()),
    );
    Ok((target, reference))
}

pub(crate) fn not_found(scope: &Scope, name: &str, qualifier: Option<&str>) -> AwsError {
    let arn = function_arn(&scope.region, &scope.account_id, name);
    match qualifier {
        Some(q) => AwsError::resource_not_found(format!("Function not found: {arn}:{q}")),
        None => AwsError::resource_not_found(format!("Function not found: {arn}")),
    }
}

/// Only `$LATEST` exists until versions are published.
fn check_qualifier(scope: &Scope, name: &str, qualifier: Option<&str>) -> Result<(), AwsError> {
    match qualifier {
        None | Some("$LATEST") => Ok(()),
        Some(q) => Err(not_found(scope, name, Some(q))),
    }
}

fn spec_for(
    key: &FunctionKey,
    configuration: &FunctionConfiguration,
    dir: &std::path::Path,
) -> portico_sandbox::FunctionSpec {
    portico_sandbox::FunctionSpec {
        function_name: key.name.clone(),
        function_arn: configuration.function_arn.clone().unwrap_or_default(),
        version: "$LATEST".to_owned(),
        runtime: configuration.runtime.clone().unwrap_or_default(),
        handler: configuration.handler.clone().unwrap_or_default(),
        code_dir: task_dir(dir),
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

fn register(lambda: &Lambda, key: FunctionKey, stored: StoredFunction) -> Arc<Function> {
    let scope = Scope::new(key.account_id.clone(), key.region.clone());
    let dir = lambda.function_dir(&scope, &key.name);
    let spec = spec_for(&key, &stored.configuration, &dir);
    let function = Arc::new(Function {
        configuration: stored.configuration,
        tags: stored.tags,
        pool: Pool::new(
            Arc::new(spec),
            lambda.launcher.clone(),
            lambda.config.max_environments_per_function,
        ),
        dir,
    });
    lambda.registry.insert(key, function.clone());
    function
}

/// Loads every stored function into the registry (start-up).
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
        if let Err(error) = ensure_extracted(dir).await {
            tracing::warn!(function = %doc.id, %error, "function code could not be restored");
        }
        let key = FunctionKey {
            account_id: scope.account_id,
            region: scope.region,
            name: doc.id,
        };
        register(lambda, key, stored);
    }
    Ok(())
}

pub(crate) async fn create(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: CreateFunctionRequest = decode(input)?;
    let (scope, reference) = resolve(scope, req.function_name, None)?;
    if reference.qualifier.is_some() {
        return Err(AwsError::invalid_parameter_value(
            "Function name cannot contain a qualifier when creating a function",
        ));
    }
    let name = reference.name;
    let role = req
        .role
        .ok_or_else(|| AwsError::validation("1 validation error detected: Value null at 'role' failed to satisfy constraint: Member must not be null"))?;
    check_role(&role)?;
    let package_type = req.package_type.unwrap_or_else(|| "Zip".to_owned());
    if package_type != "Zip" {
        return Err(AwsError::invalid_parameter_value(
            "Portico runs Zip packages only: container images need an image registry.",
        ));
    }
    let (Some(runtime), Some(handler)) = (req.runtime, req.handler) else {
        return Err(AwsError::invalid_parameter_value(
            "Runtime and Handler are mandatory parameters for functions created with deployment packages.",
        ));
    };
    check_runtime(&runtime)?;
    let timeout = req.timeout.unwrap_or(3);
    check_timeout(timeout)?;
    let memory = req.memory_size.unwrap_or(128);
    check_memory(memory)?;
    if let Some(variables) = req.environment.as_ref().and_then(|e| e.variables.as_ref()) {
        check_environment(variables)?;
    }
    let code = req.code.ok_or_else(|| {
        AwsError::validation("1 validation error detected: Value null at 'code' failed to satisfy constraint: Member must not be null")
    })?;
    let zip = match code.zip_file {
        Some(zip) => decode_zip(&zip)?,
        None if code.s3_bucket.is_some() => {
            return Err(AwsError::invalid_parameter_value(
                "Portico has no S3: upload the code as ZipFile.",
            ));
        }
        None => {
            return Err(AwsError::invalid_parameter_value(
                "Please provide a source for function code.",
            ));
        }
    };
    let architectures = req
        .architectures
        .unwrap_or_else(|| vec!["x86_64".to_owned()]);

    let _guard = lambda.writes.lock().await;
    let key = FunctionKey {
        account_id: scope.account_id.clone(),
        region: scope.region.clone(),
        name: name.clone(),
    };
    if lambda
        .registry
        .get(&key.account_id, &key.region, &key.name)
        .is_some()
    {
        return Err(AwsError::resource_conflict(format!(
            "Function already exist: {name}"
        )));
    }
    let dir = lambda.function_dir(&scope, &name);
    let stored_code = store_code(dir, zip).await?;
    let arn = function_arn(&scope.region, &scope.account_id, &name);
    let configuration = FunctionConfiguration {
        function_name: Some(name.clone()),
        function_arn: Some(arn),
        runtime: Some(runtime.clone()),
        role: Some(role),
        handler: Some(handler),
        code_size: Some(stored_code.size),
        description: Some(req.description.unwrap_or_default()),
        timeout: Some(timeout),
        memory_size: Some(memory),
        last_modified: Some(last_modified_now()),
        code_sha256: Some(stored_code.sha256),
        version: Some("$LATEST".to_owned()),
        environment: req.environment.map(|e| EnvironmentResponse {
            variables: e.variables,
            error: None,
        }),
        tracing_config: Some(TracingConfigResponse {
            mode: Some(
                req.tracing_config
                    .and_then(|t| t.mode)
                    .unwrap_or_else(|| "PassThrough".to_owned()),
            ),
        }),
        revision_id: Some(portico_core::ids::request_id()),
        state: Some("Active".to_owned()),
        last_update_status: Some("Successful".to_owned()),
        package_type: Some(package_type),
        architectures: Some(architectures),
        ephemeral_storage: Some(
            req.ephemeral_storage
                .unwrap_or(EphemeralStorage { size: Some(512) }),
        ),
        snap_start: Some(SnapStartResponse {
            apply_on: Some("None".to_owned()),
            optimization_status: Some("Off".to_owned()),
        }),
        runtime_version_config: Some(RuntimeVersionConfig {
            runtime_version_arn: Some(format!(
                "arn:aws:lambda:{}::runtime:{}",
                scope.region,
                portico_core::ids::alphanumeric_id(64)
            )),
            error: None,
        }),
        logging_config: Some(LoggingConfig {
            log_format: Some("Text".to_owned()),
            log_group: Some(format!("/aws/lambda/{name}")),
            ..Default::default()
        }),
        ..Default::default()
    };
    let stored = StoredFunction {
        configuration: configuration.clone(),
        tags: req.tags,
    };
    let body = serde_json::to_value(&stored)
        .map_err(|e| AwsError::service(format!("Could not encode the function: {e}")))?;
    lambda
        .store
        .put(NewDocument::new(
            scope.partition(),
            KIND_FUNCTION,
            name.as_str(),
            body,
        ))
        .await
        .map_err(store_error)?;
    register(lambda, key, stored);
    // The function is ready at once, but CreateFunction answers as AWS does, with the state a
    // new function starts in; GetFunction then shows it Active.
    let mut answer = configuration;
    answer.state = Some("Pending".to_owned());
    answer.state_reason = Some("The function is being created.".to_owned());
    answer.state_reason_code = Some("Creating".to_owned());
    answer.last_update_status = None;
    OperationOutput::json(op, &answer)
}

fn lookup(
    lambda: &Lambda,
    scope: &Scope,
    function_name: Option<String>,
    qualifier: Option<String>,
) -> Result<Arc<Function>, AwsError> {
    let (scope, reference) = resolve(scope, function_name, qualifier.as_deref())?;
    let qualifier = qualifier.or(reference.qualifier);
    let function = lambda
        .registry
        .get(&scope.account_id, &scope.region, &reference.name)
        .ok_or_else(|| not_found(&scope, &reference.name, qualifier.as_deref()))?;
    check_qualifier(&scope, &reference.name, qualifier.as_deref())?;
    Ok(function)
}

pub(crate) async fn get(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetFunctionRequest = decode(input)?;
    let function = lookup(lambda, scope, req.function_name, req.qualifier)?;
    let configuration = function.configuration.clone();
    let location = format!(
        "{}/_portico/lambda/code/{}/{}/code.zip",
        lambda.config.public_url.trim_end_matches('/'),
        arn_region(&configuration),
        configuration.function_name.clone().unwrap_or_default()
    );
    let answer = GetFunctionResponse {
        configuration: Some(configuration),
        code: Some(FunctionCodeLocation {
            repository_type: Some("S3".to_owned()),
            location: Some(location),
            ..Default::default()
        }),
        tags: function.tags.clone(),
        ..Default::default()
    };
    OperationOutput::json(op, &answer)
}

fn arn_region(configuration: &FunctionConfiguration) -> String {
    configuration
        .function_arn
        .as_deref()
        .and_then(|arn| arn.split(':').nth(3))
        .unwrap_or_default()
        .to_owned()
}

pub(crate) async fn get_configuration(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetFunctionConfigurationRequest = decode(input)?;
    let function = lookup(lambda, scope, req.function_name, req.qualifier)?;
    OperationOutput::json(op, &function.configuration)
}

pub(crate) async fn list(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: ListFunctionsRequest = decode(input)?;
    let max_items = match req.max_items {
        None => 50,
        Some(n) if (1..=10_000).contains(&n) => (n as usize).min(50),
        Some(n) => {
            return Err(AwsError::validation(format!(
                "1 validation error detected: Value '{n}' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1"
            )));
        }
    };
    let functions = lambda.registry.list(&scope.account_id, &scope.region);
    let start = match req.marker.as_deref() {
        None | Some("") => 0,
        Some(marker) => functions
            .iter()
            .position(|f| f.configuration.function_name.as_deref() == Some(marker))
            .ok_or_else(|| AwsError::invalid_parameter_value("Invalid marker"))?,
    };
    let page: Vec<FunctionConfiguration> = functions
        .iter()
        .skip(start)
        .take(max_items)
        .map(|f| f.configuration.clone())
        .collect();
    let next_marker = functions
        .get(start + max_items)
        .and_then(|f| f.configuration.function_name.clone());
    OperationOutput::json(
        op,
        &ListFunctionsResponse {
            functions: Some(page),
            next_marker,
        },
    )
}

pub(crate) async fn delete(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteFunctionRequest = decode(input)?;
    let (scope, reference) = resolve(scope, req.function_name, req.qualifier.as_deref())?;
    let qualifier = req.qualifier.or(reference.qualifier);
    if qualifier.as_deref() == Some("$LATEST") {
        return Err(AwsError::invalid_parameter_value(
            "$LATEST version cannot be deleted without deleting the function.",
        ));
    }
    let _guard = lambda.writes.lock().await;
    let key = FunctionKey {
        account_id: scope.account_id.clone(),
        region: scope.region.clone(),
        name: reference.name.clone(),
    };
    if lambda
        .registry
        .get(&key.account_id, &key.region, &key.name)
        .is_none()
    {
        return Err(not_found(&scope, &reference.name, None));
    }
    check_qualifier(&scope, &reference.name, qualifier.as_deref())?;
    lambda
        .store
        .delete(&scope.partition(), KIND_FUNCTION, &reference.name)
        .await
        .map_err(store_error)?;
    if let Some(function) = lambda.registry.remove(&key) {
        function.pool.shutdown().await;
        let _ = tokio::fs::remove_dir_all(&function.dir).await;
    }
    Ok(OperationOutput {
        status: 204,
        ..OperationOutput::empty(op)
    })
}
