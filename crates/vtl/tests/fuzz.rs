//! Property test over parser and evaluator: for arbitrary templates assembled from VTL
//! fragments (and arbitrary text), parsing and rendering never panic, finish quickly, and
//! every error carries a 1-based position inside the template.
//!
//! `PROPTEST_CASES=200000 cargo test -p portico-vtl --release --test fuzz` runs it longer.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use portico_vtl::{Limits, Params, RenderInput, Template};
use proptest::prelude::*;

const FRAGMENTS: &[&str] = &[
    "$a",
    "$b",
    "${a}",
    "$!a",
    "$!{b}",
    "$a.b",
    "$a.size()",
    "$a.get(0)",
    "$a[0]",
    "$a['k']",
    "$a.substring(1, 2)",
    "$input.json('$')",
    "$input.path('$.x')",
    "$input.path('$..y[*]')",
    "$input.params('p')",
    "$input.params()",
    "$input.body",
    "$util.escapeJavaScript($a)",
    "$util.parseJson($input.body)",
    "$util.urlDecode('%')",
    "$util.base64Decode($a)",
    "$context.identity.sourceIp",
    "$context.responseOverride.status",
    "$stageVariables.s",
    "$foreach.index",
    "$foreach.hasNext",
    "$velocityCount",
    "#set($a = ",
    "#set($b = $a)",
    "#set($a = [1..3])",
    "#set($a = {'k': $b})",
    "#set($context.responseOverride.status = 404)",
    "#set($a = \"x$a\")",
    "#if(",
    "#if($a)",
    "#elseif($b)",
    "#else",
    "#end",
    "#foreach($i in $a)",
    "#foreach($i in [1..1000])",
    "#break",
    "#stop",
    "#define($d)",
    "$d",
    "#macro(m $x)",
    "#m($a)",
    "#m",
    "#evaluate('$a')",
    "#evaluate($a)",
    "#include('x')",
    "##",
    "#*",
    "*#",
    "#[[",
    "]]#",
    "\\",
    "\\$a",
    "\\#if",
    "$",
    "#",
    "!",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "'",
    "\"",
    ",",
    ":",
    "..",
    ".",
    " ",
    "\n",
    "\r\n",
    "\t",
    "=",
    "==",
    "!=",
    "<",
    ">=",
    "&&",
    "||",
    " and ",
    " or ",
    "not ",
    "+",
    "-",
    "*",
    "/",
    "%",
    "1",
    "-7",
    "0",
    "2147483647",
    "9223372036854775807",
    "1.5",
    "1e9",
    "true",
    "false",
    "null",
    "'s'",
    "\"$a\"",
    "é",
    "中",
    "\u{1F600}",
    "\u{0}",
    "x",
    "in",
    ".add($a)",
    ".put('k', $a)",
    ".replaceAll('(', 'x')",
    ".split('')",
    ".matches('a*')",
    ".length()",
    ".keySet()",
    ".entrySet()",
];

const BODIES: &[&str] = &[
    "",
    "{}",
    "[]",
    "{\"x\":1,\"y\":[{\"z\":2}]}",
    "not json",
    "[1,[2,[3]]]",
    "\"str\"",
    "{\"x\":",
    "1e400",
];

fn template() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        4 => proptest::sample::select(FRAGMENTS).prop_map(str::to_string),
        1 => "[ -~]{0,6}",
        1 => any::<String>().prop_map(|s| s.chars().take(4).collect()),
    ];
    proptest::collection::vec(fragment, 0..40).prop_map(|v| v.concat())
}

fn check_position(line: u32, column: u32, src: &str) {
    let lines = src.split('\n').count() as u32;
    assert!(
        line >= 1 && column >= 1,
        "position {line}:{column} for {src:?}"
    );
    assert!(
        line <= lines.max(1),
        "line {line} beyond {lines} lines for {src:?}"
    );
}

fn run(src: &str, body: &str) {
    let started = Instant::now();
    let params = Params {
        path: vec![("p".into(), "v".into())],
        querystring: vec![("q".into(), "w".into())],
        header: vec![("H".into(), "x".into())],
    };
    let context = serde_json::json!({"identity": {"sourceIp": "1.2.3.4"}, "stage": "dev"});
    let stage = BTreeMap::from([("s".to_string(), "t".to_string())]);
    match Template::parse(src) {
        Err(e) => check_position(e.line, e.column, src),
        Ok(t) => {
            let input = RenderInput {
                body,
                params: &params,
                context: &context,
                stage_variables: &stage,
            };
            // Small caps keep each case fast while still exercising every limit.
            let limits = Limits {
                max_output_bytes: 1 << 20,
                max_steps: 20_000,
                ..Limits::default()
            };
            if let Err(e) = t.render_with(&input, limits) {
                check_position(e.line, e.column, src);
            }
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "slow case {src:?}"
    );
}

proptest! {
    // PROPTEST_CASES raises the count for long runs; 3000 keeps `cargo test` quick.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(3000),
        ..ProptestConfig::default()
    })]

    #[test]
    fn never_panics_or_hangs(src in template(), body in proptest::sample::select(BODIES)) {
        run(&src, body);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for src in [
        "#if(true)".repeat(500),
        format!("#set($a = {}1{})", "(".repeat(500), ")".repeat(500)),
        format!("#set($a = {}1{})", "[".repeat(500), "]".repeat(500)),
        format!("#set($a = {})", "!".repeat(5000)),
        format!("#set($a = \"{}\")", "#if(true)".repeat(300)),
    ] {
        run(&src, "");
    }
    run(
        "$input.json('$')",
        &format!("{}1{}", "[".repeat(5000), "]".repeat(5000)),
    );
}

#[test]
fn runaway_templates_stop_at_limits() {
    let params = Params::default();
    let context = serde_json::json!({});
    let stage = BTreeMap::new();
    let input = RenderInput {
        body: "",
        params: &params,
        context: &context,
        stage_variables: &stage,
    };
    let cases = [
        (
            "#foreach($a in [1..1000])#foreach($b in [1..1000])#foreach($c in [1..1000])x#end#end#end",
            1,
            1,
        ),
        (
            "#set($s = 'xxxxxxxxxxxxxxxx')\n#foreach($i in [1..40])#set($s = \"$s$s\")#end",
            2,
            1,
        ),
        ("#macro(r)#r()#end\n#r()", 1, 10),
        ("#define($d)$d$d#end$d", 1, 19),
        ("#set($r = [1..2000000])", 1, 11),
    ];
    for (src, line, _column) in cases {
        let t = Template::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        let started = Instant::now();
        let e = t.render(&input).expect_err(src);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{src} took {:?}",
            started.elapsed()
        );
        assert_eq!(e.line, line, "{src}: {e}");
        assert!(e.column >= 1, "{src}: {e}");
    }
}

#[test]
fn self_containing_values_do_not_crash() {
    let params = Params::default();
    let context = serde_json::json!({});
    let stage = BTreeMap::new();
    let input = RenderInput {
        body: "[1]",
        params: &params,
        context: &context,
        stage_variables: &stage,
    };
    let render = |src: &str| {
        Template::parse(src)
            .map_err(|e| e.to_string())?
            .render(&input)
            .map(|o| o.body)
            .map_err(|e| e.to_string())
    };
    assert_eq!(
        render("#set($m = {})#set($d = $m.put('k', $m))$m").as_deref(),
        Ok("{k=(this Map)}")
    );
    assert_eq!(
        render("#set($l = [])#set($d = $l.add($l))$l $l.size()").as_deref(),
        Ok("[(this Collection)] 1")
    );
    assert_eq!(
        render("#set($l = [[1]])$l.remove($l) $l.contains($l) $l.equals($l)").as_deref(),
        Ok("false false true")
    );
    let e =
        render("#set($a = [])#set($b = [$a])#set($d = $a.add($b))$a").expect_err("indirect cycle");
    assert_eq!(
        e,
        "line 1, column 50: StackOverflowError: value contains itself"
    );
    // A JSONArray (JSON-printing list) containing itself.
    let e = render("#set($j = $input.path('$'))#set($d = $j.add($j))$j").expect_err("json cycle");
    assert!(e.contains("StackOverflowError"), "{e}");
}

#[test]
fn regressions_found_by_the_property_test() {
    // A macro definition left the whitespace-run marker of its body behind, inside a
    // multi-byte character of the text that followed.
    run("#macro(m $x)A A$!#end]]#\u{109bc}#set($a = ", "");
    run("#macro(m $x)A A$!#end]]#\u{109bc}#set($a = 1)x", "");
}

/// Well-formed templates (balanced directives) so the evaluator, not just the parser, meets
/// arbitrary programs.
fn expr() -> impl Strategy<Value = String> {
    let leaf = proptest::sample::select(vec![
        "$a",
        "$b",
        "$i",
        "1",
        "-3",
        "0",
        "2147483647",
        "2.5",
        "'s'",
        "\"x$a\"",
        "[1..3]",
        "[1, 'a', $b]",
        "{'k': $a, 'n': [1]}",
        "$input.path('$.x')",
        "$input.path('$.y')",
        "$a.size()",
        "true",
        "false",
        "$input.params('p')",
        "$a.get(0)",
        "$b.k",
        "$a[0]",
        "$util.parseJson('[1,{}]')",
        "$context.stage",
    ])
    .prop_map(str::to_string);
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (
                inner.clone(),
                proptest::sample::select(vec![
                    "+", "-", "*", "/", "%", "==", "!=", "<", ">=", "&&", "||"
                ]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            inner.clone().prop_map(|a| format!("!{a}")),
            inner.clone().prop_map(|a| format!("({a})")),
            inner.clone().prop_map(|a| format!("[{a}, {a}]")),
        ]
    })
}

fn program() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        proptest::sample::select(vec![
            "x",
            " ",
            "\n",
            "$a",
            "$!b",
            "${i}",
            "$foreach.index",
            "$velocityCount",
            "#break",
            "#stop",
            "## c\n"
        ])
        .prop_map(str::to_string),
        expr().prop_map(|e| format!("#set($a = {e})")),
        expr().prop_map(|e| format!("#set($b = {e})")),
        expr().prop_map(|e| format!("$a.add({e})")),
        expr().prop_map(|e| format!("#set($b.k = {e})")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 1..6).prop_map(|v| v.concat()),
            (expr(), inner.clone(), inner.clone())
                .prop_map(|(c, t, e)| format!("#if({c})\n{t}#else {e}#end\n")),
            (expr(), inner.clone()).prop_map(|(c, b)| format!("#foreach($i in {c})\n{b}#end")),
            inner.clone().prop_map(|b| format!("#define($a){b}#end$a")),
            inner
                .clone()
                .prop_map(|b| format!("#macro(m $i){b}#end#m($a)#m($i)")),
            inner
                .clone()
                .prop_map(|b| format!("#set($s = '{}')#evaluate($s)", b.replace('\'', "''"))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(2000),
        ..ProptestConfig::default()
    })]

    #[test]
    fn well_formed_programs_never_panic_or_hang(src in program()) {
        run(&src, "{\"x\":[1,2,{\"y\":\"z\"}],\"y\":null}");
    }
}

/// Worst-case nesting (every level of #evaluate recursion holding the deepest template the
/// parser accepts) must fit in a 2 MiB thread stack, tokio's default for workers, in an
/// optimised build. Unoptimised frames are several times larger, so debug runs get 16 MiB.
#[test]
fn deepest_nesting_fits_a_worker_stack() {
    let depth = 120;
    let inner = format!(
        "{}#evaluate($s){}",
        "#if(true)".repeat(depth),
        "#end".repeat(depth)
    );
    let src = format!("#set($s = '{inner}')#evaluate($s)");
    let handle = std::thread::Builder::new()
        .stack_size(if cfg!(debug_assertions) { 16 } else { 2 } * 1024 * 1024)
        .spawn(move || {
            let params = Params::default();
            let context = serde_json::json!({});
            let stage = BTreeMap::new();
            let input = RenderInput {
                body: "",
                params: &params,
                context: &context,
                stage_variables: &stage,
            };
            let t = Template::parse(&src).map_err(|e| e.to_string())?;
            t.render(&input).map(|o| o.body).map_err(|e| e.to_string())
        })
        .expect("spawn");
    let result = handle.join().expect("no stack overflow");
    assert!(
        result.is_err_and(|e| e.contains("nested too deeply") || e.contains("recursion too deep"))
    );
}

#[test]
fn self_sharing_and_doubling_values_stay_bounded() {
    let params = Params::default();
    let context = serde_json::json!({});
    let stage = BTreeMap::new();
    let input = RenderInput {
        body: "",
        params: &params,
        context: &context,
        stage_variables: &stage,
    };
    for src in [
        // Printed form doubles per level: 2^60 elements.
        "#set($a = [1])#foreach($i in [1..60])#set($a = [$a, $a])#end$a",
        "#set($a = [1])#foreach($i in [1..60])#set($a = [$a, $a])#end#if($a == $a.get(0))x#end$a.toString().length()",
        // The list doubles per call.
        "#set($a = [1])#foreach($i in [1..60])#set($d = $a.addAll($a))#end$a.size()",
        "#set($s = 'x')#foreach($i in [1..60])#set($s = $s.concat($s))#end$s.length()",
        "#set($l = [])#foreach($i in [1..1000])#set($d = $l.add([1..100000]))#end$l.size()",
    ] {
        let t = Template::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        let started = Instant::now();
        let r = t.render(&input);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{src} took {:?}",
            started.elapsed()
        );
        let e = r.expect_err(src);
        assert!(e.line >= 1 && e.column >= 1, "{src}: {e}");
    }
}
