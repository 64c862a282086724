//! Service-level tests: operations through `Logs::handle` and the function log sink.

use portico_core::{FunctionLogSink, LogLine, LogTarget, Scope};
use serde_json::{Value, json};

use crate::Logs;

fn scope() -> Scope {
    Scope::new("123456789012".to_owned(), "us-east-1".to_owned())
}

fn call(logs: &Logs, op: &str, body: Value) -> Result<Value, (String, String)> {
    logs.handle(&scope(), op, body.to_string().as_bytes())
        .map(|out| serde_json::from_slice(&out.body).unwrap())
        .map_err(|e| (e.code.to_owned(), e.message))
}

fn feed(logs: &Logs, group: &str, stream: &str, lines: &[(i64, &str)]) {
    let target = LogTarget {
        account_id: "123456789012",
        region: "us-east-1",
        group,
        stream,
    };
    logs.append(
        &target,
        &mut lines.iter().map(|(t, m)| LogLine {
            timestamp_ms: *t,
            message: (*m).to_owned(),
        }),
    );
}

#[test]
fn function_output_creates_its_group_and_stream() {
    let logs = Logs::default();
    feed(
        &logs,
        "/aws/lambda/f",
        "2024/01/01/[$LATEST]ab",
        &[(5, "START"), (6, "hi")],
    );
    let groups = call(&logs, "DescribeLogGroups", json!({})).unwrap();
    assert_eq!(groups["logGroups"][0]["logGroupName"], "/aws/lambda/f");
    assert_eq!(
        groups["logGroups"][0]["arn"],
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f:*"
    );
    assert!(groups["logGroups"][0].get("retentionInDays").is_none());
    let streams = call(
        &logs,
        "DescribeLogStreams",
        json!({"logGroupName": "/aws/lambda/f"}),
    )
    .unwrap();
    let stream = &streams["logStreams"][0];
    assert_eq!(stream["logStreamName"], "2024/01/01/[$LATEST]ab");
    assert_eq!(stream["firstEventTimestamp"], 5);
    assert_eq!(stream["lastEventTimestamp"], 6);
    let got = call(
        &logs,
        "GetLogEvents",
        json!({"logGroupName": "/aws/lambda/f", "logStreamName": "2024/01/01/[$LATEST]ab", "startFromHead": true}),
    )
    .unwrap();
    let messages: Vec<_> = got["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].clone())
        .collect();
    // Function output keeps its line ending, as Lambda sends it.
    assert_eq!(messages, [json!("START\n"), json!("hi\n")]);
    assert_eq!(
        got["nextForwardToken"],
        "f/00000000000000000000000000000000000000000000000000000002"
    );
    assert_eq!(
        got["nextBackwardToken"],
        "b/00000000000000000000000000000000000000000000000000000000"
    );
}

#[test]
fn missing_resources_and_duplicates_answer_as_cloudwatch() {
    let logs = Logs::default();
    assert_eq!(
        call(
            &logs,
            "GetLogEvents",
            json!({"logGroupName": "/nope", "logStreamName": "s"})
        ),
        Err((
            "ResourceNotFoundException".into(),
            "The specified log group does not exist.".into()
        ))
    );
    call(&logs, "CreateLogGroup", json!({"logGroupName": "/g"})).unwrap();
    assert_eq!(
        call(&logs, "CreateLogGroup", json!({"logGroupName": "/g"})),
        Err((
            "ResourceAlreadyExistsException".into(),
            "The specified log group already exists".into()
        ))
    );
    assert_eq!(
        call(
            &logs,
            "PutLogEvents",
            json!({"logGroupName": "/g", "logStreamName": "s", "logEvents": [{"timestamp": 1, "message": "x"}]})
        ),
        Err((
            "ResourceNotFoundException".into(),
            "The specified log stream does not exist.".into()
        ))
    );
    call(
        &logs,
        "CreateLogStream",
        json!({"logGroupName": "/g", "logStreamName": "s"}),
    )
    .unwrap();
    assert_eq!(
        call(
            &logs,
            "CreateLogStream",
            json!({"logGroupName": "/g", "logStreamName": "s"})
        ),
        Err((
            "ResourceAlreadyExistsException".into(),
            "The specified log stream already exists".into()
        ))
    );
    call(
        &logs,
        "DeleteLogStream",
        json!({"logGroupName": "/g", "logStreamName": "s"}),
    )
    .unwrap();
    call(&logs, "DeleteLogGroup", json!({"logGroupName": "/g"})).unwrap();
    assert_eq!(
        call(&logs, "DeleteLogGroup", json!({"logGroupName": "/g"})),
        Err((
            "ResourceNotFoundException".into(),
            "The specified log group does not exist.".into()
        ))
    );
}

#[test]
fn put_log_events_checks_order_and_rejects_stale_events() {
    let logs = Logs::default();
    call(&logs, "CreateLogGroup", json!({"logGroupName": "/g"})).unwrap();
    call(
        &logs,
        "CreateLogStream",
        json!({"logGroupName": "/g", "logStreamName": "s"}),
    )
    .unwrap();
    let now = crate::now_ms();
    assert_eq!(
        call(
            &logs,
            "PutLogEvents",
            json!({"logGroupName": "/g", "logStreamName": "s", "logEvents": [{"timestamp": now, "message": "b"}, {"timestamp": now - 1, "message": "a"}]})
        ),
        Err((
            "InvalidParameterException".into(),
            "Log events in a single PutLogEvents request must be in chronological order.".into()
        ))
    );
    let put = |events: Value| {
        call(
            &logs,
            "PutLogEvents",
            json!({"logGroupName": "/g", "logStreamName": "s", "logEvents": events}),
        )
        .unwrap()
    };
    let day = 24 * 3600 * 1000_i64;
    let out = put(json!([{"timestamp": now - 15 * day, "message": "old"}]));
    assert_eq!(
        out["rejectedLogEventsInfo"],
        json!({"tooOldLogEventEndIndex": 0})
    );
    let out = put(json!([
        {"timestamp": now, "message": "kept"},
        {"timestamp": now + 3 * 3600 * 1000, "message": "future"},
    ]));
    assert_eq!(
        out["rejectedLogEventsInfo"],
        json!({"tooNewLogEventStartIndex": 1})
    );
    assert_eq!(
        out["nextSequenceToken"],
        "00000000000000000000000000000000000000000000000000000002"
    );
    let got = call(
        &logs,
        "GetLogEvents",
        json!({"logGroupName": "/g", "logStreamName": "s"}),
    )
    .unwrap();
    assert_eq!(got["events"].as_array().unwrap().len(), 1);
    assert_eq!(got["events"][0]["message"], "kept");
}

#[test]
fn filter_interleaves_streams_and_pages_with_a_token() {
    let logs = Logs::default();
    feed(
        &logs,
        "/aws/lambda/f",
        "a",
        &[(1, "START one"), (3, "ERROR three"), (5, "five")],
    );
    feed(
        &logs,
        "/aws/lambda/f",
        "b",
        &[(2, "two ERROR"), (4, "four")],
    );
    let all = call(
        &logs,
        "FilterLogEvents",
        json!({"logGroupName": "/aws/lambda/f", "limit": 3}),
    )
    .unwrap();
    let page1: Vec<_> = all["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["timestamp"].as_i64().unwrap())
        .collect();
    assert_eq!(page1, [1, 2, 3]);
    assert_eq!(all["events"][1]["logStreamName"], "b");
    assert_eq!(
        all["searchedLogStreams"],
        json!([{"logStreamName": "a", "searchedCompletely": true}, {"logStreamName": "b", "searchedCompletely": true}])
    );
    let token = all["nextToken"].as_str().unwrap();
    let rest = call(
        &logs,
        "FilterLogEvents",
        json!({"logGroupName": "/aws/lambda/f", "limit": 3, "nextToken": token}),
    )
    .unwrap();
    let page2: Vec<_> = rest["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["timestamp"].as_i64().unwrap())
        .collect();
    assert_eq!(page2, [4, 5]);
    assert!(rest.get("nextToken").is_none());
    let errors = call(&logs, "FilterLogEvents", json!({"logGroupIdentifier": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f:*", "filterPattern": "ERROR", "startTime": 3})).unwrap();
    assert_eq!(errors["events"].as_array().unwrap().len(), 1);
    assert_eq!(errors["events"][0]["message"], "ERROR three\n");
    let only_b = call(
        &logs,
        "FilterLogEvents",
        json!({"logGroupName": "/aws/lambda/f", "logStreamNames": ["b"], "endTime": 4}),
    )
    .unwrap();
    assert_eq!(only_b["events"].as_array().unwrap().len(), 1);
    assert_eq!(
        call(
            &logs,
            "FilterLogEvents",
            json!({"logGroupName": "/aws/lambda/f", "filterPattern": "{ $.a = 1 }"})
        )
        .unwrap_err()
        .0,
        "InvalidParameterException"
    );
}

#[test]
fn describe_pages_groups_and_orders_streams_by_last_event() {
    let logs = Logs::default();
    for name in ["/c", "/a", "/b"] {
        call(&logs, "CreateLogGroup", json!({"logGroupName": name})).unwrap();
    }
    let page = call(&logs, "DescribeLogGroups", json!({"limit": 2})).unwrap();
    assert_eq!(page["logGroups"].as_array().unwrap().len(), 2);
    assert_eq!(page["logGroups"][1]["logGroupName"], "/b");
    let next = call(
        &logs,
        "DescribeLogGroups",
        json!({"limit": 2, "nextToken": page["nextToken"]}),
    )
    .unwrap();
    assert_eq!(next["logGroups"][0]["logGroupName"], "/c");
    assert!(next.get("nextToken").is_none());
    assert_eq!(
        call(&logs, "DescribeLogGroups", json!({"limit": 0}))
            .unwrap_err()
            .1,
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
    );
    feed(&logs, "/a", "old", &[(10, "x")]);
    feed(&logs, "/a", "new", &[(20, "y")]);
    feed(&logs, "/a", "mid", &[(15, "z")]);
    let streams = call(
        &logs,
        "DescribeLogStreams",
        json!({"logGroupName": "/a", "orderBy": "LastEventTime", "descending": true, "limit": 2}),
    )
    .unwrap();
    let names: Vec<_> = streams["logStreams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["logStreamName"].clone())
        .collect();
    assert_eq!(names, [json!("new"), json!("mid")]);
    let rest = call(&logs, "DescribeLogStreams", json!({"logGroupName": "/a", "orderBy": "LastEventTime", "descending": true, "limit": 2, "nextToken": streams["nextToken"]})).unwrap();
    assert_eq!(rest["logStreams"][0]["logStreamName"], "old");
}
