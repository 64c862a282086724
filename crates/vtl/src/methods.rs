//! Property, index and method access on values: the part of Java introspection templates use
//! (Velocity's uberspector resolves `$m.key` as `Map.get`, `$x.empty` as `isEmpty()`...).

use std::rc::Rc;

use crate::ast::Span;
use crate::eval::{Eval, R, err};
use crate::ops::java_equals;
use crate::value::{JMap, ListKind, Value};

impl<'a> Eval<'a> {
    pub(crate) fn prop(&mut self, v: &Value<'a>, name: &str, span: Span) -> R<Value<'a>> {
        if name == "class"
            && !matches!(
                v,
                Value::Map(_) | Value::Json(_) | Value::Stage | Value::Context
            )
        {
            return Ok(Value::Class(v.class_name()));
        }
        Ok(match v {
            Value::Map(m) => m.borrow().get(name).cloned().unwrap_or(Value::Null),
            Value::Json(j) => match j {
                serde_json::Value::Object(o) => o.get(name).map_or(Value::Null, json_ref),
                serde_json::Value::Array(a) if name == "empty" => Value::Bool(a.is_empty()),
                _ => Value::Null,
            },
            Value::Stage => self
                .input
                .stage_variables
                .get(name)
                .map_or(Value::Null, |s| Value::Borrowed(s)),
            Value::Context => self.context_prop(name),
            Value::Input if name == "body" => Value::Borrowed(self.input.body),
            Value::Loop(l) => {
                let i = l.index.get();
                match name {
                    "index" => Value::Int(i as i32),
                    "count" => Value::Int(i as i32 + 1),
                    "hasNext" => Value::Bool(l.has_next.get()),
                    "first" => Value::Bool(i == 0),
                    "last" => Value::Bool(!l.has_next.get()),
                    "parent" => l.parent.clone(),
                    _ => Value::Null,
                }
            }
            Value::Class(c) => match name {
                "name" => Value::str(c),
                "simpleName" => Value::str(c.rsplit(['.', '$']).next().unwrap_or(c)),
                _ => Value::Null,
            },
            Value::Entry(e) => match name {
                "key" => e.0.clone(),
                "value" => e.1.clone(),
                _ => Value::Null,
            },
            Value::List(l) if name == "empty" => Value::Bool(l.borrow().items.is_empty()),
            Value::Str(_) | Value::Borrowed(_) if name == "empty" || name == "blank" => {
                let s = v.as_str().unwrap_or("");
                let method = if name == "empty" {
                    "isEmpty"
                } else {
                    "isBlank"
                };
                self.string_method(s, method, &[], span)?
                    .unwrap_or(Value::Null)
            }
            _ => Value::Null,
        })
    }

    pub(crate) fn index(&mut self, v: &Value<'a>, k: &Value<'a>, span: Span) -> R<Value<'a>> {
        match v {
            Value::List(l) => {
                let l = l.borrow();
                let Value::Int(i) = k else {
                    return Ok(Value::Null);
                };
                // Velocity 1.7 counts negative indexes from the end.
                let at = if *i < 0 {
                    l.items.len() as i64 + i64::from(*i)
                } else {
                    i64::from(*i)
                };
                match usize::try_from(at).ok().and_then(|i| l.items.get(i)) {
                    Some(x) => Ok(x.clone()),
                    None => Err(err(
                        span,
                        format!(
                            "IndexOutOfBoundsException: Index {i} out of bounds for length {}",
                            l.items.len()
                        ),
                    )),
                }
            }
            Value::Json(serde_json::Value::Array(a)) => {
                let Value::Int(i) = k else {
                    return Ok(Value::Null);
                };
                let at = if *i < 0 {
                    a.len() as i64 + i64::from(*i)
                } else {
                    i64::from(*i)
                };
                match usize::try_from(at).ok().and_then(|i| a.get(i)) {
                    Some(x) => Ok(json_ref(x)),
                    None => Err(err(
                        span,
                        format!(
                            "IndexOutOfBoundsException: Index {i} out of bounds for length {}",
                            a.len()
                        ),
                    )),
                }
            }
            Value::Map(m) => Ok(m.borrow().get_value(k).cloned().unwrap_or(Value::Null)),
            Value::Json(_) | Value::Stage | Value::Context => {
                let key = k.to_java_string();
                self.prop(v, &key, span)
            }
            _ => Ok(Value::Null),
        }
    }

    pub(crate) fn method(
        &mut self,
        v: &Value<'a>,
        name: &str,
        args: &[Value<'a>],
        span: Span,
    ) -> R<Value<'a>> {
        for a in args {
            self.note_insert(v, a);
        }
        // Bulk insertions grow the receiver by the argument's size.
        let bulk = match name {
            "addAll" | "putAll" | "parseJson" => args.first().map_or(0, crate::eval::size_units),
            _ => 0,
        };
        self.charge(1 + bulk, span)?;
        let r = match v {
            Value::Str(s) => {
                let s = s.clone();
                self.string_method(&s, name, args, span)?
            }
            Value::Borrowed(s) => self.string_method(s, name, args, span)?,
            Value::Input => Some(self.input_method(name, args)),
            Value::Util => Some(self.util_method(name, args, span)?),
            Value::Int(_) | Value::Long(_) | Value::Big(_) | Value::Double(_) | Value::Bool(_) => {
                scalar_method(v, name, args)
            }
            Value::List(_) => self.list_method(v, name, args, span)?,
            Value::Map(_) => map_method(v, name, args),
            Value::Json(_) | Value::Stage | Value::Context => {
                if name == "get" && args.len() == 1 {
                    let key = args[0].to_java_string();
                    Some(self.prop(v, &key, span)?)
                } else {
                    let owned = self.materialize(v);
                    return self.method(&owned, name, args, span);
                }
            }
            Value::Loop(_) => {
                let p = match name {
                    "getIndex" => "index",
                    "getCount" => "count",
                    "hasNext" | "getHasNext" => "hasNext",
                    "isFirst" | "getFirst" => "first",
                    "isLast" | "getLast" => "last",
                    "getParent" => "parent",
                    _ => return Ok(Value::Null),
                };
                Some(self.prop(v, p, span)?)
            }
            Value::Entry(e) => match name {
                "getKey" => Some(e.0.clone()),
                "getValue" => Some(e.1.clone()),
                "toString" => Some(Value::string(v.to_java_string())),
                _ => None,
            },
            _ => None,
        };
        if let Some(s) = r.as_ref().and_then(Value::as_str) {
            self.check_len(s.len(), span)?;
        }
        if let Some(x) = &r {
            self.charge(crate::eval::fresh_units(x), span)?;
        }
        if r.is_none() && name == "getClass" && args.is_empty() {
            return Ok(Value::Class(v.class_name()));
        }
        if r.is_none() && name == "toString" && args.is_empty() && !v.is_null() {
            return Ok(Value::string(v.to_java_string()));
        }
        Ok(r.unwrap_or(Value::Null))
    }

    /// An owned Map/List copy of a borrowed JSON/stage/context object, for methods that need
    /// the whole collection.
    pub(crate) fn materialize(&mut self, v: &Value<'a>) -> Value<'a> {
        match v {
            Value::Json(j) => json_owned(j),
            Value::Stage => Value::map(
                self.input
                    .stage_variables
                    .iter()
                    .map(|(k, s)| (Value::Borrowed(k.as_str()), Value::Borrowed(s.as_str())))
                    .collect(),
            ),
            Value::Context => {
                let mut entries: Vec<(Value<'a>, Value<'a>)> = match self.input.context {
                    serde_json::Value::Object(o) => o
                        .iter()
                        .filter(|(k, _)| !is_override_key(k))
                        .map(|(k, x)| (Value::Borrowed(k.as_str()), json_ref(x)))
                        .collect(),
                    _ => Vec::new(),
                };
                for k in ["requestOverride", "responseOverride"] {
                    let o = self.context_prop(k);
                    entries.push((Value::Borrowed(k), o));
                }
                let m = Value::map(entries);
                if let (Value::Map(m), Some(Value::Map(sets))) = (&m, &self.context_sets) {
                    let sets = sets.borrow().entries.clone();
                    let mut m = m.borrow_mut();
                    for (k, v) in sets {
                        m.put(k, v);
                    }
                }
                m
            }
            other => other.clone(),
        }
    }

    fn list_method(
        &mut self,
        v: &Value<'a>,
        name: &str,
        args: &[Value<'a>],
        span: Span,
    ) -> R<Option<Value<'a>>> {
        let Value::List(l) = v else { return Ok(None) };
        let a0 = args.first();
        let oob = |i: i64, len: usize| {
            err(
                span,
                format!("IndexOutOfBoundsException: Index {i} out of bounds for length {len}"),
            )
        };
        let idx = |x: Option<&Value<'a>>| match x {
            Some(Value::Int(i)) => Some(i64::from(*i)),
            _ => None,
        };
        Ok(Some(match (name, args.len()) {
            ("size", 0) => Value::Int(l.borrow().items.len() as i32),
            ("isEmpty", 0) => Value::Bool(l.borrow().items.is_empty()),
            ("get", 1) => {
                let Some(i) = idx(a0) else { return Ok(None) };
                let l = l.borrow();
                match usize::try_from(i).ok().and_then(|u| l.items.get(u)) {
                    Some(x) => x.clone(),
                    None => return Err(oob(i, l.items.len())),
                }
            }
            ("contains", 1) => {
                let x = &args[0];
                Value::Bool(l.borrow().items.iter().any(|i| java_equals(i, x)))
            }
            ("indexOf", 1) | ("lastIndexOf", 1) => {
                let x = &args[0];
                let l = l.borrow();
                let mut it = l.items.iter();
                let pos = if name == "indexOf" {
                    it.position(|i| java_equals(i, x))
                } else {
                    it.rposition(|i| java_equals(i, x))
                };
                Value::Int(pos.map_or(-1, |p| p as i32))
            }
            ("add", 1) => {
                l.borrow_mut().items.push(args[0].clone());
                Value::Bool(true)
            }
            ("add", 2) => {
                let Some(i) = idx(a0) else { return Ok(None) };
                let mut l = l.borrow_mut();
                if i < 0 || i as usize > l.items.len() {
                    return Err(oob(i, l.items.len()));
                }
                l.items.insert(i as usize, args[1].clone());
                Value::Null
            }
            ("set", 2) => {
                let Some(i) = idx(a0) else { return Ok(None) };
                let mut l = l.borrow_mut();
                let len = l.items.len();
                match usize::try_from(i).ok().and_then(|u| l.items.get_mut(u)) {
                    Some(slot) => std::mem::replace(slot, args[1].clone()),
                    None => return Err(oob(i, len)),
                }
            }
            ("remove", 1) => {
                let mut l = l.borrow_mut();
                if let Some(i) = idx(a0) {
                    if i < 0 || i as usize >= l.items.len() {
                        return Err(oob(i, l.items.len()));
                    }
                    l.items.remove(i as usize)
                } else {
                    drop(l);
                    let x = &args[0];
                    let found = v_list_position(v, x);
                    let mut l = match v {
                        Value::List(l) => l.borrow_mut(),
                        _ => return Ok(None),
                    };
                    match found {
                        Some(p) if p < l.items.len() => {
                            l.items.remove(p);
                            Value::Bool(true)
                        }
                        _ => Value::Bool(false),
                    }
                }
            }
            ("addAll", 1) => {
                let extra = iterate(&args[0]);
                let changed = !extra.is_empty();
                l.borrow_mut().items.extend(extra);
                Value::Bool(changed)
            }
            ("clear", 0) => {
                l.borrow_mut().items.clear();
                Value::Null
            }
            ("subList", 2) => {
                let (Some(a), Some(b)) = (idx(a0), idx(args.get(1))) else {
                    return Ok(None);
                };
                let l2 = l.borrow();
                if a < 0 || b as usize > l2.items.len() || a > b {
                    return Err(oob(b, l2.items.len()));
                }
                Value::list(l2.kind, l2.items[a as usize..b as usize].to_vec())
            }
            ("equals", 1) => Value::Bool(java_equals(v, &args[0])),
            ("toString", 0) => Value::string(v.to_java_string()),
            _ => return Ok(None),
        }))
    }
}

/// Position of the first element equal to `x` (looked up before the list is borrowed for
/// writing, since `x` may be the list itself).
fn v_list_position<'a>(v: &Value<'a>, x: &Value<'a>) -> Option<usize> {
    match v {
        Value::List(l) => l.borrow().items.iter().position(|i| java_equals(i, x)),
        _ => None,
    }
}

fn is_override_key(k: &str) -> bool {
    k == "requestOverride" || k == "responseOverride"
}

fn map_method<'a>(v: &Value<'a>, name: &str, args: &[Value<'a>]) -> Option<Value<'a>> {
    let Value::Map(m) = v else { return None };
    Some(match (name, args.len()) {
        ("get", 1) => m
            .borrow()
            .get_value(&args[0])
            .cloned()
            .unwrap_or(Value::Null),
        ("getOrDefault", 2) => m
            .borrow()
            .get_value(&args[0])
            .cloned()
            .unwrap_or_else(|| args[1].clone()),
        ("put", 2) => m.borrow_mut().put(args[0].clone(), args[1].clone()),
        ("putIfAbsent", 2) => {
            let mut m = m.borrow_mut();
            match m.get_value(&args[0]) {
                Some(x) if !x.is_null() => x.clone(),
                _ => m.put(args[0].clone(), args[1].clone()),
            }
        }
        ("putAll", 1) => {
            if let Value::Map(o) = &args[0] {
                let extra: Vec<_> = o.borrow().entries.clone();
                let mut m = m.borrow_mut();
                for (k, x) in extra {
                    m.put(k, x);
                }
            }
            Value::Null
        }
        ("remove", 1) => m.borrow_mut().remove(&args[0]),
        ("containsKey", 1) => Value::Bool(m.borrow().get_value(&args[0]).is_some()),
        ("containsValue", 1) => Value::Bool(
            m.borrow()
                .entries
                .iter()
                .any(|(_, x)| java_equals(x, &args[0])),
        ),
        ("size", 0) => Value::Int(m.borrow().entries.len() as i32),
        ("isEmpty", 0) => Value::Bool(m.borrow().entries.is_empty()),
        ("keySet", 0) => Value::list(
            ListKind::Java,
            m.borrow().entries.iter().map(|(k, _)| k.clone()).collect(),
        ),
        ("values", 0) => Value::list(
            ListKind::Java,
            m.borrow().entries.iter().map(|(_, x)| x.clone()).collect(),
        ),
        ("entrySet", 0) => Value::list(
            ListKind::Java,
            m.borrow()
                .entries
                .iter()
                .map(|(k, x)| Value::Entry(Rc::new((k.clone(), x.clone()))))
                .collect(),
        ),
        ("clear", 0) => {
            m.borrow_mut().entries.clear();
            Value::Null
        }
        ("equals", 1) => Value::Bool(java_equals(v, &args[0])),
        ("toString", 0) => Value::string(v.to_java_string()),
        _ => return None,
    })
}

fn scalar_method<'a>(v: &Value<'a>, name: &str, args: &[Value<'a>]) -> Option<Value<'a>> {
    let i = v.as_integral();
    let d = v.as_f64();
    Some(match (name, args.len()) {
        ("toString", 0) => Value::string(v.to_java_string()),
        ("equals", 1) => Value::Bool(java_equals(v, &args[0])),
        ("booleanValue", 0) => match v {
            Value::Bool(b) => Value::Bool(*b),
            _ => return None,
        },
        ("intValue", 0) => Value::Int(match (i, d) {
            (Some(i), _) => i as i32,
            (None, Some(d)) => d as i32,
            _ => return None,
        }),
        ("longValue", 0) => Value::Long(match (i, d) {
            (Some(i), _) => i as i64,
            (None, Some(d)) => d as i64,
            _ => return None,
        }),
        ("doubleValue" | "floatValue", 0) => Value::Double(d?),
        ("isNaN", 0) => Value::Bool(matches!(v, Value::Double(x) if x.is_nan())),
        ("isInfinite", 0) => Value::Bool(matches!(v, Value::Double(x) if x.is_infinite())),
        ("compareTo", 1) => {
            let o = &args[0];
            if std::mem::discriminant(v) != std::mem::discriminant(o) {
                return None;
            }
            let ord = match (v, o) {
                (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
                _ => d?.partial_cmp(&o.as_f64()?)?,
            };
            Value::Int(ord as i32)
        }
        _ => return None,
    })
}

/// The items `#foreach` visits: a list's elements, a map's values, nothing for other values.
pub(crate) fn iterate<'a>(v: &Value<'a>) -> Vec<Value<'a>> {
    match v {
        Value::List(l) => l.borrow().items.clone(),
        Value::Map(m) => m.borrow().entries.iter().map(|(_, x)| x.clone()).collect(),
        Value::Json(serde_json::Value::Array(a)) => a.iter().map(json_ref).collect(),
        Value::Json(serde_json::Value::Object(o)) => o.values().map(json_ref).collect(),
        _ => Vec::new(),
    }
}

/// `#set($m.key = v)`.
pub(crate) fn set_prop<'a>(obj: &Value<'a>, name: &'a str, v: Value<'a>) {
    if let Value::Map(m) = obj {
        m.borrow_mut().put(Value::Borrowed(name), v);
    }
}

/// `#set($x[k] = v)`.
pub(crate) fn set_index<'a>(obj: &Value<'a>, k: &Value<'a>, v: Value<'a>, span: Span) -> R<()> {
    match obj {
        Value::List(l) => {
            let mut l = l.borrow_mut();
            let len = l.items.len();
            let slot = match k {
                Value::Int(i) => usize::try_from(*i).ok().and_then(|u| l.items.get_mut(u)),
                _ => None,
            };
            match slot {
                Some(s) => *s = v,
                None => {
                    return Err(err(
                        span,
                        format!("IndexOutOfBoundsException: length {len}"),
                    ));
                }
            }
        }
        Value::Map(m) => {
            m.borrow_mut().put(k.clone(), v);
        }
        _ => {}
    }
    Ok(())
}

/// A caller JSON value as a template value: scalars converted, containers borrowed.
pub(crate) fn json_ref(j: &serde_json::Value) -> Value<'_> {
    match j {
        serde_json::Value::Object(_) | serde_json::Value::Array(_) => Value::Json(j),
        scalar => crate::aws::json_scalar(scalar),
    }
}

/// A deep owned copy of caller JSON (Java `LinkedHashMap`/`ArrayList`).
pub(crate) fn json_owned(j: &serde_json::Value) -> Value<'_> {
    match j {
        serde_json::Value::Object(o) => Value::Map(Rc::new(std::cell::RefCell::new(JMap {
            entries: o
                .iter()
                .map(|(k, x)| (Value::Borrowed(k.as_str()), json_owned(x)))
                .collect(),
        }))),
        serde_json::Value::Array(a) => {
            Value::list(ListKind::Java, a.iter().map(json_owned).collect())
        }
        scalar => crate::aws::json_scalar(scalar),
    }
}
