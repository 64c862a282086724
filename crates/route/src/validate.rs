//! Control-plane validation of path parts and route keys, with the messages AWS returns.
//!
//! The control plane calls these before it stores a resource or a route, and maps
//! [`ValidationError::kind`] to the AWS exception (`BadRequestException` or
//! `ConflictException`). The same grammar is used by [`crate::RouterBuilder`], so anything
//! the control plane accepted can always be inserted into a router.

use std::fmt;

/// Which AWS exception a [`ValidationError`] maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// `BadRequestException`, HTTP 400.
    BadRequest,
    /// `ConflictException`, HTTP 409.
    Conflict,
}

/// A rejected path part, resource or route key, with the exact message AWS sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// The AWS exception this maps to.
    pub kind: ErrorKind,
    /// The message, verbatim as AWS words it.
    pub message: String,
}

impl ValidationError {
    fn bad_request(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::BadRequest,
            message: message.into(),
        }
    }

    fn conflict(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Conflict,
            message: message.into(),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValidationError {}

/// REST API (v1) message for a pathPart outside the grammar (recorded from AWS by moto and
/// LocalStack, whose tests run against the real service).
pub const INVALID_PATH_PART_MESSAGE: &str = "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace.";

/// HTTP API (v2) message for a route-key path part outside the grammar. AWS quotes its own
/// regular expression in the message.
pub const INVALID_ROUTE_PATH_MESSAGE: &str = "One or more path parts appear to be invalid. Parts are validated against this regular expression: ^(\\{[\\w.:-]+\\+?\\}|[a-zA-Z0-9.:_-]+)$";

/// The HTTP methods API Gateway accepts for a REST method or an HTTP API route.
pub const HTTP_METHODS: [&str; 8] = [
    "GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "ANY",
];

/// What one path part of a resource path or route key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathPart<'a> {
    /// A literal segment such as `pets`.
    Static(&'a str),
    /// `{name}`: exactly one non-empty segment.
    Param(&'a str),
    /// `{name+}`: one or more segments, the rest of the path.
    Greedy(&'a str),
}

impl<'a> PathPart<'a> {
    /// True for `{name}` and `{name+}`.
    pub fn is_variable(&self) -> bool {
        !matches!(self, PathPart::Static(_))
    }
}

/// Characters AWS allows in a literal part and in a variable name: `[a-zA-Z0-9._:-]`.
/// The colon is accepted by AWS although its message does not list it (moto issue 6148
/// confirmed it against the service); `_` is part of `\w` in the v2 expression.
fn is_part_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b':' | b'-')
}

/// Parses one path part against AWS's grammar `^(\{[\w.:-]+\+?\}|[a-zA-Z0-9.:_-]+)$`.
/// Returns `None` for anything outside it, such as `img-{id}.png`, `{}`, `{a+b}` or `""`.
pub fn parse_path_part(part: &str) -> Option<PathPart<'_>> {
    let bytes = part.as_bytes();
    if let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
        let (name, greedy) = match inner.strip_suffix('+') {
            Some(name) => (name, true),
            None => (inner, false),
        };
        if name.is_empty() || !name.bytes().all(is_part_char) {
            return None;
        }
        return Some(if greedy {
            PathPart::Greedy(name)
        } else {
            PathPart::Param(name)
        });
    }
    if bytes.is_empty() || !bytes.iter().copied().all(is_part_char) {
        return None;
    }
    Some(PathPart::Static(part))
}

/// Validates a REST API `pathPart` (CreateResource, UpdateResource `/pathPart`).
pub fn validate_path_part(part: &str) -> Result<PathPart<'_>, ValidationError> {
    parse_path_part(part).ok_or_else(|| ValidationError::bad_request(INVALID_PATH_PART_MESSAGE))
}

/// Validates a REST `httpMethod` (PutMethod).
pub fn validate_http_method(method: &str) -> Result<(), ValidationError> {
    if HTTP_METHODS.contains(&method) {
        Ok(())
    } else {
        Err(ValidationError::bad_request(
            "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY",
        ))
    }
}

/// Rejects a child under a greedy resource. `parent_path_part` is the parent's pathPart
/// (`None` for the root resource, which has none).
pub fn check_parent_not_greedy(parent_path_part: Option<&str>) -> Result<(), ValidationError> {
    match parent_path_part.and_then(parse_path_part) {
        Some(PathPart::Greedy(_)) => Err(ValidationError::bad_request(format!(
            "Cannot create a child of a resource with a greedy path variable: {}",
            parent_path_part.unwrap_or_default()
        ))),
        _ => Ok(()),
    }
}

/// Checks a new (or renamed) REST resource's pathPart against its future siblings' pathParts.
/// A same-named sibling is a conflict; a second variable sibling is a bad request whose
/// message names the existing variable sibling, as AWS does.
pub fn check_siblings<'s>(
    new_part: &str,
    siblings: impl IntoIterator<Item = &'s str>,
) -> Result<(), ValidationError> {
    let new_is_variable = parse_path_part(new_part).is_some_and(|p| p.is_variable());
    let mut variable_sibling: Option<&str> = None;
    for sibling in siblings {
        if sibling == new_part {
            return Err(ValidationError::conflict(format!(
                "Another resource with the same parent already has this name: {new_part}"
            )));
        }
        if variable_sibling.is_none() && parse_path_part(sibling).is_some_and(|p| p.is_variable()) {
            variable_sibling = Some(sibling);
        }
    }
    match variable_sibling {
        Some(existing) if new_is_variable => Err(ValidationError::bad_request(format!(
            "A sibling ({existing}) of this resource already has a variable path part -- only one is allowed"
        ))),
        _ => Ok(()),
    }
}

/// Every CreateResource check in the order the control plane must apply them: the pathPart
/// grammar, then the greedy parent, then the siblings (duplicate name before variable
/// sibling, so re-creating `{id}` reports the conflict).
pub fn check_new_resource<'s>(
    parent_path_part: Option<&str>,
    siblings: impl IntoIterator<Item = &'s str>,
    new_part: &str,
) -> Result<(), ValidationError> {
    validate_path_part(new_part)?;
    check_parent_not_greedy(parent_path_part)?;
    check_siblings(new_part, siblings)
}

/// A parsed HTTP API (v2) route key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKey<'a> {
    /// `$default`: matches when no other route does.
    Default,
    /// `{METHOD} {path}`, e.g. `GET /pets/{id}` or `ANY /{proxy+}`.
    Route {
        /// Upper-case method or `ANY`.
        method: &'a str,
        /// The path, starting with `/`.
        path: &'a str,
    },
}

/// Parses and validates an HTTP API route key (CreateRoute, UpdateRoute).
///
/// Only the path-part message is recorded from AWS; the others are worded in AWS's style.
pub fn parse_route_key(key: &str) -> Result<RouteKey<'_>, ValidationError> {
    if key == "$default" {
        return Ok(RouteKey::Default);
    }
    if key.is_empty() {
        return Err(ValidationError::bad_request("Route key is required"));
    }
    let Some((method, path)) = key.split_once(' ') else {
        return Err(ValidationError::bad_request(format!(
            "Invalid route key: {key}. A route key must be $default or an HTTP method followed by a space and a path"
        )));
    };
    if !HTTP_METHODS.contains(&method) {
        return Err(ValidationError::bad_request(format!(
            "Invalid HTTP method: {method}. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY"
        )));
    }
    validate_route_path(path)?;
    Ok(RouteKey::Route { method, path })
}

/// Validates the path of an HTTP API route key: `/`, or `/`-separated parts in the grammar,
/// a greedy part only last, and unique variable names.
pub fn validate_route_path(path: &str) -> Result<(), ValidationError> {
    if path == "/" {
        return Ok(());
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(ValidationError::bad_request(INVALID_ROUTE_PATH_MESSAGE));
    };
    let mut names: Vec<&str> = Vec::new();
    let mut parts = rest.split('/').peekable();
    while let Some(raw) = parts.next() {
        let part = parse_path_part(raw)
            .ok_or_else(|| ValidationError::bad_request(INVALID_ROUTE_PATH_MESSAGE))?;
        let name = match part {
            PathPart::Static(_) => continue,
            PathPart::Param(name) => name,
            PathPart::Greedy(name) => {
                if parts.peek().is_some() {
                    return Err(ValidationError::bad_request(
                        "A greedy path variable must be the last part of the route path",
                    ));
                }
                name
            }
        };
        if names.contains(&name) {
            return Err(ValidationError::bad_request(format!(
                "Duplicate path parameter name: {name}"
            )));
        }
        names.push(name);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_part_grammar() {
        assert_eq!(parse_path_part("pets"), Some(PathPart::Static("pets")));
        assert_eq!(
            parse_path_part("us:er_0-9.x"),
            Some(PathPart::Static("us:er_0-9.x"))
        );
        assert_eq!(parse_path_part("{id}"), Some(PathPart::Param("id")));
        assert_eq!(
            parse_path_part("{pro:xy+}"),
            Some(PathPart::Greedy("pro:xy"))
        );
        for bad in [
            "",
            "img-{id}.png",
            "{id}.json",
            "{}",
            "{+}",
            "{a+b}",
            "{{a}}",
            "us{er",
            "us+er",
            "/users",
            "users/",
            "a b",
            "$metadata",
            "caf\u{e9}",
            "{a}}",
            "{id",
        ] {
            assert_eq!(parse_path_part(bad), None, "{bad:?} must be rejected");
        }
    }

    #[test]
    fn rest_path_part_message() {
        let err = validate_path_part("img-{id}.png").unwrap_err();
        assert_eq!(err.kind, ErrorKind::BadRequest);
        assert_eq!(
            err.message,
            "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace."
        );
    }

    #[test]
    fn http_method_message() {
        assert!(validate_http_method("ANY").is_ok());
        let err = validate_http_method("get").unwrap_err();
        assert_eq!(
            err.message,
            "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY"
        );
    }

    #[test]
    fn greedy_parent() {
        assert!(check_parent_not_greedy(None).is_ok());
        assert!(check_parent_not_greedy(Some("{id}")).is_ok());
        let err = check_parent_not_greedy(Some("{proxy+}")).unwrap_err();
        assert_eq!(err.kind, ErrorKind::BadRequest);
        assert_eq!(
            err.message,
            "Cannot create a child of a resource with a greedy path variable: {proxy+}"
        );
    }

    #[test]
    fn siblings() {
        assert!(check_siblings("{id}", ["pets", "users"]).is_ok());
        assert!(check_siblings("cats", ["pets", "{proxy+}"]).is_ok());
        let err = check_siblings("{id}", ["pets", "{proxy+}"]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::BadRequest);
        assert_eq!(
            err.message,
            "A sibling ({proxy+}) of this resource already has a variable path part -- only one is allowed"
        );
        let err = check_siblings("pets", ["pets"]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Conflict);
        assert_eq!(
            err.message,
            "Another resource with the same parent already has this name: pets"
        );
        // Same variable again: the duplicate name wins over the variable-sibling rule.
        let err = check_siblings("{id}", ["{id}"]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Conflict);
    }

    #[test]
    fn new_resource_order() {
        let err = check_new_resource(Some("{proxy+}"), ["{id}"], "a b").unwrap_err();
        assert_eq!(err.message, INVALID_PATH_PART_MESSAGE);
        let err = check_new_resource(Some("{proxy+}"), ["{id}"], "{x}").unwrap_err();
        assert!(err.message.starts_with("Cannot create a child"));
        let err = check_new_resource(Some("api"), ["{id}"], "{x}").unwrap_err();
        assert!(err.message.starts_with("A sibling ({id})"));
        assert!(check_new_resource(None, ["{id}"], "v1").is_ok());
    }

    #[test]
    fn route_keys() {
        assert_eq!(parse_route_key("$default"), Ok(RouteKey::Default));
        assert_eq!(
            parse_route_key("GET /pets/{id}"),
            Ok(RouteKey::Route {
                method: "GET",
                path: "/pets/{id}"
            })
        );
        assert_eq!(
            parse_route_key("ANY /"),
            Ok(RouteKey::Route {
                method: "ANY",
                path: "/"
            })
        );
        assert_eq!(
            parse_route_key("GET /{eventId}.json").unwrap_err().message,
            INVALID_ROUTE_PATH_MESSAGE
        );
        assert_eq!(
            parse_route_key("GET /voice/*").unwrap_err().message,
            INVALID_ROUTE_PATH_MESSAGE
        );
        assert_eq!(
            parse_route_key("GET pets").unwrap_err().message,
            INVALID_ROUTE_PATH_MESSAGE
        );
        assert_eq!(
            parse_route_key("GET /pets/").unwrap_err().message,
            INVALID_ROUTE_PATH_MESSAGE
        );
        assert!(parse_route_key("FETCH /pets").is_err());
        assert!(parse_route_key("GET").is_err());
        assert_eq!(
            parse_route_key("").unwrap_err().message,
            "Route key is required"
        );
        assert!(parse_route_key("GET /{proxy+}/x").is_err());
        assert!(parse_route_key("GET /{id}/x/{id}").is_err());
    }
}
