//! PublishVersion, ListVersionsByFunction, and deleting a version (DeleteFunction with a
//! version qualifier).
//!
//! A version is an immutable snapshot of `$LATEST`'s code and configuration, numbered
//! `1, 2, …` (never reused), with its own ARN `…:function:name:N` and its own warm pool.

use std::sync::Arc;

use portico_core::{AwsError, Scope};
use portico_model::binding::Operation;
use portico_model::lambda::{
    FunctionConfiguration, ListVersionsByFunctionRequest, ListVersionsByFunctionResponse,
    PublishVersionRequest,
};
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::Lambda;
use crate::code::remove_unused;
use crate::function::{not_found, resolve_unqualified};
use crate::snapshot::{mutate, mutate_locked, packages_in_use};
use crate::state::{StoredFunction, same_content};
use crate::update::check_revision;

/// Publishes `$LATEST` as the next version and returns it, or returns the newest version
/// unchanged when `$LATEST` has not changed since it was published (Lambda does not publish
/// twice the same code and configuration).
pub(crate) fn snapshot(
    stored: &mut StoredFunction,
    description: Option<String>,
) -> FunctionConfiguration {
    if let Some(last) = stored.versions.last()
        && same_content(last, &stored.configuration)
    {
        return last.clone();
    }
    let number = stored.last_version + 1;
    let latest = &stored.configuration;
    let version = FunctionConfiguration {
        function_arn: latest
            .function_arn
            .as_ref()
            .map(|a| format!("{a}:{number}")),
        version: Some(number.to_string()),
        revision_id: Some(portico_core::ids::request_id()),
        description: description.or_else(|| latest.description.clone()),
        state: Some("Active".to_owned()),
        last_update_status: Some("Successful".to_owned()),
        last_update_status_reason: None,
        last_update_status_reason_code: None,
        ..latest.clone()
    };
    stored.last_version = number;
    stored.versions.push(version.clone());
    version
}

pub(crate) async fn publish(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: PublishVersionRequest = decode(input)?;
    let (scope, name) = resolve_unqualified(scope, req.function_name)?;
    let (version, _) = mutate(lambda, &scope, &name, |stored| {
        check_revision(stored, req.revision_id.as_deref())?;
        let current = stored.configuration.code_sha256.clone().unwrap_or_default();
        if let Some(given) = req.code_sha256.as_deref()
            && given != current
        {
            return Err(AwsError::invalid_parameter_value(format!(
                "CodeSHA256 ({given}) is different from current CodeSHA256 in $LATEST ({current}). Please try again with the CodeSHA256 in $LATEST."
            )));
        }
        Ok(snapshot(stored, req.description))
    })
    .await?;
    OperationOutput::json(op, &version)
}

pub(crate) async fn list(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: ListVersionsByFunctionRequest = decode(input)?;
    let (scope, name) = resolve_unqualified(scope, req.function_name)?;
    let function = lambda.existing(&scope, &name)?;
    let max_items = match req.max_items {
        None => 50,
        Some(n) if (1..=10_000).contains(&n) => (n as usize).min(50),
        Some(n) => {
            return Err(AwsError::validation(format!(
                "1 validation error detected: Value '{n}' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1"
            )));
        }
    };
    let all: Vec<&FunctionConfiguration> = std::iter::once(&function.stored.configuration)
        .chain(function.stored.versions.iter())
        .collect();
    let start = match req.marker.as_deref() {
        None | Some("") => 0,
        Some(marker) => all
            .iter()
            .position(|c| c.version.as_deref() == Some(marker))
            .ok_or_else(|| AwsError::invalid_parameter_value("Invalid marker"))?,
    };
    let page: Vec<FunctionConfiguration> = all
        .iter()
        .skip(start)
        .take(max_items)
        .map(|c| (*c).clone())
        .collect();
    let next_marker = all.get(start + max_items).and_then(|c| c.version.clone());
    OperationOutput::json(
        op,
        &ListVersionsByFunctionResponse {
            versions: Some(page),
            next_marker,
        },
    )
}

/// Deletes one published version; refused while an alias points at it.
pub(crate) async fn delete_version(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    name: &str,
    number: &str,
) -> Result<(), AwsError> {
    let guard = lambda.writes.lock().await;
    let (_, function) = mutate_locked(lambda, &guard, scope, name, |stored| {
        let index = stored
            .versions
            .iter()
            .position(|v| v.version.as_deref() == Some(number))
            .ok_or_else(|| not_found(scope, name, Some(number)))?;
        let users: Vec<&str> = stored
            .aliases
            .values()
            .filter(|a| {
                a.function_version.as_deref() == Some(number)
                    || a.routing_config
                        .as_ref()
                        .and_then(|r| r.additional_version_weights.as_ref())
                        .is_some_and(|w| w.contains_key(number))
            })
            .filter_map(|a| a.name.as_deref())
            .collect();
        if !users.is_empty() {
            return Err(AwsError::resource_conflict(format!(
                "Unable to delete version because the following aliases reference it: [{}]",
                users.join(", ")
            )));
        }
        stored.versions.remove(index);
        stored.policies.remove(number);
        Ok(())
    })
    .await?;
    remove_unused(function.dir.clone(), packages_in_use(&function.stored)).await;
    Ok(())
}
