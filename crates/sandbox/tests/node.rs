//! Node.js functions on the real `node`, through our bootstrap and the Runtime API.

mod common;

use std::time::{Duration, Instant};

use common::{Fixture, failed, function_error, invoke, response};

const SEED: &str = r#"export const handler = function(event, context, callback) { var res ={ "statusCode": 200, "headers": { "Content-Type": "*/*" } }; if (event.greeter==null) { callback(new Error('Missing the required greeter parameter.')); } else if (event.greeter === "") { res.body = "Hello, World"; callback(null, res); } else { res.body = "Hello, " + event.greeter +"!"; callback(null, res); } };"#;

#[tokio::test]
async fn seed_handler_success_error_and_warm_reuse() {
    let f = Fixture::new();
    f.file("index.mjs", SEED);
    let mut env = f
        .start("nodejs20.x", "index.handler", Duration::from_secs(3))
        .await;
    let pid = env.pid();

    let o = invoke(
        &mut env,
        "11111111-1111-4111-8111-111111111111",
        r#"{"greeter":"me"}"#,
    )
    .await;
    assert_eq!(
        response(&o),
        r#"{"statusCode":200,"headers":{"Content-Type":"*/*"},"body":"Hello, me!"}"#
    );
    let log = env.last_log().text();
    assert!(
        log.starts_with("START RequestId: 11111111-1111-4111-8111-111111111111 Version: $LATEST\n"),
        "{log}"
    );
    assert!(
        log.contains("\nEND RequestId: 11111111-1111-4111-8111-111111111111\n"),
        "{log}"
    );
    assert!(
        log.contains("REPORT RequestId: 11111111-1111-4111-8111-111111111111\tDuration: "),
        "{log}"
    );
    assert!(log.contains("\tMemory Size: 128 MB\t"), "{log}");
    assert!(
        log.contains("\tInit Duration: "),
        "cold start reports init: {log}"
    );

    let o = invoke(&mut env, "r2", r#"{"greeter":""}"#).await;
    assert_eq!(
        response(&o),
        r#"{"statusCode":200,"headers":{"Content-Type":"*/*"},"body":"Hello, World"}"#
    );
    assert!(!env.last_log().text().contains("Init Duration"));

    let o = invoke(&mut env, "r3", "{}").await;
    let e = function_error(&o);
    assert_eq!(e["errorType"], "Error");
    assert_eq!(e["errorMessage"], "Missing the required greeter parameter.");
    let trace = e["trace"].as_array().unwrap();
    assert_eq!(trace[0], "Error: Missing the required greeter parameter.");
    assert!(
        trace[1].as_str().unwrap().starts_with("    at "),
        "{trace:?}"
    );
    let portico_sandbox::InvokeOutcome::FunctionError { payload } = &o else {
        unreachable!()
    };
    assert!(
        payload.starts_with(br#"{"errorType":"Error","errorMessage":"Missing the required greeter parameter.","trace":["Error: Missing the required greeter parameter.","    at "#),
        "{payload:?}"
    );
    assert!(
        env.last_log().text().contains("\tr3\tERROR\tInvoke Error "),
        "{}",
        env.last_log().text()
    );

    // The error did not cost the environment: same process, still answering.
    let o = invoke(&mut env, "r4", r#"{"greeter":"again"}"#).await;
    assert_eq!(
        response(&o),
        r#"{"statusCode":200,"headers":{"Content-Type":"*/*"},"body":"Hello, again!"}"#
    );
    assert_eq!(env.pid(), pid);
    assert!(env.is_alive());
    env.shutdown().await;
}

#[tokio::test]
async fn globals_persist_across_warm_invocations_and_console_is_formatted() {
    let f = Fixture::new();
    f.file("index.js", "let n = 0;\nconsole.log('init');\nexports.handler = async (event) => { n += 1; console.log('count', n); return { n }; };\n");
    let mut env = f
        .start("nodejs20.x", "index.handler", Duration::from_secs(3))
        .await;
    for i in 1..=3 {
        let o = invoke(&mut env, &format!("req-{i}"), "{}").await;
        assert_eq!(response(&o), format!(r#"{{"n":{i}}}"#));
        let lines: Vec<&str> = env.last_log().lines().collect();
        let count = lines
            .iter()
            .find(|l| l.ends_with(&format!("\tINFO\tcount {i}")))
            .unwrap();
        let parts: Vec<&str> = count.split('\t').collect();
        assert_eq!(parts[1], format!("req-{i}"));
        assert!(parts[0].ends_with('Z') && parts[0].len() == 24, "{count}");
    }
    env.shutdown().await;
}

#[tokio::test]
async fn handler_forms_esm_nested_path_promise_and_context() {
    let f = Fixture::new();
    f.file("package.json", r#"{"type":"module"}"#);
    f.file(
        "src/app.js",
        "export const handler = (event, context) => Promise.resolve({\n\
         fn: context.functionName, ver: context.functionVersion, arn: context.invokedFunctionArn,\n\
         mem: context.memoryLimitInMB, id: context.awsRequestId, group: context.logGroupName,\n\
         stream: /^\\d{4}\\/\\d{2}\\/\\d{2}\\/\\[\\$LATEST\\][0-9a-f]{32}$/.test(context.logStreamName),\n\
         remaining: context.getRemainingTimeInMillis() > 1000 && context.getRemainingTimeInMillis() <= 3000,\n\
         wait: context.callbackWaitsForEmptyEventLoop, cc: context.clientContext,\n\
         env: [process.env.AWS_REGION, process.env.AWS_DEFAULT_REGION, process.env.AWS_EXECUTION_ENV, process.env.TZ,\n\
               process.env.LANG, process.env.GREETING, process.env.LAMBDA_TASK_ROOT === process.cwd(),\n\
               process.env.AWS_LAMBDA_RUNTIME_API.startsWith('127.0.0.1:'), process.env._X_AMZN_TRACE_ID],\n\
         event });\n",
    );
    let mut env = f
        .start("nodejs20.x", "src/app.handler", Duration::from_secs(3))
        .await;
    let mut input = portico_sandbox::InvokeInput::new("ctx-1", r#"{"k":[1,2]}"#);
    input.client_context = Some(r#"{"custom":{"a":"b"}}"#.to_owned());
    input.trace_id = Some(
        "Root=1-65d3f0a0-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0".to_owned(),
    );
    input.invoked_function_arn =
        Some("arn:aws:lambda:us-west-2:123456789012:function:HelloWorld:live".to_owned());
    let o = env.invoke(input).await;
    assert_eq!(
        response(&o),
        r#"{"fn":"HelloWorld","ver":"$LATEST","arn":"arn:aws:lambda:us-west-2:123456789012:function:HelloWorld:live","mem":"128","id":"ctx-1","group":"/aws/lambda/HelloWorld","stream":true,"remaining":true,"wait":true,"cc":{"custom":{"a":"b"}},"env":["us-west-2","us-west-2","AWS_Lambda_nodejs20.x",":UTC","en_US.UTF-8","hi",true,true,"Root=1-65d3f0a0-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0"],"event":{"k":[1,2]}}"#
    );
    env.shutdown().await;
}

#[tokio::test]
async fn callback_waits_for_empty_event_loop_unless_told_not_to() {
    let f = Fixture::new();
    f.file(
        "index.cjs",
        "exports.handler = (event, context, callback) => {\n\
           context.callbackWaitsForEmptyEventLoop = event.wait;\n\
           setTimeout(() => {}, 400);\n\
           callback(null, 'done');\n\
         };\n\
         exports.silent = (event, context, callback) => {};\n",
    );
    let mut env = f
        .start("nodejs20.x", "index.handler", Duration::from_secs(3))
        .await;
    invoke(&mut env, "warmup", r#"{"wait":false}"#).await;
    // Let the warm-up's timer expire so it does not hold the next event loop.
    tokio::time::sleep(Duration::from_millis(450)).await;

    let t = Instant::now();
    assert_eq!(
        response(&invoke(&mut env, "w1", r#"{"wait":true}"#).await),
        r#""done""#
    );
    assert!(
        t.elapsed() >= Duration::from_millis(380),
        "{:?}",
        t.elapsed()
    );
    let t = Instant::now();
    assert_eq!(
        response(&invoke(&mut env, "w2", r#"{"wait":false}"#).await),
        r#""done""#
    );
    assert!(
        t.elapsed() < Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    env.shutdown().await;

    // A handler that never calls back answers null once its event loop drains.
    let mut env = f
        .start("nodejs20.x", "index.silent", Duration::from_secs(3))
        .await;
    assert_eq!(response(&invoke(&mut env, "s1", "{}").await), "null");
    env.shutdown().await;
}

#[tokio::test]
async fn timeout_kills_the_process_group_with_the_aws_message() {
    let f = Fixture::new();
    f.file("index.js", "exports.handler = async () => { console.log('waiting'); await new Promise((r) => setTimeout(r, 60000)); };\n");
    let mut env = f
        .start("nodejs20.x", "index.handler", Duration::from_secs(1))
        .await;
    let pid = env.pid().unwrap();
    let t = Instant::now();
    let o = invoke(&mut env, "t-1", "{}").await;
    let elapsed = t.elapsed();
    assert_eq!(
        failed(&o),
        (
            "Sandbox.Timedout".to_owned(),
            "RequestId: t-1 Error: Task timed out after 1.00 seconds".to_owned()
        )
    );
    assert!(
        elapsed >= Duration::from_secs(1) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    assert!(common::group_members(pid).is_empty());
    assert!(!env.is_alive());
    let log = env.last_log().text();
    assert!(log.contains("\tt-1\tINFO\twaiting\n"), "{log}");
    assert!(
        log.contains(
            " t-1 Task timed out after 1.00 seconds\nEND RequestId: t-1\nREPORT RequestId: t-1\t"
        ),
        "{log}"
    );
    assert!(log.trim_end().ends_with("Status: timeout"), "{log}");
    // A dead environment keeps failing, rendered for the new request id.
    assert_eq!(
        failed(&invoke(&mut env, "t-2", "{}").await).1,
        "RequestId: t-2 Error: Task timed out after 1.00 seconds"
    );
}

#[tokio::test]
async fn crash_is_runtime_exit_error_and_neighbours_survive() {
    let f = Fixture::new();
    f.file(
        "index.js",
        "exports.handler = async (e) => { if (e.crash) process.exit(1); return 'ok'; };\n",
    );
    let mut victim = f
        .start("nodejs20.x", "index.handler", Duration::from_secs(3))
        .await;
    let mut neighbour = f
        .start("nodejs20.x", "index.handler", Duration::from_secs(3))
        .await;
    assert_eq!(
        response(&invoke(&mut neighbour, "n-1", "{}").await),
        r#""ok""#
    );
    let o = invoke(&mut victim, "c-1", r#"{"crash":true}"#).await;
    assert_eq!(
        failed(&o),
        (
            "Runtime.ExitError".to_owned(),
            "RequestId: c-1 Error: Runtime exited with error: exit status 1".to_owned()
        )
    );
    assert!(neighbour.is_alive());
    assert_eq!(
        response(&invoke(&mut neighbour, "n-2", "{}").await),
        r#""ok""#
    );
    neighbour.shutdown().await;
}

#[tokio::test]
async fn oversized_response_is_function_response_size_too_large() {
    let f = Fixture::new();
    f.file(
        "index.js",
        "exports.handler = async () => 'x'.repeat(7 * 1024 * 1024);\n",
    );
    let mut env = f
        .start("nodejs20.x", "index.handler", Duration::from_secs(5))
        .await;
    let o = invoke(&mut env, "big", "{}").await;
    assert_eq!(
        failed(&o),
        (
            "Function.ResponseSizeTooLarge".to_owned(),
            "Response payload size exceeded maximum allowed payload size (6291556 bytes)."
                .to_owned()
        )
    );
}

#[tokio::test]
async fn init_errors_module_and_handler_missing() {
    let f = Fixture::new();
    f.file("index.js", "exports.other = () => 1;\n");
    let mut env = f
        .start("nodejs20.x", "missing.handler", Duration::from_secs(3))
        .await;
    let (t, m) = failed(&invoke(&mut env, "i-1", "{}").await);
    assert_eq!(t, "Runtime.ImportModuleError");
    assert!(
        m.starts_with("Error: Cannot find module 'missing'\nRequire stack:\n- "),
        "{m}"
    );

    let mut env = f
        .start("nodejs20.x", "index.handler", Duration::from_secs(3))
        .await;
    assert_eq!(
        failed(&invoke(&mut env, "i-2", "{}").await),
        (
            "Runtime.HandlerNotFound".to_owned(),
            "index.handler is undefined or not exported".to_owned()
        )
    );
}

#[tokio::test]
async fn flooding_output_stays_bounded() {
    let f = Fixture::new();
    f.file("index.js", "exports.handler = async () => { const l = 'y'.repeat(1000); for (let i = 0; i < 20000; i++) process.stdout.write(l + '\\n'); process.stdout.write('z'.repeat(100000)); return 1; };\n");
    let mut env = f
        .start("nodejs20.x", "index.handler", Duration::from_secs(10))
        .await;
    assert_eq!(response(&invoke(&mut env, "flood", "{}").await), "1");
    let log = env.last_log();
    assert!(log.text().len() <= portico_sandbox::LOG_CAPACITY_BYTES);
    assert!(log.dropped_lines() > 0);
    assert!(log.text().contains("REPORT RequestId: flood\t"));
    // Everything written before the answer is in this invocation's log, in order: the last
    // full piece of the newline-less tail sits right before END.
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(
        lines[lines.len() - 3],
        "z".repeat(portico_sandbox::MAX_LINE_BYTES)
    );
    assert_eq!(lines[lines.len() - 2], "END RequestId: flood");
    env.shutdown().await;
}

#[tokio::test]
async fn uncaught_exception_is_reported_then_the_environment_resets() {
    let f = Fixture::new();
    f.file("index.js", "exports.handler = (event, context, callback) => { setTimeout(() => { throw new TypeError('late boom'); }, 10); };\n");
    let mut env = f
        .start("nodejs20.x", "index.handler", Duration::from_secs(3))
        .await;
    let e = function_error(&invoke(&mut env, "u-1", "{}").await);
    assert_eq!(e["errorType"], "TypeError");
    assert_eq!(e["errorMessage"], "late boom");
    // As the official runtime, the process exits (129) after reporting.
    let first = env.pid();
    for _ in 0..100 {
        if !env.is_alive() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!env.is_alive());
    // The next invocation resets the environment (a cold start in a new process), as Lambda does.
    let e = function_error(&invoke(&mut env, "u-2", "{}").await);
    assert_eq!(e["errorMessage"], "late boom");
    assert_ne!(env.pid(), first);
    assert!(env.last_log().text().contains("\tInit Duration: "));
    common::group_members(first.unwrap())
        .is_empty()
        .then_some(())
        .unwrap();
}

#[tokio::test]
async fn both_channels_serve_the_seed_and_hide_the_private_socket() {
    for f in [Fixture::http(), Fixture::new()] {
        f.file("index.mjs", SEED);
        f.file(
            "env.js",
            "exports.handler = async () => [process.env._PORTICO_RUNTIME_SOCKET ?? null, process.env.AWS_LAMBDA_RUNTIME_API.length > 10];\n",
        );
        f.file(
            "crash.js",
            "exports.handler = async () => process.exit(7);\n",
        );
        let mut env = f
            .start("nodejs20.x", "index.handler", Duration::from_secs(3))
            .await;
        for i in 0..3 {
            let o = invoke(&mut env, &format!("h-{i}"), r#"{"greeter":"me"}"#).await;
            assert_eq!(
                response(&o),
                r#"{"statusCode":200,"headers":{"Content-Type":"*/*"},"body":"Hello, me!"}"#
            );
        }
        let e = function_error(&invoke(&mut env, "h-e", "{}").await);
        assert_eq!(e["errorMessage"], "Missing the required greeter parameter.");
        env.shutdown().await;

        let mut env = f
            .start("nodejs20.x", "env.handler", Duration::from_secs(3))
            .await;
        assert_eq!(
            response(&invoke(&mut env, "h-env", "{}").await),
            "[null,true]"
        );
        env.shutdown().await;

        let mut env = f
            .start("nodejs20.x", "crash.handler", Duration::from_secs(3))
            .await;
        assert_eq!(
            failed(&invoke(&mut env, "h-c", "{}").await).1,
            "RequestId: h-c Error: Runtime exited with error: exit status 7"
        );

        let mut env = f
            .start("nodejs20.x", "nope.handler", Duration::from_secs(3))
            .await;
        assert_eq!(
            failed(&invoke(&mut env, "h-i", "{}").await).0,
            "Runtime.ImportModuleError"
        );
    }
}
