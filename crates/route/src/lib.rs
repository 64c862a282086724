//! Segment trie that matches execute-api request paths to API Gateway REST resources
//! (`/pets/{id}`, `/{proxy+}`) and HTTP API route keys (`GET /pets/{id}`, `$default`), plus
//! the control-plane validation of path parts and route keys with AWS-exact messages.
//!
//! This crate is pure: no I/O, no async, no knowledge of integrations. A [`Router`] is built
//! once per deployment with a [`RouterBuilder`] and then only read, so the data plane can
//! publish it behind an `ArcSwap` and match on the hot path without locks.
//!
//! Matching rules (aws-behaviour §2.2 and §5.2):
//! - per level, a literal segment beats `{param}` which beats `{proxy+}`; matching is
//!   depth-first and backtracks, so `/x/b/c` still reaches `/x/{x}/c` when `/x/b/d` exists;
//! - a resource only counts if it has the request's method or `ANY`; otherwise the search
//!   backtracks to the next candidate (a method-less literal does not shadow `/{proxy+}`);
//! - `{param}` matches exactly one non-empty segment; `{proxy+}` matches one or more
//!   segments, empty middle segments included (`a//b`), so `/{proxy+}` never matches `/`;
//! - trailing slashes are ignored for matching and are not part of a greedy value;
//! - values are returned raw, exactly as they appear in the request path (no decoding);
//! - literals compare byte for byte (case-sensitive, not decoded).
//!
//! It is not: a URL decoder, a stage selector, or an authorizer. What to do with "no match"
//! (403 `Missing Authentication Token` for REST, 404 `Not Found` for HTTP APIs) is the data
//! plane's decision.

mod validate;

use smallvec::SmallVec;
use std::fmt;

pub use validate::{
    ErrorKind, HTTP_METHODS, INVALID_PATH_PART_MESSAGE, INVALID_ROUTE_PATH_MESSAGE, PathPart,
    RouteKey, ValidationError, check_new_resource, check_parent_not_greedy, check_siblings,
    parse_path_part, parse_route_key, validate_http_method, validate_path_part,
    validate_route_path,
};

/// Which API Gateway flavour's tree rules a router enforces on insert. Matching is the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// REST API (v1): at most one variable child per resource, nothing under a greedy one.
    RestApi,
    /// HTTP API (v2): `{id}` may sit next to `{proxy+}`, and a `$default` route exists.
    HttpApi,
}

/// Why a route could not be inserted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// The path breaks an AWS rule; the message is what AWS would answer.
    Invalid(ValidationError),
    /// The same path (or `$default`) already has a value for this method.
    Duplicate {
        /// The resource path or `$default`.
        path: String,
        /// The method, e.g. `GET` or `ANY`.
        method: String,
    },
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteError::Invalid(e) => f.write_str(&e.message),
            RouteError::Duplicate { path, method } => {
                write!(f, "a route for {method} {path} already exists")
            }
        }
    }
}

impl std::error::Error for RouteError {}

impl From<ValidationError> for RouteError {
    fn from(e: ValidationError) -> Self {
        RouteError::Invalid(e)
    }
}

/// One trie node: a resource (or an implicit intermediate path) and its children.
#[derive(Debug)]
struct Node<T> {
    /// The resource path or route path as inserted, e.g. `/pets/{id}`.
    path: Box<str>,
    /// Literal children, sorted by segment after `build` so lookup is a binary search.
    statics: Vec<(Box<str>, Node<T>)>,
    /// `{name}` children in insertion order (at most one for REST APIs).
    params: Vec<(Box<str>, Node<T>)>,
    /// `{name+}` children in insertion order; they never have children themselves.
    greedy: Vec<(Box<str>, Node<T>)>,
    /// Method table: exact verbs and `ANY`.
    methods: Vec<(Box<str>, T)>,
}

impl<T> Node<T> {
    fn new(path: String) -> Self {
        Self {
            path: path.into_boxed_str(),
            statics: Vec::new(),
            params: Vec::new(),
            greedy: Vec::new(),
            methods: Vec::new(),
        }
    }

    /// The value for `method`: the exact verb wins over `ANY`.
    fn lookup(&self, method: &str) -> Option<(&str, &T)> {
        let mut any = None;
        for (m, v) in &self.methods {
            if &**m == method {
                return Some((&**m, v));
            }
            if &**m == "ANY" {
                any = Some((&**m, v));
            }
        }
        any
    }

    fn finish(&mut self) {
        self.statics.sort_by(|a, b| a.0.cmp(&b.0));
        self.statics.shrink_to_fit();
        self.params.shrink_to_fit();
        self.greedy.shrink_to_fit();
        self.methods.shrink_to_fit();
        for (_, child) in self
            .statics
            .iter_mut()
            .chain(self.params.iter_mut())
            .chain(self.greedy.iter_mut())
        {
            child.finish();
        }
    }
}

/// Path parameters of a match: `(name, raw value)` in path order, stored inline for the
/// common case of up to four parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Params<'r, 'p> {
    inner: SmallVec<[(&'r str, &'p str); 4]>,
}

impl<'r, 'p> Params<'r, 'p> {
    /// The raw value of parameter `name`. If a path repeats a name, the last one wins, as a
    /// JSON object built from the list would.
    pub fn get(&self, name: &str) -> Option<&'p str> {
        self.inner
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }

    /// All parameters in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&'r str, &'p str)> + '_ {
        self.inner.iter().copied()
    }

    /// All parameters in path order, as a slice.
    pub fn as_slice(&self) -> &[(&'r str, &'p str)] {
        &self.inner
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// True when the matched resource has no variables.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

/// A successful match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match<'r, 'p, T> {
    /// The value stored for the resource and method.
    pub value: &'r T,
    /// Path parameters, raw (not URL-decoded).
    pub params: Params<'r, 'p>,
    /// The matched resource path (`/pets/{id}`), or `$default` for the default route.
    pub resource_path: &'r str,
    /// The method-table key that matched: the request's verb, or `ANY` (also for `$default`).
    pub method: &'r str,
    /// True when no route matched and the HTTP API `$default` route was taken.
    pub is_default: bool,
}

/// An immutable route table. Cheap to match, `Send + Sync` when `T` is.
#[derive(Debug)]
pub struct Router<T> {
    root: Node<T>,
    default: Option<T>,
    flavor: Flavor,
}

/// Builds a [`Router`], enforcing the tree rules of its [`Flavor`].
#[derive(Debug)]
pub struct RouterBuilder<T> {
    root: Node<T>,
    default: Option<T>,
    flavor: Flavor,
}

impl<T> Default for RouterBuilder<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> RouterBuilder<T> {
    /// A builder with REST API (v1) rules.
    pub fn new() -> Self {
        Self::with_flavor(Flavor::RestApi)
    }

    /// A builder with HTTP API (v2) rules.
    pub fn http_api() -> Self {
        Self::with_flavor(Flavor::HttpApi)
    }

    /// A builder for the given flavour.
    pub fn with_flavor(flavor: Flavor) -> Self {
        Self {
            root: Node::new("/".to_owned()),
            default: None,
            flavor,
        }
    }

    /// Adds `value` for `method` (a verb or `ANY`) on the resource at `path`, a full
    /// resource path such as `/`, `/pets/{id}` or `/{proxy+}`.
    pub fn insert(&mut self, path: &str, method: &str, value: T) -> Result<(), RouteError> {
        if method.is_empty() {
            return Err(self.invalid_path().into());
        }
        let flavor = self.flavor;
        let invalid = self.invalid_path();
        let mut node = &mut self.root;
        if path != "/" {
            let rest = path.strip_prefix('/').ok_or_else(|| invalid.clone())?;
            let mut parts = rest.split('/').peekable();
            let mut prefix_len = 0usize;
            while let Some(raw) = parts.next() {
                prefix_len += 1 + raw.len();
                let sub_path = &path[..prefix_len];
                let part = parse_path_part(raw).ok_or_else(|| invalid.clone())?;
                let is_last = parts.peek().is_none();
                node = child_for(node, part, raw, sub_path, is_last, flavor, &invalid)?;
            }
        }
        if node.methods.iter().any(|(m, _)| &**m == method) {
            return Err(RouteError::Duplicate {
                path: path.to_owned(),
                method: method.to_owned(),
            });
        }
        node.methods.push((method.into(), value));
        Ok(())
    }

    /// Adds an HTTP API route by its route key: `GET /pets/{id}`, `ANY /{proxy+}` or
    /// `$default`. On a REST API builder, `$default` is refused.
    pub fn insert_route_key(&mut self, route_key: &str, value: T) -> Result<(), RouteError> {
        match parse_route_key(route_key)? {
            RouteKey::Route { method, path } => self.insert(path, method, value),
            RouteKey::Default => self.insert_default(value),
        }
    }

    /// Sets the HTTP API `$default` route, taken when nothing else matches.
    pub fn insert_default(&mut self, value: T) -> Result<(), RouteError> {
        if self.flavor == Flavor::RestApi {
            return Err(self.invalid_path().into());
        }
        if self.default.is_some() {
            return Err(RouteError::Duplicate {
                path: "$default".to_owned(),
                method: "ANY".to_owned(),
            });
        }
        self.default = Some(value);
        Ok(())
    }

    /// Freezes the table.
    pub fn build(mut self) -> Router<T> {
        self.root.finish();
        Router {
            root: self.root,
            default: self.default,
            flavor: self.flavor,
        }
    }

    fn invalid_path(&self) -> ValidationError {
        ValidationError {
            kind: ErrorKind::BadRequest,
            message: match self.flavor {
                Flavor::RestApi => INVALID_PATH_PART_MESSAGE,
                Flavor::HttpApi => INVALID_ROUTE_PATH_MESSAGE,
            }
            .to_owned(),
        }
    }
}

/// Finds or creates the child of `node` for one path part, applying the flavour's rules.
fn child_for<'n, T>(
    node: &'n mut Node<T>,
    part: PathPart<'_>,
    raw: &str,
    sub_path: &str,
    is_last: bool,
    flavor: Flavor,
    invalid: &ValidationError,
) -> Result<&'n mut Node<T>, ValidationError> {
    // REST allows one variable child per resource; report the existing one like AWS does.
    let existing_variable = |node: &Node<T>| -> Option<String> {
        node.params
            .first()
            .map(|(n, _)| format!("{{{n}}}"))
            .or_else(|| node.greedy.first().map(|(n, _)| format!("{{{n}+}}")))
    };
    let sibling_error = |existing: String| ValidationError {
        kind: ErrorKind::BadRequest,
        message: format!(
            "A sibling ({existing}) of this resource already has a variable path part -- only one is allowed"
        ),
    };
    let (list, name) = match part {
        PathPart::Static(seg) => {
            let idx = match node.statics.iter().position(|(s, _)| &**s == seg) {
                Some(i) => i,
                None => {
                    node.statics
                        .push((seg.into(), Node::new(sub_path.to_owned())));
                    node.statics.len() - 1
                }
            };
            return Ok(&mut node.statics[idx].1);
        }
        PathPart::Param(name) => (ListKind::Param, name),
        PathPart::Greedy(name) => {
            if !is_last {
                return Err(match flavor {
                    Flavor::RestApi => ValidationError {
                        kind: ErrorKind::BadRequest,
                        message: format!(
                            "Cannot create a child of a resource with a greedy path variable: {raw}"
                        ),
                    },
                    Flavor::HttpApi => invalid.clone(),
                });
            }
            (ListKind::Greedy, name)
        }
    };
    let existing = match list {
        ListKind::Param => node.params.iter().position(|(n, _)| &**n == name),
        ListKind::Greedy => node.greedy.iter().position(|(n, _)| &**n == name),
    };
    if existing.is_none()
        && flavor == Flavor::RestApi
        && let Some(other) = existing_variable(node)
    {
        return Err(sibling_error(other));
    }
    let vec = match list {
        ListKind::Param => &mut node.params,
        ListKind::Greedy => &mut node.greedy,
    };
    let idx = match existing {
        Some(i) => i,
        None => {
            vec.push((name.into(), Node::new(sub_path.to_owned())));
            vec.len() - 1
        }
    };
    Ok(&mut vec[idx].1)
}

#[derive(Clone, Copy)]
enum ListKind {
    Param,
    Greedy,
}

impl<T> Router<T> {
    /// The flavour whose rules built this router.
    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// Matches a raw request path (stage already stripped, query excluded) and method.
    pub fn at<'r, 'p>(&'r self, path: &'p str, method: &str) -> Option<Match<'r, 'p, T>> {
        let trimmed = path.trim_end_matches('/');
        let mut params = Params::default();
        let found = if trimmed.is_empty() {
            self.root.lookup(method).map(|(m, v)| (&self.root, m, v))
        } else {
            // A path without its leading slash is treated as if it had one.
            let rest = trimmed.strip_prefix('/').unwrap_or(trimmed);
            search(&self.root, rest, method, &mut params.inner)
        };
        match found {
            Some((node, m, value)) => Some(Match {
                value,
                params,
                resource_path: &node.path,
                method: m,
                is_default: false,
            }),
            None => self.default.as_ref().map(|value| Match {
                value,
                params: Params::default(),
                resource_path: "$default",
                method: "ANY",
                is_default: true,
            }),
        }
    }
}

type Found<'r, T> = (&'r Node<T>, &'r str, &'r T);

/// Depth-first search below `node` for `rest` (the path after a `/`, never ending in `/`).
/// Each node is visited at most once per call, so the cost is bounded by the table size.
fn search<'r, 'p, T>(
    node: &'r Node<T>,
    rest: &'p str,
    method: &str,
    params: &mut SmallVec<[(&'r str, &'p str); 4]>,
) -> Option<Found<'r, T>> {
    let (seg, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let descend = |child: &'r Node<T>, params: &mut SmallVec<[(&'r str, &'p str); 4]>| match tail {
        None => child.lookup(method).map(|(m, v)| (child, m, v)),
        Some(t) => search(child, t, method, params),
    };
    if let Ok(i) = node.statics.binary_search_by(|(s, _)| (**s).cmp(seg))
        && let Some(found) = descend(&node.statics[i].1, params)
    {
        return Some(found);
    }
    if !seg.is_empty() {
        for (name, child) in &node.params {
            let mark = params.len();
            params.push((&**name, seg));
            if let Some(found) = descend(child, params) {
                return Some(found);
            }
            params.truncate(mark);
        }
    }
    // `rest` is non-empty here because the caller trimmed trailing slashes, so the greedy
    // value is one or more segments and never includes the trailing slash.
    for (name, child) in &node.greedy {
        if let Some((m, v)) = child.lookup(method) {
            params.push((&**name, rest));
            return Some((child, m, v));
        }
    }
    None
}
