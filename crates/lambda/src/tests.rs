//! The service driven through its operations, as the server does, against a real store: what
//! a write does to the registry's snapshots, pools, reservations and the invoke path's checks.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use portico_core::{AwsError, InvocationType, InvokeRequest, Invoker, Scope};
use portico_protocol::OperationInput;
use serde_json::{Value, json};

use crate::{Lambda, LambdaConfig};

const ACCOUNT: &str = "123456789012";

struct Fixture {
    lambda: Arc<Lambda>,
    dir: PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn fixture() -> Fixture {
    fixture_with_idle_timeout(Duration::from_secs(600)).await
}

async fn fixture_with_idle_timeout(idle_timeout: Duration) -> Fixture {
    let dir = std::env::temp_dir().join(format!("portico-lambda-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(portico_store::SqliteStore::open(&dir).unwrap());
    let lambda = Lambda::open(
        store,
        LambdaConfig {
            data_dir: dir.clone(),
            runtime_dir: dir.join("runtime"),
            account_id: ACCOUNT.to_owned(),
            public_url: "http://127.0.0.1:1".to_owned(),
            max_environments_per_function: 2,
            idle_timeout,
            placement: None,
        },
    )
    .await
    .unwrap();
    Fixture { lambda, dir }
}

fn scope() -> Scope {
    Scope::new(ACCOUNT, "us-east-1")
}

fn zip_of(source: &str) -> String {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        zip.start_file("app.py", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(source.as_bytes()).unwrap();
        zip.finish().unwrap();
    }
    base64::engine::general_purpose::STANDARD.encode(buf.into_inner())
}

async fn call(lambda: &Arc<Lambda>, operation: &str, input: Value) -> Result<Value, AwsError> {
    let op = portico_model::lambda::OPERATIONS
        .iter()
        .find(|o| o.name == operation)
        .unwrap();
    let Value::Object(input) = input else {
        panic!("input must be an object")
    };
    let out = lambda
        .handle(
            &scope(),
            OperationInput {
                operation: op,
                input,
                payload: Bytes::new(),
            },
        )
        .await?;
    Ok(if out.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&out.body).unwrap()
    })
}

async fn create(lambda: &Arc<Lambda>, name: &str) -> Value {
    call(
        lambda,
        "CreateFunction",
        json!({"FunctionName": name, "Runtime": "python3.11", "Handler": "app.handler",
               "Role": "arn:aws:iam::123456789012:role/r",
               "Code": {"ZipFile": zip_of("def handler(e, c):\n    return 1\n")}}),
    )
    .await
    .unwrap()
}

fn invoke_request(name: &str, qualifier: Option<&str>) -> InvokeRequest {
    InvokeRequest {
        region: "us-east-1".to_owned(),
        account_id: ACCOUNT.to_owned(),
        function_name: name.to_owned(),
        qualifier: qualifier.map(str::to_owned),
        payload: Bytes::from_static(b"{}"),
        invocation_type: InvocationType::RequestResponse,
        client_context: None,
        source_arn: None,
        log_tail: false,
    }
}

#[tokio::test]
async fn updates_replace_the_pool_only_when_what_runs_changes() {
    let f = fixture().await;
    create(&f.lambda, "f").await;
    let first = f.lambda.existing(&scope(), "f").unwrap();

    let updated = call(
        &f.lambda,
        "UpdateFunctionConfiguration",
        json!({"FunctionName": "f", "Description": "new words"}),
    )
    .await
    .unwrap();
    let second = f.lambda.existing(&scope(), "f").unwrap();
    assert_eq!(updated["Description"], "new words");
    assert_ne!(
        second.latest.configuration.revision_id,
        first.latest.configuration.revision_id
    );
    // Metadata only: the same warm pool serves the new snapshot.
    assert!(Arc::ptr_eq(&first.latest.pool, &second.latest.pool));

    call(
        &f.lambda,
        "UpdateFunctionConfiguration",
        json!({"FunctionName": "f", "Environment": {"Variables": {"GREETING": "hi"}}}),
    )
    .await
    .unwrap();
    let third = f.lambda.existing(&scope(), "f").unwrap();
    assert!(!Arc::ptr_eq(&second.latest.pool, &third.latest.pool));
    assert_eq!(
        third
            .latest
            .pool
            .spec()
            .environment
            .get("GREETING")
            .map(String::as_str),
        Some("hi")
    );
    // The replaced pool is retired in the background.
    for _ in 0..100 {
        if second.latest.pool.is_retired() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(second.latest.pool.is_retired());
    assert!(!third.latest.pool.is_retired());
}

#[tokio::test]
async fn versions_keep_their_pools_and_aliases_resolve_to_them() {
    let f = fixture().await;
    create(&f.lambda, "v").await;
    let v1 = call(&f.lambda, "PublishVersion", json!({"FunctionName": "v"}))
        .await
        .unwrap();
    assert_eq!(v1["Version"], "1");
    assert_eq!(
        v1["FunctionArn"],
        "arn:aws:lambda:us-east-1:123456789012:function:v:1"
    );
    let again = call(&f.lambda, "PublishVersion", json!({"FunctionName": "v"}))
        .await
        .unwrap();
    assert_eq!(again["Version"], "1");
    let before = f.lambda.existing(&scope(), "v").unwrap();
    assert_eq!(before.versions["1"].pool.spec().version, "1");

    call(
        &f.lambda,
        "UpdateFunctionConfiguration",
        json!({"FunctionName": "v", "Timeout": 9}),
    )
    .await
    .unwrap();
    call(
        &f.lambda,
        "CreateAlias",
        json!({"FunctionName": "v", "Name": "live", "FunctionVersion": "1"}),
    )
    .await
    .unwrap();
    let after = f.lambda.existing(&scope(), "v").unwrap();
    assert!(Arc::ptr_eq(
        &before.versions["1"].pool,
        &after.versions["1"].pool
    ));
    let resolved = after.resolve(Some("live")).unwrap();
    assert_eq!(resolved.version.name(), "1");
    assert_eq!(resolved.policy_key, "live");
    assert_eq!(after.resolve(None).unwrap().version.name(), "$LATEST");
    assert!(after.resolve(Some("2")).is_none());
    assert!(after.resolve(Some("nope")).is_none());
}

#[tokio::test]
async fn the_invoke_path_checks_before_any_environment_starts() {
    let f = fixture().await;
    create(&f.lambda, "g").await;
    let missing = f
        .lambda
        .invoke(invoke_request("g", Some("3")))
        .await
        .unwrap_err();
    assert_eq!(
        missing.message,
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:g:3"
    );

    call(
        &f.lambda,
        "PutFunctionConcurrency",
        json!({"FunctionName": "g", "ReservedConcurrentExecutions": 0}),
    )
    .await
    .unwrap();
    let throttled = f
        .lambda
        .invoke(invoke_request("g", None))
        .await
        .unwrap_err();
    assert_eq!(
        (throttled.code, throttled.status, throttled.message.as_str()),
        ("TooManyRequestsException", 429, "Rate Exceeded.")
    );
    // DryRun checks nothing that needs a slot.
    let mut dry = invoke_request("g", None);
    dry.invocation_type = InvocationType::DryRun;
    assert_eq!(
        f.lambda.invoke(dry).await.unwrap().executed_version,
        "$LATEST"
    );

    // Without any policy, a call on behalf of API Gateway is refused; unless enforcement is off.
    let mut ungranted = invoke_request("g", None);
    ungranted.source_arn =
        Some("arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/pets".to_owned());
    let denied = f.lambda.invoke(ungranted.clone()).await.unwrap_err();
    assert_eq!(
        (denied.code, denied.status, denied.message.as_str()),
        (
            "AccessDeniedException",
            403,
            "User: apigateway.amazonaws.com is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:g because no resource-based policy allows the lambda:InvokeFunction action"
        )
    );
    f.lambda.set_enforce_permissions(false);
    let lax = f.lambda.invoke(ungranted).await.unwrap_err();
    assert_eq!(lax.code, "TooManyRequestsException");
    f.lambda.set_enforce_permissions(true);

    call(
        &f.lambda,
        "AddPermission",
        json!({"FunctionName": "g", "StatementId": "s", "Action": "lambda:InvokeFunction",
               "Principal": "apigateway.amazonaws.com",
               "SourceArn": "arn:aws:execute-api:us-east-1:123456789012:api/*/GET/pets"}),
    )
    .await
    .unwrap();
    let mut from_gateway = invoke_request("g", None);
    from_gateway.source_arn =
        Some("arn:aws:execute-api:us-east-1:123456789012:api/prod/POST/pets".to_owned());
    let denied = f.lambda.invoke(from_gateway).await.unwrap_err();
    assert_eq!((denied.code, denied.status), ("AccessDeniedException", 403));

    assert_eq!(f.lambda.account.unreserved(), 1000);
    call(
        &f.lambda,
        "PutFunctionConcurrency",
        json!({"FunctionName": "g", "ReservedConcurrentExecutions": 300}),
    )
    .await
    .unwrap();
    assert_eq!(f.lambda.account.unreserved(), 700);
    call(&f.lambda, "DeleteFunction", json!({"FunctionName": "g"}))
        .await
        .unwrap();
    assert_eq!(f.lambda.account.unreserved(), 1000);
}

#[tokio::test]
async fn a_reopened_service_has_the_same_functions() {
    let f = fixture().await;
    create(&f.lambda, "r").await;
    call(&f.lambda, "PublishVersion", json!({"FunctionName": "r"}))
        .await
        .unwrap();
    call(
        &f.lambda,
        "PutFunctionConcurrency",
        json!({"FunctionName": "r", "ReservedConcurrentExecutions": 10}),
    )
    .await
    .unwrap();
    let before = call(&f.lambda, "GetFunction", json!({"FunctionName": "r"}))
        .await
        .unwrap();
    f.lambda.shutdown().await;
    let store = Arc::new(portico_store::SqliteStore::open(&f.dir).unwrap());
    let reopened = Lambda::open(store, f.lambda.config.clone()).await.unwrap();
    let after = call(&reopened, "GetFunction", json!({"FunctionName": "r"}))
        .await
        .unwrap();
    assert_eq!(before, after);
    assert_eq!(reopened.account.unreserved(), 990);
    assert!(
        reopened
            .existing(&scope(), "r")
            .unwrap()
            .versions
            .contains_key("1")
    );
}

#[tokio::test]
async fn function_urls_serve_payload_2_0_once_public_access_is_granted() {
    let f = fixture().await;
    call(
        &f.lambda,
        "CreateFunction",
        json!({"FunctionName": "u", "Runtime": "python3.11", "Handler": "app.handler",
               "Role": "arn:aws:iam::123456789012:role/r",
               "Code": {"ZipFile": zip_of(
                   "def handler(e, c):\n    return {'statusCode': 201, 'headers': {'x-path': e['rawPath']}, 'body': e['requestContext']['accountId'] + ' ' + e.get('body', '')}\n")}}),
    )
    .await
    .unwrap();
    let created = call(
        &f.lambda,
        "CreateFunctionUrlConfig",
        json!({"FunctionName": "u", "AuthType": "NONE"}),
    )
    .await
    .unwrap();
    let url = created["FunctionUrl"].as_str().unwrap().to_owned();
    let id = crate::registry::url_id(&url).unwrap().to_owned();
    assert_eq!(id.len(), 32);
    assert_eq!(url, format!("https://{id}.lambda-url.us-east-1.on.aws/"));
    let request = crate::FunctionUrlRequest {
        method: "POST".into(),
        path: "/a/b".into(),
        body: Bytes::from_static(b"hello"),
        headers: vec![("content-type".into(), "text/plain".into())],
        ..Default::default()
    };
    // No policy lets the public in yet.
    let denied = f
        .lambda
        .invoke_function_url(&id, request.clone())
        .await
        .unwrap();
    assert_eq!(
        (denied.status, denied.body.as_ref()),
        (403, br#"{"Message":"Forbidden"}"#.as_ref())
    );
    call(
        &f.lambda,
        "AddPermission",
        json!({"FunctionName": "u", "StatementId": "url", "Action": "lambda:InvokeFunctionUrl",
               "Principal": "*", "FunctionUrlAuthType": "NONE"}),
    )
    .await
    .unwrap();
    let answer = f
        .lambda
        .invoke_function_url(&id, request.clone())
        .await
        .unwrap();
    assert_eq!(answer.status, 201);
    assert_eq!(answer.body, Bytes::from_static(b"anonymous hello"));
    assert!(
        answer
            .headers
            .contains(&("x-path".to_owned(), "/a/b".to_owned()))
    );
    assert!(
        f.lambda
            .invoke_function_url("nope", request.clone())
            .await
            .is_none()
    );

    call(
        &f.lambda,
        "DeleteFunctionUrlConfig",
        json!({"FunctionName": "u"}),
    )
    .await
    .unwrap();
    assert!(f.lambda.invoke_function_url(&id, request).await.is_none());
    let missing = call(
        &f.lambda,
        "GetFunctionUrlConfig",
        json!({"FunctionName": "u"}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (missing.code, missing.message.as_str()),
        (
            "ResourceNotFoundException",
            "The resource you requested does not exist."
        )
    );
    f.lambda.shutdown().await;
}

#[tokio::test]
async fn failed_event_invocations_are_retried_twice() {
    let mut f = fixture().await;
    Arc::get_mut(&mut f.lambda).unwrap().async_retry_delays =
        [Duration::from_millis(20), Duration::from_millis(20)];
    call(
        &f.lambda,
        "CreateFunction",
        json!({"FunctionName": "e", "Runtime": "python3.11", "Handler": "app.handler",
               "Role": "arn:aws:iam::123456789012:role/r",
               "Code": {"ZipFile": zip_of(
                   "def handler(e, c):\n    open(e['log'], 'a').write(c.aws_request_id + '\\n')\n    raise ValueError('always')\n")}}),
    )
    .await
    .unwrap();
    let log = f.dir.join("attempts.txt");
    let mut request = invoke_request("e", None);
    request.invocation_type = InvocationType::Event;
    request.payload = Bytes::from(json!({"log": log}).to_string());
    let accepted = f.lambda.invoke(request).await.unwrap();
    assert_eq!(accepted.payload, Bytes::new());
    let mut lines = Vec::new();
    for _ in 0..200 {
        lines = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        if lines.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // Three attempts of the same invocation (one request id), and no fourth.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let settled = std::fs::read_to_string(&log).unwrap();
    assert_eq!(lines.len(), 3, "{settled}");
    assert_eq!(settled.lines().count(), 3);
    assert!(lines.iter().all(|l| *l == accepted.request_id));
    f.lambda.shutdown().await;
}

#[tokio::test]
async fn idle_environments_are_stopped_after_the_idle_timeout() {
    let f = fixture_with_idle_timeout(Duration::from_millis(300)).await;
    create(&f.lambda, "idle").await;
    let answer = f.lambda.invoke(invoke_request("idle", None)).await.unwrap();
    assert_eq!(answer.payload.as_ref(), b"1");
    let function = f.lambda.existing(&scope(), "idle").unwrap();
    let pool = &function.latest.pool;
    assert_eq!(pool.idle_count(), 1);
    // Warm well within the timeout: the next invocation reuses it.
    f.lambda.invoke(invoke_request("idle", None)).await.unwrap();
    assert_eq!(pool.idle_count(), 1);
    // Past the timeout (plus the sweep's quarter), the reaper has stopped it.
    for _ in 0..200 {
        if pool.idle_count() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(pool.idle_count(), 0);
    // The function still answers, from a cold environment.
    let again = f.lambda.invoke(invoke_request("idle", None)).await.unwrap();
    assert_eq!(again.payload.as_ref(), b"1");
}

#[tokio::test]
async fn an_invocation_whose_caller_hangs_up_runs_to_its_end_and_keeps_its_environment() {
    let f = fixture().await;
    call(
        &f.lambda,
        "CreateFunction",
        json!({"FunctionName": "slow", "Runtime": "python3.11", "Handler": "app.handler",
               "Role": "arn:aws:iam::123456789012:role/r",
               "Code": {"ZipFile": zip_of(concat!(
                   "import os, time\n",
                   "def handler(e, c):\n",
                   "    open(e['started'], 'w').write(str(os.getpid()))\n",
                   "    time.sleep(0.3)\n",
                   "    open(e['finished'], 'w').write(str(os.getpid()))\n",
                   "    return os.getpid()\n"))}}),
    )
    .await
    .unwrap();
    let started = f.dir.join("started.txt");
    let finished = f.dir.join("finished.txt");
    let mut request = invoke_request("slow", None);
    request.payload = Bytes::from(json!({"started": started, "finished": finished}).to_string());
    // The caller (an HTTP client's request, for example) goes away mid-invocation.
    let lambda = f.lambda.clone();
    let caller = tokio::spawn(async move { lambda.invoke(request).await });
    for _ in 0..400 {
        if started.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(started.exists(), "the function never started");
    caller.abort();
    assert!(caller.await.unwrap_err().is_cancelled());
    assert!(!finished.exists());
    // The function still runs to its end...
    for _ in 0..200 {
        if finished.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = std::fs::read_to_string(&started).unwrap();
    assert_eq!(std::fs::read_to_string(&finished).unwrap(), pid);
    // ...and its environment goes back to the pool warm: the next invocation runs in the same
    // process.
    let function = f.lambda.existing(&scope(), "slow").unwrap();
    for _ in 0..200 {
        if function.latest.pool.idle_count() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(function.latest.pool.idle_count(), 1);
    let mut again = invoke_request("slow", None);
    again.payload = Bytes::from(json!({"started": started, "finished": finished}).to_string());
    let answer = f.lambda.invoke(again).await.unwrap();
    assert_eq!(answer.function_error, None);
    assert_eq!(std::str::from_utf8(&answer.payload).unwrap(), pid);
    f.lambda.shutdown().await;
}
