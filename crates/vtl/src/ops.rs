//! Operators with Velocity 1.7's `MathUtils` and comparison-node semantics.

use crate::ast::{BinOp, Span};
use crate::eval::{R, err};
use crate::value::{ListKind, Value};

/// Integer "rank": 0 Integer, 1 Long, 2 BigInteger. Results keep the wider operand's type and
/// widen further on overflow, as Velocity's MathUtils does (it never wraps).
fn rank(v: &Value<'_>) -> u8 {
    match v {
        Value::Int(_) => 0,
        Value::Long(_) => 1,
        _ => 2,
    }
}

/// `+ - * / %` on numbers; anything else (or division by zero) is null.
pub(crate) fn arith<'a>(op: BinOp, a: &Value<'a>, b: &Value<'a>, span: Span) -> R<Value<'a>> {
    if let (Some(x), Some(y)) = (a.as_integral(), b.as_integral()) {
        let r = match op {
            BinOp::Add => x.checked_add(y),
            BinOp::Sub => x.checked_sub(y),
            BinOp::Mul => x.checked_mul(y),
            BinOp::Div => {
                if y == 0 {
                    return Ok(Value::Null);
                }
                x.checked_div(y)
            }
            BinOp::Mod => {
                if y == 0 {
                    return Ok(Value::Null);
                }
                x.checked_rem(y)
            }
            _ => return Ok(Value::Null),
        };
        return match r {
            Some(r) => Ok(Value::integral(r, rank(a).max(rank(b)))),
            None => Err(err(span, "integer arithmetic overflow")),
        };
    }
    let (Some(x), Some(y)) = (a.as_f64(), b.as_f64()) else {
        return Ok(Value::Null);
    };
    Ok(match op {
        BinOp::Add => Value::Double(x + y),
        BinOp::Sub => Value::Double(x - y),
        BinOp::Mul => Value::Double(x * y),
        BinOp::Div if y == 0.0 => Value::Null,
        BinOp::Div => Value::Double(x / y),
        BinOp::Mod if y == 0.0 => Value::Null,
        BinOp::Mod => Value::Double(x % y),
        _ => Value::Null,
    })
}

/// Numeric comparison as `MathUtils.compare`.
fn num_cmp(a: &Value<'_>, b: &Value<'_>) -> Option<std::cmp::Ordering> {
    if let (Some(x), Some(y)) = (a.as_integral(), b.as_integral()) {
        return Some(x.cmp(&y));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

/// `== != < <= > >=`. Equality: both null is true; numbers compare by value; values of the
/// same class use `equals`; different classes compare their `toString()`. Ordering needs two
/// numbers, otherwise it is false.
pub(crate) fn compare<'a>(op: BinOp, a: &Value<'a>, b: &Value<'a>) -> bool {
    match op {
        BinOp::Eq => loose_eq(a, b),
        BinOp::Ne => !loose_eq(a, b),
        _ => {
            if !(a.is_number() && b.is_number()) {
                return false;
            }
            let Some(o) = num_cmp(a, b) else {
                return false;
            };
            match op {
                BinOp::Lt => o.is_lt(),
                BinOp::Le => o.is_le(),
                BinOp::Gt => o.is_gt(),
                _ => o.is_ge(),
            }
        }
    }
}

fn loose_eq<'a>(a: &Value<'a>, b: &Value<'a>) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        _ if a.is_number() && b.is_number() => num_cmp(a, b).is_some_and(|o| o.is_eq()),
        _ if same_class(a, b) => java_equals(a, b),
        _ => a.to_java_string() == b.to_java_string(),
    }
}

fn class(v: &Value<'_>) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Int(_) | Value::Long(_) | Value::Big(_) | Value::Double(_) => 2,
        Value::Str(_) | Value::Borrowed(_) => 3,
        Value::List(_) => 4,
        Value::Map(_) | Value::Json(_) | Value::Stage | Value::Context => 5,
        _ => 6,
    }
}

fn same_class(a: &Value<'_>, b: &Value<'_>) -> bool {
    class(a) == class(b)
}

/// Java's `a.equals(b)`: `Integer(1)` does not equal `Long(1)`; lists compare element-wise;
/// maps compare as sets of entries.
pub(crate) fn java_equals<'a>(a: &Value<'a>, b: &Value<'a>) -> bool {
    let mut budget = MAX_EQUALS_WORK;
    equals_at(a, b, 0, &mut budget)
}

/// Element comparisons one `equals` may make: lists that share themselves
/// (`#set($a = [$a, $a])`) otherwise cost exponential time. Past it, values compare unequal.
const MAX_EQUALS_WORK: u32 = 1_000_000;

/// `equals` nested at most this deep: deeper (self-containing) structures compare unequal
/// where Java would overflow its stack.
const MAX_EQUALS_DEPTH: u32 = 600;

fn equals_at<'a>(a: &Value<'a>, b: &Value<'a>, depth: u32, budget: &mut u32) -> bool {
    if depth > MAX_EQUALS_DEPTH || *budget == 0 {
        return false;
    }
    *budget -= 1;
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Long(x), Value::Long(y)) => x == y,
        (Value::Big(x), Value::Big(y)) => x == y,
        (Value::Double(x), Value::Double(y)) => x.to_bits() == y.to_bits() || x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            if std::rc::Rc::ptr_eq(x, y) {
                return true;
            }
            // A list being modified (`$l.remove($l)`) is never borrowed twice: unequal.
            let (Ok(x), Ok(y)) = (x.try_borrow(), y.try_borrow()) else {
                return false;
            };
            x.items.len() == y.items.len()
                && x.items
                    .iter()
                    .zip(&y.items)
                    .all(|(a, b)| equals_at(a, b, depth + 1, budget))
        }
        (Value::Map(x), Value::Map(y)) => {
            if std::rc::Rc::ptr_eq(x, y) {
                return true;
            }
            let (Ok(x), Ok(y)) = (x.try_borrow(), y.try_borrow()) else {
                return false;
            };
            x.entries.len() == y.entries.len()
                && x.entries.iter().all(|(k, v)| {
                    y.get_value(k)
                        .is_some_and(|w| equals_at(v, w, depth + 1, budget))
                })
        }
        _ => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

/// `[a..b]`: inclusive, counting down when `a > b`. Both ends must be integers.
pub(crate) fn range<'a>(a: &Value<'a>, b: &Value<'a>, span: Span, max: usize) -> R<Value<'a>> {
    let (Some(x), Some(y)) = (int_of(a), int_of(b)) else {
        return Ok(Value::Null);
    };
    let len = (i128::from(x) - i128::from(y))
        .unsigned_abs()
        .saturating_add(1);
    if len > max as u128 {
        return Err(err(span, format!("range [{x}..{y}] longer than {max}")));
    }
    let items: Vec<Value<'a>> = if x <= y {
        (x..=y).map(|i| Value::integral(i128::from(i), 0)).collect()
    } else {
        (y..=x)
            .rev()
            .map(|i| Value::integral(i128::from(i), 0))
            .collect()
    };
    Ok(Value::list(ListKind::Java, items))
}

fn int_of(v: &Value<'_>) -> Option<i64> {
    match v {
        Value::Int(i) => Some(i64::from(*i)),
        Value::Long(i) => Some(*i),
        _ => v
            .as_str()
            .and_then(|s| s.trim().parse::<i32>().ok())
            .map(i64::from),
    }
}
