//! Runtime values: the Java objects a Velocity template sees, and how Java prints them.
//!
//! Templates observe Java semantics (reference-shared mutable lists and maps, `Integer` vs `Long`,
//! `Double.toString`), so values mirror the Java classes AWS hands the engine rather than JSON.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;

use crate::ast::Node;

/// A value during rendering. `'a` borrows from the template and the render input.
#[derive(Clone)]
pub(crate) enum Value<'a> {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    /// `java.math.BigInteger`, reached when `Long` arithmetic overflows (Velocity widens).
    Big(i128),
    Double(f64),
    Str(Rc<str>),
    /// A string borrowed from the input (parameters, stage variables, context) without copying.
    Borrowed(&'a str),
    List(Rc<RefCell<List<'a>>>),
    Map(Rc<RefCell<JMap<'a>>>),
    /// A read-only JSON container from the caller (`$context` subtrees), read lazily.
    Json(&'a serde_json::Value),
    /// `$input`.
    Input,
    /// `$util`.
    Util,
    /// `$context` (intercepts `requestOverride` / `responseOverride`).
    Context,
    /// `$stageVariables`.
    Stage,
    /// `$foreach` inside a loop.
    Loop(Rc<LoopInfo<'a>>),
    /// A `#define` block: rendered each time it is referenced.
    Block(&'a [Node]),
    /// A `java.lang.Class` (from `$x.class`), by name.
    Class(&'static str),
    /// A `Map.Entry` from `entrySet()`.
    Entry(Rc<(Value<'a>, Value<'a>)>),
}

/// Which Java class a list is, because each prints differently.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ListKind {
    /// `java.util.ArrayList` (list literals, ranges, `keySet()`...): prints `[a, b]`.
    Java,
    /// `net.minidev.json.JSONArray` (JSONPath results): prints compact JSON.
    Json,
}

pub(crate) struct List<'a> {
    pub kind: ListKind,
    pub items: Vec<Value<'a>>,
}

/// An insertion-ordered map (`LinkedHashMap`), the class Velocity map literals and JSON objects
/// are. Keys are values (usually strings, often borrowed from the input) compared with Java's
/// `equals`, so `{1: 'a'}.get(1)` finds the entry and `.get('1')` does not.
#[derive(Default)]
pub(crate) struct JMap<'a> {
    pub entries: Vec<(Value<'a>, Value<'a>)>,
}

/// State behind `$foreach`.
pub(crate) struct LoopInfo<'a> {
    pub index: std::cell::Cell<usize>,
    pub has_next: std::cell::Cell<bool>,
    pub parent: Value<'a>,
}

fn same_key<'a>(a: &Value<'a>, b: &Value<'a>) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => x == y,
        (None, None) if a.is_null() || b.is_null() => a.is_null() && b.is_null(),
        (None, None) => crate::ops::java_equals(a, b),
        _ => false,
    }
}

impl<'a> JMap<'a> {
    /// `get` by a string key (property access, JSON names).
    pub fn get(&self, k: &str) -> Option<&Value<'a>> {
        self.entries
            .iter()
            .find(|(key, _)| key.as_str() == Some(k))
            .map(|(_, v)| v)
    }
    /// `Map.get(Object)`.
    pub fn get_value(&self, k: &Value<'a>) -> Option<&Value<'a>> {
        self.entries
            .iter()
            .find(|(key, _)| same_key(key, k))
            .map(|(_, v)| v)
    }
    /// `Map.put`: returns the previous value (Null when absent).
    pub fn put(&mut self, k: Value<'a>, v: Value<'a>) -> Value<'a> {
        if let Some(slot) = self.entries.iter_mut().find(|(key, _)| same_key(key, &k)) {
            return std::mem::replace(&mut slot.1, v);
        }
        self.entries.push((k, v));
        Value::Null
    }
    pub fn remove(&mut self, k: &Value<'a>) -> Value<'a> {
        match self.entries.iter().position(|(key, _)| same_key(key, k)) {
            Some(i) => self.entries.remove(i).1,
            None => Value::Null,
        }
    }
}

impl<'a> Value<'a> {
    pub fn str(s: &str) -> Value<'a> {
        Value::Str(Rc::from(s))
    }
    pub fn string(s: String) -> Value<'a> {
        Value::Str(Rc::from(s))
    }
    pub fn list(kind: ListKind, items: Vec<Value<'a>>) -> Value<'a> {
        Value::List(Rc::new(RefCell::new(List { kind, items })))
    }
    pub fn map(entries: Vec<(Value<'a>, Value<'a>)>) -> Value<'a> {
        Value::Map(Rc::new(RefCell::new(JMap { entries })))
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    /// The string inside a `String` value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            Value::Borrowed(s) => Some(s),
            _ => None,
        }
    }
    pub fn is_number(&self) -> bool {
        matches!(
            self,
            Value::Int(_) | Value::Long(_) | Value::Big(_) | Value::Double(_)
        )
    }
    /// An integral number as i128 (Integer, Long, BigInteger).
    pub fn as_integral(&self) -> Option<i128> {
        match self {
            Value::Int(i) => Some(i128::from(*i)),
            Value::Long(i) => Some(i128::from(*i)),
            Value::Big(i) => Some(*i),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Double(d) => Some(*d),
            // Precision loss mirrors Java's `Number.doubleValue()`.
            other => other.as_integral().map(|i| i as f64),
        }
    }
    /// The smallest of Integer/Long/BigInteger that holds `i`, as Velocity's MathUtils picks.
    pub fn integral(i: i128, min_rank: u8) -> Value<'a> {
        if let (0, Ok(v)) = (min_rank, i32::try_from(i)) {
            return Value::Int(v);
        }
        if let (0 | 1, Ok(v)) = (min_rank, i64::try_from(i)) {
            return Value::Long(v);
        }
        Value::Big(i)
    }

    /// Java's `String.valueOf(this)`, appended to `out`. Null appends nothing (AWS prints
    /// null references as empty).
    pub fn write_java(&self, out: &mut String) {
        let limit = out.len() + MAX_PRINT_BYTES;
        Printer {
            out,
            too_deep: false,
            limit,
        }
        .java(self, 0);
    }

    /// `write_java` into the output, stopping past `limit` bytes of output. Err(true): the value
    /// nests deeper than Java's stack would allow (a list containing itself through another
    /// list: Java throws StackOverflowError); Err(false): the output passed `limit`.
    pub fn write_java_checked(&self, out: &mut String, limit: usize) -> Result<(), bool> {
        let mut p = Printer {
            out,
            too_deep: false,
            limit,
        };
        p.java(self, 0);
        if p.too_deep {
            Err(true)
        } else if p.out.len() > limit {
            Err(false)
        } else {
            Ok(())
        }
    }

    /// json-smart's `JSONValue.toJSONString(this)`: what `$input.json()` prints.
    pub fn write_json(&self, out: &mut String) {
        let limit = out.len() + MAX_PRINT_BYTES;
        Printer {
            out,
            too_deep: false,
            limit,
        }
        .json(self, 0);
    }

    pub fn to_java_string(&self) -> String {
        let mut s = String::new();
        self.write_java(&mut s);
        s
    }

    /// The Java class name, for `$x.class` / `$x.getClass()`.
    pub fn class_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "java.lang.Boolean",
            Value::Int(_) => "java.lang.Integer",
            Value::Long(_) => "java.lang.Long",
            Value::Big(_) => "java.math.BigInteger",
            Value::Double(_) => "java.lang.Double",
            Value::Str(_) | Value::Borrowed(_) => "java.lang.String",
            Value::List(l) if l.borrow().kind == ListKind::Json => "net.minidev.json.JSONArray",
            Value::List(_) => "java.util.ArrayList",
            Value::Json(serde_json::Value::Array(_)) => "net.minidev.json.JSONArray",
            Value::Map(_) | Value::Json(_) | Value::Context | Value::Stage => {
                "java.util.LinkedHashMap"
            }
            Value::Entry(_) => "java.util.LinkedHashMap$Entry",
            Value::Class(_) => "java.lang.Class",
            _ => "java.lang.Object",
        }
    }
}

/// Printing nests at most this deep; JSON documents are capped at 512 levels when parsed, so
/// only self-containing structures built by a template reach it.
const MAX_PRINT_DEPTH: u32 = 600;

/// Printing stops after this many bytes where no caller limit applies: a template can build
/// lists that share themselves (`#set($a = [$a, $a])`), whose printed form doubles per level.
const MAX_PRINT_BYTES: usize = 16 * 1024 * 1024;

struct Printer<'o> {
    out: &'o mut String,
    too_deep: bool,
    /// Output length past which printing stops.
    limit: usize,
}

impl Printer<'_> {
    fn deeper(&mut self, depth: u32) -> bool {
        if depth > MAX_PRINT_DEPTH {
            self.too_deep = true;
            return false;
        }
        self.out.len() <= self.limit
    }

    fn java(&mut self, v: &Value<'_>, depth: u32) {
        if !self.deeper(depth) {
            return;
        }
        let out = &mut *self.out;
        match v {
            Value::Null | Value::Block(_) => {}
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Long(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Big(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Double(d) => java_double(*d, out),
            Value::Str(s) => out.push_str(s),
            Value::Borrowed(s) => out.push_str(s),
            Value::List(l) => {
                let items = l.borrow();
                if items.kind == ListKind::Json {
                    self.json(v, depth);
                    return;
                }
                self.out.push('[');
                for (i, x) in items.items.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    match x {
                        // AbstractCollection.toString guards direct self-reference.
                        Value::List(y) if Rc::ptr_eq(l, y) => {
                            self.out.push_str("(this Collection)")
                        }
                        Value::Null => self.out.push_str("null"),
                        x => self.java(x, depth + 1),
                    }
                }
                self.out.push(']');
            }
            Value::Map(m) => {
                self.out.push('{');
                for (i, (k, x)) in m.borrow().entries.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.java(k, depth + 1);
                    self.out.push('=');
                    match x {
                        Value::Map(y) if Rc::ptr_eq(m, y) => self.out.push_str("(this Map)"),
                        Value::Null => self.out.push_str("null"),
                        x => self.java(x, depth + 1),
                    }
                }
                self.out.push('}');
            }
            Value::Json(j) => self.serde_java(j, depth),
            Value::Class(c) => {
                out.push_str("class ");
                out.push_str(c);
            }
            Value::Stage | Value::Context | Value::Input | Value::Util | Value::Loop(_) => {
                // Java's Object.toString() of the shim objects is an identity hash, meaningless
                // to templates; print a stable name instead.
                out.push_str(match v {
                    Value::Stage => "{stageVariables}",
                    Value::Context => "{context}",
                    Value::Input => "{input}",
                    Value::Util => "{util}",
                    _ => "{foreach}",
                });
            }
            Value::Entry(e) => {
                self.java(&e.0, depth + 1);
                self.out.push('=');
                match &e.1 {
                    Value::Null => self.out.push_str("null"),
                    x => self.java(x, depth + 1),
                }
            }
        }
    }

    fn json(&mut self, v: &Value<'_>, depth: u32) {
        if !self.deeper(depth) {
            return;
        }
        match v {
            Value::Null | Value::Block(_) => self.out.push_str("null"),
            Value::Str(s) => write_json_str(s, self.out),
            Value::Borrowed(s) => write_json_str(s, self.out),
            Value::List(l) => {
                self.out.push('[');
                for (i, x) in l.borrow().items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.json(x, depth + 1);
                }
                self.out.push(']');
            }
            Value::Map(m) => {
                self.out.push('{');
                for (i, (k, x)) in m.borrow().entries.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    match k.as_str() {
                        Some(k) => write_json_str(k, self.out),
                        None => write_json_str(&k.to_java_string(), self.out),
                    }
                    self.out.push(':');
                    self.json(x, depth + 1);
                }
                self.out.push('}');
            }
            Value::Json(j) => self.serde_json(j, depth),
            other => self.java(other, depth),
        }
    }

    /// Caller-supplied JSON printed as the Java Map it stands for (arrays parsed by
    /// json-smart are `JSONArray`s, which print as JSON).
    fn serde_java(&mut self, j: &serde_json::Value, depth: u32) {
        if !self.deeper(depth) {
            return;
        }
        match j {
            serde_json::Value::Null => self.out.push_str("null"),
            serde_json::Value::Object(m) => {
                self.out.push('{');
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.out.push_str(k);
                    self.out.push('=');
                    self.serde_java(x, depth + 1);
                }
                self.out.push('}');
            }
            serde_json::Value::Array(_) => self.serde_json(j, depth),
            scalar => self.java(&crate::aws::json_scalar(scalar), depth),
        }
    }

    fn serde_json(&mut self, j: &serde_json::Value, depth: u32) {
        if !self.deeper(depth) {
            return;
        }
        match j {
            serde_json::Value::Object(m) => {
                self.out.push('{');
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    write_json_str(k, self.out);
                    self.out.push(':');
                    self.serde_json(x, depth + 1);
                }
                self.out.push('}');
            }
            serde_json::Value::Array(a) => {
                self.out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.serde_json(x, depth + 1);
                }
                self.out.push(']');
            }
            scalar => self.json(&crate::aws::json_scalar(scalar), depth),
        }
    }
}

/// json-smart's string escaping (`JStylerObj.ESCAPE4Web`): quotes, backslash, `/`, control
/// characters, and the U+007F..U+009F and U+2000..U+20FF ranges as `\uXXXX`.
pub(crate) fn write_json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20
                || ('\u{7f}'..='\u{9f}').contains(&c)
                || ('\u{2000}'..='\u{20ff}').contains(&c) =>
            {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Java's `Double.toString`: plain notation in [1e-3, 1e7), otherwise `d.dddE±n`, always with
/// at least one fractional digit.
pub(crate) fn java_double(d: f64, out: &mut String) {
    if d.is_nan() {
        out.push_str("NaN");
        return;
    }
    if d.is_infinite() {
        out.push_str(if d > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    if d == 0.0 {
        out.push_str(if d.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    let a = d.abs();
    if (1e-3..1e7).contains(&a) {
        let start = out.len();
        let _ = write!(out, "{d}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
        return;
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.5e21", "1e-5".
    let s = format!("{d:e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    out.push_str(mant);
    if !mant.contains('.') {
        out.push_str(".0");
    }
    out.push('E');
    out.push_str(exp);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jd(d: f64) -> String {
        let mut s = String::new();
        java_double(d, &mut s);
        s
    }

    #[test]
    fn doubles_print_as_java() {
        assert_eq!(jd(1.5), "1.5");
        assert_eq!(jd(1.0), "1.0");
        assert_eq!(jd(1e8), "1.0E8");
        assert_eq!(jd(1e-4), "1.0E-4");
        assert_eq!(jd(2.5e30), "2.5E30");
        assert_eq!(jd(0.30000000000000004), "0.30000000000000004");
        assert_eq!(jd(-0.0), "-0.0");
        assert_eq!(jd(1234567.0), "1234567.0");
    }

    #[test]
    fn json_strings_escape_as_json_smart() {
        let mut s = String::new();
        write_json_str("a/b\"\n\u{1}", &mut s);
        assert_eq!(s, r#""a\/b\"\n\u0001""#);
    }
}
