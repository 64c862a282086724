//! Rust names for model names: struct names verbatim unless they clash, fields in snake_case,
//! and the serde keys members travel under.

use std::collections::BTreeSet;

use anyhow::{Result, bail};

use super::model::Structure;

/// Rust keywords of edition 2024, strict and reserved.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be written as raw identifiers.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super"];

/// Names the std prelude puts in the type or value namespace. A struct named `Option` would
/// shadow the `Option` every field of the module is wrapped in, so such shapes get an `_`.
const PRELUDE: &[&str] = &[
    "AsMut",
    "AsRef",
    "Box",
    "Clone",
    "Copy",
    "Default",
    "DoubleEndedIterator",
    "Drop",
    "Eq",
    "Err",
    "ExactSizeIterator",
    "Extend",
    "Fn",
    "FnMut",
    "FnOnce",
    "From",
    "FromIterator",
    "Into",
    "IntoIterator",
    "Iterator",
    "None",
    "Ok",
    "Option",
    "Ord",
    "PartialEq",
    "PartialOrd",
    "Result",
    "Send",
    "Sized",
    "Some",
    "String",
    "Sync",
    "ToOwned",
    "ToString",
    "TryFrom",
    "TryInto",
    "Unpin",
    "Vec",
];

/// The Rust struct name of a structure shape.
pub fn type_name(shape: &str) -> String {
    if KEYWORDS.contains(&shape) || PRELUDE.contains(&shape) {
        format!("{shape}_")
    } else {
        shape.to_owned()
    }
}

/// The Rust field name of a member: snake_case, keywords as raw identifiers.
pub fn field_name(member: &str) -> String {
    let snake = snake_case(member);
    if NOT_RAW.contains(&snake.as_str()) {
        format!("{snake}_")
    } else if KEYWORDS.contains(&snake.as_str()) {
        format!("r#{snake}")
    } else {
        snake
    }
}

/// camelCase / PascalCase to snake_case. A word starts at an upper-case letter that follows a
/// lower-case letter or digit, or that ends an acronym (`KMSKeyArn` -> `kms_key_arn`). An
/// acronym's plural `s` stays with it (`providerARNs` -> `provider_arns`).
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1).copied();
            let after_next = chars.get(i + 2).copied();
            let plural_acronym = next == Some('s')
                && after_next.is_none_or(|a| a.is_ascii_uppercase() || a.is_ascii_digit());
            let boundary = match prev {
                None | Some('_') => false,
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => {
                    next.is_some_and(|n| n.is_ascii_lowercase()) && !plural_acronym
                }
                Some(_) => false,
            };
            if boundary {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c == '-' || c == '.' {
            out.push('_');
        } else {
            out.push(c);
        }
    }
    out
}

/// The serde key of every member of a structure, in member order.
///
/// Body members use their wire name (`locationName`, else the member name). Members bound to
/// the URI, query, headers or status code use their member name, which is also the key the
/// binding table gives them. When a body member already uses that name on the wire (apigateway
/// `PutIntegrationRequest`: the path's `httpMethod` and the body's `integrationHttpMethod`, sent
/// as `httpMethod`), the bound member's key becomes `location:member`, e.g. `uri:httpMethod`,
/// which no JSON body uses.
pub fn serde_keys(s: &Structure) -> Result<Vec<String>> {
    let body: BTreeSet<&str> = s
        .members
        .iter()
        .filter(|m| m.location.is_none())
        .map(|m| m.location_name.as_deref().unwrap_or(&m.name))
        .collect();
    let keys: Vec<String> = s
        .members
        .iter()
        .map(|m| match (&m.location, &m.location_name) {
            (None, Some(wire)) => wire.clone(),
            (None, None) => m.name.clone(),
            (Some(location), _) if body.contains(m.name.as_str()) => {
                format!("{location}:{}", m.name)
            }
            (Some(_), _) => m.name.clone(),
        })
        .collect();
    let mut seen = BTreeSet::new();
    for k in &keys {
        if !seen.insert(k) {
            bail!("two members share the serde key `{k}`");
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_follows_aws_member_names() {
        assert_eq!(snake_case("restApiId"), "rest_api_id");
        assert_eq!(snake_case("FunctionName"), "function_name");
        assert_eq!(snake_case("ZipFile"), "zip_file");
        assert_eq!(snake_case("KMSKeyArn"), "kms_key_arn");
        assert_eq!(snake_case("providerARNs"), "provider_arns");
        assert_eq!(snake_case("S3Bucket"), "s3_bucket");
        assert_eq!(snake_case("CodeSha256"), "code_sha256");
        assert_eq!(snake_case("EC2ErrorCode"), "ec2_error_code");
        assert_eq!(snake_case("UUID"), "uuid");
        assert_eq!(snake_case("XAmznTraceId"), "x_amzn_trace_id");
        assert_eq!(
            snake_case("Ipv6AllowedForDualStack"),
            "ipv6_allowed_for_dual_stack"
        );
        assert_eq!(snake_case("id"), "id");
    }

    #[test]
    fn keywords_and_prelude_names_are_escaped() {
        assert_eq!(field_name("type"), "r#type");
        assert_eq!(field_name("Type"), "r#type");
        assert_eq!(field_name("self"), "self_");
        assert_eq!(type_name("None"), "None_");
        assert_eq!(type_name("Option"), "Option_");
        assert_eq!(type_name("RestApi"), "RestApi");
    }
}
