//! Focused unit tests; the oracle corpus (tests/oracle_corpus.rs) covers the language broadly.

use std::collections::BTreeMap;

use crate::{Params, RenderInput, Template};

fn render(t: &str, body: &str, params: &Params) -> String {
    let tpl = Template::parse(t).unwrap_or_else(|e| panic!("parse {t:?}: {e}"));
    let ctx = serde_json::json!({"httpMethod": "POST", "identity": {"sourceIp": "1.2.3.4", "user": null}});
    let stage = BTreeMap::from([("env".to_string(), "prod".to_string())]);
    let input = RenderInput {
        body,
        params,
        context: &ctx,
        stage_variables: &stage,
    };
    tpl.render(&input)
        .unwrap_or_else(|e| panic!("render {t:?}: {e}"))
        .body
}

fn q(pairs: &[(&str, &str)]) -> Params {
    Params {
        querystring: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Params::default()
    }
}

#[test]
fn seed_template_renders_greeter() {
    let t = r#"{"greeter":"$input.params('greeter')"}"#;
    assert_eq!(
        render(t, "", &q(&[("greeter", "me")])),
        r#"{"greeter":"me"}"#
    );
    assert_eq!(render(t, "", &q(&[])), r#"{"greeter":""}"#);
}

#[test]
fn context_and_stage_variables() {
    let p = Params::default();
    assert_eq!(
        render(
            "$context.httpMethod $context.identity.sourceIp [$context.identity.user] $stageVariables.env ${stageVariables['env']}",
            "",
            &p
        ),
        "POST 1.2.3.4 [] prod prod"
    );
}

#[test]
fn aws_doc_examples() {
    let p = Params {
        path: vec![("id".into(), "abc".into())],
        ..Params::default()
    };
    let t = r#"{"id":"$input.params('id')","count":"$input.path('$.things').size()","things":$input.json('$.things')}"#;
    assert_eq!(
        render(t, r#"{"things":{"1":{},"2":{},"3":{}}}"#, &p),
        r#"{"id":"abc","count":"3","things":{"1":{},"2":{},"3":{}}}"#
    );
    assert_eq!(
        render(
            r#"#foreach($k in ["a","b","c"])$k#if($foreach.hasNext),#end#end"#,
            "",
            &p
        ),
        "a,b,c"
    );
}

#[test]
fn overrides_are_collected() {
    let tpl = Template::parse("#set($context.responseOverride.status = 418)#set($context.requestOverride.header.X-A = 'b')ok").unwrap();
    let ctx = serde_json::json!({});
    let stage = BTreeMap::new();
    let p = Params::default();
    let out = tpl
        .render(&RenderInput {
            body: "",
            params: &p,
            context: &ctx,
            stage_variables: &stage,
        })
        .unwrap();
    assert_eq!(out.body, "ok");
    assert_eq!(out.overrides.response_status, Some(418));
    assert_eq!(
        out.overrides.request_header,
        vec![("X-A".to_string(), "b".to_string())]
    );
}

#[test]
fn parse_errors_have_positions() {
    let e = Template::parse("a\n  #if($x").unwrap_err();
    assert_eq!((e.line, e.column), (2, 9));
    let e = Template::parse("ok\n#end").unwrap_err();
    assert_eq!(e.line, 2);
}

#[test]
fn template_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Template>();
    assert_send_sync::<crate::ParseError>();
    assert_send_sync::<crate::RenderError>();
}

#[test]
fn evaluate_shares_variables_and_macros() {
    let p = Params::default();
    assert_eq!(
        render(
            "#macro(m $a)<$a>#end#set($x = 1)#set($src = '#m($x)#set($y = 2)')#evaluate($src)$y",
            "",
            &p
        ),
        "<1>2"
    );
}

#[test]
fn render_errors_carry_positions() {
    let tpl = Template::parse("ok\n  $input.path('$.a').substring(5)").unwrap();
    let ctx = serde_json::json!({});
    let stage = BTreeMap::new();
    let p = Params::default();
    let input = RenderInput {
        body: r#"{"a":"abc"}"#,
        params: &p,
        context: &ctx,
        stage_variables: &stage,
    };
    let e = tpl.render(&input).unwrap_err();
    assert_eq!((e.line, e.column), (2, 22));
    assert_eq!(
        e.to_string(),
        "line 2, column 22: StringIndexOutOfBoundsException in substring"
    );
}
