//! TestInvokeMethod through the data plane: the current definition compiled into a throwaway
//! stage, one request run with the execution log recorded.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use portico_core::{
    AwsError, BoxFuture, InvokeRequest, InvokeResult, Invoker, MethodTester, TestInvokeRequest,
};
use portico_dataplane::DataPlane;
use regex::Regex;
use serde_json::{Value, json};

/// Answers every invocation with a fixed payload and remembers what it was sent.
struct Fixed {
    answer: Value,
    function_error: Option<String>,
    sent: Mutex<Option<InvokeRequest>>,
}

impl Invoker for Fixed {
    fn invoke(&self, request: InvokeRequest) -> BoxFuture<'_, Result<InvokeResult, AwsError>> {
        *self.sent.lock().unwrap() = Some(request);
        let payload = Bytes::from(self.answer.to_string());
        let function_error = self.function_error.clone();
        Box::pin(async move {
            Ok(InvokeResult {
                payload,
                function_error,
                executed_version: "$LATEST".into(),
                log_result: None,
                request_id: "lambda-request-1".into(),
            })
        })
    }
}

fn plane(answer: Value, function_error: Option<&str>) -> (DataPlane, Arc<Fixed>) {
    let invoker = Arc::new(Fixed {
        answer,
        function_error: function_error.map(str::to_owned),
        sent: Mutex::new(None),
    });
    (DataPlane::new(invoker.clone()), invoker)
}

fn definition(method: Value) -> Value {
    json!({
        "id": "",
        "api": {"id": "api1", "name": "t"},
        "resources": [
            {"id": "root", "path": "/"},
            {"id": "pets", "path": "/pets", "resourceMethods": {"GET": {"httpMethod": "GET"}}},
            {"id": "pet", "path": "/pets/{id}", "resourceMethods": {"GET": method}}
        ]
    })
}

fn request(definition: Value, path: &str) -> TestInvokeRequest {
    TestInvokeRequest {
        account_id: "123456789012".into(),
        region: "us-east-1".into(),
        api_id: "api1".into(),
        definition,
        resource_id: "pet".into(),
        http_method: "GET".into(),
        path_with_query_string: Some(path.into()),
        body: String::new(),
        headers: vec![("Accept".into(), "application/json".into())],
        stage_variables: [("who".to_owned(), "stage-var".to_owned())].into(),
    }
}

/// The log's messages without their timestamps; also checks every line's timestamp shape.
fn messages(log: &str) -> Vec<String> {
    let stamp =
        Regex::new(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4} : ").unwrap();
    let mut lines = log.lines();
    let first = lines.next().unwrap();
    assert!(first.starts_with("Execution log for request "), "{first}");
    lines
        .map(|line| {
            let found = stamp
                .find(line)
                .unwrap_or_else(|| panic!("no timestamp: {line}"));
            line[found.end()..].to_owned()
        })
        .collect()
}

#[tokio::test]
async fn mock_runs_its_templates_and_logs_as_the_console_does() {
    let method = json!({
        "httpMethod": "GET",
        "authorizationType": "CUSTOM",
        "apiKeyRequired": true,
        "methodIntegration": {
            "type": "MOCK",
            "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
            "integrationResponses": {"200": {
                "statusCode": "200",
                "responseParameters": {"method.response.header.X-Pet": "'yes'"},
                "responseTemplates": {"application/json":
                    "{\"id\": \"$input.params('id')\", \"q\": \"$input.params('q')\", \"who\": \"$stageVariables.who\"}"}
            }}
        }
    });
    let (plane, _) = plane(Value::Null, None);
    let result = plane
        .test_invoke(request(definition(method), "/pets/7?q=x"))
        .await;
    assert_eq!(result.status, 200);
    assert_eq!(result.body, r#"{"id": "7", "q": "x", "who": "stage-var"}"#);
    assert_eq!(
        result.headers,
        vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("X-Pet".to_owned(), "yes".to_owned()),
        ]
    );
    let id = result
        .log
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("Execution log for request ")
        .to_owned();
    assert_eq!(
        messages(&result.log),
        vec![
            format!("Starting execution for request: {id}"),
            "HTTP Method: GET, Resource Path: /pets/7".to_owned(),
            "Method request path: {id=7}".to_owned(),
            "Method request query string: {q=x}".to_owned(),
            "Method request headers: {Accept=application/json}".to_owned(),
            "Method request body before transformations: ".to_owned(),
            r#"Method response body after transformations: {"id": "7", "q": "x", "who": "stage-var"}"#.to_owned(),
            "Method response headers: {Content-Type=application/json, X-Pet=yes}".to_owned(),
            "Successfully completed execution".to_owned(),
            "Method completed with status: 200".to_owned(),
        ]
    );
}

#[tokio::test]
async fn lambda_proxy_logs_the_invoke_request_and_response() {
    let method = json!({
        "httpMethod": "GET",
        "methodIntegration": {
            "type": "AWS_PROXY",
            "httpMethod": "POST",
            "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:${stageVariables.who}/invocations"
        }
    });
    let (plane, invoker) = plane(json!({"statusCode": 201, "body": "made"}), None);
    let result = plane
        .test_invoke(request(definition(method), "/pets/7"))
        .await;
    assert_eq!(result.status, 201);
    assert_eq!(result.body, "made");
    // No Content-Type from the function: the console shows only the trace header.
    assert_eq!(result.headers.len(), 1);
    assert_eq!(result.headers[0].0, "X-Amzn-Trace-Id");
    let sent = invoker.sent.lock().unwrap().clone().unwrap();
    assert_eq!(sent.function_name, "stage-var");
    assert_eq!(
        sent.source_arn.as_deref(),
        Some("arn:aws:execute-api:us-east-1:123456789012:api1/test-invoke-stage/GET/pets/{id}")
    );
    let event: Value = serde_json::from_slice(&sent.payload).unwrap();
    assert_eq!(event["requestContext"]["stage"], "test-invoke-stage");
    assert_eq!(
        event["requestContext"]["identity"]["apiKey"],
        "test-invoke-api-key"
    );
    assert_eq!(event["pathParameters"], json!({"id": "7"}));
    let lines = messages(&result.log);
    let uri = "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:stage-var/invocations";
    assert_eq!(lines[6], format!("Endpoint request URI: {uri}"));
    assert!(
        lines[7].starts_with("Endpoint request headers: {X-Amz-Date="),
        "{}",
        lines[7]
    );
    assert!(
        lines[8].starts_with(
            "Endpoint request body after transformations: {\"resource\":\"/pets/{id}\""
        ),
        "{}",
        lines[8]
    );
    assert_eq!(lines[9], format!("Sending request to {uri}"));
    assert!(
        Regex::new(r"^Received response\. Status: 200, Integration latency: \d+ ms$")
            .unwrap()
            .is_match(&lines[10])
    );
    assert!(
        lines[11].contains("x-amzn-RequestId=lambda-request-1"),
        "{}",
        lines[11]
    );
    assert_eq!(
        lines[12],
        format!(
            "Endpoint response body before transformations: {}",
            json!({"statusCode": 201, "body": "made"})
        )
    );
    assert_eq!(
        lines[13],
        "Method response body after transformations: made"
    );
    assert!(lines[14].starts_with("Method response headers: {X-Amzn-Trace-Id=Root=1-"));
    assert_eq!(lines[15], "Successfully completed execution");
    assert_eq!(lines[16], "Method completed with status: 201");
    assert_eq!(lines.len(), 17);
}

#[tokio::test]
async fn a_failed_proxy_function_is_logged_and_answers_502() {
    let method = json!({
        "httpMethod": "GET",
        "methodIntegration": {
            "type": "AWS_PROXY",
            "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:f/invocations"
        }
    });
    let (plane, _) = plane(
        json!({"errorMessage": "boom", "errorType": "Error"}),
        Some("Unhandled"),
    );
    let result = plane
        .test_invoke(request(definition(method), "/pets/7"))
        .await;
    assert_eq!(result.status, 502);
    assert_eq!(result.body, r#"{"message": "Internal server error"}"#);
    let lines = messages(&result.log);
    let tail: Vec<&str> = lines[lines.len() - 2..]
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        vec![
            "Lambda execution failed with status 200 due to customer function error: boom. Lambda request id: lambda-request-1",
            "Method completed with status: 502",
        ]
    );
}
