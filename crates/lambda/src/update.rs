//! UpdateFunctionCode and UpdateFunctionConfiguration.
//!
//! Both replace `$LATEST` in one write with a new `RevisionId` and `LastModified`; the new
//! snapshot gets a fresh environment pool when what runs changed (code, handler, runtime,
//! environment, memory, timeout), and the old pool is retired: the next invocation runs the
//! new code, invocations already running finish on the old.

use std::sync::Arc;

use portico_core::{AwsError, Scope};
use portico_model::binding::Operation;
use portico_model::lambda::{
    EnvironmentResponse, FunctionConfiguration, TracingConfigResponse, UpdateFunctionCodeRequest,
    UpdateFunctionConfigurationRequest,
};
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::Lambda;
use crate::code::remove_unused;
use crate::code::{decode_zip, sha256_of, store_code};
use crate::function::{last_modified_now, resolve_unqualified};
use crate::snapshot::{mutate, mutate_locked, packages_in_use};
use crate::state::StoredFunction;
use crate::validate::{check_environment, check_memory, check_role, check_runtime, check_timeout};

/// `PreconditionFailedException` for a stale `RevisionId` on a function or alias.
pub(crate) fn revision_mismatch() -> AwsError {
    AwsError::new(
        "PreconditionFailedException",
        412,
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
    )
}

/// Checks an optional `RevisionId` precondition against `$LATEST`.
pub(crate) fn check_revision(
    stored: &StoredFunction,
    expected: Option<&str>,
) -> Result<(), AwsError> {
    match expected {
        Some(given) if stored.configuration.revision_id.as_deref() != Some(given) => {
            Err(revision_mismatch())
        }
        _ => Ok(()),
    }
}

/// Marks `$LATEST` as just written and answers as Lambda does while the update settles: the
/// stored function is `Successful` at once, the answer says `InProgress`.
fn touch(configuration: &mut FunctionConfiguration) -> FunctionConfiguration {
    configuration.last_modified = Some(last_modified_now());
    configuration.revision_id = Some(portico_core::ids::request_id());
    configuration.last_update_status = Some("Successful".to_owned());
    let mut answer = configuration.clone();
    answer.last_update_status = Some("InProgress".to_owned());
    answer.last_update_status_reason = Some("The function is being created.".to_owned());
    answer.last_update_status_reason_code = Some("Creating".to_owned());
    answer
}

pub(crate) async fn update_code(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UpdateFunctionCodeRequest = decode(input)?;
    let (scope, name) = resolve_unqualified(scope, req.function_name)?;
    let zip = match req.zip_file {
        Some(zip) => decode_zip(&zip)?,
        None if req.s3_bucket.is_some() || req.s3_key.is_some() => {
            return Err(AwsError::invalid_parameter_value(
                "Portico has no S3: upload the code as ZipFile.",
            ));
        }
        None if req.image_uri.is_some() => {
            return Err(AwsError::invalid_parameter_value(
                "Please don't provide ImageUri when updating a function with packageType Zip.",
            ));
        }
        None => {
            return Err(AwsError::invalid_parameter_value(
                "Please provide a source for function code.",
            ));
        }
    };
    if let Some(arch) = req.architectures.as_ref()
        && arch.len() != 1
    {
        return Err(AwsError::validation(format!(
            "1 validation error detected: Value '[{}]' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1",
            arch.join(", ")
        )));
    }
    if req.dry_run.unwrap_or(false) {
        // Validates and reports what the code would be, without storing anything.
        let existing = lambda.existing(&scope, &name)?;
        check_revision(&existing.stored, req.revision_id.as_deref())?;
        let mut answer = existing.stored.configuration.clone();
        answer.code_sha256 = Some(sha256_of(&zip));
        answer.code_size = Some(zip.len() as i64);
        return OperationOutput::json(op, &answer);
    }
    // Storing the package, committing and removing unused packages all happen under the
    // write lock, so a concurrent update never sees its fresh package removed.
    let guard = lambda.writes.lock().await;
    let existing = lambda.existing(&scope, &name)?;
    check_revision(&existing.stored, req.revision_id.as_deref())?;
    let code = store_code(existing.dir.clone(), zip).await?;
    let replaced = existing.stored.configuration.code_sha256.clone();
    let publish = req.publish.unwrap_or(false);
    let (answer, function) = mutate_locked(lambda, &guard, &scope, &name, |stored| {
        check_revision(stored, req.revision_id.as_deref())?;
        let latest = &mut stored.configuration;
        latest.code_sha256 = Some(code.sha256.clone());
        latest.code_size = Some(code.size);
        if let Some(arch) = req.architectures.clone() {
            latest.architectures = Some(arch);
        }
        let answer = touch(latest);
        Ok(if publish {
            crate::versions::snapshot(stored, None)
        } else {
            answer
        })
    })
    .await?;
    // The package just replaced stays for the environments still running it; older unused
    // ones go now.
    let mut keep = packages_in_use(&function.stored);
    keep.extend(replaced);
    remove_unused(function.dir.clone(), keep).await;
    drop(guard);
    OperationOutput::json(op, &answer)
}

pub(crate) async fn update_configuration(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UpdateFunctionConfigurationRequest = decode(input)?;
    let (scope, name) = resolve_unqualified(scope, req.function_name)?;
    if let Some(role) = req.role.as_deref() {
        check_role(role)?;
    }
    if let Some(runtime) = req.runtime.as_deref() {
        check_runtime(runtime)?;
    }
    if let Some(timeout) = req.timeout {
        check_timeout(timeout)?;
    }
    if let Some(memory) = req.memory_size {
        check_memory(memory)?;
    }
    if let Some(variables) = req.environment.as_ref().and_then(|e| e.variables.as_ref()) {
        check_environment(variables)?;
    }
    if req.layers.as_ref().is_some_and(|l| !l.is_empty()) {
        return Err(AwsError::invalid_parameter_value(
            "Portico does not run layers: package the code in the function's zip.",
        ));
    }
    let (answer, _) = mutate(lambda, &scope, &name, |stored| {
        check_revision(stored, req.revision_id.as_deref())?;
        let latest = &mut stored.configuration;
        if let Some(role) = req.role {
            latest.role = Some(role);
        }
        if let Some(handler) = req.handler {
            latest.handler = Some(handler);
        }
        if let Some(description) = req.description {
            latest.description = Some(description);
        }
        if let Some(timeout) = req.timeout {
            latest.timeout = Some(timeout);
        }
        if let Some(memory) = req.memory_size {
            latest.memory_size = Some(memory);
        }
        if let Some(runtime) = req.runtime {
            latest.runtime = Some(runtime);
        }
        // The variables given replace the whole map; `Environment: {}` removes them all.
        if let Some(environment) = req.environment {
            latest.environment = Some(EnvironmentResponse {
                variables: Some(environment.variables.unwrap_or_default()),
                error: None,
            });
        }
        if let Some(mode) = req.tracing_config.and_then(|t| t.mode) {
            latest.tracing_config = Some(TracingConfigResponse { mode: Some(mode) });
        }
        if let Some(storage) = req.ephemeral_storage {
            latest.ephemeral_storage = Some(storage);
        }
        if let Some(logging) = req.logging_config {
            let current = latest.logging_config.get_or_insert_with(Default::default);
            if logging.log_format.is_some() {
                current.log_format = logging.log_format;
            }
            if logging.log_group.is_some() {
                current.log_group = logging.log_group;
            }
            if logging.application_log_level.is_some() {
                current.application_log_level = logging.application_log_level;
            }
            if logging.system_log_level.is_some() {
                current.system_log_level = logging.system_log_level;
            }
        }
        Ok(touch(latest))
    })
    .await?;
    OperationOutput::json(op, &answer)
}
