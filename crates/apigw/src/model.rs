//! Models: CreateModel, GetModel (`flatten`), GetModels, UpdateModel, DeleteModel.
//!
//! A model is a named JSON Schema (draft 4) kept in the API document, so a deployment
//! freezes the models together with the methods that name them in `requestModels`; the data
//! plane compiles them for request-body validation. Every new REST API starts with AWS's two
//! default models, `Empty` and `Error`, byte for byte as AWS stores them.
//!
//! Schemas are checked here structurally (draft-4 keyword shapes, and that each `$ref` to
//! another model names one of this API's models by its canonical URL); the data plane does
//! the full compilation.

use portico_core::{AwsError, ids};
use portico_model::apigateway::{
    CreateModelRequest, DeleteModelRequest, GetModelRequest, GetModelsRequest, Model, Models,
    UpdateModelRequest,
};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::Call;
use crate::doc::{ApiDoc, required};
use crate::page::paginate;

/// The `Empty` model's schema exactly as AWS stores it (note the spacing).
const EMPTY_SCHEMA: &str = "{\n  \"$schema\": \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Empty Schema\",\n  \"type\" : \"object\"\n}";

/// The `Error` model's schema exactly as AWS stores it.
const ERROR_SCHEMA: &str = "{\n  \"$schema\" : \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Error Schema\",\n  \"type\" : \"object\",\n  \"properties\" : {\n    \"message\" : { \"type\" : \"string\" }\n  }\n}";

/// Where model references point: `{prefix}{apiId}/models/{name}`.
const REF_PREFIX: &str = "https://apigateway.amazonaws.com/restapis/";

/// The models every new REST API has.
pub(crate) fn default_models() -> Vec<Model> {
    vec![
        Model {
            id: Some(ids::short_id()),
            name: Some("Empty".to_owned()),
            description: Some("This is a default empty schema model".to_owned()),
            schema: Some(EMPTY_SCHEMA.to_owned()),
            content_type: Some("application/json".to_owned()),
        },
        Model {
            id: Some(ids::short_id()),
            name: Some("Error".to_owned()),
            description: Some("This is a default error schema model".to_owned()),
            schema: Some(ERROR_SCHEMA.to_owned()),
            content_type: Some("application/json".to_owned()),
        },
    ]
}

fn model_not_found(name: &str) -> AwsError {
    AwsError::not_found(format!("Invalid model name specified: {name}"))
}

/// AWS wraps schema problems in the validator's report.
fn invalid_model(error: &str) -> AwsError {
    AwsError::bad_request(format!(
        "Invalid model specified: Validation Result: warnings : [], errors : [{error}]"
    ))
}

fn invalid_schema() -> AwsError {
    invalid_model("Invalid model schema specified")
}

impl ApiDoc {
    pub fn model(&self, name: &str) -> Result<&Model, AwsError> {
        self.models
            .iter()
            .find(|m| m.name.as_deref() == Some(name))
            .ok_or_else(|| model_not_found(name))
    }
}

/// The model a canonical reference URL names on `api_id`, if it is one.
pub(crate) fn referenced_model<'a>(reference: &'a str, api_id: &str) -> Option<&'a str> {
    let rest = reference.strip_prefix(REF_PREFIX)?;
    let (api, name) = rest.split_once("/models/")?;
    (api == api_id && !name.is_empty() && !name.contains('/')).then_some(name)
}

const TYPES: &[&str] = &[
    "array", "boolean", "integer", "null", "number", "object", "string",
];

fn is_count(value: &Value) -> bool {
    value.as_u64().is_some()
}

/// Draft-4 keyword shapes, recursively. `refs` collects every `$ref` met.
fn check_node(node: &Value, depth: usize, refs: &mut Vec<String>) -> Result<(), AwsError> {
    // Deeper than any real schema; guards the recursion against hostile input.
    if depth > 64 {
        return Err(invalid_schema());
    }
    let Value::Object(map) = node else {
        return Err(invalid_schema());
    };
    let schema = |v: &Value, refs: &mut Vec<String>| check_node(v, depth + 1, refs);
    for (keyword, value) in map {
        let ok = match keyword.as_str() {
            "type" => match value {
                Value::String(t) => TYPES.contains(&t.as_str()),
                Value::Array(list) => {
                    !list.is_empty()
                        && list
                            .iter()
                            .all(|t| t.as_str().is_some_and(|t| TYPES.contains(&t)))
                }
                _ => false,
            },
            "properties" | "patternProperties" | "definitions" => match value {
                Value::Object(children) => {
                    for child in children.values() {
                        schema(child, refs)?;
                    }
                    true
                }
                _ => false,
            },
            "items" => match value {
                Value::Array(list) => {
                    for child in list {
                        schema(child, refs)?;
                    }
                    true
                }
                other => {
                    schema(other, refs)?;
                    true
                }
            },
            "additionalItems" | "additionalProperties" => match value {
                Value::Bool(_) => true,
                other => {
                    schema(other, refs)?;
                    true
                }
            },
            "not" => {
                schema(value, refs)?;
                true
            }
            "allOf" | "anyOf" | "oneOf" => match value {
                Value::Array(list) if !list.is_empty() => {
                    for child in list {
                        schema(child, refs)?;
                    }
                    true
                }
                _ => false,
            },
            "required" => value.as_array().is_some_and(|list| {
                !list.is_empty()
                    && list.iter().all(Value::is_string)
                    && list.iter().enumerate().all(|(i, v)| !list[..i].contains(v))
            }),
            "enum" => value.as_array().is_some_and(|list| !list.is_empty()),
            "dependencies" => match value {
                Value::Object(deps) => {
                    for dep in deps.values() {
                        match dep {
                            Value::Array(names) if names.iter().all(Value::is_string) => {}
                            Value::Array(_) => return Err(invalid_schema()),
                            other => schema(other, refs)?,
                        }
                    }
                    true
                }
                _ => false,
            },
            "minimum" | "maximum" => value.is_number(),
            "multipleOf" => value.as_f64().is_some_and(|n| n > 0.0),
            "exclusiveMinimum" | "exclusiveMaximum" | "uniqueItems" => value.is_boolean(),
            "minLength" | "maxLength" | "minItems" | "maxItems" | "minProperties"
            | "maxProperties" => is_count(value),
            "pattern" | "title" | "description" | "format" | "id" | "$schema" => value.is_string(),
            "$ref" => match value {
                Value::String(reference) => {
                    refs.push(reference.clone());
                    true
                }
                _ => false,
            },
            // Other members (`default`, `example`, vendor extensions) are annotations.
            _ => true,
        };
        if !ok {
            return Err(invalid_schema());
        }
    }
    Ok(())
}

/// Checks a model schema as CreateModel and UpdateModel do: JSON, a draft-4 schema object,
/// and references to other models in canonical form naming models this API has.
pub(crate) fn check_schema(text: &str, api_id: &str, models: &[Model]) -> Result<(), AwsError> {
    if text.trim().is_empty() {
        return Err(AwsError::bad_request(
            "Model schema must have at least 1 property or array items defined",
        ));
    }
    let parsed: Value = serde_json::from_str(text).map_err(|_| invalid_schema())?;
    let mut refs = Vec::new();
    check_node(&parsed, 0, &mut refs)?;
    for reference in refs {
        // Pointers inside the schema itself (`#/definitions/x`) need no lookup.
        if reference.starts_with('#') {
            continue;
        }
        let Some(name) = referenced_model(&reference, api_id) else {
            return Err(invalid_model("Model reference must be in canonical form"));
        };
        if !models.iter().any(|m| m.name.as_deref() == Some(name)) {
            return Err(invalid_model(&format!(
                "Invalid model identifier specified: {name}"
            )));
        }
    }
    Ok(())
}

/// `flatten=true`: every reference to another model replaced by that model's schema (its
/// `$schema` member dropped), recursively; a cycle is left as the reference.
fn flatten(schema: &str, api_id: &str, models: &[Model]) -> String {
    fn walk(node: &mut Value, api_id: &str, models: &[Model], seen: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                let target = map
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| referenced_model(r, api_id))
                    .map(str::to_owned);
                if let Some(name) = target
                    && !seen.contains(&name)
                    && let Some(mut inlined) = models
                        .iter()
                        .find(|m| m.name.as_deref() == Some(name.as_str()))
                        .and_then(|m| m.schema.as_deref())
                        .and_then(|s| serde_json::from_str::<Value>(s).ok())
                {
                    if let Value::Object(inner) = &mut inlined {
                        inner.shift_remove("$schema");
                    }
                    seen.push(name);
                    walk(&mut inlined, api_id, models, seen);
                    seen.pop();
                    *node = inlined;
                    return;
                }
                for child in map.values_mut() {
                    walk(child, api_id, models, seen);
                }
            }
            Value::Array(list) => {
                for child in list {
                    walk(child, api_id, models, seen);
                }
            }
            _ => {}
        }
    }
    let Ok(mut parsed) = serde_json::from_str::<Value>(schema) else {
        return schema.to_owned();
    };
    let before = parsed.clone();
    walk(&mut parsed, api_id, models, &mut Vec::new());
    if parsed == before {
        // Nothing referenced: the schema is returned as stored, formatting kept.
        return schema.to_owned();
    }
    serde_json::to_string(&parsed).unwrap_or_else(|_| schema.to_owned())
}

fn check_name(name: &str) -> Result<(), AwsError> {
    if name.is_empty() {
        return Err(AwsError::bad_request("Model name must be non-empty"));
    }
    // AWS documents the rule ("Must be alphanumeric"); the exact wording of its refusal is
    // not on record, so this one names the model the way its other model errors do.
    if !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(AwsError::bad_request(format!(
            "Invalid model name specified: {name}. Model names must be alphanumeric."
        )));
    }
    Ok(())
}

pub(crate) async fn create(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: CreateModelRequest = decode(input)?;
    let input_name = "createModelInput";
    let api_id = required(req.rest_api_id, input_name, "restApiId")?;
    let name = required(req.name, input_name, "name")?;
    let content_type = required(req.content_type, input_name, "contentType")?;
    check_name(&name)?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    if doc.models.iter().any(|m| m.name.as_deref() == Some(&name)) {
        return Err(AwsError::conflict(
            "Model name already exists for this REST API",
        ));
    }
    if let Some(schema) = req.schema.as_deref() {
        check_schema(schema, &api_id, &doc.models)?;
    }
    let model = Model {
        id: Some(ids::short_id()),
        name: Some(name),
        description: req.description,
        schema: req.schema,
        content_type: Some(content_type),
    };
    doc.models.push(model.clone());
    call.save_api(&doc, Some(version)).await?;
    OperationOutput::json(op, &model)
}

pub(crate) async fn get(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetModelRequest = decode(input)?;
    let input_name = "getModelInput";
    let api_id = required(req.rest_api_id, input_name, "restApiId")?;
    let name = required(req.model_name, input_name, "modelName")?;
    let (doc, _) = call.load_api(&api_id).await?;
    let mut model = doc.model(&name)?.clone();
    if req.flatten == Some(true)
        && let Some(schema) = model.schema.as_deref()
    {
        model.schema = Some(flatten(schema, &api_id, &doc.models));
    }
    OperationOutput::json(op, &model)
}

pub(crate) async fn list(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetModelsRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "getModelsInput", "restApiId")?;
    let (doc, _) = call.load_api(&api_id).await?;
    let mut models = doc.models;
    // AWS lists models by name (recorded: Empty, Error, then user models).
    models.sort_by(|a, b| a.name.cmp(&b.name));
    let (items, position) = paginate(
        models,
        |m| m.id.as_deref(),
        req.position.as_deref(),
        req.limit,
    )?;
    OperationOutput::json(
        op,
        &Models {
            items: Some(items),
            position,
        },
    )
}

pub(crate) async fn update(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UpdateModelRequest = decode(input)?;
    let input_name = "updateModelInput";
    let api_id = required(req.rest_api_id, input_name, "restApiId")?;
    let name = required(req.model_name, input_name, "modelName")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    let mut model = doc.model(&name)?.clone();
    for patch in req.patch_operations.unwrap_or_default() {
        let op_name = patch.op.as_deref().unwrap_or("");
        let path = patch.path.as_deref().unwrap_or("");
        if op_name != "replace" {
            return Err(AwsError::bad_request(format!(
                "Invalid patch path  '{path}' specified for op '{op_name}'. Please choose supported operations"
            )));
        }
        match path {
            "/description" => model.description = patch.value,
            "/schema" => {
                let schema = patch.value.unwrap_or_default();
                check_schema(&schema, &api_id, &doc.models)?;
                model.schema = Some(schema);
            }
            _ => {
                return Err(AwsError::bad_request(format!(
                    "Invalid patch path  '{path}' specified for op 'replace'. Must be one of: [/description, /schema]"
                )));
            }
        }
    }
    if let Some(slot) = doc
        .models
        .iter_mut()
        .find(|m| m.name.as_deref() == Some(name.as_str()))
    {
        *slot = model.clone();
    }
    call.save_api(&doc, Some(version)).await?;
    OperationOutput::json(op, &model)
}

/// The first method whose `requestModels` names `name`, as `{resourcePath}/{METHOD}`.
fn referencing_method(doc: &ApiDoc, name: &str) -> Option<String> {
    doc.resources.iter().find_map(|resource| {
        resource
            .resource_methods
            .iter()
            .flatten()
            .find(|(_, method)| {
                method
                    .request_models
                    .iter()
                    .flatten()
                    .any(|(_, model)| model == name)
            })
            .map(|(verb, _)| format!("{}/{verb}", resource.path.as_deref().unwrap_or("")))
    })
}

pub(crate) async fn delete(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteModelRequest = decode(input)?;
    let input_name = "deleteModelInput";
    let api_id = required(req.rest_api_id, input_name, "restApiId")?;
    let name = required(req.model_name, input_name, "modelName")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    doc.model(&name)?;
    if let Some(path) = referencing_method(&doc, &name) {
        return Err(AwsError::conflict(format!(
            "Cannot delete model '{name}', is referenced in method request: {path}"
        )));
    }
    doc.models
        .retain(|m| m.name.as_deref() != Some(name.as_str()));
    call.save_api(&doc, Some(version)).await?;
    Ok(OperationOutput::empty(op))
}

/// PutMethod's `requestModels` must name models the API has.
pub(crate) fn check_request_models(
    doc: &ApiDoc,
    request_models: Option<&std::collections::BTreeMap<String, String>>,
) -> Result<(), AwsError> {
    for name in request_models.into_iter().flatten().map(|(_, n)| n) {
        if !doc.models.iter().any(|m| m.name.as_deref() == Some(name)) {
            return Err(AwsError::bad_request(format!(
                "Invalid model identifier specified: {name}"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn models(names: &[&str]) -> Vec<Model> {
        names
            .iter()
            .map(|n| Model {
                name: Some((*n).to_owned()),
                schema: Some("{\"type\":\"object\"}".to_owned()),
                ..Default::default()
            })
            .collect()
    }

    #[test]
    fn default_models_are_aws_byte_for_byte() {
        let d = default_models();
        assert_eq!(d[0].name.as_deref(), Some("Empty"));
        assert_eq!(
            d[0].schema.as_deref(),
            Some(
                "{\n  \"$schema\": \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Empty Schema\",\n  \"type\" : \"object\"\n}"
            )
        );
        assert_eq!(
            d[1].description.as_deref(),
            Some("This is a default error schema model")
        );
        for m in &d {
            assert!(check_schema(m.schema.as_deref().unwrap(), "a", &[]).is_ok());
            assert_eq!(m.id.as_ref().unwrap().len(), 6);
        }
    }

    #[test]
    fn schema_checks_use_aws_wording() {
        let wrapped = "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified]";
        for bad in [
            "not json",
            "[1]",
            r#"{"type":"strin"}"#,
            r#"{"required":[]}"#,
            r#"{"properties":{"a":{"type":5}}}"#,
            r#"{"minLength":-1}"#,
            r#"{"items":[{"type":"nope"}]}"#,
        ] {
            assert_eq!(
                check_schema(bad, "a", &[]).unwrap_err().message,
                wrapped,
                "{bad}"
            );
        }
        assert!(check_schema(r##"{"type":["string","null"],"definitions":{"x":{}},"properties":{"a":{"$ref":"#/definitions/x"}},"required":["a"]}"##, "a", &[]).is_ok());
        assert_eq!(
            check_schema("", "a", &[]).unwrap_err().message,
            "Model schema must have at least 1 property or array items defined"
        );
    }

    #[test]
    fn references_must_be_canonical_and_exist() {
        let have = models(&["Pet"]);
        let ok = r#"{"type":"array","items":{"$ref":"https://apigateway.amazonaws.com/restapis/api1/models/Pet"}}"#;
        assert!(check_schema(ok, "api1", &have).is_ok());
        let e = check_schema(ok, "api2", &have).unwrap_err();
        assert_eq!(
            e.message,
            "Invalid model specified: Validation Result: warnings : [], errors : [Model reference must be in canonical form]"
        );
        let missing = ok.replace("/Pet", "/Dog");
        assert_eq!(
            check_schema(&missing, "api1", &have).unwrap_err().message,
            "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model identifier specified: Dog]"
        );
    }

    #[test]
    fn flatten_inlines_references() {
        let mut have = models(&["Pet"]);
        have[0].schema = Some(
            r#"{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","required":["id"]}"#
                .to_owned(),
        );
        let list = r#"{"type":"array","items":{"$ref":"https://apigateway.amazonaws.com/restapis/api1/models/Pet"}}"#;
        assert_eq!(
            flatten(list, "api1", &have),
            r#"{"type":"array","items":{"type":"object","required":["id"]}}"#
        );
        assert_eq!(flatten(EMPTY_SCHEMA, "api1", &have), EMPTY_SCHEMA);
    }

    #[test]
    fn names_are_alphanumeric() {
        assert!(check_name("Pet2").is_ok());
        assert_eq!(
            check_name("").unwrap_err().message,
            "Model name must be non-empty"
        );
        assert!(check_name("my-model").is_err());
    }
}
