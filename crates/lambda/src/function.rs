//! CreateFunction, GetFunction, GetFunctionConfiguration, ListFunctions, DeleteFunction, and
//! the name resolution every function operation shares.

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
use serde_json::{Map, Value};

use crate::Lambda;
use crate::code::{decode_zip, store_code};
use crate::registry::{Function, FunctionKey};
use crate::snapshot::install;
use crate::state::{KIND_FUNCTION, StoredFunction, is_version_number};
use crate::validate::{check_environment, check_memory, check_role, check_runtime, check_timeout};

pub(crate) fn store_error(error: StoreError) -> AwsError {
    AwsError::service(format!("The state store failed: {error}"))
}

fn name_error(value: &str) -> AwsError {
    AwsError::validation(format!(
        "1 validation error detected: Value '{value}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{{2}}(-gov)?-[a-z]+-\\d{{1}}:)?(\\d{{12}}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
    ))
}

/// Lambda's `LastModified` format: `2024-01-01T00:00:00.000+0000`.
pub(crate) fn last_modified_now() -> String {
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
    if let Some(q) = qualifier {
        check_qualifier_pattern(q)?;
    }
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

/// The model's constraints on the `Qualifier` parameter of the operations that take a version
/// or alias (`NumericLatestPublishedOrAliasQualifier`).
fn check_qualifier_pattern(q: &str) -> Result<(), AwsError> {
    let violation = |rule: &str| {
        AwsError::validation(format!(
            "1 validation error detected: Value '{q}' at 'qualifier' failed to satisfy constraint: {rule}"
        ))
    };
    if q.is_empty() {
        return Err(violation(
            "Member must have length greater than or equal to 1",
        ));
    }
    if q.len() > 128 {
        return Err(violation(
            "Member must have length less than or equal to 128",
        ));
    }
    let valid = q == "$LATEST.PUBLISHED"
        || q.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '$' || c == '_' || c == '-');
    if !valid {
        return Err(violation(
            r"Member must satisfy regular expression pattern: \$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+",
        ));
    }
    Ok(())
}

pub(crate) fn not_found(scope: &Scope, name: &str, qualifier: Option<&str>) -> AwsError {
    let arn = function_arn(&scope.region, &scope.account_id, name);
    match qualifier {
        Some(q) => AwsError::resource_not_found(format!("Function not found: {arn}:{q}")),
        None => AwsError::resource_not_found(format!("Function not found: {arn}")),
    }
}

/// Resolves a `FunctionName` that must not carry a qualifier meaning (concurrency, tags of a
/// function, versions): the qualifier, if any, is ignored as Lambda ignores it.
pub(crate) fn resolve_unqualified(
    scope: &Scope,
    function_name: Option<String>,
) -> Result<(Scope, String), AwsError> {
    let (scope, reference) = resolve(scope, function_name, None)?;
    Ok((scope, reference.name))
}

impl Lambda {
    /// The function's current snapshot, or Lambda's not-found error.
    pub(crate) fn existing(&self, scope: &Scope, name: &str) -> Result<Arc<Function>, AwsError> {
        self.registry
            .get(&scope.account_id, &scope.region, name)
            .ok_or_else(|| not_found(scope, name, None))
    }
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
    let mut stored = StoredFunction {
        configuration: configuration.clone(),
        tags: req.tags,
        ..Default::default()
    };
    let published = req
        .publish
        .unwrap_or(false)
        .then(|| crate::versions::snapshot(&mut stored, None));
    let body = serde_json::to_value(&stored)
        .map_err(|e| AwsError::service(format!("Could not encode the function: {e}")))?;
    let store_version = lambda
        .store
        .put_if_version(
            NewDocument::new(scope.partition(), KIND_FUNCTION, name.as_str(), body),
            0,
        )
        .await
        .map_err(store_error)?;
    install(lambda, key, stored, store_version, None);
    // The function is ready at once, but CreateFunction answers as AWS does, with the state a
    // new function starts in; GetFunction then shows it Active.
    let mut answer = published.unwrap_or(configuration);
    answer.state = Some("Pending".to_owned());
    answer.state_reason = Some("The function is being created.".to_owned());
    answer.state_reason_code = Some("Creating".to_owned());
    answer.last_update_status = None;
    OperationOutput::json(op, &answer)
}

/// The configuration a qualifier names for reads: `$LATEST`, a version, or the version an
/// alias points at (its main version; routing weights apply to invocations only).
pub(crate) fn configuration_of<'f>(
    function: &'f Function,
    qualifier: Option<&str>,
) -> Option<&'f FunctionConfiguration> {
    match qualifier {
        None | Some("$LATEST") => Some(&function.stored.configuration),
        Some(q) if is_version_number(q) => function.stored.version(q),
        Some(alias) => {
            let target = function
                .stored
                .aliases
                .get(alias)?
                .function_version
                .as_deref()?;
            configuration_of(function, Some(target))
        }
    }
}

/// A function and the configuration a (possibly qualified) name designates.
fn lookup(
    lambda: &Lambda,
    scope: &Scope,
    function_name: Option<String>,
    qualifier: Option<String>,
) -> Result<(Arc<Function>, FunctionConfiguration, Option<String>), AwsError> {
    let (scope, reference) = resolve(scope, function_name, qualifier.as_deref())?;
    let qualifier = qualifier.or(reference.qualifier);
    let not_found = || not_found(&scope, &reference.name, qualifier.as_deref());
    let function = lambda
        .registry
        .get(&scope.account_id, &scope.region, &reference.name)
        .ok_or_else(not_found)?;
    let configuration = configuration_of(&function, qualifier.as_deref())
        .cloned()
        .ok_or_else(not_found)?;
    Ok((function, configuration, qualifier))
}

pub(crate) async fn get(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetFunctionRequest = decode(input)?;
    let (function, configuration, qualifier) =
        lookup(lambda, scope, req.function_name, req.qualifier)?;
    let mut target = configuration.function_name.clone().unwrap_or_default();
    if let Some(q) = qualifier.as_deref().filter(|q| *q != "$LATEST") {
        target = format!("{target}:{q}");
    }
    let location = format!(
        "{}/_portico/lambda/code/{}/{target}/code.zip",
        lambda.config.public_url.trim_end_matches('/'),
        arn_region(&configuration),
    );
    let answer = GetFunctionResponse {
        configuration: Some(configuration),
        code: Some(FunctionCodeLocation {
            repository_type: Some("S3".to_owned()),
            location: Some(location),
            ..Default::default()
        }),
        tags: function.stored.tags.clone(),
        concurrency: function.stored.reserved_concurrency.map(|n| {
            portico_model::lambda::Concurrency {
                reserved_concurrent_executions: Some(n),
            }
        }),
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
    let (_, configuration, _) = lookup(lambda, scope, req.function_name, req.qualifier)?;
    OperationOutput::json(op, &configuration)
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
    let all_versions = match req.function_version.as_deref() {
        None => false,
        Some("ALL") => true,
        Some(other) => {
            return Err(AwsError::validation(format!(
                "1 validation error detected: Value '{other}' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]"
            )));
        }
    };
    let entries: Vec<FunctionConfiguration> = lambda
        .registry
        .list(&scope.account_id, &scope.region)
        .iter()
        .flat_map(|f| {
            let mut out = vec![f.stored.configuration.clone()];
            if all_versions {
                out.extend(f.stored.versions.iter().cloned());
            }
            out
        })
        .collect();
    // The marker is the ARN of the next entry: unique even when versions are listed.
    let start = match req.marker.as_deref() {
        None | Some("") => 0,
        Some(marker) => entries
            .iter()
            .position(|c| marker_of(c) == marker)
            .ok_or_else(|| AwsError::invalid_parameter_value("Invalid marker"))?,
    };
    let page: Vec<FunctionConfiguration> = entries
        .iter()
        .skip(start)
        .take(max_items)
        .cloned()
        .collect();
    let next_marker = entries.get(start + max_items).map(marker_of);
    OperationOutput::json(
        op,
        &ListFunctionsResponse {
            functions: Some(page),
            next_marker,
        },
    )
}

fn marker_of(configuration: &FunctionConfiguration) -> String {
    match configuration.version.as_deref() {
        Some(v) if v != "$LATEST" => format!(
            "{}:{v}",
            configuration.function_name.as_deref().unwrap_or_default()
        ),
        _ => configuration.function_name.clone().unwrap_or_default(),
    }
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
    let name = reference.name;
    let done = Ok(OperationOutput {
        status: 204,
        ..OperationOutput::empty(op)
    });
    match qualifier.as_deref() {
        Some("$LATEST") => Err(AwsError::invalid_parameter_value(
            "$LATEST version cannot be deleted without deleting the function.",
        )),
        Some(q) if is_version_number(q) => {
            crate::versions::delete_version(lambda, &scope, &name, q).await?;
            done
        }
        // An alias is not a version: Lambda refuses rather than delete what it points at.
        Some(_) => Err(AwsError::invalid_parameter_value(
            "Deletion of aliases is not currently supported.",
        )),
        None => {
            let _guard = lambda.writes.lock().await;
            let function = lambda.existing(&scope, &name)?;
            lambda
                .store
                .delete(&scope.partition(), KIND_FUNCTION, &name)
                .await
                .map_err(store_error)?;
            let key = FunctionKey {
                account_id: scope.account_id.clone(),
                region: scope.region.clone(),
                name,
            };
            lambda.registry.remove(&key);
            lambda.account.add_reserved(-i64::from(
                function.stored.reserved_concurrency.unwrap_or(0),
            ));
            for version in function.pools() {
                version.pool.shutdown().await;
            }
            let _ = tokio::fs::remove_dir_all(&function.dir).await;
            done
        }
    }
}
