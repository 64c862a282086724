//! Gathers an operation's input from everywhere rest-json puts it.

use bytes::Bytes;
use http::HeaderMap;
use portico_core::AwsError;
use portico_model::binding::{Binding, Location, Operation, ValueKind};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::RoutedOperation;

/// An operation's input, gathered into one JSON object keyed as the generated input struct
/// expects (body members by wire name, bound members by member name).
#[derive(Debug, Clone)]
pub struct OperationInput {
    pub operation: &'static Operation,
    pub input: Map<String, Value>,
    /// The raw body, for operations whose input has a blob payload (Lambda `Invoke`).
    pub payload: Bytes,
}

fn bad_value(binding: &Binding, raw: &str) -> AwsError {
    AwsError::bad_request(format!(
        "Invalid value '{raw}' for parameter {}",
        binding.location_name
    ))
}

fn scalar(binding: &Binding, raw: &str) -> Result<Value, AwsError> {
    Ok(match binding.kind {
        ValueKind::Integer | ValueKind::Long => Value::from(
            raw.trim()
                .parse::<i64>()
                .map_err(|_| bad_value(binding, raw))?,
        ),
        ValueKind::Double => raw
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| bad_value(binding, raw))?,
        ValueKind::Boolean => match raw.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad_value(binding, raw)),
        },
        ValueKind::StringList => Value::Array(
            raw.split(',')
                .map(|s| Value::String(s.trim().to_owned()))
                .collect(),
        ),
        _ => Value::String(raw.to_owned()),
    })
}

fn header_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn bind_one(
    binding: &Binding,
    routed: &RoutedOperation,
    query: &[(String, String)],
    headers: &HeaderMap,
) -> Result<Option<Value>, AwsError> {
    match binding.location {
        Location::Uri => routed
            .labels
            .iter()
            .find(|(label, _)| *label == binding.location_name)
            .map(|(_, value)| scalar(binding, value))
            .transpose(),
        Location::Query if binding.kind == ValueKind::StringMap => {
            // A map bound to the query string takes every parameter no other member names.
            let named: Vec<&str> = routed
                .operation
                .bindings
                .iter()
                .filter(|b| b.location == Location::Query && b.kind != ValueKind::StringMap)
                .map(|b| b.location_name)
                .collect();
            let map: Map<String, Value> = query
                .iter()
                .filter(|(k, _)| !named.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            Ok((!map.is_empty()).then_some(Value::Object(map)))
        }
        Location::Query if binding.kind == ValueKind::StringList => {
            let values: Vec<Value> = query
                .iter()
                .filter(|(k, _)| k == binding.location_name)
                .map(|(_, v)| Value::String(v.clone()))
                .collect();
            Ok((!values.is_empty()).then_some(Value::Array(values)))
        }
        Location::Query => query
            .iter()
            .rev()
            .find(|(k, _)| k == binding.location_name)
            .map(|(_, v)| scalar(binding, v))
            .transpose(),
        Location::Header => header_value(headers, binding.location_name)
            .map(|v| scalar(binding, v))
            .transpose(),
        Location::Headers => {
            let prefix = binding.location_name.to_ascii_lowercase();
            let map: Map<String, Value> = headers
                .iter()
                .filter_map(|(name, value)| {
                    let suffix = name.as_str().strip_prefix(prefix.as_str())?;
                    Some((
                        suffix.to_owned(),
                        Value::String(value.to_str().ok()?.to_owned()),
                    ))
                })
                .collect();
            Ok((!map.is_empty()).then_some(Value::Object(map)))
        }
        Location::StatusCode => Ok(None),
    }
}

/// Builds the input object of a routed operation.
pub fn bind_input(
    routed: RoutedOperation,
    query: &[(String, String)],
    headers: &HeaderMap,
    body: Bytes,
) -> Result<OperationInput, AwsError> {
    let operation = routed.operation;
    let mut input = Map::new();
    let mut payload = Bytes::new();
    match operation.payload {
        Some(p) if matches!(p.kind, ValueKind::Blob | ValueKind::String) => payload = body,
        Some(p) => {
            if !body.is_empty() {
                input.insert(p.member.to_owned(), parse_json(&body)?);
            }
        }
        None if body.iter().all(u8::is_ascii_whitespace) => {}
        None => match parse_json(&body)? {
            Value::Object(map) => input = map,
            _ => {
                return Err(AwsError::serialization(
                    "Start of structure or map found where not expected.",
                ));
            }
        },
    }
    for binding in operation.bindings {
        if let Some(value) = bind_one(binding, &routed, query, headers)? {
            input.insert(binding.member.to_owned(), value);
        }
    }
    Ok(OperationInput {
        operation,
        input,
        payload,
    })
}

fn parse_json(body: &[u8]) -> Result<Value, AwsError> {
    serde_json::from_slice(body).map_err(|e| {
        AwsError::serialization(format!("Could not parse request body into json: {e}"))
    })
}

fn java_class(serde_kind: &str) -> &'static str {
    match serde_kind.split_whitespace().next().unwrap_or("") {
        "boolean" => "java.lang.Boolean",
        "integer" | "floating" => "java.lang.Number",
        "string" => "java.lang.String",
        "sequence" => "java.util.ArrayList",
        "map" => "java.util.LinkedHashMap",
        _ => "java.lang.Object",
    }
}

/// Deserializes a gathered input into the generated input struct; wrong JSON types answer
/// `SerializationException` worded as AWS's Java deserializer words them.
pub fn decode<T: DeserializeOwned>(input: Map<String, Value>) -> Result<T, AwsError> {
    serde_json::from_value(Value::Object(input)).map_err(|e| {
        let text = e.to_string();
        match text
            .strip_prefix("invalid type: ")
            .and_then(|rest| rest.split_once(", expected "))
        {
            Some((found, expected)) => {
                let target = match expected.split_whitespace().last().unwrap_or("") {
                    "string" => "String",
                    "boolean" => "Boolean",
                    "i32" | "i64" => "Integer",
                    "f64" => "Double",
                    "sequence" => "List",
                    "map" => "Map",
                    other => other,
                };
                AwsError::serialization(format!(
                    "class {} can not be converted to an {target}",
                    java_class(found)
                ))
            }
            None => AwsError::serialization(text),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use portico_model::binding::Payload;

    static BINDINGS: &[Binding] = &[
        Binding {
            member: "restApiId",
            location: Location::Uri,
            location_name: "restapi_id",
            kind: ValueKind::String,
        },
        Binding {
            member: "limit",
            location: Location::Query,
            location_name: "limit",
            kind: ValueKind::Integer,
        },
        Binding {
            member: "embed",
            location: Location::Query,
            location_name: "embed",
            kind: ValueKind::StringList,
        },
        Binding {
            member: "InvocationType",
            location: Location::Header,
            location_name: "X-Amz-Invocation-Type",
            kind: ValueKind::String,
        },
    ];
    static OP: Operation = Operation {
        name: "Test",
        method: "POST",
        uri: "/restapis/{restapi_id}",
        query_literals: &[],
        success_code: 200,
        input: None,
        output: None,
        bindings: BINDINGS,
        payload: None,
        output_bindings: &[],
        output_payload: None,
    };
    static BLOB_OP: Operation = Operation {
        payload: Some(Payload {
            member: "Payload",
            kind: ValueKind::Blob,
            shape: "Blob",
        }),
        ..OP
    };

    fn routed(op: &'static Operation) -> RoutedOperation {
        RoutedOperation {
            operation: op,
            labels: vec![("restapi_id", "abc".to_owned())],
        }
    }

    #[test]
    fn gathers_members_from_every_location() {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-invocation-type", "Event".parse().unwrap());
        let query = vec![
            ("limit".to_owned(), "25".to_owned()),
            ("embed".to_owned(), "methods".to_owned()),
        ];
        let input = bind_input(
            routed(&OP),
            &query,
            &headers,
            Bytes::from(r#"{"name":"x"}"#),
        )
        .unwrap()
        .input;
        assert_eq!(
            Value::Object(input),
            serde_json::json!({"name":"x","restApiId":"abc","limit":25,"embed":["methods"],"InvocationType":"Event"})
        );
    }

    #[test]
    fn blob_payloads_stay_raw_and_bad_json_is_a_serialization_error() {
        let out = bind_input(
            routed(&BLOB_OP),
            &[],
            &HeaderMap::new(),
            Bytes::from("not json"),
        )
        .unwrap();
        assert_eq!(out.payload, Bytes::from("not json"));
        let err =
            bind_input(routed(&OP), &[], &HeaderMap::new(), Bytes::from("{nope")).unwrap_err();
        assert_eq!((err.code, err.status), ("SerializationException", 400));
        let err = bind_input(routed(&OP), &[], &HeaderMap::new(), Bytes::from("[1]")).unwrap_err();
        assert_eq!(err.code, "SerializationException");
        let q = vec![("limit".to_owned(), "many".to_owned())];
        let err = bind_input(routed(&OP), &q, &HeaderMap::new(), Bytes::new()).unwrap_err();
        assert_eq!(err.code, "BadRequestException");
    }

    #[test]
    fn wrong_json_types_are_worded_as_aws_words_them() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Input {
            name: Option<String>,
        }
        let mut map = Map::new();
        map.insert("name".into(), Value::Bool(true));
        let err = decode::<Input>(map).unwrap_err();
        assert_eq!(
            err.message,
            "class java.lang.Boolean can not be converted to an String"
        );
    }
}
