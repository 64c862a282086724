//! Request-body validation: a method whose request validator has `validateRequestBody` checks
//! the body against the model its `requestModels` names for the request's content type.
//!
//! Models are JSON Schema draft 4. Each model a stage uses is compiled once, when the stage is
//! compiled, with every model of the API registered under its canonical URL
//! (`https://apigateway.amazonaws.com/restapis/{api}/models/{name}`) so references between
//! models resolve without any fetching. Requests only run the compiled validator.
//!
//! The model is chosen by the request's media type (`Content-Type`, `application/json` when
//! absent); without an entry for it the `$default` entry applies, and without that the body is
//! not validated (AWS's documented rule). An empty body is validated as `{}`, which is how a
//! body-less request fails a model with required properties on AWS.

use std::collections::HashMap;
use std::sync::Arc;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{Draft, Registry, Resource, Validator};
use portico_model::apigateway::{Method, Model, RequestValidator};
use serde_json::Value;

use crate::gateway::GatewayResponse;

/// Where AWS says models live; references between models use these URLs.
const MODEL_URL_PREFIX: &str = "https://apigateway.amazonaws.com/restapis/";

/// One model, compiled (or the reason it could not be).
pub struct CompiledModel {
    pub name: String,
    validator: Result<Validator, String>,
}

/// The API's models, compiled on first use while a stage is compiled and then shared by every
/// method that names them.
pub struct ModelSet {
    api_id: String,
    sources: Vec<(String, Value)>,
    compiled: HashMap<String, Arc<CompiledModel>>,
}

fn model_url(api_id: &str, name: &str) -> String {
    format!("{MODEL_URL_PREFIX}{api_id}/models/{name}")
}

impl ModelSet {
    pub fn new(api_id: &str, models: &[Model]) -> Self {
        let sources = models
            .iter()
            .filter_map(|m| {
                let name = m.name.clone()?;
                // A model without a schema accepts anything, as an empty schema does.
                let schema = match m.schema.as_deref() {
                    None => Value::Object(Default::default()),
                    Some(text) => serde_json::from_str(text).ok()?,
                };
                Some((name, schema))
            })
            .collect();
        Self {
            api_id: api_id.to_owned(),
            sources,
            compiled: HashMap::new(),
        }
    }

    /// The compiled model `name`; compiled once per stage.
    pub fn get(&mut self, name: &str) -> Arc<CompiledModel> {
        if let Some(found) = self.compiled.get(name) {
            return found.clone();
        }
        let compiled = Arc::new(CompiledModel {
            name: name.to_owned(),
            validator: self.compile(name),
        });
        self.compiled.insert(name.to_owned(), compiled.clone());
        compiled
    }

    fn compile(&self, name: &str) -> Result<Validator, String> {
        let schema = self
            .sources
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s)
            .ok_or_else(|| format!("model {name} does not exist or its schema is not JSON"))?;
        let resources = self.sources.iter().map(|(n, s)| {
            (
                model_url(&self.api_id, n),
                Resource::from_contents(s.clone()),
            )
        });
        let registry = Registry::new()
            .draft(Draft::Draft4)
            .extend(resources)
            .and_then(|b| b.prepare())
            .map_err(|e| e.to_string())?;
        jsonschema::options()
            .with_draft(Draft::Draft4)
            .with_base_uri(model_url(&self.api_id, name))
            .with_registry(&registry)
            .offline()
            .build(schema)
            .map_err(|e| e.to_string())
    }
}

/// The models a method validates bodies against, by media type (lower case).
pub struct BodyValidation {
    by_media_type: Vec<(String, Arc<CompiledModel>)>,
}

/// The body validation of a method, when its request validator asks for it and it names
/// models. Models that do not compile are logged here, once, and refuse every body.
pub fn compile_for_method(
    method: &Method,
    validators: &[RequestValidator],
    models: &mut ModelSet,
    where_: &str,
) -> Option<BodyValidation> {
    let id = method.request_validator_id.as_deref()?;
    validators
        .iter()
        .find(|v| v.id.as_deref() == Some(id) && v.validate_request_body == Some(true))?;
    let by_media_type: Vec<(String, Arc<CompiledModel>)> = method
        .request_models
        .iter()
        .flatten()
        .map(|(media_type, name)| {
            let compiled = models.get(name);
            if let Err(error) = &compiled.validator {
                tracing::warn!(api = %models.api_id, %where_, model = %name, %error, "request model does not compile; bodies will be refused");
            }
            (media_type.to_ascii_lowercase(), compiled)
        })
        .collect();
    (!by_media_type.is_empty()).then_some(BodyValidation { by_media_type })
}

/// BAD_REQUEST_BODY as AWS's default gateway response renders it.
pub fn invalid_body() -> GatewayResponse {
    GatewayResponse {
        status: 400,
        error_type: "BadRequestException",
        body: "{\"message\":\"Invalid request body\"}".to_owned(),
        validation_error: String::new(),
        response_type: "BAD_REQUEST_BODY",
        message: "Invalid request body".to_owned(),
    }
}

impl BodyValidation {
    /// The model for a request's `Content-Type`, per the rule in the module docs.
    fn model_for(&self, content_type: Option<&str>) -> Option<&CompiledModel> {
        let media_type = content_type
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "application/json".to_owned());
        let find = |key: &str| {
            self.by_media_type
                .iter()
                .find(|(t, _)| t == key)
                .map(|(_, m)| m.as_ref())
        };
        find(&media_type).or_else(|| find("$default"))
    }

    /// Validates `body`; on failure the gateway response, with the validator's findings (as
    /// `$context.error.validationErrorString` words them) logged.
    pub fn check(
        &self,
        api_id: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(), GatewayResponse> {
        let Some(model) = self.model_for(content_type) else {
            return Ok(());
        };
        match validation_errors(model, body) {
            None => Ok(()),
            Some(detail) => {
                tracing::info!(api = %api_id, model = %model.name, errors = %detail, "Request body does not match model schema for content type");
                let mut refused = invalid_body();
                refused.validation_error = detail;
                Err(refused)
            }
        }
    }
}

/// `None` when the body is valid; else the findings as one `[a, b]` string.
pub fn validation_errors(model: &CompiledModel, body: &[u8]) -> Option<String> {
    let validator = match &model.validator {
        Ok(v) => v,
        Err(error) => return Some(format!("[Invalid model: {error}]")),
    };
    let instance: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => return Some(format!("[Invalid request body: {e}]")),
        }
    };
    let mut messages: Vec<String> = Vec::new();
    // Missing properties of one object are reported together, as one finding.
    let mut missing: Vec<(String, Vec<String>)> = Vec::new();
    for error in validator.iter_errors(&instance) {
        let at = error.instance_path().to_string();
        if let ValidationErrorKind::Required { property } = error.kind() {
            let name = property.as_str().unwrap_or_default().to_owned();
            match missing.iter_mut().find(|(p, _)| *p == at) {
                Some((_, names)) => names.push(name),
                None => missing.push((at, vec![name])),
            }
            continue;
        }
        messages.push(describe(error.kind(), error.instance()));
    }
    for (_, mut names) in missing {
        names.sort();
        let quoted: Vec<String> = names
            .iter()
            .map(|n| Value::from(n.as_str()).to_string())
            .collect();
        messages.insert(
            0,
            format!(
                "object has missing required properties ([{}])",
                quoted.join(",")
            ),
        );
    }
    if messages.is_empty() {
        None
    } else {
        Some(format!("[{}]", messages.join(", ")))
    }
}

/// The JSON Schema primitive type of a value, integers told apart as draft 4 does.
fn primitive(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// One finding, worded after the java json-schema-validator AWS runs (its message texts as far
/// as they are on record; others in the same style).
fn describe(kind: &ValidationErrorKind, instance: &Value) -> String {
    match kind {
        ValidationErrorKind::Type { kind } => {
            let allowed: Vec<String> = match kind {
                TypeKind::Single(t) => vec![t.to_string()],
                TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect(),
            };
            let quoted: Vec<String> = allowed.iter().map(|t| format!("\"{t}\"")).collect();
            format!(
                "instance type ({}) does not match any allowed primitive type (allowed: [{}])",
                primitive(instance),
                quoted.join(",")
            )
        }
        ValidationErrorKind::Enum { options } => {
            format!("instance value ({instance}) not found in enum (possible values: {options})")
        }
        ValidationErrorKind::MinLength { limit } => format!(
            "string {instance} is too short (length: {}, required minimum: {limit})",
            instance.as_str().map_or(0, |s| s.chars().count())
        ),
        ValidationErrorKind::MaxLength { limit } => format!(
            "string {instance} is too long (length: {}, maximum allowed: {limit})",
            instance.as_str().map_or(0, |s| s.chars().count())
        ),
        ValidationErrorKind::Minimum { limit } => format!(
            "numeric instance is lower than the required minimum (minimum: {limit}, found: {instance})"
        ),
        ValidationErrorKind::Maximum { limit } => format!(
            "numeric instance is greater than the required maximum (maximum: {limit}, found: {instance})"
        ),
        ValidationErrorKind::Pattern { pattern } => {
            format!("ECMA 262 regex \"{pattern}\" does not match input string {instance}")
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let quoted: Vec<String> = unexpected
                .iter()
                .map(|n| Value::from(n.as_str()).to_string())
                .collect();
            format!(
                "object instance has properties which are not allowed by the schema: [{}]",
                quoted.join(",")
            )
        }
        ValidationErrorKind::MinItems { limit } => format!(
            "array is too short: must have at least {limit} elements but instance has {} elements",
            instance.as_array().map_or(0, Vec::len)
        ),
        ValidationErrorKind::MaxItems { limit } => format!(
            "array is too long: must have at most {limit} elements but instance has {} elements",
            instance.as_array().map_or(0, Vec::len)
        ),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn model(name: &str, schema: &str) -> Model {
        Model {
            name: Some(name.to_owned()),
            schema: Some(schema.to_owned()),
            ..Default::default()
        }
    }

    fn pet_models() -> Vec<Model> {
        vec![
            model(
                "Empty",
                "{\n  \"$schema\": \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Empty Schema\",\n  \"type\" : \"object\"\n}",
            ),
            model(
                "Pet",
                r#"{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0}},"required":["name","age"]}"#,
            ),
            model(
                "Pets",
                r#"{"type":"array","items":{"$ref":"https://apigateway.amazonaws.com/restapis/api1/models/Pet"}}"#,
            ),
        ]
    }

    #[test]
    fn schemas_compile_once_and_validate() {
        let mut set = ModelSet::new("api1", &pet_models());
        let pet = set.get("Pet");
        assert!(Arc::ptr_eq(&pet, &set.get("Pet")));
        assert_eq!(validation_errors(&pet, br#"{"name":"rex","age":3}"#), None);
        assert_eq!(
            validation_errors(&pet, br#"{"age":3}"#).as_deref(),
            Some(r#"[object has missing required properties (["name"])]"#)
        );
        assert_eq!(
            validation_errors(&pet, b"").as_deref(),
            Some(r#"[object has missing required properties (["age","name"])]"#)
        );
        assert_eq!(
            validation_errors(&pet, br#"{"name":"rex","age":"3"}"#).as_deref(),
            Some(
                r#"[instance type (string) does not match any allowed primitive type (allowed: ["integer"])]"#
            )
        );
        assert_eq!(
            validation_errors(&pet, br#"{"name":"rex","age":-1}"#).as_deref(),
            Some("[numeric instance is lower than the required minimum (minimum: 0, found: -1)]")
        );
        assert!(
            validation_errors(&pet, b"{not json")
                .unwrap()
                .starts_with("[Invalid request body: ")
        );
        assert_eq!(validation_errors(&set.get("Empty"), b""), None);
    }

    #[test]
    fn references_between_models_resolve() {
        let mut set = ModelSet::new("api1", &pet_models());
        let pets = set.get("Pets");
        assert_eq!(validation_errors(&pets, br#"[{"name":"a","age":1}]"#), None);
        assert_eq!(
            validation_errors(&pets, br#"[{"name":"a"}]"#).as_deref(),
            Some(r#"[object has missing required properties (["age"])]"#)
        );
        let missing = set.get("Nope");
        assert!(validation_errors(&missing, b"{}").is_some());
    }

    #[test]
    fn model_chosen_by_content_type_then_default() {
        let mut set = ModelSet::new("api1", &pet_models());
        let validators = vec![RequestValidator {
            id: Some("v1".into()),
            validate_request_body: Some(true),
            ..Default::default()
        }];
        let method = Method {
            request_validator_id: Some("v1".into()),
            request_models: Some(BTreeMap::from([
                ("application/json".to_owned(), "Pet".to_owned()),
                ("$default".to_owned(), "Empty".to_owned()),
            ])),
            ..Default::default()
        };
        let body = compile_for_method(&method, &validators, &mut set, "POST /").unwrap();
        assert_eq!(body.model_for(None).unwrap().name, "Pet");
        assert_eq!(
            body.model_for(Some("Application/JSON; charset=utf-8"))
                .unwrap()
                .name,
            "Pet"
        );
        assert_eq!(body.model_for(Some("text/plain")).unwrap().name, "Empty");
        let refused = body.check("api1", None, br#"{"age":1}"#).unwrap_err();
        assert_eq!(refused.body, r#"{"message":"Invalid request body"}"#);
        assert_eq!(
            refused.validation_error,
            r#"[object has missing required properties (["name"])]"#
        );
        assert_eq!(
            GatewayResponse {
                validation_error: String::new(),
                ..refused
            },
            invalid_body()
        );
        assert!(body.check("api1", Some("text/plain"), b"{}").is_ok());
        // A validator that does not check bodies compiles nothing.
        let params_only = vec![RequestValidator {
            id: Some("v1".into()),
            validate_request_parameters: Some(true),
            ..Default::default()
        }];
        assert!(compile_for_method(&method, &params_only, &mut set, "POST /").is_none());
    }
}
