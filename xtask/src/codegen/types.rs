//! Emits one serde struct per structure shape (error shapes included).
//!
//! Every field is `Option<T>` (services check required members themselves) and carries its
//! serde key from [`serde_keys`]: the wire name for body members, the member name for bound ones.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use anyhow::{Context, Result, bail};

use super::docs::first_sentence;
use super::model::{Model, ShapeKind, Structure};
use super::naming::{field_name, serde_keys, type_name};
use super::{Service, TimestampDefault};

pub fn emit_structs(out: &mut String, model: &Model, service: &Service) -> Result<()> {
    let boxed = recursive_edges(model);
    let mut rust_names = BTreeSet::new();
    for (name, shape) in &model.shapes {
        if let ShapeKind::Structure(s) = &shape.kind {
            // A renamed shape (`None` -> `None_`) must not land on a name the model also uses.
            if !rust_names.insert(type_name(name)) {
                bail!("two shapes map to the Rust name `{}`", type_name(name));
            }
            emit_struct(
                out,
                model,
                service,
                &boxed,
                name,
                shape.documentation.as_deref(),
                s,
            )
            .with_context(|| format!("structure `{name}`"))?;
        }
    }
    Ok(())
}

fn emit_struct(
    out: &mut String,
    model: &Model,
    service: &Service,
    boxed: &BTreeSet<(String, String)>,
    name: &str,
    doc: Option<&str>,
    s: &Structure,
) -> Result<()> {
    out.push('\n');
    if let Some(doc) = doc.and_then(first_sentence) {
        writeln!(out, "/// {doc}")?;
    }
    out.push_str(
        "#[derive(Debug, Clone, Default, PartialEq, ::serde::Serialize, ::serde::Deserialize)]\n",
    );
    if s.members.is_empty() {
        writeln!(out, "pub struct {} {{}}", type_name(name))?;
        return Ok(());
    }
    writeln!(out, "pub struct {} {{", type_name(name))?;
    let mut fields = BTreeSet::new();
    for (m, key) in s.members.iter().zip(serde_keys(s)?) {
        if !fields.insert(field_name(&m.name)) {
            bail!("two members map to the field `{}`", field_name(&m.name));
        }
        let mut ty =
            rust_type(model, service, &m.shape).with_context(|| format!("member `{}`", m.name))?;
        if boxed.contains(&(name.to_owned(), m.name.clone())) {
            ty = format!("Box<{ty}>");
        }
        if let Some(doc) = m.documentation.as_deref().and_then(first_sentence) {
            writeln!(out, "    /// {doc}")?;
        }
        writeln!(
            out,
            "    #[serde(rename = {key:?}, default, skip_serializing_if = \"Option::is_none\")]"
        )?;
        writeln!(out, "    pub {}: Option<{ty}>,", field_name(&m.name))?;
    }
    out.push_str("}\n");
    Ok(())
}

/// The Rust type of a shape; aliases of primitives are inlined.
pub fn rust_type(model: &Model, service: &Service, shape: &str) -> Result<String> {
    Ok(match &model.shape(shape)?.kind {
        ShapeKind::String | ShapeKind::Blob => "String".to_owned(),
        ShapeKind::Boolean => "bool".to_owned(),
        ShapeKind::Integer => "i32".to_owned(),
        ShapeKind::Long => "i64".to_owned(),
        ShapeKind::Double => "f64".to_owned(),
        ShapeKind::Timestamp { format } => match format.as_deref() {
            Some("iso8601" | "rfc822") => "String".to_owned(),
            Some("unixTimestamp") => "i64".to_owned(),
            Some(other) => bail!("unknown timestampFormat `{other}` on `{shape}`"),
            None => match service.timestamp_default {
                TimestampDefault::EpochSeconds => "i64".to_owned(),
                TimestampDefault::Text => "String".to_owned(),
            },
        },
        ShapeKind::List { member } => format!("Vec<{}>", rust_type(model, service, member)?),
        ShapeKind::Map { key, value } => {
            if !matches!(model.shape(key)?.kind, ShapeKind::String) {
                bail!("map `{shape}` has a non-string key `{key}`");
            }
            format!(
                "::std::collections::BTreeMap<String, {}>",
                rust_type(model, service, value)?
            )
        }
        ShapeKind::Structure(_) => type_name(shape),
        ShapeKind::Document => "::serde_json::Value".to_owned(),
    })
}

/// `(structure, member)` pairs whose member must be boxed: a structure that contains itself
/// through plain (non-list, non-map) members would have infinite size. `Vec` and `BTreeMap`
/// already hold their elements on the heap, so only direct edges count.
fn recursive_edges(model: &Model) -> BTreeSet<(String, String)> {
    let mut direct: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for (name, shape) in &model.shapes {
        if let ShapeKind::Structure(s) = &shape.kind {
            let edges = s
                .members
                .iter()
                .filter(|m| {
                    model
                        .shapes
                        .get(&m.shape)
                        .is_some_and(|t| matches!(t.kind, ShapeKind::Structure(_)))
                })
                .map(|m| (m.name.as_str(), m.shape.as_str()))
                .collect();
            direct.insert(name, edges);
        }
    }
    let reaches = |from: &str, to: &str| -> bool {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from];
        while let Some(s) = stack.pop() {
            if s == to {
                return true;
            }
            if seen.insert(s) {
                stack.extend(direct.get(s).into_iter().flatten().map(|(_, t)| *t));
            }
        }
        false
    };
    let mut boxed = BTreeSet::new();
    for (name, edges) in &direct {
        for (member, target) in edges {
            if reaches(target, name) {
                boxed.insert(((*name).to_owned(), (*member).to_owned()));
            }
        }
    }
    boxed
}
