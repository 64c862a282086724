//! The subset of a botocore `service-2.json` model that code generation reads.
//!
//! Parsing is strict about what it uses (a missing `type` or a dangling shape reference is an
//! error naming the shape) and ignores everything else (constraints, deprecation notes), because
//! the generated types validate nothing: services validate members themselves.

use std::collections::BTreeMap;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value};

/// A service model: shapes and operations, keyed (and so sorted) by name.
#[derive(Debug)]
pub struct Model {
    pub shapes: BTreeMap<String, Shape>,
    pub operations: BTreeMap<String, Op>,
}

#[derive(Debug)]
pub struct Shape {
    pub kind: ShapeKind,
    pub documentation: Option<String>,
}

#[derive(Debug)]
pub enum ShapeKind {
    String,
    Boolean,
    Integer,
    Long,
    Double,
    Blob,
    Timestamp { format: Option<String> },
    List { member: String },
    Map { key: String, value: String },
    Structure(Structure),
    Document,
}

#[derive(Debug)]
pub struct Structure {
    /// Members in model order (xtask enables serde_json's `preserve_order`).
    pub members: Vec<Member>,
    pub payload: Option<String>,
    pub exception: bool,
    pub error_status: Option<u16>,
}

#[derive(Debug)]
pub struct Member {
    pub name: String,
    pub shape: String,
    pub location: Option<String>,
    pub location_name: Option<String>,
    pub documentation: Option<String>,
}

#[derive(Debug)]
pub struct Op {
    pub name: String,
    pub method: String,
    pub request_uri: String,
    pub response_code: u16,
    pub input: Option<String>,
    pub output: Option<String>,
}

impl Model {
    pub fn parse(root: &Value) -> Result<Model> {
        let shapes_json = obj(root, "shapes").context("model has no `shapes` object")?;
        let mut shapes = BTreeMap::new();
        for (name, v) in shapes_json {
            let shape = parse_shape(v).with_context(|| format!("shape `{name}`"))?;
            shapes.insert(name.clone(), shape);
        }
        let ops_json = obj(root, "operations").context("model has no `operations` object")?;
        let mut operations = BTreeMap::new();
        for (name, v) in ops_json {
            let op = parse_op(name, v).with_context(|| format!("operation `{name}`"))?;
            operations.insert(name.clone(), op);
        }
        let model = Model { shapes, operations };
        model.check_references()?;
        Ok(model)
    }

    /// Looks a shape up, failing with the dangling name instead of panicking later.
    pub fn shape(&self, name: &str) -> Result<&Shape> {
        self.shapes
            .get(name)
            .ok_or_else(|| anyhow!("reference to unknown shape `{name}`"))
    }

    pub fn structure(&self, name: &str) -> Result<&Structure> {
        match &self.shape(name)?.kind {
            ShapeKind::Structure(s) => Ok(s),
            _ => bail!("shape `{name}` is used as a structure but is not one"),
        }
    }

    fn check_references(&self) -> Result<()> {
        for (name, shape) in &self.shapes {
            let targets: Vec<&str> = match &shape.kind {
                ShapeKind::List { member } => vec![member],
                ShapeKind::Map { key, value } => vec![key, value],
                ShapeKind::Structure(s) => s.members.iter().map(|m| m.shape.as_str()).collect(),
                _ => Vec::new(),
            };
            for t in targets {
                self.shape(t)
                    .with_context(|| format!("in shape `{name}`"))?;
            }
        }
        for op in self.operations.values() {
            for s in op.input.iter().chain(op.output.iter()) {
                self.structure(s)
                    .with_context(|| format!("in operation `{}`", op.name))?;
            }
        }
        Ok(())
    }
}

fn obj<'a>(v: &'a Value, key: &str) -> Option<&'a Map<String, Value>> {
    v.get(key).and_then(Value::as_object)
}

fn string(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn required_string(v: &Value, key: &str) -> Result<String> {
    string(v, key).ok_or_else(|| anyhow!("missing string `{key}`"))
}

fn status(v: &Value, key: &str) -> Result<Option<u16>> {
    match v.get(key) {
        None => Ok(None),
        Some(n) => n
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| anyhow!("`{key}` is not a status code: {n}")),
    }
}

fn parse_shape(v: &Value) -> Result<Shape> {
    let documentation = string(v, "documentation");
    let ty = required_string(v, "type")?;
    let kind = match ty.as_str() {
        "string" => ShapeKind::String,
        "boolean" => ShapeKind::Boolean,
        "integer" => ShapeKind::Integer,
        "long" => ShapeKind::Long,
        "float" | "double" => ShapeKind::Double,
        "blob" => ShapeKind::Blob,
        "timestamp" => ShapeKind::Timestamp {
            format: string(v, "timestampFormat"),
        },
        "list" => ShapeKind::List {
            member: v
                .get("member")
                .map(|m| required_string(m, "shape"))
                .transpose()?
                .ok_or_else(|| anyhow!("list without `member`"))?,
        },
        "map" => ShapeKind::Map {
            key: v
                .get("key")
                .map(|m| required_string(m, "shape"))
                .transpose()?
                .ok_or_else(|| anyhow!("map without `key`"))?,
            value: v
                .get("value")
                .map(|m| required_string(m, "shape"))
                .transpose()?
                .ok_or_else(|| anyhow!("map without `value`"))?,
        },
        "structure" if v.get("document").and_then(Value::as_bool) == Some(true) => {
            ShapeKind::Document
        }
        // A union has at most one member set; all-optional fields describe it exactly.
        "structure" | "union" => ShapeKind::Structure(parse_structure(v)?),
        other => bail!("unsupported shape type `{other}`"),
    };
    Ok(Shape {
        kind,
        documentation,
    })
}

fn parse_structure(v: &Value) -> Result<Structure> {
    let mut members = Vec::new();
    if let Some(ms) = obj(v, "members") {
        for (name, m) in ms {
            members.push(Member {
                name: name.clone(),
                shape: required_string(m, "shape").with_context(|| format!("member `{name}`"))?,
                location: string(m, "location"),
                location_name: string(m, "locationName"),
                documentation: string(m, "documentation"),
            });
        }
    }
    let error_status = match v.get("error") {
        Some(e) => status(e, "httpStatusCode")?,
        None => None,
    };
    Ok(Structure {
        members,
        payload: string(v, "payload"),
        exception: v.get("exception").and_then(Value::as_bool) == Some(true),
        error_status,
    })
}

fn parse_op(name: &str, v: &Value) -> Result<Op> {
    let http = v.get("http").ok_or_else(|| anyhow!("missing `http`"))?;
    let shape_of = |key: &str| -> Result<Option<String>> {
        v.get(key)
            .map(|io| required_string(io, "shape"))
            .transpose()
    };
    Ok(Op {
        name: name.to_owned(),
        method: required_string(http, "method")?,
        request_uri: required_string(http, "requestUri")?,
        response_code: status(http, "responseCode")?.unwrap_or(200),
        input: shape_of("input")?,
        output: shape_of("output")?,
    })
}
