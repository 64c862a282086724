//! Tree-walking evaluator: renders nodes into a string with Velocity 1.7 semantics.

use std::collections::HashMap;
use std::rc::Rc;

use crate::ast::{BinOp, Evaluated, Expr, Node, Part, Ref, Slot, Span};
use crate::parse::{
    SLOT_CONTEXT, SLOT_FOREACH, SLOT_INPUT, SLOT_STAGE, SLOT_UTIL, SLOT_VELOCITY_COUNT,
    SLOT_VELOCITY_HAS_NEXT,
};
use crate::value::{ListKind, LoopInfo, Value};
use crate::{Limits, RenderError, RenderInput, Template};

/// How a block ended: normally, at `#break` (ends the innermost loop, or the template), or at
/// `#stop` (ends everything).
pub(crate) enum Flow {
    Normal,
    Break,
    Stop,
}

pub(crate) struct Eval<'a> {
    pub t: &'a Template,
    /// Templates parsed during the render (`#evaluate` of computed strings); created on first
    /// use so ordinary renders allocate nothing for it.
    pub arena: &'a std::cell::OnceCell<typed_arena::Arena<Template>>,
    pub input: RenderInput<'a>,
    pub limits: Limits,
    pub vars: Vec<Value<'a>>,
    /// The body parsed as JSON, once per render (`Some(None)`: not JSON).
    pub body_doc: Option<Option<Value<'a>>>,
    /// `$context.requestOverride` / `.responseOverride`, created when first touched.
    pub request_override: Option<Value<'a>>,
    pub response_override: Option<Value<'a>>,
    /// The latest `#set`, where an invalid override status is reported.
    pub last_set: Span,
    /// Macro / `#define` / `#evaluate` depth (`Limits::max_depth`).
    pub depth: u32,
    /// Work done so far (`Limits::max_steps`).
    pub steps: u64,
    /// Current `render`/`expr` recursion (see `MAX_NESTING`).
    pub nesting: u32,
    /// The latest position entered, for errors raised where no node records one.
    pub here: Span,
    /// Lists and maps that had a list or map put into them: the only way a template can build
    /// a reference cycle, which `Rc` would leak. They are emptied when the render ends.
    pub cycle_candidates: Vec<Value<'a>>,
    /// Keys the template set directly on `$context` (`#set($context.x = ...)`).
    pub context_sets: Option<Value<'a>>,
    /// Source bytes parsed by `#evaluate` so far.
    pub evaluated_bytes: usize,
    /// Java regexes compiled during this render, by pattern.
    pub regexes: HashMap<String, Rc<regex::Regex>>,
}

pub(crate) type R<T> = Result<T, RenderError>;

/// Bound on nested `render`/`expr` activations across macros, `#define` and `#evaluate`.
const MAX_NESTING: u32 = 256;

/// Where a node starts, for errors raised on entering it.
fn node_span(n: &Node) -> Span {
    match n {
        Node::Ref(r) | Node::EscapedRef { reference: r, .. } => r.span,
        Node::Set { span, .. }
        | Node::Foreach { span, .. }
        | Node::Call { span, .. }
        | Node::Evaluate { span, .. } => *span,
        Node::If { branches, .. } => branches
            .first()
            .map_or(Span::default(), |(c, _)| expr_span(c, Span::default())),
        _ => Span::default(),
    }
}

/// Where an expression starts, if it records it; `fallback` otherwise.
fn expr_span(e: &Expr, fallback: Span) -> Span {
    match e {
        Expr::Ref(r) => r.span,
        Expr::Range(_, _, s) | Expr::Binary(_, _, _, s) => *s,
        _ => fallback,
    }
}

pub(crate) fn err(span: Span, msg: impl Into<String>) -> RenderError {
    RenderError {
        line: span.line,
        column: span.column,
        message: msg.into(),
    }
}

impl<'a> Eval<'a> {
    pub fn new(
        t: &'a Template,
        input: RenderInput<'a>,
        limits: Limits,
        arena: &'a std::cell::OnceCell<typed_arena::Arena<Template>>,
    ) -> Self {
        let mut vars = vec![Value::Null; t.names.len()];
        vars[SLOT_INPUT as usize] = Value::Input;
        vars[SLOT_UTIL as usize] = Value::Util;
        vars[SLOT_CONTEXT as usize] = Value::Context;
        vars[SLOT_STAGE as usize] = Value::Stage;
        Eval {
            t,
            arena,
            input,
            limits,
            vars,
            body_doc: None,
            request_override: None,
            response_override: None,
            last_set: Span::default(),
            depth: 0,
            steps: 0,
            nesting: 0,
            here: Span { line: 1, column: 1 },
            cycle_candidates: Vec::new(),
            evaluated_bytes: 0,
            context_sets: None,
            regexes: HashMap::new(),
        }
    }

    fn check_size(&self, out: &str, span: Span) -> R<()> {
        if out.len() > self.limits.max_output_bytes {
            return Err(err(
                span,
                format!(
                    "template output exceeds {} bytes",
                    self.limits.max_output_bytes
                ),
            ));
        }
        Ok(())
    }

    pub fn render(&mut self, nodes: &'a [Node], out: &mut String) -> R<Flow> {
        self.nest(nodes.first().map_or(self.last_set, node_span))?;
        let r = self.render_nodes(nodes, out);
        self.nesting -= 1;
        r
    }

    /// Runtime recursion guard. The parser bounds one template's nesting, but macros,
    /// `#define` and `#evaluate` stack templates on top of each other; this bounds the total
    /// so rendering fits a 2 MiB worker-thread stack.
    fn nest(&mut self, span: Span) -> R<()> {
        if span.line > 0 {
            self.here = span;
        }
        if self.nesting >= MAX_NESTING {
            return Err(err(self.here, "template nested too deeply"));
        }
        self.nesting += 1;
        Ok(())
    }

    fn render_nodes(&mut self, nodes: &'a [Node], out: &mut String) -> R<Flow> {
        for node in nodes {
            match node {
                Node::Text(s) => out.push_str(s),
                Node::Ref(r) => {
                    self.render_ref(r, out)?;
                    self.check_size(out, r.span)?;
                }
                Node::EscapedRef {
                    backslashes,
                    reference,
                    raw,
                } => {
                    let v = self.reference(reference)?;
                    for _ in 0..backslashes / 2 {
                        out.push('\\');
                    }
                    if backslashes % 2 == 1 {
                        // Velocity prints an escaped reference's source; an undefined one keeps
                        // its backslash too.
                        if v.is_null() {
                            out.push('\\');
                        }
                        out.push_str(raw);
                    } else {
                        self.write_value(&v, out, reference.span)?;
                    }
                    self.check_size(out, reference.span)?;
                }
                Node::Set {
                    target,
                    value,
                    span,
                } => {
                    self.last_set = *span;
                    let v = self.expr(value)?;
                    self.set(target, v, *span)?;
                }
                Node::If {
                    branches,
                    otherwise,
                } => {
                    let mut chosen = otherwise.as_deref();
                    for (cond, body) in branches {
                        if self.truth(cond)? {
                            chosen = Some(body);
                            break;
                        }
                    }
                    if let Some(body) = chosen {
                        match self.render(body, out)? {
                            Flow::Normal => {}
                            f => return Ok(f),
                        }
                    }
                }
                Node::Foreach {
                    var,
                    iterable,
                    body,
                    span,
                } => {
                    if let Flow::Stop = self.foreach(*var, iterable, body, *span, out)? {
                        return Ok(Flow::Stop);
                    }
                }
                Node::Break => return Ok(Flow::Break),
                Node::Stop => return Ok(Flow::Stop),
                Node::Define { var, body } => self.vars[*var as usize] = Value::Block(body),
                Node::Call { index, args, span } => {
                    if let Flow::Stop = self.call(*index, args, *span, out)? {
                        return Ok(Flow::Stop);
                    }
                }
                Node::Evaluate { source, span } => {
                    self.enter(*span)?;
                    let r = match source {
                        Evaluated::Parsed(nodes) => self.render(nodes, out),
                        Evaluated::Computed(e) => self.evaluate(e, *span, out),
                    };
                    self.depth -= 1;
                    if let Flow::Stop = r? {
                        return Ok(Flow::Stop);
                    }
                }
            }
        }
        Ok(Flow::Normal)
    }

    /// `#evaluate($computed)`: parses the string as a template sharing this template's
    /// variables and macros, and renders it. The parsed template lives in the render's arena
    /// because values it creates (literals, `#define` blocks) may outlive the directive.
    fn evaluate(&mut self, e: &'a Expr, span: Span, out: &mut String) -> R<Flow> {
        let src = self.expr(e)?;
        if src.is_null() {
            return Ok(Flow::Normal);
        }
        let src = src.to_java_string();
        // Parsed templates stay in the arena until the render ends: bound their total size.
        self.evaluated_bytes += src.len();
        self.check_len(self.evaluated_bytes, span)?;
        let mut st = crate::parse::State::from_template(self.t);
        let nodes = crate::parse::parse_template(&src, &mut st)
            .map_err(|pe| err(span, format!("#evaluate: {pe}")))?;
        let arena: &'a typed_arena::Arena<Template> =
            self.arena.get_or_init(typed_arena::Arena::new);
        let sub: &'a Template = arena.alloc(Template {
            nodes,
            names: st.names,
            macros: st.macros,
        });
        if self.vars.len() < sub.names.len() {
            self.vars.resize(sub.names.len(), Value::Null);
        }
        let outer = std::mem::replace(&mut self.t, sub);
        let r = self.render(&sub.nodes, out);
        self.t = outer;
        r
    }

    /// Prints a value; a `#define` block renders its body.
    fn write_value(&mut self, v: &Value<'a>, out: &mut String, span: Span) -> R<()> {
        if let Value::Block(body) = v {
            self.enter(span)?;
            let r = self.render(body, out);
            self.depth -= 1;
            r?;
        } else if let Err(too_deep) = v.write_java_checked(out, self.limits.max_output_bytes) {
            return Err(err(
                span,
                if too_deep {
                    "StackOverflowError: value contains itself".to_string()
                } else {
                    format!(
                        "template output exceeds {} bytes",
                        self.limits.max_output_bytes
                    )
                },
            ));
        }
        Ok(())
    }

    /// Notes that `container` may now reach `inserted` (see `cycle_candidates`).
    pub fn note_insert(&mut self, container: &Value<'a>, inserted: &Value<'a>) {
        if matches!(container, Value::List(_) | Value::Map(_))
            && matches!(inserted, Value::List(_) | Value::Map(_) | Value::Entry(_))
        {
            self.cycle_candidates.push(container.clone());
        }
    }

    /// Empties every container that might sit on a reference cycle.
    pub fn break_cycles(&mut self) {
        for c in self.cycle_candidates.drain(..) {
            match &c {
                Value::List(l) => {
                    if let Ok(mut l) = l.try_borrow_mut() {
                        l.items.clear();
                    }
                }
                Value::Map(m) => {
                    if let Ok(mut m) = m.try_borrow_mut() {
                        m.entries.clear();
                    }
                }
                _ => {}
            }
        }
    }

    /// Counts one unit of work against `Limits::max_steps`.
    fn tick(&mut self, span: Span) -> R<()> {
        self.charge(1, span)
    }

    /// Counts `units` of work: loop iterations and macro calls cost one, values cost their
    /// size (list and map entries, 16 bytes of string per unit), so the memory a template can
    /// build is bounded too.
    pub fn charge(&mut self, units: u64, span: Span) -> R<()> {
        self.steps += units;
        if self.steps > self.limits.max_steps {
            return Err(err(
                span,
                format!(
                    "template evaluation exceeds {} steps",
                    self.limits.max_steps
                ),
            ));
        }
        Ok(())
    }

    /// Refuses strings past the output cap, so `#set($s = "$s$s")` cannot exhaust memory.
    pub fn check_len(&self, len: usize, span: Span) -> R<()> {
        if len > self.limits.max_output_bytes {
            return Err(err(
                span,
                format!("string longer than {} bytes", self.limits.max_output_bytes),
            ));
        }
        Ok(())
    }

    pub fn enter(&mut self, span: Span) -> R<()> {
        self.tick(span)?;
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            self.depth -= 1;
            return Err(err(span, "macro or #define recursion too deep"));
        }
        Ok(())
    }

    fn foreach(
        &mut self,
        var: Slot,
        iterable: &'a Expr,
        body: &'a [Node],
        span: Span,
        out: &mut String,
    ) -> R<Flow> {
        let mut coll = self.expr(iterable)?;
        if matches!(coll, Value::Stage | Value::Context) {
            coll = self.materialize(&coll);
        }
        let items = match coll {
            // A list nobody else holds (`$m.keySet()`) is iterated without copying.
            Value::List(rc) => match Rc::try_unwrap(rc) {
                Ok(cell) => cell.into_inner().items,
                Err(rc) => rc.borrow().items.clone(),
            },
            other => crate::methods::iterate(&other),
        };
        if items.is_empty() {
            return Ok(Flow::Normal);
        }
        let saved = [
            self.vars[var as usize].clone(),
            self.vars[SLOT_FOREACH as usize].clone(),
            self.vars[SLOT_VELOCITY_COUNT as usize].clone(),
            self.vars[SLOT_VELOCITY_HAS_NEXT as usize].clone(),
        ];
        let info = Rc::new(LoopInfo {
            index: std::cell::Cell::new(0),
            has_next: std::cell::Cell::new(false),
            parent: saved[1].clone(),
        });
        // Velocity's `directive.foreach.maxloops`: AWS stops a #foreach after 1000 iterations.
        let n = items.len().min(self.limits.max_foreach_iterations);
        let mut flow = Flow::Normal;
        for (i, item) in items.into_iter().take(n).enumerate() {
            self.tick(span)?;
            info.index.set(i);
            info.has_next.set(i + 1 < n);
            self.vars[var as usize] = item;
            self.vars[SLOT_FOREACH as usize] = Value::Loop(info.clone());
            self.vars[SLOT_VELOCITY_COUNT as usize] = Value::Int(i as i32 + 1);
            self.vars[SLOT_VELOCITY_HAS_NEXT as usize] = Value::Bool(i + 1 < n);
            match self.render(body, out)? {
                Flow::Normal => {}
                Flow::Break => break,
                Flow::Stop => {
                    flow = Flow::Stop;
                    break;
                }
            }
            self.check_size(out, span)?;
        }
        let [v, f, c, h] = saved;
        self.vars[var as usize] = v;
        self.vars[SLOT_FOREACH as usize] = f;
        self.vars[SLOT_VELOCITY_COUNT as usize] = c;
        self.vars[SLOT_VELOCITY_HAS_NEXT as usize] = h;
        Ok(flow)
    }

    fn call(&mut self, index: usize, args: &'a [Expr], span: Span, out: &mut String) -> R<Flow> {
        let Some(m) = self.t.macros.get(index) else {
            return Ok(Flow::Normal);
        };
        // Missing arguments are null; extra ones are ignored (Velocity 1.7 logs and proceeds).
        let mut vals = Vec::with_capacity(m.params.len());
        for i in 0..m.params.len() {
            vals.push(match args.get(i) {
                Some(a) => self.expr(a)?,
                None => Value::Null,
            });
        }
        self.enter(span)?;
        let saved: Vec<Value<'a>> = m
            .params
            .iter()
            .map(|p| self.vars[*p as usize].clone())
            .collect();
        for (p, v) in m.params.iter().zip(vals) {
            self.vars[*p as usize] = v;
        }
        let r = self.render(&m.body, out);
        for (p, v) in m.params.iter().zip(saved) {
            self.vars[*p as usize] = v;
        }
        self.depth -= 1;
        // #break inside a macro ends the macro only.
        Ok(match r? {
            Flow::Stop => Flow::Stop,
            _ => Flow::Normal,
        })
    }

    /// `#set`: a null value leaves the target unchanged (Velocity 1.7).
    fn set(&mut self, target: &'a Ref, v: Value<'a>, span: Span) -> R<()> {
        if v.is_null() {
            return Ok(());
        }
        let Some((last, prefix)) = target.parts.split_last() else {
            self.vars[target.root as usize] = v;
            return Ok(());
        };
        let obj = self.walk(target.root, prefix)?;
        self.note_insert(&obj, &v);
        if let Value::Context = obj {
            // `$context` is the caller's (borrowed) JSON; keys a template sets live on top.
            let key = match last {
                Part::Prop(name, _) => Value::Borrowed(name),
                Part::Index(e, _) => self.expr(e)?,
                Part::Method(..) => return Err(err(span, "cannot #set a method call")),
            };
            let overlay = self
                .context_sets
                .get_or_insert_with(|| Value::map(Vec::new()));
            if let Value::Map(m) = overlay {
                m.borrow_mut().put(key, v);
            }
            return Ok(());
        }
        match last {
            Part::Prop(name, _) => crate::methods::set_prop(&obj, name, v),
            Part::Index(e, sp) => {
                let k = self.expr(e)?;
                crate::methods::set_index(&obj, &k, v, *sp)?;
            }
            Part::Method(..) => return Err(err(span, "cannot #set a method call")),
        }
        Ok(())
    }

    pub fn reference(&mut self, r: &'a Ref) -> R<Value<'a>> {
        self.walk(r.root, &r.parts)
    }

    fn walk(&mut self, root: Slot, parts: &'a [Part]) -> R<Value<'a>> {
        let mut v = self.vars[root as usize].clone();
        for p in parts {
            if v.is_null() {
                return Ok(Value::Null);
            }
            v = self.apply(&v, p)?;
        }
        Ok(v)
    }

    /// One `.prop`, `.method(args)` or `[index]` step.
    fn apply(&mut self, v: &Value<'a>, p: &'a Part) -> R<Value<'a>> {
        match p {
            Part::Prop(name, sp) => self.prop(v, name, *sp),
            Part::Method(name, args, sp) => {
                // Most calls take one or two arguments: keep them off the heap.
                let mut vals: smallvec::SmallVec<[Value<'a>; 2]> = smallvec::SmallVec::new();
                for a in args {
                    vals.push(self.expr(a)?);
                }
                self.method(v, name, &vals, *sp)
            }
            Part::Index(e, sp) => {
                let k = self.expr(e)?;
                self.index(v, &k, *sp)
            }
        }
    }

    /// Renders a reference. The last step is applied here so results that are only printed
    /// (`$util.escapeJavaScript(...)`, `$input.json(...)`) go straight into the output.
    fn render_ref(&mut self, r: &'a Ref, out: &mut String) -> R<()> {
        let Some((last, prefix)) = r.parts.split_last() else {
            let v = self.vars[r.root as usize].clone();
            return self.write_value(&v, out, r.span);
        };
        let recv = self.walk(r.root, prefix)?;
        if recv.is_null() {
            return Ok(());
        }
        if let Part::Method(name, args, _) = last {
            match (&recv, &**name, args.len()) {
                (Value::Util, "escapeJavaScript", 1) => {
                    let a = self.expr(&args[0])?;
                    match a.as_str() {
                        Some(s) => crate::aws::escape_javascript_into(s, out),
                        None if a.is_null() => {}
                        None => crate::aws::escape_javascript_into(&a.to_java_string(), out),
                    }
                    return Ok(());
                }
                (Value::Input, "json", 1) => {
                    let a = self.expr(&args[0])?;
                    if let Some(p) = a.as_str() {
                        self.json_into(p, out);
                    }
                    return Ok(());
                }
                _ => {}
            }
        }
        let v = self.apply(&recv, last)?;
        self.write_value(&v, out, r.span)
    }

    /// Velocity's truth test: references are true unless null or `false`; boolean operators
    /// compute; every other expression (literals, arithmetic) is false.
    pub fn truth(&mut self, e: &'a Expr) -> R<bool> {
        self.nest(expr_span(e, self.last_set))?;
        let r = self.truth_inner(e);
        self.nesting -= 1;
        r
    }

    fn truth_inner(&mut self, e: &'a Expr) -> R<bool> {
        Ok(match e {
            Expr::Ref(r) => match self.reference(r)? {
                Value::Null => false,
                Value::Bool(b) => b,
                _ => true,
            },
            Expr::Bool(b) => *b,
            Expr::Not(inner) => !self.truth(inner)?,
            Expr::Binary(BinOp::And, l, r, _) => self.truth(l)? && self.truth(r)?,
            Expr::Binary(BinOp::Or, l, r, _) => self.truth(l)? || self.truth(r)?,
            Expr::Binary(op, l, r, _) if is_comparison(*op) => {
                let a = self.expr(l)?;
                let b = self.expr(r)?;
                crate::ops::compare(*op, &a, &b)
            }
            _ => false,
        })
    }

    pub fn expr(&mut self, e: &'a Expr) -> R<Value<'a>> {
        self.nest(expr_span(e, self.last_set))?;
        let r = self.expr_inner(e);
        self.nesting -= 1;
        r
    }

    fn expr_inner(&mut self, e: &'a Expr) -> R<Value<'a>> {
        Ok(match e {
            Expr::Null => Value::Null,
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Int(i) => Value::integral(i128::from(*i), 0),
            Expr::Float(f) => Value::Double(*f),
            // Literals borrow from the template: no allocation per render.
            Expr::Str(s) => Value::Borrowed(s),
            Expr::Interp(nodes) => {
                let mut s = String::new();
                // A #stop inside a string literal ends that string only.
                self.render(nodes, &mut s)?;
                self.charge(s.len() as u64 / 16, self.here)?;
                Value::string(s)
            }
            Expr::Ref(r) => self.reference(r)?,
            Expr::List(items) => {
                self.charge(items.len() as u64, self.here)?;
                let mut v = Vec::with_capacity(items.len());
                for i in items {
                    v.push(self.expr(i)?);
                }
                Value::list(ListKind::Java, v)
            }
            Expr::Map(entries) => {
                self.charge(entries.len() as u64, self.here)?;
                let mut v = Vec::with_capacity(entries.len());
                for (k, val) in entries {
                    let k = self.expr(k)?;
                    let val = self.expr(val)?;
                    v.push((k, val));
                }
                let m = Value::map(Vec::new());
                if let Value::Map(mm) = &m {
                    let mut mm = mm.borrow_mut();
                    for (k, val) in v {
                        mm.put(k, val);
                    }
                }
                m
            }
            Expr::Range(a, b, span) => {
                let a = self.expr(a)?;
                let b = self.expr(b)?;
                let r = crate::ops::range(&a, &b, *span, self.limits.max_range)?;
                self.charge(size_units(&r), *span)?;
                r
            }
            Expr::Not(_) => Value::Bool(self.truth(e)?),
            Expr::Binary(op, l, r, span) => match op {
                BinOp::And | BinOp::Or => Value::Bool(self.truth(e)?),
                op if is_comparison(*op) => Value::Bool(self.truth(e)?),
                op => {
                    let a = self.expr(l)?;
                    let b = self.expr(r)?;
                    if *op == BinOp::Add && (a.as_str().is_some() || b.as_str().is_some()) {
                        // String concatenation; a null side contributes its source text.
                        if a.is_null() || b.is_null() || !(a.is_number() && b.is_number()) {
                            let v = concat(&a, l, &b, r);
                            self.check_len(v.as_str().map_or(0, str::len), *span)?;
                            self.charge(size_units(&v), *span)?;
                            return Ok(v);
                        }
                    }
                    crate::ops::arith(*op, &a, &b, *span)?
                }
            },
        })
    }
}

/// What a value costs against `Limits::max_steps`.
pub(crate) fn size_units(v: &Value<'_>) -> u64 {
    1 + match v {
        Value::Str(s) => s.len() as u64 / 16,
        Value::List(l) => l.borrow().items.len() as u64,
        Value::Map(m) => m.borrow().entries.len() as u64,
        _ => 0,
    }
}

/// `size_units` of a value just allocated (held only by the caller); shared values (an
/// element fetched with `get`) cost nothing more.
pub(crate) fn fresh_units(v: &Value<'_>) -> u64 {
    let fresh = match v {
        Value::Str(s) => Rc::strong_count(s) == 1,
        Value::List(l) => Rc::strong_count(l) == 1,
        Value::Map(m) => Rc::strong_count(m) == 1,
        _ => false,
    };
    if fresh { size_units(v) - 1 } else { 0 }
}

fn is_comparison(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
    )
}

fn concat<'a>(a: &Value<'a>, l: &Expr, b: &Value<'a>, r: &Expr) -> Value<'a> {
    let mut s = String::new();
    for (v, e) in [(a, l), (b, r)] {
        match (v, e) {
            (Value::Null, Expr::Ref(rf)) => s.push_str(&rf.raw),
            _ => v.write_java(&mut s),
        }
    }
    Value::string(s)
}
