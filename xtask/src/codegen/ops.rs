//! Emits the `OPERATIONS` binding table, `ERRORS`, and their lookup functions.

use std::fmt::Write as _;

use anyhow::{Context, Result, bail};

use super::model::{Member, Model, Op, ShapeKind, Structure};
use super::naming::serde_keys;

pub fn emit_operations(out: &mut String, model: &Model) -> Result<()> {
    out.push_str("\n/// Every operation of the service, sorted by name.\n");
    out.push_str("pub static OPERATIONS: &[bind::Operation] = &[\n");
    // `model.operations` is a BTreeMap, so the table is sorted for `operation`'s binary search.
    for op in model.operations.values() {
        emit_operation(out, model, op).with_context(|| format!("operation `{}`", op.name))?;
    }
    out.push_str("];\n");
    out.push_str(
        r#"
/// The operation called `name`, if the service has one.
pub fn operation(name: &str) -> Option<&'static bind::Operation> {
    OPERATIONS.binary_search_by(|op| op.name.cmp(name)).ok().and_then(|i| OPERATIONS.get(i))
}
"#,
    );
    Ok(())
}

fn emit_operation(out: &mut String, model: &Model, op: &Op) -> Result<()> {
    let (path, query) = match op.request_uri.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (op.request_uri.as_str(), None),
    };
    let literals: Vec<String> = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            format!("({k:?}, {v:?})")
        })
        .collect();
    let input = op
        .input
        .as_deref()
        .map(|s| model.structure(s))
        .transpose()?;
    let output = op
        .output
        .as_deref()
        .map(|s| model.structure(s))
        .transpose()?;

    writeln!(out, "    bind::Operation {{")?;
    writeln!(out, "        name: {:?},", op.name)?;
    writeln!(out, "        method: {:?},", op.method)?;
    writeln!(out, "        uri: {path:?},")?;
    writeln!(out, "        query_literals: &[{}],", literals.join(", "))?;
    writeln!(out, "        success_code: {},", op.response_code)?;
    writeln!(out, "        input: {},", opt_str(op.input.as_deref()))?;
    writeln!(out, "        output: {},", opt_str(op.output.as_deref()))?;
    let in_locations = ["uri", "querystring", "header", "headers"];
    emit_bindings(out, model, "bindings", input, &in_locations)?;
    writeln!(out, "        payload: {},", payload(model, input)?)?;
    emit_bindings(
        out,
        model,
        "output_bindings",
        output,
        &["header", "headers", "statusCode"],
    )?;
    writeln!(out, "        output_payload: {},", payload(model, output)?)?;
    writeln!(out, "    }},")?;
    Ok(())
}

fn opt_str(s: Option<&str>) -> String {
    match s {
        Some(s) => format!("Some({s:?})"),
        None => "None".to_owned(),
    }
}

fn emit_bindings(
    out: &mut String,
    model: &Model,
    field: &str,
    shape: Option<&Structure>,
    locations: &[&str],
) -> Result<()> {
    let mut bound: Vec<(&Member, String)> = Vec::new();
    if let Some(s) = shape {
        for (m, key) in s.members.iter().zip(serde_keys(s)?) {
            if m.location
                .as_deref()
                .is_some_and(|l| locations.contains(&l))
            {
                bound.push((m, key));
            }
        }
    }
    if bound.is_empty() {
        writeln!(out, "        {field}: &[],")?;
        return Ok(());
    }
    writeln!(out, "        {field}: &[")?;
    for (m, key) in bound {
        let location = match m.location.as_deref() {
            Some("uri") => "Uri",
            Some("querystring") => "Query",
            Some("header") => "Header",
            Some("headers") => "Headers",
            Some("statusCode") => "StatusCode",
            other => bail!("member `{}` has unsupported location {other:?}", m.name),
        };
        let kind = binding_kind(model, &m.shape).with_context(|| format!("member `{}`", m.name))?;
        writeln!(
            out,
            "            bind::Binding {{ member: {:?}, location: bind::Location::{location}, location_name: {:?}, kind: bind::ValueKind::{kind} }},",
            key,
            m.location_name.as_deref().unwrap_or(""),
        )?;
    }
    writeln!(out, "        ],")?;
    Ok(())
}

/// The text form a bound member takes; anything richer cannot travel in a path, query or header.
fn binding_kind(model: &Model, shape: &str) -> Result<&'static str> {
    let is_string =
        |s: &str| -> Result<bool> { Ok(matches!(model.shape(s)?.kind, ShapeKind::String)) };
    Ok(match &model.shape(shape)?.kind {
        ShapeKind::String => "String",
        ShapeKind::Integer => "Integer",
        ShapeKind::Long => "Long",
        ShapeKind::Boolean => "Boolean",
        ShapeKind::Double => "Double",
        ShapeKind::Timestamp { .. } => "Timestamp",
        ShapeKind::Blob => "Blob",
        ShapeKind::List { member } if is_string(member)? => "StringList",
        ShapeKind::Map { key, value } if is_string(key)? && is_string(value)? => "StringMap",
        _ => bail!("shape `{shape}` cannot be bound outside the body"),
    })
}

fn payload(model: &Model, shape: Option<&Structure>) -> Result<String> {
    let Some(s) = shape else {
        return Ok("None".to_owned());
    };
    let Some(member_name) = &s.payload else {
        return Ok("None".to_owned());
    };
    let Some(member) = s.members.iter().find(|m| &m.name == member_name) else {
        bail!("payload `{member_name}` is not a member");
    };
    let kind = match model.shape(&member.shape)?.kind {
        ShapeKind::Blob => "Blob",
        ShapeKind::String => "String",
        ShapeKind::Structure(_) | ShapeKind::Document => "Structure",
        _ => bail!(
            "payload `{member_name}` has an unsupported shape `{}`",
            member.shape
        ),
    };
    Ok(format!(
        "Some(bind::Payload {{ member: {:?}, kind: bind::ValueKind::{kind}, shape: {:?} }})",
        member.name, member.shape
    ))
}

pub fn emit_errors(out: &mut String, model: &Model) -> Result<()> {
    out.push_str(
        "\n/// Every modelled error of the service with its HTTP status, sorted by name.\n",
    );
    out.push_str("pub const ERRORS: &[bind::ErrorInfo] = &[\n");
    for (name, shape) in &model.shapes {
        if let ShapeKind::Structure(s) = &shape.kind
            && s.exception
        {
            let Some(status) = s.error_status else {
                bail!("error shape `{name}` has no httpStatusCode");
            };
            writeln!(
                out,
                "    bind::ErrorInfo {{ name: {name:?}, status: {status} }},"
            )?;
        }
    }
    out.push_str("];\n");
    out.push_str(
        r#"
/// The modelled error called `name`, if the service has one.
pub fn error(name: &str) -> Option<&'static bind::ErrorInfo> {
    ERRORS.binary_search_by(|e| e.name.cmp(name)).ok().and_then(|i| ERRORS.get(i))
}
"#,
    );
    Ok(())
}
