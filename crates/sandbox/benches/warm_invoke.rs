//! Warm-invoke cost of one environment, per runtime and channel: the hand-off the Lambda
//! service pays on every invocation once an environment is warm.
//!
//! `cargo bench -p portico-sandbox --bench warm_invoke`

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use portico_sandbox::{Environment, FunctionSpec, InvokeInput, InvokeOutcome, Launcher, Transport};

const NODE: &str = "exports.handler = async (event) => ({ statusCode: 200, headers: { 'Content-Type': '*/*' }, body: 'Hello, ' + event.greeter + '!' });\n";
const PYTHON: &str = "def lambda_handler(event, context):\n    return {'statusCode': 200, 'headers': {'Content-Type': '*/*'}, 'body': 'Hello, ' + event['greeter'] + '!'}\n";

fn warm_invoke(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let code = dir.path().join("code");
    std::fs::create_dir_all(&code).expect("code dir");
    std::fs::write(code.join("index.js"), NODE).expect("node code");
    std::fs::write(code.join("lambda_function.py"), PYTHON).expect("python code");
    let mut group = c.benchmark_group("warm_invoke");
    for (transport, tname) in [
        (Transport::Framed, "framed"),
        (Transport::RuntimeApi, "http"),
    ] {
        let launcher = Launcher::new(dir.path().join(format!("runtime-{tname}")))
            .expect("launcher")
            .with_transport(transport);
        for (runtime, handler) in [
            ("nodejs20.x", "index.handler"),
            ("python3.11", "lambda_function.lambda_handler"),
        ] {
            let spec = Arc::new(FunctionSpec {
                function_name: "bench".to_owned(),
                function_arn: "arn:aws:lambda:us-east-1:123456789012:function:bench".to_owned(),
                version: "$LATEST".to_owned(),
                runtime: runtime.to_owned(),
                handler: handler.to_owned(),
                code_dir: code.clone(),
                environment: BTreeMap::new(),
                memory_mb: 128,
                timeout: Duration::from_secs(3),
                region: "us-east-1".to_owned(),
                account_id: "123456789012".to_owned(),
            });
            let mut env = rt
                .block_on(Environment::start(spec, &launcher))
                .expect("environment");
            let mut n = 0u64;
            group.bench_function(format!("{runtime}/{tname}"), |b| {
                b.iter(|| {
                    n += 1;
                    let input = InvokeInput::new(format!("req-{n}"), r#"{"greeter":"me"}"#);
                    let outcome = rt.block_on(env.invoke(input));
                    assert!(matches!(outcome, InvokeOutcome::Response(_)), "{outcome:?}");
                });
            });
            rt.block_on(env.shutdown());
        }
    }
    group.finish();
}

criterion_group!(benches, warm_invoke);
criterion_main!(benches);
