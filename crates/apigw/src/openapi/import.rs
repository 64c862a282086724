//! From an OpenAPI/Swagger document to what API Gateway makes of it: the API's settings, one
//! entry per path with its methods, validators, gateway responses, models and authorizers.
//!
//! Methods name validators and authorizers by their document name here; ids are given when the
//! definition is applied to an API (see `apply`), since a merge reuses the ids already there.

use std::collections::BTreeMap;

use portico_model::apigateway::{
    Authorizer, GatewayResponse, Method, MethodResponse, Model, RequestValidator,
};
use serde_json::{Map, Value};

use super::document::{
    Flavor, boolean, import_errors, object, ref_name, resolve, string_list, string_map, text,
};
use super::integration;
use crate::responses::DEFAULT_TEMPLATE;

/// How `basePath` (Swagger) or the first server's path (OpenAPI 3) joins the paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BasePath {
    Ignore,
    Prepend,
    Split,
}

/// A document as API Gateway reads it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Imported {
    pub title: Option<String>,
    pub description: Option<String>,
    pub version: Option<String>,
    pub binary_media_types: Vec<String>,
    pub api_key_source: Option<String>,
    pub policy: Option<String>,
    pub minimum_compression_size: Option<i32>,
    pub endpoint_types: Option<Vec<String>>,
    pub vpc_endpoint_ids: Option<Vec<String>>,
    pub disable_execute_api_endpoint: Option<bool>,
    /// Resource path (`/pets/{id}`) → verb → method. `requestValidatorId` and `authorizerId`
    /// hold names until applied.
    pub paths: Vec<(String, BTreeMap<String, Method>)>,
    /// Validators by name (no ids yet).
    pub validators: Vec<RequestValidator>,
    pub gateway_responses: BTreeMap<String, GatewayResponse>,
    /// Models by name (no ids yet); schemas keep `$ref`s rewritten to model URLs at apply time.
    pub models: Vec<Model>,
    /// Authorizers by name (no ids yet).
    pub authorizers: Vec<Authorizer>,
    pub warnings: Vec<String>,
}

const VERBS: &[(&str, &str)] = &[
    ("get", "GET"),
    ("put", "PUT"),
    ("post", "POST"),
    ("delete", "DELETE"),
    ("options", "OPTIONS"),
    ("head", "HEAD"),
    ("patch", "PATCH"),
    ("x-amazon-apigateway-any-method", "ANY"),
];

/// The path of the base path, from `basePath` or the first server URL.
fn base_path(root: &Map<String, Value>, flavor: Flavor) -> String {
    let raw = match flavor {
        Flavor::Swagger2 => text(root, "basePath").unwrap_or_default(),
        Flavor::OpenApi3 => {
            let url = root
                .get("servers")
                .and_then(Value::as_array)
                .and_then(|s| s.first())
                .and_then(|s| s.as_object())
                .and_then(|s| {
                    let url = text(s, "url")?;
                    // `{basePath}` style variables take their default.
                    let mut url = url;
                    for (name, var) in object(s, "variables").into_iter().flatten() {
                        if let Some(default) = var.as_object().and_then(|v| text(v, "default")) {
                            url = url.replace(&format!("{{{name}}}"), &default);
                        }
                    }
                    Some(url)
                })
                .unwrap_or_default();
            match url.split_once("://") {
                Some((_, rest)) => rest
                    .find('/')
                    .map(|i| rest[i..].to_owned())
                    .unwrap_or_default(),
                None => url,
            }
        }
    };
    raw.trim_matches('/').to_owned()
}

fn join_base(base: &str, mode: BasePath, path: &str) -> String {
    let prefix = match mode {
        BasePath::Ignore => "",
        BasePath::Prepend => base,
        BasePath::Split => base.split_once('/').map(|(_, rest)| rest).unwrap_or(""),
    };
    let mut parts: Vec<&str> = prefix.split('/').filter(|p| !p.is_empty()).collect();
    parts.extend(path.split('/').filter(|p| !p.is_empty()));
    format!("/{}", parts.join("/"))
}

/// What `security` entries turn into on a method.
#[derive(Debug, Clone, Default)]
struct Security {
    authorization_type: Option<String>,
    authorizer: Option<String>,
    api_key_required: bool,
    scopes: Option<Vec<String>>,
}

fn security_schemes(root: &Map<String, Value>, flavor: Flavor) -> Map<String, Value> {
    let found = match flavor {
        Flavor::Swagger2 => object(root, "securityDefinitions"),
        Flavor::OpenApi3 => object(root, "components").and_then(|c| object(c, "securitySchemes")),
    };
    found.cloned().unwrap_or_default()
}

fn security_of(requirements: &Value, schemes: &Map<String, Value>) -> Security {
    let mut out = Security::default();
    for requirement in requirements.as_array().into_iter().flatten() {
        for (name, scopes) in requirement.as_object().into_iter().flatten() {
            let Some(scheme) = schemes.get(name).and_then(Value::as_object) else {
                continue;
            };
            let authtype = text(scheme, "x-amazon-apigateway-authtype")
                .unwrap_or_default()
                .to_ascii_lowercase();
            if let Some(authorizer) = object(scheme, "x-amazon-apigateway-authorizer") {
                let kind = text(authorizer, "type")
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                out.authorization_type = Some(
                    if kind == "cognito_user_pools" {
                        "COGNITO_USER_POOLS"
                    } else {
                        "CUSTOM"
                    }
                    .to_owned(),
                );
                out.authorizer = Some(name.clone());
                let scopes: Vec<String> = scopes
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect();
                if !scopes.is_empty() {
                    out.scopes = Some(scopes);
                }
            } else if authtype == "awssigv4" {
                out.authorization_type = Some("AWS_IAM".to_owned());
            } else if text(scheme, "type").as_deref() == Some("apiKey") {
                out.api_key_required = true;
            }
        }
    }
    out
}

fn authorizer_of(name: &str, scheme: &Map<String, Value>) -> Option<Authorizer> {
    let ext = object(scheme, "x-amazon-apigateway-authorizer")?;
    let kind = text(ext, "type")
        .unwrap_or_else(|| "token".to_owned())
        .to_ascii_uppercase();
    let identity_source = text(ext, "identitySource").or_else(|| {
        (kind == "TOKEN" || kind == "COGNITO_USER_POOLS")
            .then(|| text(scheme, "name").map(|h| format!("method.request.header.{h}")))
            .flatten()
    });
    Some(Authorizer {
        name: Some(name.to_owned()),
        auth_type: text(scheme, "x-amazon-apigateway-authtype"),
        authorizer_uri: text(ext, "authorizerUri"),
        authorizer_credentials: text(ext, "authorizerCredentials"),
        identity_source,
        identity_validation_expression: text(ext, "identityValidationExpression"),
        authorizer_result_ttl_in_seconds: ext
            .get("authorizerResultTtlInSeconds")
            .and_then(Value::as_i64)
            .and_then(|n| i32::try_from(n).ok())
            .or(Some(300)),
        provider_arns: string_list(ext, "providerARNs"),
        r#type: Some(kind),
        ..Default::default()
    })
}

/// A schema's model name, when it is a `$ref` to a named schema.
fn schema_model(schema: Option<&Value>) -> Option<String> {
    schema
        .and_then(|s| s.get("$ref"))
        .and_then(Value::as_str)
        .and_then(ref_name)
        .map(str::to_owned)
}

struct Context<'a> {
    root: &'a Map<String, Value>,
    flavor: Flavor,
    schemes: Map<String, Value>,
    default_security: Option<&'a Value>,
    default_validator: Option<String>,
}

fn method_of(
    cx: &Context<'_>,
    verb: &str,
    path: &str,
    op: &Map<String, Value>,
    shared_parameters: &[Value],
    errors: &mut Vec<String>,
) -> Method {
    let mut request_parameters = BTreeMap::new();
    let mut request_models = BTreeMap::new();
    let consumes = string_list(op, "consumes").or_else(|| string_list(cx.root, "consumes"));
    let produces = string_list(op, "produces").or_else(|| string_list(cx.root, "produces"));
    let own = op.get("parameters").and_then(Value::as_array);
    for parameter in shared_parameters.iter().chain(own.into_iter().flatten()) {
        let parameter = resolve(cx.root, parameter);
        let Some(p) = parameter.as_object() else {
            continue;
        };
        let (Some(name), Some(location)) = (text(p, "name"), text(p, "in")) else {
            continue;
        };
        let required = boolean(p, "required").unwrap_or(false);
        let prefix = match location.as_str() {
            "path" => "path",
            "query" => "querystring",
            "header" => "header",
            "body" => {
                if let Some(model) = schema_model(p.get("schema")) {
                    for content_type in consumes
                        .clone()
                        .unwrap_or_else(|| vec!["application/json".to_owned()])
                    {
                        request_models.insert(content_type, model.clone());
                    }
                }
                continue;
            }
            _ => continue,
        };
        request_parameters.insert(format!("method.request.{prefix}.{name}"), required);
    }
    if let Some(body) = op.get("requestBody").map(|b| resolve(cx.root, b)) {
        for (content_type, media) in body
            .get("content")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if let Some(model) = schema_model(media.get("schema")) {
                request_models.insert(content_type.clone(), model);
            }
        }
    }
    let mut method_responses = BTreeMap::new();
    for (status, response) in object(op, "responses").into_iter().flatten() {
        if status.len() != 3 || !status.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let response = resolve(cx.root, response);
        let headers: BTreeMap<String, bool> = response
            .get("headers")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(h, _)| (format!("method.response.header.{h}"), false))
            .collect();
        let mut models = BTreeMap::new();
        match cx.flavor {
            Flavor::Swagger2 => {
                if let Some(model) = schema_model(response.get("schema")) {
                    for content_type in produces
                        .clone()
                        .unwrap_or_else(|| vec!["application/json".to_owned()])
                    {
                        models.insert(content_type, model.clone());
                    }
                }
            }
            Flavor::OpenApi3 => {
                for (content_type, media) in response
                    .get("content")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    if let Some(model) = schema_model(media.get("schema")) {
                        models.insert(content_type.clone(), model);
                    }
                }
            }
        }
        method_responses.insert(
            status.clone(),
            MethodResponse {
                status_code: Some(status.clone()),
                response_parameters: (!headers.is_empty()).then_some(headers),
                response_models: (!models.is_empty()).then_some(models),
            },
        );
    }
    let security = security_of(
        op.get("security")
            .or(cx.default_security)
            .unwrap_or(&Value::Null),
        &cx.schemes,
    );
    let validator =
        text(op, "x-amazon-apigateway-request-validator").or_else(|| cx.default_validator.clone());
    let method_integration = match object(op, "x-amazon-apigateway-integration") {
        None => None,
        Some(ext) => match integration::from_extension(ext) {
            Ok(i) => Some(i),
            Err(reason) => {
                errors.push(format!(
                    "Unable to put integration on '{verb}' for resource at path '{path}': {reason}"
                ));
                None
            }
        },
    };
    Method {
        http_method: Some(verb.to_owned()),
        authorization_type: Some(
            security
                .authorization_type
                .unwrap_or_else(|| "NONE".to_owned()),
        ),
        authorizer_id: security.authorizer,
        api_key_required: Some(security.api_key_required),
        request_validator_id: validator,
        operation_name: text(op, "operationId"),
        request_parameters: (!request_parameters.is_empty()).then_some(request_parameters),
        request_models: (!request_models.is_empty()).then_some(request_models),
        method_responses: (!method_responses.is_empty()).then_some(method_responses),
        method_integration,
        authorization_scopes: security.scopes,
    }
}

/// Reads a parsed document. Errors are collected and reported together, as AWS does.
pub(crate) fn read(
    root: &Map<String, Value>,
    flavor: Flavor,
    mode: BasePath,
) -> Result<Imported, portico_core::AwsError> {
    let mut errors = Vec::new();
    let mut out = Imported::default();
    let info = object(root, "info");
    out.title = info.and_then(|i| text(i, "title"));
    out.description = info.and_then(|i| text(i, "description"));
    out.version = info.and_then(|i| text(i, "version"));
    out.binary_media_types =
        string_list(root, "x-amazon-apigateway-binary-media-types").unwrap_or_default();
    out.api_key_source = text(root, "x-amazon-apigateway-api-key-source");
    if let Some(source) = out.api_key_source.as_deref()
        && !matches!(source, "HEADER" | "AUTHORIZER")
    {
        errors.push(format!("Invalid API Key source specified: {source}"));
    }
    out.policy = root.get("x-amazon-apigateway-policy").map(|p| match p {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    out.minimum_compression_size = root
        .get("x-amazon-apigateway-minimum-compression-size")
        .and_then(Value::as_i64)
        .and_then(|n| i32::try_from(n).ok());
    if let Some(endpoint) = object(root, "x-amazon-apigateway-endpoint-configuration") {
        out.endpoint_types = string_list(endpoint, "types");
        out.vpc_endpoint_ids = string_list(endpoint, "vpcEndpointIds");
        out.disable_execute_api_endpoint = boolean(endpoint, "disableExecuteApiEndpoint");
    }
    for (name, v) in object(root, "x-amazon-apigateway-request-validators")
        .into_iter()
        .flatten()
    {
        let v = v.as_object().cloned().unwrap_or_default();
        out.validators.push(RequestValidator {
            id: None,
            name: Some(name.clone()),
            validate_request_body: Some(boolean(&v, "validateRequestBody").unwrap_or(false)),
            validate_request_parameters: Some(
                boolean(&v, "validateRequestParameters").unwrap_or(false),
            ),
        });
    }
    for (kind, v) in object(root, "x-amazon-apigateway-gateway-responses")
        .into_iter()
        .flatten()
    {
        if !crate::responses::TYPES.iter().any(|(t, _)| t == kind) {
            errors.push(format!("Invalid gateway response type specified: {kind}"));
            continue;
        }
        let v = v.as_object().cloned().unwrap_or_default();
        out.gateway_responses.insert(
            kind.clone(),
            GatewayResponse {
                response_type: Some(kind.clone()),
                status_code: text(&v, "statusCode"),
                response_parameters: Some(string_map(&v, "responseParameters").unwrap_or_default()),
                response_templates: Some(string_map(&v, "responseTemplates").unwrap_or_else(
                    || {
                        BTreeMap::from([(
                            "application/json".to_owned(),
                            DEFAULT_TEMPLATE.to_owned(),
                        )])
                    },
                )),
                default_response: Some(false),
            },
        );
    }
    let schemas = match flavor {
        Flavor::Swagger2 => object(root, "definitions"),
        Flavor::OpenApi3 => object(root, "components").and_then(|c| object(c, "schemas")),
    };
    for (name, schema) in schemas.into_iter().flatten() {
        out.models.push(Model {
            name: Some(name.clone()),
            schema: Some(schema.to_string()),
            content_type: Some("application/json".to_owned()),
            ..Default::default()
        });
    }
    let schemes = security_schemes(root, flavor);
    for (name, scheme) in &schemes {
        if let Some(authorizer) = scheme.as_object().and_then(|s| authorizer_of(name, s)) {
            let kind = authorizer.r#type.as_deref().unwrap_or_default();
            if !matches!(kind, "TOKEN" | "REQUEST" | "COGNITO_USER_POOLS") {
                errors.push(format!(
                    "Unable to create authorizer '{name}': 1 validation error detected: Value '{kind}' at 'createAuthorizerInput.type' failed to satisfy constraint: Member must satisfy enum value set: [TOKEN, REQUEST, COGNITO_USER_POOLS]"
                ));
                continue;
            }
            out.authorizers.push(authorizer);
        }
    }
    let cx = Context {
        root,
        flavor,
        schemes,
        default_security: root.get("security"),
        default_validator: text(root, "x-amazon-apigateway-request-validator"),
    };
    let base = base_path(root, flavor);
    for (raw_path, item) in object(root, "paths").into_iter().flatten() {
        let Some(item) = item.as_object() else {
            continue;
        };
        let path = join_base(&base, mode, raw_path);
        let shared: Vec<Value> = item
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut methods = BTreeMap::new();
        for (key, verb) in VERBS {
            let Some(op) = object(item, key) else {
                continue;
            };
            let method = method_of(&cx, verb, &path, op, &shared, &mut errors);
            if let Some(name) = method.request_validator_id.as_deref()
                && !out
                    .validators
                    .iter()
                    .any(|v| v.name.as_deref() == Some(name))
            {
                errors.push(format!(
                    "Unable to put method '{verb}' on resource at path '{path}': Invalid Request Validator identifier specified"
                ));
            }
            for model in method.request_models.iter().flat_map(|m| m.values()).chain(
                method
                    .method_responses
                    .iter()
                    .flat_map(|r| r.values())
                    .flat_map(|r| r.response_models.iter().flat_map(|m| m.values())),
            ) {
                if !out.models.iter().any(|m| m.name.as_deref() == Some(model)) {
                    out.warnings.push(format!(
                        "Unable to find model '{model}' referenced by '{verb}' on resource at path '{path}'"
                    ));
                }
            }
            methods.insert((*verb).to_owned(), method);
        }
        out.paths.push((path, methods));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(import_errors(&errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_paths_join_as_asked() {
        assert_eq!(join_base("v1/api", BasePath::Ignore, "/pets"), "/pets");
        assert_eq!(
            join_base("v1/api", BasePath::Prepend, "/pets"),
            "/v1/api/pets"
        );
        assert_eq!(join_base("v1/api", BasePath::Split, "/pets"), "/api/pets");
        assert_eq!(join_base("v1", BasePath::Split, "/"), "/");
        let root = serde_json::json!({"servers": [{"url": "https://x.example.com/{basePath}",
            "variables": {"basePath": {"default": "/prod"}}}]});
        assert_eq!(
            base_path(root.as_object().unwrap(), Flavor::OpenApi3),
            "prod"
        );
    }
}
