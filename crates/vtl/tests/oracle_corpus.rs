//! Differential test: every case of the recorded oracle corpus (tests/vtl-oracle/corpus, outputs
//! of Apache Velocity 1.7 + Jayway JsonPath with API Gateway shims) rendered by this engine
//! must produce the recorded output, error kind and overrides. Java is not needed: the corpus
//! carries the recorded results (`tests/vtl-oracle/record.sh` re-records them).

use std::collections::BTreeMap;
use std::path::PathBuf;

use portico_vtl::{Params, RenderInput, Template};
use serde_json::Value;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vtl-oracle/corpus")
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    let p = p.as_array()?;
                    Some((
                        p.first()?.as_str()?.to_string(),
                        p.get(1)?.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn params(v: &Value) -> Params {
    Params {
        path: pairs(&v["path"]),
        querystring: pairs(&v["querystring"]),
        header: pairs(&v["header"]),
    }
}

fn load(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs one case; Err describes the mismatch.
fn check(case: &Value, defaults: &Value) -> Result<(), String> {
    let template = case["template"].as_str().unwrap_or_default();
    let body = case["body"].as_str().unwrap_or_default();
    let p = params(case.get("params").unwrap_or(&defaults["params"]));
    let context = case.get("context").unwrap_or(&defaults["context"]).clone();
    let stage: BTreeMap<String, String> = case
        .get("stage")
        .unwrap_or(&defaults["stage"])
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let oracle = &case["oracle"];
    let expected_output = case
        .get("aws")
        .or_else(|| oracle.get("output"))
        .and_then(Value::as_str);
    // Both engines refusing the template counts as agreement: Velocity defers some checks
    // (directive arguments, #include) to render time that this engine makes at parse time.
    let oracle_refuses = oracle.get("error").is_some() && case.get("aws").is_none();
    let tpl = match Template::parse(template) {
        Ok(t) => t,
        Err(e) if oracle_refuses => {
            if e.line == 0 || e.column == 0 {
                return Err(format!("parse error without a position: {e}"));
            }
            return Ok(());
        }
        Err(e) => return Err(format!("parse error {e}; oracle {oracle}")),
    };
    let input = RenderInput {
        body,
        params: &p,
        context: &context,
        stage_variables: &stage,
    };
    let out = match tpl.render(&input) {
        Ok(o) => o,
        Err(e) if oracle_refuses => {
            if e.line == 0 || e.column == 0 {
                return Err(format!("render error without a position: {e}"));
            }
            return Ok(());
        }
        Err(e) => return Err(format!("render error {e}; oracle {oracle}")),
    };
    let Some(expected) = expected_output else {
        return Err(format!("rendered {:?}; oracle {oracle}", out.body));
    };
    if out.body != expected {
        return Err(format!("\n   got {:?}\n  want {:?}", out.body, expected));
    }
    let want_status = oracle
        .get("status")
        .and_then(Value::as_str)
        .map(str::to_string);
    let got_status = out.overrides.response_status.map(|s| s.to_string());
    if want_status != got_status {
        return Err(format!("status {got_status:?}, want {want_status:?}"));
    }
    let o = &out.overrides;
    for (key, got) in [
        ("response_header", &o.response_header),
        ("request_header", &o.request_header),
        ("request_querystring", &o.request_querystring),
        ("request_path", &o.request_path),
    ] {
        let want = oracle.get(key).map(pairs).unwrap_or_default();
        if &want != got {
            return Err(format!("{key} {got:?}, want {want:?}"));
        }
    }
    Ok(())
}

#[test]
fn corpus_matches_oracle() {
    let dir = corpus_dir();
    let defaults = load(&dir.join("_defaults.json"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('_'))
        })
        .collect();
    files.sort();
    let (mut total, mut failures, mut gaps, mut aws) = (0, Vec::new(), 0, 0);
    for f in &files {
        let cases = load(f);
        for case in cases.as_array().into_iter().flatten() {
            total += 1;
            if case.get("known_gap").is_some() {
                gaps += 1;
                continue;
            }
            if case.get("aws").is_some() || case["oracle"].get("stock_velocity_output").is_some() {
                aws += 1;
            }
            if let Err(e) = check(case, &defaults) {
                let name = case["name"].as_str().unwrap_or_default();
                let group = f
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                failures.push(format!(
                    "{group}/{name}: template {:?}: {e}",
                    case["template"]
                ));
            }
        }
    }
    eprintln!(
        "oracle corpus: {} of {total} cases pass ({aws} where AWS deliberately differs from stock Velocity, {gaps} known gaps not compared)",
        total - gaps - failures.len()
    );
    assert!(total >= 300, "corpus has only {total} cases");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
