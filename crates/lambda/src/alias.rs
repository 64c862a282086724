//! CreateAlias, GetAlias, ListAliases, UpdateAlias, DeleteAlias.
//!
//! An alias names a version (or `$LATEST`), optionally with a second version taking a
//! weighted share of invocations; invocations through it run the version it resolves to.

use std::sync::Arc;

use portico_core::{AwsError, Scope};
use portico_model::binding::Operation;
use portico_model::lambda::{
    AliasConfiguration, AliasRoutingConfiguration, CreateAliasRequest, DeleteAliasRequest,
    GetAliasRequest, ListAliasesRequest, ListAliasesResponse, UpdateAliasRequest,
};
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::Lambda;
use crate::function::{not_found, resolve_unqualified};
use crate::snapshot::mutate;
use crate::state::{StoredFunction, is_version_number};
use crate::update::revision_mismatch;

const ALIAS_PATTERN: &str = "(?!^[0-9]+$)([a-zA-Z0-9-_]+)";

fn check_name(name: Option<String>) -> Result<String, AwsError> {
    let name = name.ok_or_else(|| {
        AwsError::validation("1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null")
    })?;
    if name.len() > 128 {
        return Err(AwsError::validation(format!(
            "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 128"
        )));
    }
    let valid = !name.is_empty()
        && !is_version_number(&name)
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(AwsError::validation(format!(
            "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: {ALIAS_PATTERN}"
        )));
    }
    Ok(name)
}

fn alias_arn(stored: &StoredFunction, name: &str) -> String {
    format!(
        "{}:{name}",
        stored
            .configuration
            .function_arn
            .as_deref()
            .unwrap_or_default()
    )
}

fn alias_not_found(stored: &StoredFunction, name: &str) -> AwsError {
    AwsError::resource_not_found(format!(
        "Cannot find alias arn: {}",
        alias_arn(stored, name)
    ))
}

/// The version an alias may point at must exist; its routing may add one other published
/// version with a weight between 0 and 1.
fn check_target(
    scope: &Scope,
    stored: &StoredFunction,
    version: &str,
    routing: Option<&AliasRoutingConfiguration>,
) -> Result<(), AwsError> {
    let name = stored
        .configuration
        .function_name
        .as_deref()
        .unwrap_or_default();
    if version != "$LATEST" && stored.version(version).is_none() {
        return Err(not_found(scope, name, Some(version)));
    }
    let Some(weights) = routing.and_then(|r| r.additional_version_weights.as_ref()) else {
        return Ok(());
    };
    if weights.len() > 1 {
        return Err(AwsError::invalid_parameter_value(
            "Number of items in AdditionalVersionWeights cannot be greater than 1",
        ));
    }
    for (other, weight) in weights {
        if version == "$LATEST" || other == "$LATEST" {
            return Err(AwsError::invalid_parameter_value(
                "$LATEST is not supported for an alias pointing to more than 1 version",
            ));
        }
        if !(0.0..=1.0).contains(weight) {
            return Err(AwsError::validation(format!(
                "1 validation error detected: Value '{{{other}={weight}}}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]"
            )));
        }
        if other == version {
            return Err(AwsError::invalid_parameter_value(format!(
                "Invalid function version {other}. Function version {other} is already included in routing configuration."
            )));
        }
        if stored.version(other).is_none() {
            return Err(not_found(scope, name, Some(other)));
        }
    }
    Ok(())
}

pub(crate) async fn create(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: CreateAliasRequest = decode(input)?;
    let (scope, function) = resolve_unqualified(scope, req.function_name)?;
    let name = check_name(req.name)?;
    let version = req.function_version.ok_or_else(|| {
        AwsError::validation("1 validation error detected: Value null at 'functionVersion' failed to satisfy constraint: Member must not be null")
    })?;
    let (alias, _) = mutate(lambda, &scope, &function, |stored| {
        if stored.aliases.contains_key(&name) {
            return Err(AwsError::resource_conflict(format!(
                "Alias already exists: {}",
                alias_arn(stored, &name)
            )));
        }
        check_target(&scope, stored, &version, req.routing_config.as_ref())?;
        let alias = AliasConfiguration {
            alias_arn: Some(alias_arn(stored, &name)),
            name: Some(name.clone()),
            function_version: Some(version),
            description: Some(req.description.unwrap_or_default()),
            routing_config: req.routing_config,
            revision_id: Some(portico_core::ids::request_id()),
        };
        stored.aliases.insert(name.clone(), alias.clone());
        Ok(alias)
    })
    .await?;
    OperationOutput::json(op, &alias)
}

pub(crate) async fn get(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetAliasRequest = decode(input)?;
    let (scope, function) = resolve_unqualified(scope, req.function_name)?;
    let name = check_name(req.name)?;
    let function = lambda.existing(&scope, &function)?;
    let alias = function
        .stored
        .aliases
        .get(&name)
        .ok_or_else(|| alias_not_found(&function.stored, &name))?;
    OperationOutput::json(op, alias)
}

pub(crate) async fn list(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: ListAliasesRequest = decode(input)?;
    let (scope, function) = resolve_unqualified(scope, req.function_name)?;
    let function = lambda.existing(&scope, &function)?;
    let max_items = match req.max_items {
        None => 50,
        Some(n) if (1..=10_000).contains(&n) => (n as usize).min(50),
        Some(n) => {
            return Err(AwsError::validation(format!(
                "1 validation error detected: Value '{n}' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1"
            )));
        }
    };
    let all: Vec<&AliasConfiguration> = function
        .stored
        .aliases
        .values()
        .filter(|a| req.function_version.is_none() || a.function_version == req.function_version)
        .collect();
    let start = match req.marker.as_deref() {
        None | Some("") => 0,
        Some(marker) => all
            .iter()
            .position(|a| a.name.as_deref() == Some(marker))
            .ok_or_else(|| AwsError::invalid_parameter_value("Invalid marker"))?,
    };
    let page = all
        .iter()
        .skip(start)
        .take(max_items)
        .map(|a| (*a).clone())
        .collect();
    let next_marker = all.get(start + max_items).and_then(|a| a.name.clone());
    OperationOutput::json(
        op,
        &ListAliasesResponse {
            aliases: Some(page),
            next_marker,
        },
    )
}

pub(crate) async fn update(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UpdateAliasRequest = decode(input)?;
    let (scope, function) = resolve_unqualified(scope, req.function_name)?;
    let name = check_name(req.name)?;
    let (alias, _) = mutate(lambda, &scope, &function, |stored| {
        let mut alias = stored
            .aliases
            .get(&name)
            .cloned()
            .ok_or_else(|| alias_not_found(stored, &name))?;
        if let Some(given) = req.revision_id.as_deref()
            && alias.revision_id.as_deref() != Some(given)
        {
            return Err(revision_mismatch());
        }
        if let Some(version) = req.function_version {
            alias.function_version = Some(version);
        }
        if let Some(description) = req.description {
            alias.description = Some(description);
        }
        if let Some(routing) = req.routing_config {
            // An empty weight map removes the routing, as Lambda's console does.
            alias.routing_config = routing
                .additional_version_weights
                .as_ref()
                .is_some_and(|w| !w.is_empty())
                .then_some(routing);
        }
        let version = alias.function_version.clone().unwrap_or_default();
        check_target(&scope, stored, &version, alias.routing_config.as_ref())?;
        alias.revision_id = Some(portico_core::ids::request_id());
        stored.aliases.insert(name.clone(), alias.clone());
        Ok(alias)
    })
    .await?;
    OperationOutput::json(op, &alias)
}

pub(crate) async fn delete(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteAliasRequest = decode(input)?;
    let (scope, function) = resolve_unqualified(scope, req.function_name)?;
    let name = check_name(req.name)?;
    mutate(lambda, &scope, &function, |stored| {
        stored
            .aliases
            .remove(&name)
            .ok_or_else(|| alias_not_found(stored, &name))?;
        stored.policies.remove(&name);
        stored.urls.remove(&name);
        Ok(())
    })
    .await?;
    Ok(OperationOutput {
        status: 204,
        ..OperationOutput::empty(op)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_names() {
        assert_eq!(check_name(Some("live".into())).unwrap(), "live");
        let e = check_name(Some("12".into())).unwrap_err();
        assert_eq!(
            e.message,
            "1 validation error detected: Value '12' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"
        );
        assert!(check_name(Some("a.b".into())).is_err());
    }
}
