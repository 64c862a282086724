//! API Gateway's objects: `$input`, `$util`, `$context` (with the override maps) and
//! `$stageVariables`.

use base64::Engine as _;

use crate::ast::Span;
use crate::eval::{Eval, R, err};
use crate::value::{JMap, Value};
use crate::{Overrides, Params};

/// A JSON scalar as the Java object Jayway/json-smart would produce.
pub(crate) fn json_scalar(j: &serde_json::Value) -> Value<'_> {
    match j {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::integral(i128::from(i), 0)
            } else if let Some(u) = n.as_u64() {
                Value::integral(i128::from(u), 0)
            } else {
                Value::Double(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        serde_json::Value::String(s) => Value::Borrowed(s),
        // Containers never reach here (callers borrow them as `Value::Json`).
        _ => Value::Null,
    }
}

fn empty_map<'a>() -> Value<'a> {
    Value::map(Vec::new())
}

fn params_map<'a>(pairs: &'a [(String, String)]) -> Value<'a> {
    Value::map(
        pairs
            .iter()
            .map(|(k, v)| (Value::Borrowed(k.as_str()), Value::Borrowed(v.as_str())))
            .collect(),
    )
}

/// `$input.params('name')`: path, then query string, then header (case-insensitive).
pub(crate) fn param<'a>(p: &'a Params, name: &str) -> Option<&'a str> {
    p.path
        .iter()
        .find(|(k, _)| k == name)
        .or_else(|| p.querystring.iter().find(|(k, _)| k == name))
        .or_else(|| p.header.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
        .map(|(_, v)| v.as_str())
}

impl<'a> Eval<'a> {
    /// The request or response body parsed as JSON, cached for the render. None: not JSON.
    fn body_doc(&mut self) -> Option<&Value<'a>> {
        if self.body_doc.is_none() {
            self.body_doc = Some(crate::json::parse_lenient(self.input.body));
        }
        self.body_doc.as_ref().and_then(Option::as_ref)
    }

    pub(crate) fn input_method(&mut self, name: &str, args: &[Value<'a>]) -> Value<'a> {
        let a0 = args.first().and_then(Value::as_str);
        match (name, args.len()) {
            ("getBody", 0) => Value::Borrowed(self.input.body),
            ("params", 0) => Value::map(vec![
                (Value::Borrowed("path"), params_map(&self.input.params.path)),
                (
                    Value::Borrowed("querystring"),
                    params_map(&self.input.params.querystring),
                ),
                (
                    Value::Borrowed("header"),
                    params_map(&self.input.params.header),
                ),
            ]),
            ("params", 1) => {
                let Some(n) = a0 else { return Value::Null };
                Value::Borrowed(param(self.input.params, n).unwrap_or(""))
            }
            ("path", 1) => {
                let Some(p) = a0 else { return Value::Null };
                match self.body_doc() {
                    Some(doc) => crate::jsonpath::eval(p, doc).unwrap_or(Value::Null),
                    None => Value::Null,
                }
            }
            ("json", 1) => {
                let Some(p) = a0 else { return Value::Null };
                let mut s = String::new();
                self.json_into(p, &mut s);
                Value::string(s)
            }
            _ => Value::Null,
        }
    }

    /// `$input.json(path)` appended to `out`; a path that matches nothing appends nothing.
    pub(crate) fn json_into(&mut self, path: &str, out: &mut String) {
        if let Some(v) = self
            .body_doc()
            .and_then(|doc| crate::jsonpath::eval_ref(path, doc))
        {
            v.write_json(out);
        }
    }

    pub(crate) fn util_method(
        &mut self,
        name: &str,
        args: &[Value<'a>],
        span: Span,
    ) -> R<Value<'a>> {
        if args.len() != 1 || args[0].is_null() {
            return Ok(Value::Null);
        }
        let arg: std::borrow::Cow<'_, str> = match args[0].as_str() {
            Some(s) => s.into(),
            None => args[0].to_java_string().into(),
        };
        Ok(match name {
            "escapeJavaScript" => Value::string(escape_javascript(&arg)),
            "parseJson" => {
                crate::json::parse_owned(&arg).map_err(|m| err(span, format!("parseJson: {m}")))?
            }
            "urlEncode" => Value::string(url_encode(&arg)),
            "urlDecode" => Value::string(
                url_decode(&arg).ok_or_else(|| err(span, "urlDecode: illegal escape sequence"))?,
            ),
            "base64Encode" => {
                Value::string(base64::engine::general_purpose::STANDARD.encode(arg.as_bytes()))
            }
            "base64Decode" => {
                // java.util.Base64's basic decoder accepts input with or without padding.
                let engine = base64::engine::GeneralPurpose::new(
                    &base64::alphabet::STANDARD,
                    base64::engine::GeneralPurposeConfig::new()
                        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
                );
                let bytes = engine
                    .decode(arg.trim_end_matches(['\r', '\n']).as_bytes())
                    .map_err(|e| err(span, format!("base64Decode: {e}")))?;
                Value::string(String::from_utf8_lossy(&bytes).into_owned())
            }
            _ => Value::Null,
        })
    }

    /// `$context.x`: the override maps are template-writable; everything else is the caller's.
    pub(crate) fn context_prop(&mut self, name: &str) -> Value<'a> {
        match name {
            "requestOverride" => self
                .request_override
                .get_or_insert_with(|| {
                    Value::map(vec![
                        (Value::Borrowed("header"), empty_map()),
                        (Value::Borrowed("querystring"), empty_map()),
                        (Value::Borrowed("path"), empty_map()),
                    ])
                })
                .clone(),
            "responseOverride" => self
                .response_override
                .get_or_insert_with(|| Value::map(vec![(Value::Borrowed("header"), empty_map())]))
                .clone(),
            _ => {
                if let Some(Value::Map(m)) = &self.context_sets
                    && let Some(v) = m.borrow().get(name)
                {
                    return v.clone();
                }
                match self.input.context {
                    serde_json::Value::Object(o) => {
                        o.get(name).map_or(Value::Null, crate::methods::json_ref)
                    }
                    _ => Value::Null,
                }
            }
        }
    }

    /// What the template set under `$context.requestOverride` / `$context.responseOverride`.
    pub(crate) fn overrides(&self) -> Result<Overrides, crate::RenderError> {
        let mut o = Overrides::default();
        let pairs = |m: Option<&JMap<'_>>, key: &str| -> Vec<(String, String)> {
            match m.and_then(|m| m.get(key)) {
                Some(Value::Map(x)) => x
                    .borrow()
                    .entries
                    .iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.to_java_string(), v.to_java_string()))
                    .collect(),
                _ => Vec::new(),
            }
        };
        if let Some(Value::Map(m)) = &self.request_override {
            let m = m.borrow();
            o.request_header = pairs(Some(&m), "header");
            o.request_querystring = pairs(Some(&m), "querystring");
            o.request_path = pairs(Some(&m), "path");
        }
        if let Some(Value::Map(m)) = &self.response_override {
            let m = m.borrow();
            o.response_header = pairs(Some(&m), "header");
            if let Some(s) = m.get("status").filter(|v| !v.is_null()) {
                let text = s.to_java_string();
                match text.trim().parse::<u16>() {
                    Ok(code) if (100..=599).contains(&code) => o.response_status = Some(code),
                    _ => {
                        return Err(err(
                            self.last_set,
                            format!(
                                "$context.responseOverride.status must be an HTTP status 100-599, got `{text}`"
                            ),
                        ));
                    }
                }
            }
        }
        Ok(o)
    }
}

/// Commons-Lang 2 `StringEscapeUtils.escapeJavaScript`.
pub(crate) fn escape_javascript(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    escape_javascript_into(s, &mut out);
    out
}

/// `escape_javascript`, appending to `out`.
pub(crate) fn escape_javascript_into(s: &str, out: &mut String) {
    use std::fmt::Write as _;
    // Fast path: nothing to escape.
    if s.bytes()
        .all(|b| (0x20..=0x7e).contains(&b) && !matches!(b, b'"' | b'\'' | b'\\' | b'/'))
    {
        out.push_str(s);
        return;
    }
    for u in s.encode_utf16() {
        match u {
            0x22 => out.push_str("\\\""),
            0x27 => out.push_str("\\'"),
            0x5c => out.push_str("\\\\"),
            0x2f => out.push_str("\\/"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            0x0a => out.push_str("\\n"),
            0x0d => out.push_str("\\r"),
            0x09 => out.push_str("\\t"),
            u if !(0x20..=0x7e).contains(&u) => {
                let _ = write!(out, "\\u{u:04X}");
            }
            u => out.push(char::from(u as u8)),
        }
    }
}

/// `java.net.URLEncoder.encode(s, "UTF-8")`.
pub(crate) fn url_encode(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// `java.net.URLDecoder.decode(s, "UTF-8")`; None on a malformed `%` escape.
pub(crate) fn url_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn util_functions_match_java() {
        assert_eq!(
            escape_javascript("it's \"x\"/y\u{e9}\n"),
            "it\\'s \\\"x\\\"\\/y\\u00E9\\n"
        );
        assert_eq!(url_encode("a b&c/\u{e9}"), "a+b%26c%2F%C3%A9");
        assert_eq!(url_decode("a+b%26c").as_deref(), Some("a b&c"));
        assert_eq!(url_decode("%zz"), None);
    }
}
