//! Velocity Template Language as API Gateway runs it: the mapping-template engine.
//!
//! API Gateway mapping templates are Apache Velocity 1.7 templates evaluated with four objects:
//! `$input` (body, JSONPath, parameters), `$util` (escaping, JSON, URL and base64 helpers),
//! `$context` (request context, plus the writable `requestOverride`/`responseOverride` maps)
//! and `$stageVariables`. This crate parses a template once ([`Template::parse`]) and renders it
//! many times ([`Template::render`]) against a [`RenderInput`]. It is pure: no IO, no async, no
//! global state; a [`Template`] is `Send + Sync` and rendering never re-parses.
//!
//! ```
//! use std::collections::BTreeMap;
//! use portico_vtl::{Params, RenderInput, Template};
//!
//! let t = Template::parse(r#"{"greeter":"$input.params('greeter')"}"#).unwrap();
//! let params = Params { querystring: vec![("greeter".into(), "me".into())], ..Params::default() };
//! let context = serde_json::json!({"httpMethod": "GET"});
//! let stage = BTreeMap::new();
//! let input = RenderInput { body: "", params: &params, context: &context, stage_variables: &stage };
//! assert_eq!(t.render(&input).unwrap().body, r#"{"greeter":"me"}"#);
//! ```
//!
//! Semantics follow Velocity 1.7 (whitespace, `#set` with null, truthiness, `MathUtils`
//! arithmetic that widens instead of overflowing, `toString()` of Java collections) checked
//! against the real engine (see `tests/vtl-oracle/` in the repository), with AWS's departures:
//! null and undefined references print as empty text, `#foreach` stops after 1000 iterations.
//! `$input.json()`/`$input.path()` evaluate JSONPath as Jayway does (a definite path yields one
//! value, an indefinite one a JSON array); a path that matches nothing prints as empty, and an
//! empty body reads as `{}` (so a GET through the passthrough template yields
//! `"body-json" : {}`, as on AWS).
//!
//! The caller's side: build [`Params`] (path, query string, headers; one value per name),
//! the `$context` object as JSON, and the stage variables; render; send
//! [`RenderOutput::body`] on and apply [`RenderOutput::overrides`]
//! (`$context.requestOverride.*` in request templates, `$context.responseOverride.*` in
//! response templates). A [`ParseError`] (at deployment) or [`RenderError`] (per request: a
//! Java exception in Velocity such as `substring` out of range, an invalid override status, or
//! a [`Limits`] bound) carries the 1-based line and column.
//!
//! What it is not: it does not choose templates by Content-Type or apply passthrough rules
//! (the data plane does), has no `#include`/`#parse` (no files: refused at parse time), and
//! uses Rust's `regex` for Java regex methods (patterns with look-around or backreferences
//! fail with a render error). Values print as the Java objects API Gateway hands Velocity
//! (`{a=1}` maps, JSON-printing JSONPath arrays); a Java array from `split()` prints as a list,
//! not as Java's `[Ljava.lang.String;@hash`.

mod ast;
mod aws;
mod directive;
mod eval;
mod expr;
mod json;
mod jsonpath;
mod methods;
mod ops;
mod parse;
mod strings;
mod value;

use std::collections::BTreeMap;

/// A parsed mapping template. Parse once per deployment, render per request.
#[derive(Debug)]
pub struct Template {
    nodes: Vec<ast::Node>,
    names: Vec<Box<str>>,
    macros: Vec<ast::Macro>,
}

/// Request parameters visible to `$input.params`. Order is preserved; one value per name (the
/// caller applies "last wins" for repeated names). Header lookups by
/// `$input.params('name')` ignore ASCII case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pub path: Vec<(String, String)>,
    pub querystring: Vec<(String, String)>,
    pub header: Vec<(String, String)>,
}

/// Everything a render reads.
#[derive(Debug, Clone, Copy)]
pub struct RenderInput<'a> {
    /// The raw body (`$input.body`; JSONPath evaluates it as JSON).
    pub body: &'a str,
    pub params: &'a Params,
    /// The `$context` object (a JSON object; nested `identity`, `authorizer`...).
    pub context: &'a serde_json::Value,
    pub stage_variables: &'a BTreeMap<String, String>,
}

/// Values the template assigned under `$context.requestOverride` and
/// `$context.responseOverride`, in assignment order, printed as strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub request_header: Vec<(String, String)>,
    pub request_querystring: Vec<(String, String)>,
    pub request_path: Vec<(String, String)>,
    /// `$context.responseOverride.status`, checked to be 100–599.
    pub response_status: Option<u16>,
    pub response_header: Vec<(String, String)>,
}

/// The rendered body and the overrides the template set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderOutput {
    pub body: String,
    pub overrides: Overrides,
}

/// Bounds on one render. The defaults are AWS's: 1000 iterations per `#foreach`, and an
/// output cap of 10 MiB (the payload limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Iterations after which a `#foreach` stops (silently, as Velocity's `maxloops`).
    pub max_foreach_iterations: usize,
    /// Output size beyond which rendering fails.
    pub max_output_bytes: usize,
    /// Nesting of macro calls, `#define` expansions and `#evaluate` beyond which rendering
    /// fails (Velocity's `velocimacro.max.depth` is 20).
    pub max_depth: u32,
    /// Longest `[a..b]` range literal.
    pub max_range: usize,
    /// Work budget for one render: each `#foreach` iteration, macro call, `#define` expansion
    /// and method call costs one, and every list/map entry and 16 bytes of string the template
    /// allocates cost one more. Nested loops could otherwise multiply into hours of work, and
    /// self-doubling lists into gigabytes (API Gateway would time out or fail instead).
    pub max_steps: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_foreach_iterations: 1000,
            max_output_bytes: 10 * 1024 * 1024,
            max_depth: 20,
            max_range: 100_000,
            max_steps: 1_000_000,
        }
    }
}

/// A syntax error, with the 1-based position where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// A failure while rendering (a Java exception in Velocity, or a limit), with the position of
/// the reference or directive that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ParseError {}
impl std::error::Error for RenderError {}

impl Template {
    /// Parses template source.
    pub fn parse(source: &str) -> Result<Template, ParseError> {
        let mut st = parse::State::new();
        let nodes = parse::parse_template(source, &mut st)?;
        Ok(Template {
            nodes,
            names: st.names,
            macros: st.macros,
        })
    }

    /// Renders with the default (AWS) limits.
    pub fn render(&self, input: &RenderInput<'_>) -> Result<RenderOutput, RenderError> {
        self.render_with(input, Limits::default())
    }

    /// Renders with explicit limits.
    pub fn render_with(
        &self,
        input: &RenderInput<'_>,
        limits: Limits,
    ) -> Result<RenderOutput, RenderError> {
        let arena = std::cell::OnceCell::new();
        let mut ev = eval::Eval::new(self, *input, limits, &arena);
        let mut body = String::with_capacity(self.size_hint(input));
        let rendered = ev.render(&self.nodes, &mut body);
        let overrides = rendered.and_then(|_| ev.overrides());
        ev.break_cycles();
        Ok(RenderOutput {
            body,
            overrides: overrides?,
        })
    }

    fn size_hint(&self, input: &RenderInput<'_>) -> usize {
        let text: usize = self
            .nodes
            .iter()
            .map(|n| match n {
                ast::Node::Text(t) => t.len(),
                _ => 16,
            })
            .sum();
        text + input.body.len().min(64 * 1024)
    }
}

#[cfg(test)]
mod tests;
