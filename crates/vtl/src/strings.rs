//! `java.lang.String` methods. Java indexes strings in UTF-16 code units, so positions are
//! computed in those units (ASCII strings take a byte-index fast path).

use std::rc::Rc;

use crate::ast::Span;
use crate::eval::{Eval, R, err};
use crate::value::{ListKind, Value};

fn u16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

/// Byte offset of a UTF-16 unit offset (None when it splits a character or is past the end).
fn byte_at(s: &str, unit: usize) -> Option<usize> {
    if s.is_ascii() {
        return (unit <= s.len()).then_some(unit);
    }
    let mut u = 0;
    for (b, c) in s.char_indices() {
        if u == unit {
            return Some(b);
        }
        if u > unit {
            return None;
        }
        u += c.len_utf16();
    }
    (u == unit).then_some(s.len())
}

/// UTF-16 offset of a byte offset.
fn unit_at(s: &str, byte: usize) -> usize {
    if s.is_ascii() {
        byte
    } else {
        s[..byte].encode_utf16().count()
    }
}

fn substring(s: &str, begin: i64, end: i64) -> Option<String> {
    let len = u16_len(s) as i64;
    if begin < 0 || end > len || begin > end {
        return None;
    }
    match (byte_at(s, begin as usize), byte_at(s, end as usize)) {
        (Some(a), Some(b)) => Some(s[a..b].to_string()),
        // A surrogate pair split in half: decode the units as Java would.
        _ => {
            let units: Vec<u16> = s.encode_utf16().collect();
            Some(String::from_utf16_lossy(
                &units[begin as usize..end as usize],
            ))
        }
    }
}

fn int_arg(v: Option<&Value<'_>>) -> Option<i64> {
    match v {
        Some(Value::Int(i)) => Some(i64::from(*i)),
        _ => None,
    }
}

fn str_arg<'v>(v: Option<&'v Value<'_>>) -> Option<&'v str> {
    v.and_then(Value::as_str)
}

/// A search argument: a string, or an `int` character code (`indexOf(int ch)`).
fn needle(v: Option<&Value<'_>>) -> Option<String> {
    match v {
        Some(Value::Int(c)) => u32::try_from(*c)
            .ok()
            .and_then(char::from_u32)
            .map(String::from),
        other => str_arg(other).map(str::to_string),
    }
}

/// Java's `String.trim()`: strips characters `<= ' '`.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

fn java_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u)))
}

impl<'a> Eval<'a> {
    /// Calls `name(args)` on a string. Unknown methods and mismatched argument types yield
    /// `None` (Velocity finds no method and the reference is null).
    pub(crate) fn string_method(
        &mut self,
        s: &str,
        name: &str,
        args: &[Value<'a>],
        span: Span,
    ) -> R<Option<Value<'a>>> {
        let a0 = args.first();
        let a1 = args.get(1);
        let oob = |what: &str| err(span, format!("StringIndexOutOfBoundsException in {what}"));
        Ok(Some(match (name, args.len()) {
            ("length", 0) => Value::Int(u16_len(s) as i32),
            ("isEmpty", 0) => Value::Bool(s.is_empty()),
            ("isBlank", 0) => Value::Bool(s.chars().all(char::is_whitespace)),
            ("toString" | "intern", 0) => Value::string(s.to_string()),
            ("hashCode", 0) => Value::Int(java_hash(s)),
            ("toLowerCase", 0) => Value::string(s.to_lowercase()),
            ("toUpperCase", 0) => Value::string(s.to_uppercase()),
            ("trim", 0) => Value::str(java_trim(s)),
            ("strip", 0) => Value::str(s.trim()),
            ("substring", 1) => {
                let Some(b) = int_arg(a0) else {
                    return Ok(None);
                };
                match substring(s, b, u16_len(s) as i64) {
                    Some(r) => Value::string(r),
                    None => return Err(oob("substring")),
                }
            }
            ("substring", 2) => {
                let (Some(b), Some(e)) = (int_arg(a0), int_arg(a1)) else {
                    return Ok(None);
                };
                match substring(s, b, e) {
                    Some(r) => Value::string(r),
                    None => return Err(oob("substring")),
                }
            }
            ("charAt", 1) => {
                let Some(i) = int_arg(a0) else {
                    return Ok(None);
                };
                match substring(s, i, i + 1) {
                    Some(r) => Value::string(r),
                    None => return Err(oob("charAt")),
                }
            }
            ("indexOf", 1) | ("indexOf", 2) => {
                let Some(n) = needle(a0) else {
                    return Ok(None);
                };
                let n = n.as_str();
                let from = if args.len() == 2 {
                    let Some(f) = int_arg(a1) else {
                        return Ok(None);
                    };
                    f.max(0) as usize
                } else {
                    0
                };
                let Some(fb) = byte_at(s, from.min(u16_len(s))) else {
                    return Ok(Some(Value::Int(-1)));
                };
                Value::Int(s[fb..].find(n).map_or(-1, |i| unit_at(s, fb + i) as i32))
            }
            ("lastIndexOf", 1) => {
                let Some(n) = needle(a0) else {
                    return Ok(None);
                };
                Value::Int(s.rfind(n.as_str()).map_or(-1, |i| unit_at(s, i) as i32))
            }
            ("contains", 1) => match str_arg(a0) {
                Some(n) => Value::Bool(s.contains(n)),
                None => return Ok(None),
            },
            ("startsWith", 1) => match str_arg(a0) {
                Some(n) => Value::Bool(s.starts_with(n)),
                None => return Ok(None),
            },
            ("endsWith", 1) => match str_arg(a0) {
                Some(n) => Value::Bool(s.ends_with(n)),
                None => return Ok(None),
            },
            ("equals", 1) => Value::Bool(a0.and_then(Value::as_str) == Some(s)),
            ("equalsIgnoreCase", 1) => Value::Bool(match str_arg(a0) {
                Some(o) => {
                    s.chars().count() == o.chars().count()
                        && s.chars().zip(o.chars()).all(|(x, y)| {
                            x == y
                                || x.to_uppercase().eq(y.to_uppercase())
                                || x.to_lowercase().eq(y.to_lowercase())
                        })
                }
                None => false,
            }),
            ("compareTo", 1) => {
                let Some(o) = str_arg(a0) else {
                    return Ok(None);
                };
                let (x, y): (Vec<u16>, Vec<u16>) =
                    (s.encode_utf16().collect(), o.encode_utf16().collect());
                let d = x
                    .iter()
                    .zip(&y)
                    .find(|(a, b)| a != b)
                    .map_or(x.len() as i32 - y.len() as i32, |(a, b)| {
                        i32::from(*a) - i32::from(*b)
                    });
                Value::Int(d)
            }
            ("concat", 1) => match str_arg(a0) {
                Some(o) => Value::string(format!("{s}{o}")),
                None => return Ok(None),
            },
            ("replace", 2) => match (str_arg(a0), str_arg(a1)) {
                (Some(a), Some(b)) => Value::string(s.replace(a, b)),
                _ => return Ok(None),
            },
            ("replaceAll" | "replaceFirst", 2) => {
                let (Some(re), Some(rep)) = (str_arg(a0), str_arg(a1)) else {
                    return Ok(None);
                };
                let re = self.regex(re, span)?;
                let rep = java_replacement(rep, span)?;
                if name == "replaceAll" {
                    Value::string(re.replace_all(s, rep.as_str()).into_owned())
                } else {
                    Value::string(re.replace(s, rep.as_str()).into_owned())
                }
            }
            ("matches", 1) => {
                let Some(re) = str_arg(a0) else {
                    return Ok(None);
                };
                let re = self.regex(&format!("^(?:{re})$"), span)?;
                Value::Bool(re.is_match(s))
            }
            ("split", 1) | ("split", 2) => {
                let Some(re) = str_arg(a0) else {
                    return Ok(None);
                };
                let limit = if args.len() == 2 {
                    let Some(l) = int_arg(a1) else {
                        return Ok(None);
                    };
                    l
                } else {
                    0
                };
                let re = self.regex(re, span)?;
                let parts = java_split(s, &re, limit);
                Value::list(
                    ListKind::Java,
                    parts.into_iter().map(|p| Value::Str(Rc::from(p))).collect(),
                )
            }
            _ => return Ok(None),
        }))
    }

    /// Compiles a Java regex, cached for the rest of the render.
    pub(crate) fn regex(&mut self, pattern: &str, span: Span) -> R<Rc<regex::Regex>> {
        if let Some(r) = self.regexes.get(pattern) {
            return Ok(r.clone());
        }
        let r = regex::RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| err(span, format!("PatternSyntaxException: {e}")))?;
        let r = Rc::new(r);
        self.regexes.insert(pattern.to_string(), r.clone());
        Ok(r)
    }
}

/// Java's `String.split(regex, limit)`: a leading empty piece from a zero-width match at 0 is
/// dropped; with limit 0 trailing empty pieces are removed.
fn java_split<'s>(s: &'s str, re: &regex::Regex, limit: i64) -> Vec<&'s str> {
    if s.is_empty() {
        return vec![""];
    }
    let mut out = Vec::new();
    let mut last = 0;
    for m in re.find_iter(s) {
        if limit > 0 && out.len() as i64 == limit - 1 {
            break;
        }
        if m.end() == 0 {
            continue;
        }
        if m.start() == m.end() && m.start() >= s.len() {
            break;
        }
        out.push(&s[last..m.start()]);
        last = m.end();
    }
    out.push(&s[last..]);
    if limit == 0 {
        while out.len() > 1 && out.last().is_some_and(|p| p.is_empty()) {
            out.pop();
        }
        if out.len() == 1 && out[0].is_empty() && !s.is_empty() {
            out.clear();
        }
    }
    out
}

/// Translates a Java replacement string (`$1`, `\$`) into the regex crate's syntax (`${1}`,
/// `$$`).
fn java_replacement(rep: &str, span: Span) -> R<String> {
    let mut out = String::with_capacity(rep.len());
    let mut it = rep.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.next() {
                Some('$') => out.push_str("$$"),
                Some(o) => out.push(o),
                None => {
                    return Err(err(
                        span,
                        "IllegalArgumentException: character to be escaped is missing",
                    ));
                }
            },
            '$' => {
                if it.peek() == Some(&'{') {
                    it.next();
                    let name: String = it.by_ref().take_while(|&c| c != '}').collect();
                    out.push_str(&format!("${{{name}}}"));
                } else {
                    let mut digits = String::new();
                    while let Some(d) = it.peek().filter(|d| d.is_ascii_digit()) {
                        digits.push(*d);
                        it.next();
                    }
                    if digits.is_empty() {
                        return Err(err(
                            span,
                            "IllegalArgumentException: Illegal group reference",
                        ));
                    }
                    out.push_str(&format!("${{{digits}}}"));
                }
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_drops_trailing_empties() {
        let re = regex::Regex::new(",").unwrap_or_else(|_| unreachable!());
        assert_eq!(java_split("a,b,,c,,", &re, 0), vec!["a", "b", "", "c"]);
        assert_eq!(
            java_split("a,b,,c,,", &re, -1),
            vec!["a", "b", "", "c", "", ""]
        );
        assert_eq!(java_split("a,b,c", &re, 2), vec!["a", "b,c"]);
    }

    #[test]
    fn substring_counts_utf16_units() {
        assert_eq!(substring("h\u{e9}llo", 1, 3).as_deref(), Some("\u{e9}l"));
        assert_eq!(substring("abc", 2, 1), None);
    }
}
