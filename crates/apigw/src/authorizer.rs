//! Authorizers of a REST API (Create/Get/GetAll/Update/Delete): Lambda `TOKEN` and `REQUEST`
//! authorizers and Cognito user-pool authorizers. They live in the API document and are frozen
//! with it at deployment, so a stage serves the authorizers it was deployed with. Running them
//! is the data plane's business (`portico-dataplane`'s `authorizer` module).

use portico_core::arn::parse_lambda_integration_uri;
use portico_core::{AwsError, ids};
use portico_model::apigateway::{
    Authorizer, Authorizers, CreateAuthorizerRequest, DeleteAuthorizerRequest,
    GetAuthorizerRequest, GetAuthorizersRequest, UpdateAuthorizerRequest,
};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::Call;
use crate::doc::{ApiDoc, required};
use crate::page::paginate;

const TYPES: &[&str] = &["TOKEN", "REQUEST", "COGNITO_USER_POOLS"];
/// What a `TOKEN` authorizer reads when no identity source is given.
const DEFAULT_TOKEN_SOURCE: &str = "method.request.header.Authorization";
/// Seconds a result is cached when `authorizerResultTtlInSeconds` is not given.
const DEFAULT_TTL: i32 = 300;
const MAX_TTL: i32 = 3600;

pub(crate) fn authorizer_not_found() -> AwsError {
    AwsError::not_found("Invalid Authorizer identifier specified")
}

impl ApiDoc {
    pub fn authorizer(&self, id: &str) -> Result<&Authorizer, AwsError> {
        self.authorizers
            .iter()
            .find(|a| a.id.as_deref() == Some(id))
            .ok_or_else(authorizer_not_found)
    }

    /// `{METHOD}/{path}` of the first method that authorizes with `id`, as the conflict on
    /// delete names it.
    fn method_using(&self, id: &str) -> Option<String> {
        self.resources.iter().find_map(|resource| {
            resource
                .resource_methods
                .iter()
                .flatten()
                .find(|(_, m)| m.authorizer_id.as_deref() == Some(id))
                .map(|(verb, _)| format!("{verb}/{}", resource.path.as_deref().unwrap_or("/")))
        })
    }
}

fn check_type(kind: &str, input: &str) -> Result<(), AwsError> {
    if TYPES.contains(&kind) {
        return Ok(());
    }
    Err(AwsError::bad_request(format!(
        "1 validation error detected: Value '{kind}' at '{input}.type' failed to satisfy constraint: Member must satisfy enum value set: [TOKEN, REQUEST, COGNITO_USER_POOLS]"
    )))
}

/// One `identitySource` entry of a `REQUEST` authorizer: a header, query string, stage
/// variable or context variable, each with a name.
fn request_source_valid(source: &str) -> bool {
    [
        "method.request.header.",
        "method.request.querystring.",
        "method.request.multivalueheader.",
        "method.request.multivaluequerystring.",
        "stageVariables.",
        "context.",
    ]
    .iter()
    .any(|prefix| source.strip_prefix(prefix).is_some_and(|n| !n.is_empty()))
}

/// The checks AWS makes of a whole authorizer, on create and after every update.
fn validate(authorizer: &Authorizer) -> Result<(), AwsError> {
    let kind = authorizer.r#type.as_deref().unwrap_or_default();
    let ttl = authorizer.authorizer_result_ttl_in_seconds.unwrap_or(0);
    if !(0..=MAX_TTL).contains(&ttl) {
        return Err(AwsError::bad_request(
            "Invalid Authorizer ttl specified. Value must be between 0 and 3600.",
        ));
    }
    if kind == "COGNITO_USER_POOLS" {
        if authorizer.provider_arns.as_ref().is_none_or(Vec::is_empty) {
            return Err(AwsError::bad_request(
                "ProviderARNs need to be specified for COGNITO_USER_POOLS authorizer",
            ));
        }
        return Ok(());
    }
    let uri = authorizer.authorizer_uri.as_deref().unwrap_or_default();
    if uri.is_empty() {
        return Err(AwsError::bad_request(format!(
            "Authorizer URI must be specified for authorizer of type {kind}"
        )));
    }
    if parse_lambda_integration_uri(uri).is_none() {
        return Err(AwsError::bad_request(format!(
            "Invalid Authorizer URI specified: {uri}"
        )));
    }
    let sources = authorizer.identity_source.as_deref().unwrap_or_default();
    match kind {
        "TOKEN" => {
            let valid = sources
                .strip_prefix("method.request.header.")
                .is_some_and(|name| !name.is_empty() && !name.contains(','));
            if !valid {
                return Err(AwsError::bad_request(format!(
                    "Invalid identity source specified: {sources}. It must be a method request header (method.request.header.<name>)"
                )));
            }
            if let Some(expression) = authorizer.identity_validation_expression.as_deref()
                && regex::Regex::new(expression).is_err()
            {
                return Err(AwsError::bad_request(format!(
                    "Invalid identity validation expression specified: {expression}"
                )));
            }
        }
        _ => {
            if sources.is_empty() {
                if ttl > 0 {
                    return Err(AwsError::bad_request(
                        "Identity source must be specified for REQUEST authorizer when caching is enabled (authorizerResultTtlInSeconds > 0)",
                    ));
                }
            } else if let Some(bad) = sources
                .split(',')
                .map(str::trim)
                .find(|s| !request_source_valid(s))
            {
                return Err(AwsError::bad_request(format!(
                    "Invalid identity source specified: {bad}"
                )));
            }
        }
    }
    Ok(())
}

pub(crate) async fn create(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: CreateAuthorizerRequest = decode(input)?;
    let input_name = "createAuthorizerInput";
    let api_id = required(req.rest_api_id, input_name, "restApiId")?;
    let name = required(req.name, input_name, "name")?;
    let kind = required(req.r#type, input_name, "type")?;
    check_type(&kind, input_name)?;
    let identity_source = match (kind.as_str(), req.identity_source) {
        ("TOKEN", None) => Some(DEFAULT_TOKEN_SOURCE.to_owned()),
        (_, source) => source,
    };
    let authorizer = Authorizer {
        id: Some(ids::short_id()),
        name: Some(name),
        r#type: Some(kind),
        provider_arns: req.provider_arns,
        auth_type: req.auth_type,
        authorizer_uri: req.authorizer_uri,
        authorizer_credentials: req.authorizer_credentials,
        identity_source,
        identity_validation_expression: req.identity_validation_expression,
        authorizer_result_ttl_in_seconds: Some(
            req.authorizer_result_ttl_in_seconds.unwrap_or(DEFAULT_TTL),
        ),
    };
    validate(&authorizer)?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    doc.authorizers.push(authorizer.clone());
    call.save_api(&doc, Some(version)).await?;
    OperationOutput::json(op, &authorizer)
}

pub(crate) async fn get(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetAuthorizerRequest = decode(input)?;
    let input_name = "getAuthorizerInput";
    let api_id = required(req.rest_api_id, input_name, "restApiId")?;
    let id = required(req.authorizer_id, input_name, "authorizerId")?;
    let (doc, _) = call.load_api(&api_id).await?;
    OperationOutput::json(op, doc.authorizer(&id)?)
}

pub(crate) async fn list(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetAuthorizersRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "getAuthorizersInput", "restApiId")?;
    let (doc, _) = call.load_api(&api_id).await?;
    let (items, position) = paginate(
        doc.authorizers,
        |a| a.id.as_deref(),
        req.position.as_deref(),
        req.limit,
    )?;
    OperationOutput::json(
        op,
        &Authorizers {
            position,
            items: Some(items),
        },
    )
}

/// One `replace` (or `add`/`remove` on `/providerARNs`) applied to an authorizer.
fn apply(authorizer: &mut Authorizer, op: &str, path: &str, value: Option<String>) -> bool {
    let text = || value.clone().filter(|v| !v.is_empty());
    match (op, path) {
        ("replace", "/name") => authorizer.name = value,
        ("replace", "/type") => authorizer.r#type = value,
        ("replace", "/authType") => authorizer.auth_type = text(),
        ("replace", "/authorizerUri") => authorizer.authorizer_uri = text(),
        ("replace", "/authorizerCredentials") => authorizer.authorizer_credentials = text(),
        ("replace", "/identitySource") => authorizer.identity_source = text(),
        ("replace", "/identityValidationExpression") => {
            authorizer.identity_validation_expression = text()
        }
        ("replace", "/authorizerResultTtlInSeconds") => {
            // A value that is not a number is refused by the range check below.
            authorizer.authorizer_result_ttl_in_seconds = Some(
                value
                    .as_deref()
                    .and_then(|v| v.parse::<i32>().ok())
                    .unwrap_or(-1),
            )
        }
        ("add", "/providerARNs") => {
            if let Some(arn) = value {
                authorizer
                    .provider_arns
                    .get_or_insert_with(Vec::new)
                    .push(arn);
            }
        }
        ("remove", "/providerARNs") => {
            if let (Some(arn), Some(list)) = (value, authorizer.provider_arns.as_mut()) {
                list.retain(|a| *a != arn);
            }
        }
        _ => return false,
    }
    true
}

pub(crate) async fn update(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UpdateAuthorizerRequest = decode(input)?;
    let input_name = "updateAuthorizerInput";
    let api_id = required(req.rest_api_id, input_name, "restApiId")?;
    let id = required(req.authorizer_id, input_name, "authorizerId")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    let authorizer = doc
        .authorizers
        .iter_mut()
        .find(|a| a.id.as_deref() == Some(id.as_str()))
        .ok_or_else(authorizer_not_found)?;
    let mut updated = authorizer.clone();
    for patch in req.patch_operations.unwrap_or_default() {
        let op_name = patch.op.unwrap_or_default();
        let path = patch.path.unwrap_or_default();
        if !matches!(op_name.as_str(), "add" | "remove" | "replace") {
            return Err(AwsError::bad_request(
                "Invalid patch operation specified. Must be 'add'|'remove'|'replace'",
            ));
        }
        if !apply(&mut updated, &op_name, &path, patch.value) {
            return Err(AwsError::bad_request(format!(
                "Invalid patch path '{path}' specified for op '{op_name}'. Please choose supported operations"
            )));
        }
    }
    check_type(
        updated.r#type.as_deref().unwrap_or_default(),
        "updateAuthorizerInput",
    )?;
    validate(&updated)?;
    *authorizer = updated.clone();
    call.save_api(&doc, Some(version)).await?;
    OperationOutput::json(op, &updated)
}

pub(crate) async fn delete(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteAuthorizerRequest = decode(input)?;
    let input_name = "deleteAuthorizerInput";
    let api_id = required(req.rest_api_id, input_name, "restApiId")?;
    let id = required(req.authorizer_id, input_name, "authorizerId")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    doc.authorizer(&id)?;
    if let Some(method) = doc.method_using(&id) {
        return Err(AwsError::conflict(format!(
            "Cannot delete authorizer, is referenced in method: {method}"
        )));
    }
    doc.authorizers
        .retain(|a| a.id.as_deref() != Some(id.as_str()));
    call.save_api(&doc, Some(version)).await?;
    Ok(OperationOutput::empty(op))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> Authorizer {
        Authorizer {
            r#type: Some("TOKEN".into()),
            authorizer_uri: Some("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations".into()),
            identity_source: Some(DEFAULT_TOKEN_SOURCE.into()),
            authorizer_result_ttl_in_seconds: Some(300),
            ..Default::default()
        }
    }

    #[test]
    fn validation_follows_the_type() {
        assert!(validate(&token()).is_ok());
        let mut a = token();
        a.authorizer_result_ttl_in_seconds = Some(3601);
        assert_eq!(
            validate(&a).unwrap_err().message,
            "Invalid Authorizer ttl specified. Value must be between 0 and 3600."
        );
        let mut a = token();
        a.identity_validation_expression = Some("(".into());
        assert_eq!(
            validate(&a).unwrap_err().message,
            "Invalid identity validation expression specified: ("
        );
        let mut a = token();
        a.authorizer_uri = None;
        assert_eq!(
            validate(&a).unwrap_err().message,
            "Authorizer URI must be specified for authorizer of type TOKEN"
        );
        let mut a = token();
        a.r#type = Some("REQUEST".into());
        a.identity_source = None;
        assert!(validate(&a).is_err());
        a.authorizer_result_ttl_in_seconds = Some(0);
        assert!(validate(&a).is_ok());
        a.identity_source = Some("method.request.header.A, method.request.querystring.q".into());
        assert!(validate(&a).is_ok());
        a.identity_source = Some("method.request.path.id".into());
        assert!(validate(&a).is_err());
        assert!(check_type("JWT", "createAuthorizerInput").is_err());
    }

    #[test]
    fn patches_apply_to_known_paths_only() {
        let mut a = token();
        assert!(apply(
            &mut a,
            "replace",
            "/authorizerResultTtlInSeconds",
            Some("0".into())
        ));
        assert_eq!(a.authorizer_result_ttl_in_seconds, Some(0));
        assert!(apply(
            &mut a,
            "replace",
            "/identityValidationExpression",
            Some("".into())
        ));
        assert_eq!(a.identity_validation_expression, None);
        assert!(!apply(&mut a, "replace", "/id", Some("x".into())));
    }
}
