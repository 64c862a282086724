//! `GetModelTemplate`: a sample mapping template in the shape of a model.
//!
//! AWS answers with `#set($inputRoot = $input.path('$'))` and then a JSON sample of the
//! model, properties in the schema's order written `"name" : value` with two spaces of
//! indentation, numbers as `3.1415` and strings as `"foo"` (the documented example). Integers
//! (`42`), booleans (`true`), arrays (one sample item) and nested objects (indented two more
//! spaces) follow the same pattern. `$ref`s to other models of the API are followed, each
//! model once per branch so a recursive model ends in `{ }`.

use portico_core::AwsError;
use portico_model::apigateway::{GetModelTemplateRequest, Model, Template};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::Call;
use crate::doc::required;

/// The model a `$ref` names (`https://apigateway.amazonaws.com/restapis/{id}/models/{name}`,
/// or the name alone), parsed.
fn referenced(reference: &str, models: &[Model]) -> Option<(String, Value)> {
    let name = reference.rsplit('/').next()?;
    let model = models.iter().find(|m| m.name.as_deref() == Some(name))?;
    let schema = serde_json::from_str(model.schema.as_deref()?).ok()?;
    Some((name.to_owned(), schema))
}

/// Writes the sample of `schema` at `indent` (the indentation of the line it starts on).
fn sample(
    schema: &Value,
    models: &[Model],
    seen: &mut Vec<String>,
    indent: usize,
    out: &mut String,
) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        match referenced(reference, models) {
            Some((name, target)) if !seen.contains(&name) => {
                seen.push(name);
                sample(&target, models, seen, indent, out);
                seen.pop();
            }
            _ => out.push_str("{ }"),
        }
        return;
    }
    let kind = schema.get("type").and_then(|t| match t {
        Value::String(s) => Some(s.as_str()),
        // `["string", "null"]`: the first type names the sample.
        Value::Array(types) => types.iter().find_map(Value::as_str),
        _ => None,
    });
    let properties = schema.get("properties").and_then(Value::as_object);
    match kind {
        Some("string") => out.push_str("\"foo\""),
        Some("number") => out.push_str("3.1415"),
        Some("integer") => out.push_str("42"),
        Some("boolean") => out.push_str("true"),
        Some("null") => out.push_str("null"),
        Some("array") => {
            out.push_str("[ ");
            match schema.get("items") {
                Some(items) => sample(items, models, seen, indent, out),
                None => out.push_str("\"foo\""),
            }
            out.push_str(" ]");
        }
        _ => match properties {
            Some(properties) if !properties.is_empty() => {
                object(properties, models, seen, indent, out)
            }
            _ => out.push_str("{ }"),
        },
    }
}

fn object(
    properties: &Map<String, Value>,
    models: &[Model],
    seen: &mut Vec<String>,
    indent: usize,
    out: &mut String,
) {
    out.push_str("{\n");
    let inner = indent + 2;
    for (i, (name, schema)) in properties.iter().enumerate() {
        out.push_str(&" ".repeat(inner));
        // Property names are JSON strings in the sample too.
        out.push_str(&Value::String(name.clone()).to_string());
        out.push_str(" : ");
        sample(schema, models, seen, inner, out);
        if i + 1 < properties.len() {
            out.push(',');
        }
        out.push('\n');
    }
    out.push_str(&" ".repeat(indent));
    out.push('}');
}

/// The template for `model` among the API's `models`.
fn template(model: &Model, models: &[Model]) -> String {
    let schema: Value = model
        .schema
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null);
    let mut out = String::from("#set($inputRoot = $input.path('$'))\n");
    let mut seen: Vec<String> = model.name.iter().cloned().collect();
    sample(&schema, models, &mut seen, 0, &mut out);
    out
}

pub(crate) async fn get_model_template(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetModelTemplateRequest = decode(input)?;
    let input_name = "getModelTemplateInput";
    let api_id = required(req.rest_api_id, input_name, "restApiId")?;
    let name = required(req.model_name, input_name, "modelName")?;
    let (doc, _) = call.load_api(&api_id).await?;
    let value = template(doc.model(&name)?, &doc.models);
    OperationOutput::json(op, &Template { value: Some(value) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str, schema: &str) -> Model {
        Model {
            name: Some(name.to_owned()),
            schema: Some(schema.to_owned()),
            ..Default::default()
        }
    }

    #[test]
    fn the_documented_sample() {
        let output = model(
            "output",
            r#"{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"},
                "op":{"type":"string"},"c":{"type":"number"}}}"#,
        );
        assert_eq!(
            template(&output, std::slice::from_ref(&output)),
            "#set($inputRoot = $input.path('$'))\n{\n  \"a\" : 3.1415,\n  \"b\" : 3.1415,\n  \"op\" : \"foo\",\n  \"c\" : 3.1415\n}"
        );
    }

    #[test]
    fn nesting_arrays_and_references() {
        let pet = model(
            "Pet",
            r#"{"type":"object","properties":{"id":{"type":"integer"},"tags":{"type":"array","items":{"type":"string"}},
                "owner":{"type":"object","properties":{"ok":{"type":"boolean"}}},
                "parent":{"$ref":"https://apigateway.amazonaws.com/restapis/a1/models/Pet"}}}"#,
        );
        let pets = model(
            "Pets",
            r#"{"type":"array","items":{"$ref":"https://apigateway.amazonaws.com/restapis/a1/models/Pet"}}"#,
        );
        let models = [pet.clone(), pets.clone()];
        assert_eq!(
            template(&pet, &models),
            "#set($inputRoot = $input.path('$'))\n{\n  \"id\" : 42,\n  \"tags\" : [ \"foo\" ],\n  \"owner\" : {\n    \"ok\" : true\n  },\n  \"parent\" : { }\n}"
        );
        assert_eq!(
            template(&pets, &models),
            "#set($inputRoot = $input.path('$'))\n[ {\n  \"id\" : 42,\n  \"tags\" : [ \"foo\" ],\n  \"owner\" : {\n    \"ok\" : true\n  },\n  \"parent\" : { }\n} ]"
        );
        let empty = model("Empty", r#"{"type":"object","title":"Empty Schema"}"#);
        assert_eq!(
            template(&empty, &[]),
            "#set($inputRoot = $input.path('$'))\n{ }"
        );
    }
}
