//! Reading an OpenAPI 3 or Swagger 2 document (JSON or YAML) into plain JSON, and the small
//! helpers the importer uses to walk it.

use portico_core::AwsError;
use serde_json::{Map, Value};

/// Which specification a document follows; decides where schemas, security schemes and the
/// base path live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    Swagger2,
    OpenApi3,
}

/// AWS's answer to a body that is neither JSON nor YAML, or that is not an API definition.
pub(crate) fn invalid_input() -> AwsError {
    AwsError::bad_request("Invalid OpenAPI input.")
}

/// Errors AWS collects while importing are reported together, one per line.
pub(crate) fn import_errors(errors: &[String]) -> AwsError {
    AwsError::bad_request(format!(
        "Errors found during import:\n\t{}",
        errors.join("\n\t")
    ))
}

/// Warnings turn into an error when the caller asked `failonwarnings=true`.
pub(crate) fn import_warnings(warnings: &[String]) -> AwsError {
    AwsError::bad_request(format!(
        "Warnings found during import:\n\t{}",
        warnings.join("\n\t")
    ))
}

/// Parses the body: JSON first (the common case, and exact), then YAML.
pub(crate) fn parse(body: &[u8]) -> Result<(Map<String, Value>, Flavor), AwsError> {
    let value = match serde_json::from_slice::<Value>(body) {
        Ok(v) => v,
        Err(_) => {
            let yaml: serde_yaml_ng::Value =
                serde_yaml_ng::from_slice(body).map_err(|_| invalid_input())?;
            yaml_to_json(yaml)
        }
    };
    let Value::Object(map) = value else {
        return Err(invalid_input());
    };
    let flavor = if map
        .get("swagger")
        .and_then(scalar_text)
        .is_some_and(|v| v.starts_with('2'))
    {
        Flavor::Swagger2
    } else if map
        .get("openapi")
        .and_then(scalar_text)
        .is_some_and(|v| v.starts_with('3'))
    {
        Flavor::OpenApi3
    } else {
        return Err(invalid_input());
    };
    Ok((map, flavor))
}

/// YAML allows non-string keys (`200:` under `responses`); OpenAPI means them as strings.
fn yaml_to_json(value: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .filter_map(|(k, v)| Some((key_text(k)?, yaml_to_json(v))))
                .collect(),
        ),
        Y::Tagged(tagged) => yaml_to_json(tagged.value),
    }
}

fn key_text(key: serde_yaml_ng::Value) -> Option<String> {
    use serde_yaml_ng::Value as Y;
    match key {
        Y::String(s) => Some(s),
        Y::Number(n) => Some(n.to_string()),
        Y::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A scalar as text: versions and status codes are written as numbers as often as strings.
pub(crate) fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(scalar_text)
}

pub(crate) fn object<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Map<String, Value>> {
    map.get(key).and_then(Value::as_object)
}

/// A map of strings (templates, parameter mappings); non-string values are written as JSON.
pub(crate) fn string_map(
    map: &Map<String, Value>,
    key: &str,
) -> Option<std::collections::BTreeMap<String, String>> {
    object(map, key).map(|m| {
        m.iter()
            .map(|(k, v)| {
                let text = scalar_text(v).unwrap_or_else(|| v.to_string());
                (k.clone(), text)
            })
            .collect()
    })
}

pub(crate) fn string_list(map: &Map<String, Value>, key: &str) -> Option<Vec<String>> {
    map.get(key)
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(scalar_text).collect())
}

pub(crate) fn boolean(map: &Map<String, Value>, key: &str) -> Option<bool> {
    match map.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The name a local `$ref` points at (`#/definitions/Pet`, `#/components/schemas/Pet`).
pub(crate) fn ref_name(reference: &str) -> Option<&str> {
    reference
        .strip_prefix("#/")
        .and_then(|r| r.rsplit('/').next())
        .filter(|n| !n.is_empty())
}

/// Follows a local `$ref` inside the document (parameters defined once and reused).
pub(crate) fn resolve<'a>(root: &'a Map<String, Value>, value: &'a Value) -> &'a Value {
    let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
        return value;
    };
    let Some(pointer) = reference.strip_prefix('#') else {
        return value;
    };
    let mut cursor: Option<&Value> = None;
    for (i, segment) in pointer.split('/').skip(1).enumerate() {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        cursor = if i == 0 {
            root.get(&segment)
        } else {
            cursor.and_then(|c| c.get(&segment))
        };
    }
    cursor.unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_yaml_documents_are_recognised() {
        let (map, flavor) = parse(br#"{"openapi":"3.0.1","info":{"title":"a"}}"#).unwrap();
        assert_eq!(flavor, Flavor::OpenApi3);
        assert_eq!(map["info"]["title"], "a");
        let yaml = b"swagger: '2.0'\ninfo:\n  title: b\npaths:\n  /x:\n    get:\n      responses:\n        200:\n          description: ok\n";
        let (map, flavor) = parse(yaml).unwrap();
        assert_eq!(flavor, Flavor::Swagger2);
        assert_eq!(
            map["paths"]["/x"]["get"]["responses"]["200"]["description"],
            "ok"
        );
    }

    #[test]
    fn garbage_and_unversioned_documents_are_refused() {
        for body in [
            &b"[1,2]"[..],
            b"{\"info\":{}}",
            b"{: nope",
            b"openapi: 2.0\n",
        ] {
            let err = parse(body).unwrap_err();
            assert_eq!(err.code, "BadRequestException");
            assert_eq!(err.message, "Invalid OpenAPI input.");
        }
    }

    #[test]
    fn refs_resolve_locally() {
        let (map, _) = parse(
            br##"{"swagger":"2.0","parameters":{"Id":{"name":"id","in":"path"}},"x":{"$ref":"#/parameters/Id"}}"##,
        )
        .unwrap();
        assert_eq!(resolve(&map, &map["x"])["name"], "id");
        assert_eq!(ref_name("#/components/schemas/Pet"), Some("Pet"));
        assert_eq!(ref_name("Pet"), None);
    }
}
