//! TagResource, UntagResource, ListTags (on functions), and GetAccountSettings.

use std::sync::Arc;

use portico_core::arn::parse_function_name;
use portico_core::{AwsError, Scope};
use portico_model::binding::Operation;
use portico_model::lambda::{
    AccountLimit, AccountUsage, GetAccountSettingsResponse, ListTagsRequest, ListTagsResponse,
    TagResourceRequest, UntagResourceRequest,
};
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::Lambda;
use crate::code::MAX_ZIPPED_BYTES;
use crate::snapshot::mutate;

/// Lambda's limit on the unzipped size of a function and its layers.
const MAX_UNZIPPED_BYTES: i64 = 262_144_000;
/// Lambda's default code storage quota per region (75 GB).
const TOTAL_CODE_SIZE: i64 = 80_530_636_800;
const MAX_TAGS: usize = 50;

/// The function a tagging `Resource` ARN names (functions are the taggable resource here).
fn function_of(scope: &Scope, resource: Option<String>) -> Result<(Scope, String), AwsError> {
    let raw = resource.unwrap_or_default();
    let invalid = || {
        AwsError::validation(format!(
            "1 validation error detected: Value '{raw}' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z]{{2}}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{{1}}:\\d{{12}}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{{17}}|event-source-mapping:[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}})"
        ))
    };
    if !raw.starts_with("arn:") {
        return Err(invalid());
    }
    let reference = parse_function_name(&raw).map_err(|_| invalid())?;
    if reference.qualifier.is_some() {
        return Err(AwsError::invalid_parameter_value(
            "Tags are not supported on function versions or aliases: tag the unqualified function ARN.",
        ));
    }
    let scope = Scope::new(
        reference
            .account_id
            .unwrap_or_else(|| scope.account_id.clone()),
        reference.region.unwrap_or_else(|| scope.region.clone()),
    );
    Ok((scope, reference.name))
}

pub(crate) async fn tag(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: TagResourceRequest = decode(input)?;
    let (scope, name) = function_of(scope, req.resource)?;
    let tags = req.tags.unwrap_or_default();
    mutate(lambda, &scope, &name, |stored| {
        let current = stored.tags.get_or_insert_with(Default::default);
        current.extend(tags);
        if current.len() > MAX_TAGS {
            return Err(AwsError::invalid_parameter_value(format!(
                "Number of tags exceeds resource tag limit of {MAX_TAGS}."
            )));
        }
        Ok(())
    })
    .await?;
    Ok(OperationOutput {
        status: 204,
        ..OperationOutput::empty(op)
    })
}

pub(crate) async fn untag(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UntagResourceRequest = decode(input)?;
    let (scope, name) = function_of(scope, req.resource)?;
    let keys = req.tag_keys.unwrap_or_default();
    mutate(lambda, &scope, &name, |stored| {
        if let Some(tags) = stored.tags.as_mut() {
            for key in &keys {
                tags.remove(key);
            }
            if tags.is_empty() {
                stored.tags = None;
            }
        }
        Ok(())
    })
    .await?;
    Ok(OperationOutput {
        status: 204,
        ..OperationOutput::empty(op)
    })
}

pub(crate) async fn list(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: ListTagsRequest = decode(input)?;
    let (scope, name) = function_of(scope, req.resource)?;
    let function = lambda.existing(&scope, &name)?;
    OperationOutput::json(
        op,
        &ListTagsResponse {
            tags: Some(function.stored.tags.clone().unwrap_or_default()),
        },
    )
}

pub(crate) async fn account_settings(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
) -> Result<OperationOutput, AwsError> {
    let functions = lambda.registry.list(&scope.account_id, &scope.region);
    let code: i64 = functions.iter().map(|f| f.stored.code_size()).sum();
    OperationOutput::json(
        op,
        &GetAccountSettingsResponse {
            account_limit: Some(AccountLimit {
                total_code_size: Some(TOTAL_CODE_SIZE),
                code_size_unzipped: Some(MAX_UNZIPPED_BYTES),
                code_size_zipped: Some(MAX_ZIPPED_BYTES as i64),
                concurrent_executions: Some(lambda.account.limit() as i32),
                unreserved_concurrent_executions: Some(lambda.account.unreserved() as i32),
            }),
            account_usage: Some(AccountUsage {
                total_code_size: Some(code),
                function_count: Some(functions.len() as i64),
            }),
        },
    )
}
