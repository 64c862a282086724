//! GetExport: a stage's deployed definition as an OpenAPI 3.0.1 or Swagger 2.0 document.
//!
//! Extensions follow the `extensions` parameter: `integrations` adds each method's
//! `x-amazon-apigateway-integration`; `apigateway` adds that and every other API-level
//! extension (validators, gateway responses, binary media types, policy, key source);
//! `authorizers` adds `x-amazon-apigateway-authorizer` to the security schemes. Postman's own
//! extensions are not generated.

use std::collections::BTreeMap;

use portico_core::AwsError;
use portico_model::apigateway::{Authorizer, GetExportRequest, Method, Model, Stage};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value, json};

use super::document::Flavor;
use super::integration;
use crate::Call;
use crate::deployment::FrozenDeployment;
use crate::doc::required;
use crate::persist::{KIND_DEPLOYMENT, KIND_STAGE, deployment_doc_id, stage_doc_id};

/// Which extensions the caller asked for.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Extensions {
    pub integrations: bool,
    pub apigateway: bool,
    pub authorizers: bool,
}

fn extensions(parameters: &BTreeMap<String, String>) -> Extensions {
    let mut out = Extensions::default();
    for name in parameters
        .get("extensions")
        .into_iter()
        .flat_map(|v| v.split(','))
    {
        match name.trim() {
            "integrations" => out.integrations = true,
            "apigateway" => {
                out.apigateway = true;
                out.integrations = true;
                out.authorizers = true;
            }
            "authorizers" => out.authorizers = true,
            _ => {}
        }
    }
    out
}

/// `2024-05-01T12:00:00Z`, as AWS writes the deployment time in exports.
fn iso_time(epoch_seconds: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp(epoch_seconds)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

/// Everything the writer needs, gathered from the deployment.
pub(super) struct Source<'a> {
    pub frozen: &'a FrozenDeployment,
    pub models: &'a [Model],
    pub stage: &'a str,
    pub region: &'a str,
    pub flavor: Flavor,
    pub ext: Extensions,
}

impl Source<'_> {
    fn schema_ref(&self, name: &str) -> Value {
        let prefix = match self.flavor {
            Flavor::Swagger2 => "#/definitions/",
            Flavor::OpenApi3 => "#/components/schemas/",
        };
        json!({"$ref": format!("{prefix}{name}")})
    }

    fn authorizer(&self, id: &str) -> Option<&Authorizer> {
        self.frozen
            .authorizers
            .iter()
            .find(|a| a.id.as_deref() == Some(id))
    }
}

/// Model schemas with API Gateway's model URLs turned back into local references.
fn local_refs(node: &mut Value, source: &Source<'_>) {
    match node {
        Value::Object(map) => {
            map.remove("$schema");
            for (key, value) in map.iter_mut() {
                if key == "$ref"
                    && let Value::String(reference) = value
                    && let Some((_, name)) = reference.rsplit_once("/models/")
                {
                    let local = source.schema_ref(name);
                    *value = local["$ref"].clone();
                } else {
                    local_refs(value, source);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| local_refs(i, source)),
        _ => {}
    }
}

fn parameters(method: &Method, flavor: Flavor) -> Vec<Value> {
    let mut out = Vec::new();
    for (key, required) in method.request_parameters.iter().flatten() {
        let Some(rest) = key.strip_prefix("method.request.") else {
            continue;
        };
        let Some((location, name)) = rest.split_once('.') else {
            continue;
        };
        let location = match location {
            "path" => "path",
            "querystring" => "query",
            "header" => "header",
            _ => continue,
        };
        let mut p = Map::new();
        p.insert("name".into(), json!(name));
        p.insert("in".into(), json!(location));
        p.insert("required".into(), json!(*required || location == "path"));
        match flavor {
            Flavor::Swagger2 => {
                p.insert("type".into(), json!("string"));
            }
            Flavor::OpenApi3 => {
                p.insert("schema".into(), json!({"type": "string"}));
            }
        }
        out.push(Value::Object(p));
    }
    out
}

/// The security scheme a method's authorization needs: its name and definition.
fn scheme_of(source: &Source<'_>, method: &Method) -> Option<(String, Value)> {
    match method.authorization_type.as_deref() {
        Some("AWS_IAM") => Some((
            "sigv4".to_owned(),
            json!({"type": "apiKey", "name": "Authorization", "in": "header",
                   "x-amazon-apigateway-authtype": "awsSigv4"}),
        )),
        Some("CUSTOM" | "COGNITO_USER_POOLS") => {
            let authorizer = source.authorizer(method.authorizer_id.as_deref()?)?;
            let kind = authorizer.r#type.clone().unwrap_or_default();
            let header = authorizer
                .identity_source
                .as_deref()
                .and_then(|s| s.strip_prefix("method.request.header."))
                .filter(|h| !h.contains(','))
                .unwrap_or("Unused");
            let mut scheme = Map::new();
            scheme.insert("type".into(), json!("apiKey"));
            scheme.insert("name".into(), json!(header));
            scheme.insert("in".into(), json!("header"));
            scheme.insert(
                "x-amazon-apigateway-authtype".into(),
                json!(authorizer.auth_type.clone().unwrap_or_else(|| {
                    if kind == "COGNITO_USER_POOLS" {
                        "cognito_user_pools"
                    } else {
                        "custom"
                    }
                    .to_owned()
                })),
            );
            if source.ext.authorizers {
                let mut ext = Map::new();
                ext.insert("type".into(), json!(kind.to_ascii_lowercase()));
                let fields = [
                    ("authorizerUri", &authorizer.authorizer_uri),
                    ("authorizerCredentials", &authorizer.authorizer_credentials),
                    (
                        "identityValidationExpression",
                        &authorizer.identity_validation_expression,
                    ),
                ];
                for (key, value) in fields {
                    if let Some(v) = value {
                        ext.insert(key.into(), json!(v));
                    }
                }
                if kind == "REQUEST"
                    && let Some(identity) = &authorizer.identity_source
                {
                    ext.insert("identitySource".into(), json!(identity));
                }
                if let Some(arns) = &authorizer.provider_arns {
                    ext.insert("providerARNs".into(), json!(arns));
                }
                if let Some(ttl) = authorizer.authorizer_result_ttl_in_seconds {
                    ext.insert("authorizerResultTtlInSeconds".into(), json!(ttl));
                }
                scheme.insert("x-amazon-apigateway-authorizer".into(), Value::Object(ext));
            }
            Some((
                authorizer.name.clone().unwrap_or_default(),
                Value::Object(scheme),
            ))
        }
        _ => None,
    }
}

fn operation(source: &Source<'_>, method: &Method, schemes: &mut Map<String, Value>) -> Value {
    let mut op = Map::new();
    if let Some(name) = &method.operation_name {
        op.insert("operationId".into(), json!(name));
    }
    let flavor = source.flavor;
    let request_models = method.request_models.clone().unwrap_or_default();
    let response_types: Vec<String> = method
        .method_responses
        .iter()
        .flat_map(|r| r.values())
        .flat_map(|r| r.response_models.iter().flat_map(|m| m.keys().cloned()))
        .collect();
    if flavor == Flavor::Swagger2 {
        if !request_models.is_empty() {
            op.insert(
                "consumes".into(),
                json!(request_models.keys().collect::<Vec<_>>()),
            );
        }
        if !response_types.is_empty() {
            let unique: std::collections::BTreeSet<&String> = response_types.iter().collect();
            op.insert("produces".into(), json!(unique));
        }
    }
    let mut params = parameters(method, flavor);
    if let Some(model) = request_models.values().next() {
        match flavor {
            Flavor::Swagger2 => params.push(json!({"in": "body", "name": model,
                "required": true, "schema": source.schema_ref(model)})),
            Flavor::OpenApi3 => {
                let content: Map<String, Value> = request_models
                    .iter()
                    .map(|(t, m)| (t.clone(), json!({"schema": source.schema_ref(m)})))
                    .collect();
                op.insert(
                    "requestBody".into(),
                    json!({"content": content, "required": true}),
                );
            }
        }
    }
    if !params.is_empty() {
        op.insert("parameters".into(), Value::Array(params));
    }
    let mut responses = Map::new();
    for (status, response) in method.method_responses.iter().flatten() {
        let mut r = Map::new();
        r.insert("description".into(), json!(format!("{status} response")));
        let models = response.response_models.clone().unwrap_or_default();
        match flavor {
            Flavor::Swagger2 => {
                if let Some(model) = models.values().next() {
                    r.insert("schema".into(), source.schema_ref(model));
                }
            }
            Flavor::OpenApi3 => {}
        }
        let headers: Map<String, Value> = response
            .response_parameters
            .iter()
            .flatten()
            .filter_map(|(k, _)| k.strip_prefix("method.response.header."))
            .map(|h| {
                let schema = match flavor {
                    Flavor::Swagger2 => json!({"type": "string"}),
                    Flavor::OpenApi3 => json!({"schema": {"type": "string"}}),
                };
                (h.to_owned(), schema)
            })
            .collect();
        if !headers.is_empty() {
            r.insert("headers".into(), Value::Object(headers));
        }
        if flavor == Flavor::OpenApi3 && !models.is_empty() {
            let content: Map<String, Value> = models
                .iter()
                .map(|(t, m)| (t.clone(), json!({"schema": source.schema_ref(m)})))
                .collect();
            r.insert("content".into(), Value::Object(content));
        }
        responses.insert(status.clone(), Value::Object(r));
    }
    op.insert("responses".into(), Value::Object(responses));
    let mut security = Vec::new();
    if let Some((name, scheme)) = scheme_of(source, method) {
        let scopes = method.authorization_scopes.clone().unwrap_or_default();
        security.push(json!({ name.clone(): scopes }));
        schemes.insert(name, scheme);
    }
    if method.api_key_required == Some(true) {
        security.push(json!({"api_key": []}));
        schemes.insert(
            "api_key".to_owned(),
            json!({"type": "apiKey", "name": "x-api-key", "in": "header"}),
        );
    }
    if !security.is_empty() {
        op.insert("security".into(), Value::Array(security));
    }
    if source.ext.apigateway
        && let Some(id) = &method.request_validator_id
        && let Some(v) = source
            .frozen
            .request_validators
            .iter()
            .find(|v| v.id.as_deref() == Some(id))
    {
        op.insert(
            "x-amazon-apigateway-request-validator".into(),
            json!(v.name),
        );
    }
    if source.ext.integrations
        && let Some(i) = &method.method_integration
    {
        op.insert(
            "x-amazon-apigateway-integration".into(),
            integration::to_extension(i),
        );
    }
    Value::Object(op)
}

/// Builds the document.
pub(super) fn document(source: &Source<'_>) -> Value {
    let api = &source.frozen.api;
    let api_id = api.id.clone().unwrap_or_default();
    let mut root = Map::new();
    // AWS writes `info` as Swagger 2 `{description, version, title}`, OpenAPI 3
    // `{title, description, version}`; the version is the deployment's time unless set.
    let mut info = Map::new();
    let version = api
        .version
        .clone()
        .unwrap_or_else(|| iso_time(source.frozen.created_date));
    if source.flavor == Flavor::OpenApi3 {
        info.insert("title".into(), json!(api.name));
    }
    if let Some(description) = &api.description {
        info.insert("description".into(), json!(description));
    }
    info.insert("version".into(), json!(version));
    if source.flavor == Flavor::Swagger2 {
        info.insert("title".into(), json!(api.name));
    }
    let host = format!("{api_id}.execute-api.{}.amazonaws.com", source.region);
    match source.flavor {
        Flavor::Swagger2 => {
            root.insert("swagger".into(), json!("2.0"));
            root.insert("info".into(), Value::Object(info));
            root.insert("host".into(), json!(host));
            root.insert("basePath".into(), json!(format!("/{}", source.stage)));
            root.insert("schemes".into(), json!(["https"]));
        }
        Flavor::OpenApi3 => {
            root.insert("openapi".into(), json!("3.0.1"));
            root.insert("info".into(), Value::Object(info));
            root.insert(
                "servers".into(),
                json!([{"url": format!("https://{host}/{{basePath}}"),
                        "variables": {"basePath": {"default": format!("/{}", source.stage)}}}]),
            );
        }
    }
    let mut schemes = Map::new();
    let mut paths = Map::new();
    for resource in &source.frozen.resources {
        let Some(methods) = resource.resource_methods.as_ref().filter(|m| !m.is_empty()) else {
            continue;
        };
        let mut item = Map::new();
        for (verb, method) in methods {
            let key = if verb == "ANY" {
                "x-amazon-apigateway-any-method".to_owned()
            } else {
                verb.to_ascii_lowercase()
            };
            item.insert(key, operation(source, method, &mut schemes));
        }
        paths.insert(
            resource.path.clone().unwrap_or_default(),
            Value::Object(item),
        );
    }
    root.insert("paths".into(), Value::Object(paths));
    let mut schemas = Map::new();
    for model in source.models {
        let (Some(name), Some(schema)) = (&model.name, &model.schema) else {
            continue;
        };
        if let Ok(mut value) = serde_json::from_str::<Value>(schema) {
            local_refs(&mut value, source);
            schemas.insert(name.clone(), value);
        }
    }
    match source.flavor {
        Flavor::Swagger2 => {
            if !schemes.is_empty() {
                root.insert("securityDefinitions".into(), Value::Object(schemes));
            }
            if !schemas.is_empty() {
                root.insert("definitions".into(), Value::Object(schemas));
            }
        }
        Flavor::OpenApi3 => {
            let mut components = Map::new();
            if !schemas.is_empty() {
                components.insert("schemas".into(), Value::Object(schemas));
            }
            if !schemes.is_empty() {
                components.insert("securitySchemes".into(), Value::Object(schemes));
            }
            if !components.is_empty() {
                root.insert("components".into(), Value::Object(components));
            }
        }
    }
    if source.ext.apigateway {
        api_extensions(source, &mut root);
    }
    Value::Object(root)
}

fn api_extensions(source: &Source<'_>, root: &mut Map<String, Value>) {
    let frozen = source.frozen;
    let api = &frozen.api;
    if let Some(types) = api.binary_media_types.as_ref().filter(|t| !t.is_empty()) {
        root.insert(
            "x-amazon-apigateway-binary-media-types".into(),
            json!(types),
        );
    }
    if let Some(policy) = &api.policy {
        let value = serde_json::from_str::<Value>(policy).unwrap_or_else(|_| json!(policy));
        root.insert("x-amazon-apigateway-policy".into(), value);
    }
    if let Some(source) = api.api_key_source.as_deref().filter(|s| *s != "HEADER") {
        root.insert("x-amazon-apigateway-api-key-source".into(), json!(source));
    }
    if let Some(size) = api.minimum_compression_size {
        root.insert(
            "x-amazon-apigateway-minimum-compression-size".into(),
            json!(size),
        );
    }
    if !frozen.gateway_responses.is_empty() {
        let responses: Map<String, Value> = frozen
            .gateway_responses
            .iter()
            .map(|(kind, r)| {
                let mut entry = Map::new();
                if let Some(status) = &r.status_code {
                    entry.insert("statusCode".into(), json!(status));
                }
                if let Some(p) = r.response_parameters.as_ref().filter(|p| !p.is_empty()) {
                    entry.insert("responseParameters".into(), json!(p));
                }
                if let Some(t) = r.response_templates.as_ref().filter(|t| !t.is_empty()) {
                    entry.insert("responseTemplates".into(), json!(t));
                }
                (kind.clone(), Value::Object(entry))
            })
            .collect();
        root.insert(
            "x-amazon-apigateway-gateway-responses".into(),
            Value::Object(responses),
        );
    }
    if !frozen.request_validators.is_empty() {
        let validators: Map<String, Value> = frozen
            .request_validators
            .iter()
            .map(|v| {
                (
                    v.name.clone().unwrap_or_default(),
                    json!({"validateRequestParameters": v.validate_request_parameters.unwrap_or(false),
                           "validateRequestBody": v.validate_request_body.unwrap_or(false)}),
                )
            })
            .collect();
        root.insert(
            "x-amazon-apigateway-request-validators".into(),
            Value::Object(validators),
        );
    }
}

pub(crate) async fn get_export(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetExportRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "getExportInput", "restApiId")?;
    let stage_name = required(req.stage_name, "getExportInput", "stageName")?;
    let export_type = required(req.export_type, "getExportInput", "exportType")?;
    let flavor = match export_type.as_str() {
        "oas30" => Flavor::OpenApi3,
        "swagger" => Flavor::Swagger2,
        other => {
            return Err(AwsError::bad_request(format!(
                "Invalid export type specified: {other}. Valid values are: oas30, swagger"
            )));
        }
    };
    let yaml = match req.accepts.as_deref().map(str::trim) {
        None | Some("" | "*/*" | "application/json") => false,
        Some("application/yaml") => true,
        Some(other) => {
            return Err(AwsError::bad_request(format!(
                "Invalid accept type specified: {other}. Valid values are: application/json, application/yaml"
            )));
        }
    };
    call.load_api(&api_id).await?;
    let stage: Stage = call
        .get_child(KIND_STAGE, &stage_doc_id(&api_id, &stage_name))
        .await?
        .ok_or_else(|| AwsError::not_found("Invalid Stage identifier specified"))?;
    let deployment_id = stage.deployment_id.unwrap_or_default();
    let frozen: FrozenDeployment = call
        .get_child(KIND_DEPLOYMENT, &deployment_doc_id(&api_id, &deployment_id))
        .await?
        .ok_or_else(|| AwsError::not_found("Invalid Deployment identifier specified"))?;
    let source = Source {
        frozen: &frozen,
        models: &frozen.models,
        stage: &stage_name,
        region: &call.scope.region,
        flavor,
        ext: extensions(&req.parameters.unwrap_or_default()),
    };
    let value = document(&source);
    let extension = if yaml { "yaml" } else { "json" };
    let body = if yaml {
        serde_yaml_ng::to_string(&value)
            .map_err(|e| AwsError::internal(format!("Could not write the export: {e}")))?
            .into_bytes()
    } else {
        super::jackson::to_json(&value)?
    };
    let filename = format!(
        "{export_type}_{}.{extension}",
        iso_time(frozen.created_date)
    );
    Ok(OperationOutput {
        status: op.success_code,
        headers: vec![(
            "Content-Disposition",
            format!("attachment; filename=\"{filename}\""),
        )],
        body: body.into(),
        content_type: Some(if yaml {
            "application/yaml"
        } else {
            "application/json"
        }),
    })
}
