//! The parsed template: nodes with source positions. Variable names are interned into slots at
//! parse time so rendering indexes a vector instead of hashing names.

/// A 1-based line and column in the template source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub line: u32,
    pub column: u32,
}

/// Index of a variable name in `Template::names`.
pub(crate) type Slot = u32;

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Text(Box<str>),
    /// `$ref`, `$!ref`, `${ref}`, `$!{ref}`.
    Ref(Ref),
    /// A reference preceded by `backslashes` backslashes (`\$a`, `\\$a`...). `raw` is the
    /// reference's source text, printed when the escape is odd.
    EscapedRef {
        backslashes: u32,
        reference: Ref,
        raw: Box<str>,
    },
    Set {
        target: Ref,
        value: Expr,
        span: Span,
    },
    If {
        branches: Vec<(Expr, Vec<Node>)>,
        otherwise: Option<Vec<Node>>,
    },
    Foreach {
        var: Slot,
        iterable: Expr,
        body: Vec<Node>,
        span: Span,
    },
    Break,
    Stop,
    Define {
        var: Slot,
        body: Vec<Node>,
    },
    /// A call of the macro at `Template::macros[index]`.
    Call {
        index: usize,
        args: Vec<Expr>,
        span: Span,
    },
    /// `#evaluate(...)`: a literal argument is parsed with the template; a computed one is
    /// parsed when rendered.
    Evaluate {
        source: Evaluated,
        span: Span,
    },
}

#[derive(Debug, Clone)]
pub(crate) enum Evaluated {
    Parsed(Vec<Node>),
    Computed(Expr),
}

#[derive(Debug, Clone)]
pub(crate) struct Ref {
    pub root: Slot,
    pub parts: Vec<Part>,
    pub span: Span,
    /// The reference as written (`$a.b()`), used where Velocity prints a null reference's
    /// source text (string concatenation, escaped references).
    pub raw: Box<str>,
}

#[derive(Debug, Clone)]
pub(crate) enum Part {
    Prop(Box<str>, Span),
    Method(Box<str>, Vec<Expr>, Span),
    Index(Expr, Span),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Single-quoted, or double-quoted without `$`/`#`.
    Str(Box<str>),
    /// Double-quoted with references or directives: a template rendered to a string.
    Interp(Vec<Node>),
    Ref(Ref),
    List(Vec<Expr>),
    Map(Vec<(Expr, Expr)>),
    Range(Box<Expr>, Box<Expr>, Span),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>, Span),
}

/// A `#macro` definition.
#[derive(Debug, Clone)]
pub(crate) struct Macro {
    pub name: Box<str>,
    pub params: Vec<Slot>,
    pub body: Vec<Node>,
}
