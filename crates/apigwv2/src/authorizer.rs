//! CreateAuthorizer, GetAuthorizer(s), UpdateAuthorizer, DeleteAuthorizer: Lambda (`REQUEST`)
//! and `JWT` authorizers, stored in the API document so a deployment freezes them with the
//! routes that use them.

use portico_core::{AwsError, ids};
use portico_model::apigatewayv2::{
    Authorizer, Authorizers, CreateAuthorizerRequest, DeleteAuthorizerRequest,
    GetAuthorizerRequest, GetAuthorizersRequest, UpdateAuthorizerRequest,
};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::Call;
use crate::doc::{ApiDoc, paginate, required};

pub(crate) fn authorizer_not_found(id: &str) -> AwsError {
    AwsError::not_found(format!("Invalid Authorizer identifier specified {id}"))
}

/// Checks an authorizer against its type's rules and fills AWS's defaults.
fn normalize(doc: &ApiDoc, authorizer: &mut Authorizer) -> Result<(), AwsError> {
    let kind = authorizer.authorizer_type.clone().unwrap_or_default();
    match (kind.as_str(), doc.is_websocket()) {
        ("REQUEST", _) | ("JWT", false) => {}
        _ => {
            return Err(AwsError::bad_request(format!(
                "Invalid authorizer type {kind}. Valid options are REQUEST{}",
                if doc.is_websocket() { "" } else { ", JWT" }
            )));
        }
    }
    let sources = authorizer.identity_source.clone().unwrap_or_default();
    if kind == "JWT" {
        let issuer = authorizer
            .jwt_configuration
            .as_ref()
            .and_then(|c| c.issuer.as_deref());
        if issuer.is_none_or(str::is_empty) {
            return Err(AwsError::bad_request(
                "JwtConfiguration with an Issuer is required for JWT authorizers",
            ));
        }
        if sources.len() != 1 {
            return Err(AwsError::bad_request(
                "A JWT authorizer takes exactly one identity source",
            ));
        }
        return Ok(());
    }
    if authorizer
        .authorizer_uri
        .as_deref()
        .is_none_or(str::is_empty)
    {
        return Err(AwsError::bad_request(
            "AuthorizerUri is a required parameter for REQUEST authorizer",
        ));
    }
    if doc.is_websocket() {
        return Ok(());
    }
    let version = authorizer
        .authorizer_payload_format_version
        .clone()
        .ok_or_else(|| {
            AwsError::bad_request(
                "AuthorizerPayloadFormatVersion is a required parameter for REQUEST authorizer",
            )
        })?;
    if version != "1.0" && version != "2.0" {
        return Err(AwsError::bad_request(format!(
            "Invalid AuthorizerPayloadFormatVersion {version}. Valid options are 1.0, 2.0"
        )));
    }
    if authorizer.enable_simple_responses == Some(true) && version != "2.0" {
        return Err(AwsError::bad_request(
            "EnableSimpleResponses is supported only with AuthorizerPayloadFormatVersion 2.0",
        ));
    }
    authorizer.enable_simple_responses.get_or_insert(false);
    let ttl = *authorizer.authorizer_result_ttl_in_seconds.get_or_insert(0);
    if !(0..=3600).contains(&ttl) {
        return Err(AwsError::bad_request(
            "AuthorizerResultTtlInSeconds must be between 0 and 3600",
        ));
    }
    if ttl > 0 && sources.is_empty() {
        return Err(AwsError::bad_request(
            "Identity source is required when caching is enabled",
        ));
    }
    Ok(())
}

pub(crate) async fn create(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: CreateAuthorizerRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let mut authorizer = Authorizer {
        authorizer_credentials_arn: req.authorizer_credentials_arn,
        authorizer_id: Some(ids::short_id()),
        authorizer_payload_format_version: req.authorizer_payload_format_version,
        authorizer_result_ttl_in_seconds: req.authorizer_result_ttl_in_seconds,
        authorizer_type: Some(required(req.authorizer_type, "AuthorizerType")?),
        authorizer_uri: req.authorizer_uri,
        enable_simple_responses: req.enable_simple_responses,
        identity_source: req.identity_source,
        identity_validation_expression: req.identity_validation_expression,
        jwt_configuration: req.jwt_configuration,
        name: Some(required(req.name, "Name")?),
    };
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    normalize(&doc, &mut authorizer)?;
    doc.authorizers.push(authorizer.clone());
    call.save_api(&doc, Some(version)).await?;
    call.auto_deploy(&doc).await?;
    OperationOutput::json(op, &authorizer)
}

pub(crate) async fn get(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetAuthorizerRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let id = required(req.authorizer_id, "AuthorizerId")?;
    let (doc, _) = call.load_api(&api_id).await?;
    let authorizer = doc
        .authorizers
        .iter()
        .find(|a| a.authorizer_id.as_deref() == Some(id.as_str()))
        .ok_or_else(|| authorizer_not_found(&id))?;
    OperationOutput::json(op, authorizer)
}

pub(crate) async fn list(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetAuthorizersRequest = decode(input)?;
    let (doc, _) = call.load_api(&required(req.api_id, "ApiId")?).await?;
    let (items, next_token) = paginate(
        doc.authorizers,
        |a| a.authorizer_id.as_deref(),
        req.next_token.as_deref(),
        req.max_results.as_deref(),
    )?;
    OperationOutput::json(
        op,
        &Authorizers {
            items: Some(items),
            next_token,
        },
    )
}

pub(crate) async fn update(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UpdateAuthorizerRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let id = required(req.authorizer_id, "AuthorizerId")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    let position = doc
        .authorizers
        .iter()
        .position(|a| a.authorizer_id.as_deref() == Some(id.as_str()))
        .ok_or_else(|| authorizer_not_found(&id))?;
    let mut next = doc.authorizers[position].clone();
    macro_rules! set {
        ($($field:ident),*) => { $( if let Some(v) = req.$field { next.$field = Some(v); } )* };
    }
    set!(
        authorizer_credentials_arn,
        authorizer_payload_format_version,
        authorizer_result_ttl_in_seconds,
        authorizer_type,
        authorizer_uri,
        enable_simple_responses,
        identity_source,
        identity_validation_expression,
        jwt_configuration,
        name
    );
    normalize(&doc, &mut next)?;
    doc.authorizers[position] = next.clone();
    call.save_api(&doc, Some(version)).await?;
    call.auto_deploy(&doc).await?;
    OperationOutput::json(op, &next)
}

pub(crate) async fn delete(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteAuthorizerRequest = decode(input)?;
    let api_id = required(req.api_id, "ApiId")?;
    let id = required(req.authorizer_id, "AuthorizerId")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    let before = doc.authorizers.len();
    doc.authorizers
        .retain(|a| a.authorizer_id.as_deref() != Some(id.as_str()));
    if doc.authorizers.len() == before {
        return Err(authorizer_not_found(&id));
    }
    if doc
        .routes
        .iter()
        .any(|r| r.authorizer_id.as_deref() == Some(id.as_str()))
    {
        return Err(AwsError::conflict(format!(
            "Authorizer {id} is in use by a route and cannot be deleted"
        )));
    }
    call.save_api(&doc, Some(version)).await?;
    call.auto_deploy(&doc).await?;
    Ok(OperationOutput::empty(op))
}
