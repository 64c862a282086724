//! Function URLs: CreateFunctionUrlConfig, GetFunctionUrlConfig, UpdateFunctionUrlConfig,
//! DeleteFunctionUrlConfig, ListFunctionUrlConfigs. Serving a URL is in `url_invoke`.

use std::sync::Arc;

use portico_core::{AwsError, Scope};
use portico_model::binding::Operation;
use portico_model::lambda::{
    CreateFunctionUrlConfigRequest, CreateFunctionUrlConfigResponse,
    DeleteFunctionUrlConfigRequest, FunctionUrlConfig, GetFunctionUrlConfigRequest,
    GetFunctionUrlConfigResponse, ListFunctionUrlConfigsRequest, ListFunctionUrlConfigsResponse,
    UpdateFunctionUrlConfigRequest, UpdateFunctionUrlConfigResponse,
};
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::Lambda;
use crate::function::{not_found, resolve_unqualified};
use crate::snapshot::mutate;
use crate::state::{StoredFunction, is_version_number};

fn url_not_found() -> AwsError {
    AwsError::resource_not_found("The resource you requested does not exist.")
}

/// `2021-10-31T18:21:48.123456Z`, the form Lambda reports URL timestamps in.
fn timestamp_now() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.microsecond()
    )
}

fn check_auth_type(auth: Option<&str>) -> Result<(), AwsError> {
    match auth {
        Some("NONE" | "AWS_IAM") | None => Ok(()),
        Some(other) => Err(AwsError::validation(format!(
            "1 validation error detected: Value '{other}' at 'authType' failed to satisfy constraint: Member must satisfy enum value set: [NONE, AWS_IAM]"
        ))),
    }
}

fn check_invoke_mode(mode: Option<&str>) -> Result<(), AwsError> {
    match mode {
        Some("BUFFERED") | None => Ok(()),
        Some("RESPONSE_STREAM") => Err(AwsError::invalid_parameter_value(
            "Portico answers function URLs buffered only: InvokeMode RESPONSE_STREAM is not supported.",
        )),
        Some(other) => Err(AwsError::validation(format!(
            "1 validation error detected: Value '{other}' at 'invokeMode' failed to satisfy constraint: Member must satisfy enum value set: [BUFFERED, RESPONSE_STREAM]"
        ))),
    }
}

/// The key a URL qualifier is stored under: `""` for the function, else an existing alias.
fn url_key(
    scope: &Scope,
    stored: &StoredFunction,
    qualifier: Option<&str>,
) -> Result<String, AwsError> {
    let Some(q) = qualifier else {
        return Ok(String::new());
    };
    let valid = !q.is_empty()
        && !is_version_number(q)
        && q.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(AwsError::validation(format!(
            "1 validation error detected: Value '{q}' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)"
        )));
    }
    if !stored.aliases.contains_key(q) {
        let name = stored
            .configuration
            .function_name
            .as_deref()
            .unwrap_or_default();
        return Err(not_found(scope, name, Some(q)));
    }
    Ok(q.to_owned())
}

pub(crate) async fn create(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: CreateFunctionUrlConfigRequest = decode(input)?;
    let (scope, name) = resolve_unqualified(scope, req.function_name)?;
    let auth = req.auth_type.ok_or_else(|| {
        AwsError::validation("1 validation error detected: Value null at 'authType' failed to satisfy constraint: Member must not be null")
    })?;
    check_auth_type(Some(&auth))?;
    check_invoke_mode(req.invoke_mode.as_deref())?;
    let (config, _) = mutate(lambda, &scope, &name, |stored| {
        let key = url_key(&scope, stored, req.qualifier.as_deref())?;
        let base = stored.configuration.function_arn.clone().unwrap_or_default();
        let arn = if key.is_empty() {
            base
        } else {
            format!("{base}:{key}")
        };
        if stored.urls.contains_key(&key) {
            return Err(AwsError::resource_conflict(format!(
                "Failed to create function url config for [functionArn = {arn}]. Error message:  FunctionUrlConfig exists for this Lambda function"
            )));
        }
        let id = portico_core::ids::alphanumeric_id(32).to_ascii_lowercase();
        let now = timestamp_now();
        let config = FunctionUrlConfig {
            function_url: Some(format!("https://{id}.lambda-url.{}.on.aws/", scope.region)),
            function_arn: Some(arn),
            creation_time: Some(now.clone()),
            last_modified_time: Some(now),
            cors: req.cors,
            auth_type: Some(auth),
            invoke_mode: Some(req.invoke_mode.unwrap_or_else(|| "BUFFERED".to_owned())),
        };
        stored.urls.insert(key, config.clone());
        Ok(config)
    })
    .await?;
    OperationOutput::json(
        op,
        &CreateFunctionUrlConfigResponse {
            function_url: config.function_url,
            function_arn: config.function_arn,
            auth_type: config.auth_type,
            cors: config.cors,
            creation_time: config.creation_time,
            invoke_mode: config.invoke_mode,
        },
    )
}

pub(crate) async fn get(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetFunctionUrlConfigRequest = decode(input)?;
    let (scope, name) = resolve_unqualified(scope, req.function_name)?;
    let function = lambda.existing(&scope, &name)?;
    let key = url_key(&scope, &function.stored, req.qualifier.as_deref())?;
    let config = function.stored.urls.get(&key).ok_or_else(url_not_found)?;
    OperationOutput::json(
        op,
        &GetFunctionUrlConfigResponse {
            function_url: config.function_url.clone(),
            function_arn: config.function_arn.clone(),
            auth_type: config.auth_type.clone(),
            cors: config.cors.clone(),
            creation_time: config.creation_time.clone(),
            last_modified_time: config.last_modified_time.clone(),
            invoke_mode: config.invoke_mode.clone(),
        },
    )
}

pub(crate) async fn update(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UpdateFunctionUrlConfigRequest = decode(input)?;
    let (scope, name) = resolve_unqualified(scope, req.function_name)?;
    check_auth_type(req.auth_type.as_deref())?;
    check_invoke_mode(req.invoke_mode.as_deref())?;
    let (config, _) = mutate(lambda, &scope, &name, |stored| {
        let key = url_key(&scope, stored, req.qualifier.as_deref())?;
        let config = stored.urls.get_mut(&key).ok_or_else(url_not_found)?;
        if let Some(auth) = req.auth_type {
            config.auth_type = Some(auth);
        }
        if let Some(cors) = req.cors {
            config.cors = Some(cors);
        }
        if let Some(mode) = req.invoke_mode {
            config.invoke_mode = Some(mode);
        }
        config.last_modified_time = Some(timestamp_now());
        Ok(config.clone())
    })
    .await?;
    OperationOutput::json(
        op,
        &UpdateFunctionUrlConfigResponse {
            function_url: config.function_url,
            function_arn: config.function_arn,
            auth_type: config.auth_type,
            cors: config.cors,
            creation_time: config.creation_time,
            last_modified_time: config.last_modified_time,
            invoke_mode: config.invoke_mode,
        },
    )
}

pub(crate) async fn delete(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteFunctionUrlConfigRequest = decode(input)?;
    let (scope, name) = resolve_unqualified(scope, req.function_name)?;
    mutate(lambda, &scope, &name, |stored| {
        let key = url_key(&scope, stored, req.qualifier.as_deref())?;
        stored.urls.remove(&key).ok_or_else(url_not_found)?;
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
    let req: ListFunctionUrlConfigsRequest = decode(input)?;
    let (scope, name) = resolve_unqualified(scope, req.function_name)?;
    let function = lambda.existing(&scope, &name)?;
    let max_items = req.max_items.unwrap_or(50).clamp(1, 50) as usize;
    let all: Vec<&FunctionUrlConfig> = function.stored.urls.values().collect();
    let start = match req.marker.as_deref() {
        None | Some("") => 0,
        Some(marker) => all
            .iter()
            .position(|c| c.function_arn.as_deref() == Some(marker))
            .ok_or_else(|| AwsError::invalid_parameter_value("Invalid marker"))?,
    };
    let page = all
        .iter()
        .skip(start)
        .take(max_items)
        .map(|c| (*c).clone())
        .collect();
    let next_marker = all
        .get(start + max_items)
        .and_then(|c| c.function_arn.clone());
    OperationOutput::json(
        op,
        &ListFunctionUrlConfigsResponse {
            function_url_configs: Some(page),
            next_marker,
        },
    )
}
