//! Python functions on the real `python3`, through our bootstrap and the Runtime API.

mod common;

use std::time::Duration;

use common::{Fixture, failed, function_error, invoke, response};
use portico_sandbox::InvokeOutcome;

// The seed handler, laid out as Python needs it.
const SEED: &str = r#"import json

def lambda_handler(event, context):
    print(event)
    res = {
        "statusCode": 200,
        "headers": {
            "Content-Type": "*/*"
        }
    }
    if event['greeter'] == "":
        res['body'] = "Hello, World"
    elif (event['greeter']):
        res['body'] = "Hello, " + event['greeter'] + "!"
    else:
        raise Exception('Missing the required greeter parameter.')
    return res
"#;

#[tokio::test]
async fn seed_handler_success_and_error_as_awslambdaric_renders_them() {
    let f = Fixture::new();
    f.file("lambda_function.py", SEED);
    let mut env = f
        .start(
            "python3.11",
            "lambda_function.lambda_handler",
            Duration::from_secs(3),
        )
        .await;

    let o = invoke(&mut env, "p-1", r#"{"greeter":"me"}"#).await;
    // json.dumps' default separators, as the official marshaller uses.
    assert_eq!(
        response(&o),
        r#"{"statusCode": 200, "headers": {"Content-Type": "*/*"}, "body": "Hello, me!"}"#
    );
    let log = env.last_log().text();
    assert!(
        log.contains("\n{'greeter': 'me'}\nEND RequestId: p-1\n"),
        "{log}"
    );

    let o = invoke(&mut env, "p-2", r#"{"greeter":null}"#).await;
    let InvokeOutcome::FunctionError { payload } = &o else {
        panic!("{o:?}")
    };
    let file = f.code().join("lambda_function.py");
    let expected = format!(
        r#"{{"errorMessage": "Missing the required greeter parameter.", "errorType": "Exception", "requestId": "p-2", "stackTrace": ["  File \"{}\", line 16, in lambda_handler\n    raise Exception('Missing the required greeter parameter.')\n"]}}"#,
        file.display()
    );
    assert_eq!(std::str::from_utf8(payload).unwrap(), expected);
    let log = env.last_log().text();
    assert!(
        log.contains("[ERROR] Exception: Missing the required greeter parameter.\rTraceback (most recent call last):\r"),
        "{log}"
    );

    // Still warm after the error.
    let o = invoke(&mut env, "p-3", r#"{"greeter":""}"#).await;
    assert_eq!(
        response(&o),
        r#"{"statusCode": 200, "headers": {"Content-Type": "*/*"}, "body": "Hello, World"}"#
    );
    env.shutdown().await;
}

#[tokio::test]
async fn globals_persist_and_context_has_python_names() {
    let f = Fixture::new();
    f.file(
        "pkg/app.py",
        r#"import os, logging
count = 0
logging.getLogger().setLevel(logging.INFO)

def handler(event, context):
    global count
    count += 1
    logging.info("count %d", count)
    return {
        "count": count,
        "name": context.function_name, "version": context.function_version,
        "arn": context.invoked_function_arn, "mem": context.memory_limit_in_mb,
        "id": context.aws_request_id, "group": context.log_group_name,
        "remaining": 0 < context.get_remaining_time_in_millis() <= 3000,
        "identity": context.identity.cognito_identity_id,
        "env": [os.environ["AWS_EXECUTION_ENV"], os.environ["TZ"], os.environ["_HANDLER"],
                os.environ["LAMBDA_TASK_ROOT"] == os.getcwd(), os.environ.get("_X_AMZN_TRACE_ID", "")[:7]],
        "text": "h\u00e9",
    }
"#,
    );
    f.file("pkg/__init__.py", "");
    let mut env = f
        .start("python3.12", "pkg/app.handler", Duration::from_secs(3))
        .await;
    for i in 1..=2 {
        let o = invoke(&mut env, &format!("c-{i}"), "{}").await;
        // python3.12+ encodes with ensure_ascii=False, as the official runtime does.
        assert_eq!(
            response(&o),
            format!(
                r#"{{"count": {i}, "name": "HelloWorld", "version": "$LATEST", "arn": "arn:aws:lambda:us-west-2:123456789012:function:HelloWorld", "mem": "128", "id": "c-{i}", "group": "/aws/lambda/HelloWorld", "remaining": true, "identity": null, "env": ["AWS_Lambda_python3.12", ":UTC", "pkg/app.handler", true, "Root=1-"], "text": "hé"}}"#
            )
        );
        let log = env.last_log().text();
        assert!(
            log.contains(&format!("Z\tc-{i}\tcount {i}\n")) && log.contains("[INFO]\t"),
            "{log}"
        );
    }
    env.shutdown().await;
}

#[tokio::test]
async fn init_errors_import_and_handler_missing() {
    let f = Fixture::new();
    f.file(
        "lambda_function.py",
        "def other(event, context):\n    return 1\n",
    );
    let mut env = f
        .start("python3.11", "nomod.handler", Duration::from_secs(3))
        .await;
    assert_eq!(
        failed(&invoke(&mut env, "i-1", "{}").await),
        (
            "Runtime.ImportModuleError".to_owned(),
            "Unable to import module 'nomod': No module named 'nomod'".to_owned()
        )
    );
    let mut env = f
        .start("python3.11", "lambda_function.nope", Duration::from_secs(3))
        .await;
    assert_eq!(
        failed(&invoke(&mut env, "i-2", "{}").await),
        (
            "Runtime.HandlerNotFound".to_owned(),
            "Handler 'nope' missing on module 'lambda_function'".to_owned()
        )
    );
    let mut env = f.start("python3.11", "bad", Duration::from_secs(3)).await;
    assert_eq!(
        failed(&invoke(&mut env, "i-3", "{}").await),
        (
            "Runtime.MalformedHandlerName".to_owned(),
            "Bad handler 'bad': not enough values to unpack (expected 2, got 1)".to_owned()
        )
    );
}

#[tokio::test]
async fn timeout_and_crash() {
    let f = Fixture::new();
    f.file(
        "lambda_function.py",
        "import os, time\n\ndef sleepy(event, context):\n    time.sleep(30)\n\ndef crash(event, context):\n    os._exit(3)\n\ndef raw(event, context):\n    return b'\\x01raw'\n",
    );
    let mut env = f
        .start(
            "python3.11",
            "lambda_function.sleepy",
            Duration::from_millis(1500),
        )
        .await;
    let pid = env.pid().unwrap();
    assert_eq!(
        failed(&invoke(&mut env, "t-1", "{}").await),
        (
            "Sandbox.Timedout".to_owned(),
            "RequestId: t-1 Error: Task timed out after 1.50 seconds".to_owned()
        )
    );
    assert!(common::group_members(pid).is_empty());

    let mut env = f
        .start(
            "python3.11",
            "lambda_function.crash",
            Duration::from_secs(3),
        )
        .await;
    assert_eq!(
        failed(&invoke(&mut env, "c-1", "{}").await),
        (
            "Runtime.ExitError".to_owned(),
            "RequestId: c-1 Error: Runtime exited with error: exit status 3".to_owned()
        )
    );

    // Dying while user code is imported (after the bootstrap connected) keeps the status.
    f.file("dies_at_import.py", "import os\nos._exit(4)\n");
    let mut env = f
        .start(
            "python3.11",
            "dies_at_import.handler",
            Duration::from_secs(3),
        )
        .await;
    assert_eq!(
        failed(&invoke(&mut env, "c-2", "{}").await),
        (
            "Runtime.ExitError".to_owned(),
            "RequestId: c-2 Error: Runtime exited with error: exit status 4".to_owned()
        )
    );

    // bytes are posted as they are.
    let mut env = f
        .start("python3.11", "lambda_function.raw", Duration::from_secs(3))
        .await;
    assert_eq!(
        invoke(&mut env, "r-1", "{}").await,
        InvokeOutcome::Response(bytes::Bytes::from_static(b"\x01raw"))
    );
    env.shutdown().await;
}

#[tokio::test]
async fn invalid_event_json_is_an_unmarshal_error() {
    let f = Fixture::new();
    f.file(
        "lambda_function.py",
        "def lambda_handler(event, context):\n    return event\n",
    );
    let mut env = f
        .start(
            "python3.11",
            "lambda_function.lambda_handler",
            Duration::from_secs(3),
        )
        .await;
    let e = function_error(&invoke(&mut env, "u-1", "{nope").await);
    assert_eq!(e["errorType"], "Runtime.UnmarshalError");
    assert_eq!(e["requestId"], "u-1");
    assert!(
        e["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("Unable to unmarshal input: Expecting property name")
    );
    env.shutdown().await;
}

#[tokio::test]
async fn both_channels_serve_the_seed_and_hide_the_private_socket() {
    for f in [Fixture::http(), Fixture::new()] {
        f.file("lambda_function.py", SEED);
        f.file("envcheck.py", "import os\n\ndef handler(event, context):\n    return [os.environ.get('_PORTICO_RUNTIME_SOCKET'), len(os.environ['AWS_LAMBDA_RUNTIME_API']) > 10]\n");
        let mut env = f
            .start(
                "python3.11",
                "lambda_function.lambda_handler",
                Duration::from_secs(3),
            )
            .await;
        for i in 0..3 {
            let o = invoke(&mut env, &format!("h-{i}"), r#"{"greeter":"me"}"#).await;
            assert_eq!(
                response(&o),
                r#"{"statusCode": 200, "headers": {"Content-Type": "*/*"}, "body": "Hello, me!"}"#
            );
        }
        let e = function_error(&invoke(&mut env, "h-e", r#"{"greeter":null}"#).await);
        assert_eq!(e["errorType"], "Exception");
        env.shutdown().await;

        let mut env = f
            .start("python3.11", "envcheck.handler", Duration::from_secs(3))
            .await;
        assert_eq!(
            response(&invoke(&mut env, "h-env", "{}").await),
            "[null, true]"
        );
        env.shutdown().await;

        let mut env = f
            .start("python3.11", "nomod.handler", Duration::from_secs(3))
            .await;
        assert_eq!(
            failed(&invoke(&mut env, "h-i", "{}").await).0,
            "Runtime.ImportModuleError"
        );
    }
}
