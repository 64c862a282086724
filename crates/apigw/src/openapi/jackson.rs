//! JSON written the way Jackson's default pretty printer writes it, which is what AWS's
//! exports come from: two-space indented objects, `"key" : value`, arrays kept on the line of
//! their parent (`[ {` … `} ]`, `[ "a", "b" ]`), and `{ }` / `[ ]` when empty.

use std::io::{Result, Write};

use portico_core::AwsError;
use serde_json::Value;
use serde_json::ser::Formatter;

#[derive(Default)]
struct Jackson {
    /// Object nesting depth: only objects indent.
    depth: usize,
    /// Whether the object being written has had a member yet, innermost last.
    members: Vec<bool>,
}

impl Jackson {
    fn newline<W: ?Sized + Write>(&self, w: &mut W) -> Result<()> {
        w.write_all(b"\n")?;
        for _ in 0..self.depth {
            w.write_all(b"  ")?;
        }
        Ok(())
    }
}

impl Formatter for Jackson {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> Result<()> {
        w.write_all(b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> Result<()> {
        w.write_all(b" ]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> Result<()> {
        w.write_all(if first { b" " } else { b", " })
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> Result<()> {
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> Result<()> {
        self.depth += 1;
        self.members.push(false);
        w.write_all(b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> Result<()> {
        self.depth = self.depth.saturating_sub(1);
        if self.members.pop().unwrap_or(false) {
            self.newline(w)?;
            w.write_all(b"}")
        } else {
            w.write_all(b" }")
        }
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> Result<()> {
        if let Some(any) = self.members.last_mut() {
            *any = true;
        }
        if !first {
            w.write_all(b",")?;
        }
        self.newline(w)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> Result<()> {
        w.write_all(b" : ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> Result<()> {
        Ok(())
    }
}

pub(crate) fn to_json(value: &Value) -> std::result::Result<Vec<u8>, AwsError> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, Jackson::default());
    serde::Serialize::serialize(value, &mut serializer)
        .map_err(|e| AwsError::internal(format!("Could not write the export: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_like_jackson() {
        let value = serde_json::json!({
            "openapi": "3.0.1",
            "servers": [{"url": "u", "variables": {"basePath": {"default": "/dev"}}}],
            "tags": ["a", "b"],
            "empty": {},
            "none": [],
            "responses": {"200": {"description": "200 response"}}
        });
        let text = String::from_utf8(to_json(&value).unwrap()).unwrap();
        assert_eq!(
            text,
            "{\n  \"openapi\" : \"3.0.1\",\n  \"servers\" : [ {\n    \"url\" : \"u\",\n    \"variables\" : {\n      \"basePath\" : {\n        \"default\" : \"/dev\"\n      }\n    }\n  } ],\n  \"tags\" : [ \"a\", \"b\" ],\n  \"empty\" : { },\n  \"none\" : [ ],\n  \"responses\" : {\n    \"200\" : {\n      \"description\" : \"200 response\"\n    }\n  }\n}"
        );
    }
}
