//! `TestInvokeMethod`: one request through a method's current definition, with the execution
//! log the console shows.
//!
//! The API document is compiled the way a deployment is ([`snapshot::compile`]) into a
//! throwaway `test-invoke-stage` holding only the method under test, then the request runs
//! through the same request validation and integration phases a real request takes
//! ([`integration::integrate`]), skipping what AWS skips for a test: authorization, API keys,
//! throttling and the cache.
//!
//! The log is recorded through [`Exchange::trace`]: the pipeline's hooks pass closures, so a
//! real request (whose exchange carries no log) never formats a line.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Response;
use portico_core::test_invoke::TEST_INVOKE_STAGE;
use portico_core::{
    BoxFuture, DeployedStage, InvokeRequest, InvokeResult, Invoker, MethodTester, StageKey,
    TestAuthorizerRequest, TestAuthorizerResult, TestInvokeRequest, TestInvokeResult, ids,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::DataPlane;
use crate::backend::{self, BackendError, BackendResponse, HttpClient, Outgoing};
use crate::context::{RequestMeta, now, template_context};
use crate::custom::{self, ErrorRequest};
use crate::gateway::GatewayResponse;
use crate::integration::{self, Exchange};
use crate::params::{RequestParts, header_name, parse_query};
use crate::snapshot::{self, CompiledIntegration};

/// The longest message a log line keeps; longer ones end in ` [TRUNCATED]`, as AWS's do
/// (1,024 characters after the timestamp, measured on recorded AWS logs).
const MAX_MESSAGE: usize = 1024;

/// The execution log of one test invocation.
pub(crate) struct ExecutionLog {
    text: Mutex<String>,
    /// Set when a Lambda proxy response named no `Content-Type`: the gateway adds one for the
    /// client, but the console shows only the function's headers.
    content_type_defaulted: Mutex<bool>,
}

/// `Tue Jun 11 03:30:06 UTC 2024`, the timestamp of every execution log line.
fn log_time() -> String {
    let now = time::OffsetDateTime::now_utc();
    let weekday = now.weekday().to_string();
    let month = now.month().to_string();
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        &weekday[..3],
        &month[..3],
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.year()
    )
}

fn truncated(message: &str) -> String {
    if message.len() <= MAX_MESSAGE {
        return message.to_owned();
    }
    let mut end = MAX_MESSAGE;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{} [TRUNCATED]", &message[..end])
}

impl ExecutionLog {
    pub(crate) fn new(request_id: &str) -> Self {
        Self {
            text: Mutex::new(format!("Execution log for request {request_id}\n")),
            content_type_defaulted: Mutex::new(false),
        }
    }

    /// Appends `{time} : {message}`.
    pub(crate) fn line(&self, message: &str) {
        let line = format!("{} : {}\n", log_time(), truncated(message));
        if let Ok(mut text) = self.text.lock() {
            text.push_str(&line);
        }
    }

    pub(crate) fn content_type_defaulted(&self) {
        if let Ok(mut flag) = self.content_type_defaulted.lock() {
            *flag = true;
        }
    }

    pub(crate) fn finish(self) -> (String, bool) {
        let defaulted = self.content_type_defaulted.into_inner().unwrap_or(false);
        (self.text.into_inner().unwrap_or_default(), defaulted)
    }
}

/// `{name=value, name=value}`, the way AWS prints maps in execution logs.
pub(crate) fn log_map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::from("{");
    for (i, (name, value)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out.push('}');
    out
}

impl Exchange<'_> {
    /// Records an execution log line when this exchange is a test invocation; `message` is
    /// only called then, so the hot path formats nothing.
    #[inline]
    pub(crate) fn trace(&self, message: impl FnOnce() -> String) {
        if let Some(log) = self.log {
            log.line(&message());
        }
    }

    /// The four lines before an integration request goes out.
    pub(crate) fn trace_request(&self, uri: &str, headers: &[(String, String)], body: &[u8]) {
        if let Some(log) = self.log {
            log.line(&format!("Endpoint request URI: {uri}"));
            log.line(&format!(
                "Endpoint request headers: {}",
                log_map(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))
            ));
            log.line(&format!(
                "Endpoint request body after transformations: {}",
                String::from_utf8_lossy(body)
            ));
            log.line(&format!("Sending request to {uri}"));
        }
    }

    /// The three lines after the integration answered.
    pub(crate) fn trace_response(
        &self,
        status: u16,
        started: Option<Instant>,
        headers: &[(String, String)],
        body: &[u8],
    ) {
        if let (Some(log), Some(started)) = (self.log, started) {
            log.line(&format!(
                "Received response. Status: {status}, Integration latency: {} ms",
                started.elapsed().as_millis()
            ));
            log.line(&format!(
                "Endpoint response headers: {}",
                log_map(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))
            ));
            log.line(&format!(
                "Endpoint response body before transformations: {}",
                String::from_utf8_lossy(body)
            ));
        }
    }

    /// When the integration call starts, for the latency line (only when tracing).
    pub(crate) fn trace_clock(&self) -> Option<Instant> {
        self.log.map(|_| Instant::now())
    }

    /// A Lambda proxy response without `Content-Type` (see [`ExecutionLog`]).
    pub(crate) fn trace_content_type_defaulted(&self) {
        if let Some(log) = self.log {
            log.content_type_defaulted();
        }
    }
}

/// `Tue, 11 Jun 2024 03:30:08 GMT` (`Date` headers) and `20240611T033008Z` (`X-Amz-Date`).
fn http_dates() -> (String, String) {
    let now = time::OffsetDateTime::now_utc();
    let weekday = now.weekday().to_string();
    let month = now.month().to_string();
    let http = format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        &weekday[..3],
        now.day(),
        &month[..3],
        now.year(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let amz = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    (http, amz)
}

/// The Lambda Invoke URL an integration calls.
fn lambda_invoke_uri(request: &InvokeRequest) -> String {
    let qualifier = request
        .qualifier
        .as_deref()
        .map(|q| format!(":{q}"))
        .unwrap_or_default();
    format!(
        "https://lambda.{region}.amazonaws.com/2015-03-31/functions/arn:aws:lambda:{region}:{}:function:{}{qualifier}/invocations",
        request.account_id,
        request.function_name,
        region = request.region,
    )
}

/// AWS's line for a Lambda proxy function that failed.
pub(crate) fn proxy_function_error(result: &InvokeResult) -> String {
    let message = serde_json::from_slice::<Value>(&result.payload)
        .ok()
        .and_then(|v| {
            v.get("errorMessage")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_default();
    format!(
        "Lambda execution failed with status 200 due to customer function error: {message}. Lambda request id: {}",
        result.request_id
    )
}

impl Exchange<'_> {
    /// The endpoint request lines of a Lambda call: the Invoke request API Gateway makes
    /// (without the signature headers, which Portico does not compute).
    pub(crate) fn trace_lambda_request(&self, request: &InvokeRequest) {
        let uri = lambda_invoke_uri(request);
        let (_, amz_date) = http_dates();
        let mut headers = vec![
            ("X-Amz-Date".to_owned(), amz_date),
            (
                "x-amzn-apigateway-api-id".to_owned(),
                self.stage.api_id.clone(),
            ),
            ("Accept".to_owned(), "application/json".to_owned()),
            (
                "User-Agent".to_owned(),
                format!("AmazonAPIGateway_{}", self.stage.api_id),
            ),
            (
                "Host".to_owned(),
                format!("lambda.{}.amazonaws.com", request.region),
            ),
            (
                "X-Amz-Content-Sha256".to_owned(),
                hex(&Sha256::digest(&request.payload)),
            ),
            (
                "x-amzn-lambda-integration-tag".to_owned(),
                self.meta.request_id.clone(),
            ),
        ];
        if let Some(arn) = &request.source_arn {
            headers.push(("X-Amz-Source-Arn".to_owned(), arn.clone()));
        }
        self.trace_request(&uri, &headers, &request.payload);
    }

    /// The endpoint response lines of a Lambda call: Lambda's Invoke response.
    pub(crate) fn trace_lambda_response(&self, result: &InvokeResult, started: Option<Instant>) {
        let (date, _) = http_dates();
        let mut headers = vec![
            ("Date".to_owned(), date),
            ("Content-Type".to_owned(), "application/json".to_owned()),
            (
                "Content-Length".to_owned(),
                result.payload.len().to_string(),
            ),
            ("Connection".to_owned(), "keep-alive".to_owned()),
            ("x-amzn-RequestId".to_owned(), result.request_id.clone()),
        ];
        if let Some(error) = &result.function_error {
            headers.push(("X-Amz-Function-Error".to_owned(), error.clone()));
        }
        headers.push(("x-amzn-Remapped-Content-Length".to_owned(), "0".to_owned()));
        headers.push((
            "X-Amz-Executed-Version".to_owned(),
            result.executed_version.clone(),
        ));
        self.trace_response(200, started, &headers, &result.payload);
    }
}

impl Exchange<'_> {
    /// Calls an HTTP backend ([`backend::call`]), with its endpoint lines when tracing.
    pub(crate) async fn call_traced(
        &self,
        client: &HttpClient,
        outgoing: &Outgoing,
        timeout: Duration,
    ) -> Result<BackendResponse, GatewayResponse> {
        self.trace_request(&outgoing.uri, &outgoing.headers, &outgoing.body);
        let started = self.trace_clock();
        match backend::call(client, outgoing, timeout).await {
            Ok(answer) => {
                if self.log.is_some() {
                    let headers: Vec<(String, String)> = answer
                        .headers
                        .iter()
                        .map(|(n, v)| (header_name(n), v.clone()))
                        .collect();
                    self.trace_response(answer.status, started, &headers, &answer.body);
                }
                Ok(answer)
            }
            Err(error) => {
                self.trace(|| match &error {
                    BackendError::Timeout => "Execution failed due to a timeout error".to_owned(),
                    BackendError::Failed(_) => {
                        "Execution failed due to configuration error: Invalid endpoint address"
                            .to_owned()
                    }
                });
                Err(error.into_gateway(&self.stage.api_id, &outgoing.uri))
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl MethodTester for DataPlane {
    fn test_invoke(&self, request: TestInvokeRequest) -> BoxFuture<'_, TestInvokeResult> {
        Box::pin(run(self.invoker.as_ref(), &self.http_client, request))
    }

    fn test_authorizer(
        &self,
        request: TestAuthorizerRequest,
    ) -> BoxFuture<'_, TestAuthorizerResult> {
        Box::pin(crate::test_authorizer::run(self.invoker.as_ref(), request))
    }
}

/// The API document reduced to the method under test, so that its route is the only one the
/// test path can match (AWS runs the method it is told to, whatever other resource the path
/// would reach).
fn only_method(mut definition: Value, resource_id: &str, http_method: &str) -> Value {
    if let Some(resources) = definition
        .get_mut("resources")
        .and_then(Value::as_array_mut)
    {
        resources.retain(|r| r.get("id").and_then(Value::as_str) == Some(resource_id));
        for resource in resources.iter_mut() {
            if let Some(methods) = resource
                .get_mut("resourceMethods")
                .and_then(Value::as_object_mut)
            {
                methods.retain(|verb, _| verb == http_method);
            }
        }
    }
    definition
}

fn resource_path(definition: &Value, resource_id: &str) -> Option<String> {
    definition
        .get("resources")?
        .as_array()?
        .iter()
        .find(|r| r.get("id").and_then(Value::as_str) == Some(resource_id))?
        .get("path")?
        .as_str()
        .map(str::to_owned)
}

/// Response headers the gateway adds at its edge and the console does not show.
const EDGE_HEADERS: &[&str] = &["x-amzn-requestid", "x-amz-apigw-id"];

/// A response header name as AWS prints it.
fn response_header_name(lower: &str) -> String {
    if lower == "x-amzn-errortype" {
        return "x-amzn-ErrorType".to_owned();
    }
    if let Some(rest) = lower.strip_prefix("x-amzn-remapped-") {
        return format!("x-amzn-Remapped-{}", header_name(rest));
    }
    header_name(lower)
}

/// The method response headers as the console shows them: the gateway's edge headers left
/// out, `X-Amzn-Trace-Id` last; non-proxy responses in name order (as AWS prints them), proxy
/// responses in the function's or backend's order.
fn method_headers(
    response: &Response<Bytes>,
    proxy: bool,
    content_type_defaulted: bool,
) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(n, _)| !EDGE_HEADERS.contains(&n.as_str()))
        .filter(|(n, _)| !(content_type_defaulted && *n == http::header::CONTENT_TYPE))
        .filter_map(|(n, v)| {
            Some((
                response_header_name(n.as_str()),
                v.to_str().ok()?.to_owned(),
            ))
        })
        .collect();
    if !proxy {
        headers.sort_by_key(|(n, _)| n.to_ascii_lowercase());
    }
    let (trace, mut rest): (Vec<_>, Vec<_>) = headers
        .into_iter()
        .partition(|(n, _)| n.eq_ignore_ascii_case("x-amzn-trace-id"));
    rest.extend(trace);
    rest
}

/// Compiles the throwaway stage a test call (test-invoke-method, test-invoke-authorizer) runs
/// in, the way a deployment is compiled: `deployment` of API `scope.2` in account `scope.0`
/// and region `scope.1`, with the caller's stage variables.
pub(crate) fn compile_test_stage(
    scope: (&str, &str, &str),
    stage_variables: &std::collections::BTreeMap<String, String>,
    deployment: Value,
) -> snapshot::CompiledStage {
    let (account_id, region, api_id) = scope;
    let key = StageKey {
        account_id: account_id.to_owned(),
        region: region.to_owned(),
        api_id: api_id.to_owned(),
        stage_name: TEST_INVOKE_STAGE.to_owned(),
    };
    let deployed = DeployedStage {
        stage: json!({
            "stageName": TEST_INVOKE_STAGE,
            "variables": stage_variables,
        }),
        deployment,
    };
    snapshot::compile(&key, &deployed)
}

async fn run(
    invoker: &dyn Invoker,
    http_client: &HttpClient,
    request: TestInvokeRequest,
) -> TestInvokeResult {
    let started = Instant::now();
    let own_path =
        resource_path(&request.definition, &request.resource_id).unwrap_or_else(|| "/".to_owned());
    let stage = compile_test_stage(
        (&request.account_id, &request.region, &request.api_id),
        &request.stage_variables,
        only_method(
            request.definition,
            &request.resource_id,
            &request.http_method,
        ),
    );
    let (path, query) = match request.path_with_query_string.as_deref() {
        Some(full) if !full.is_empty() => match full.split_once('?') {
            Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
            None => (full.to_owned(), None),
        },
        _ => (own_path.clone(), None),
    };
    let verb = request.http_method.clone();
    // A path the resource's template does not match still runs the method (as the console
    // does), with the template's own segments as the path parameters' values.
    let matched = stage
        .router
        .at(&path, &verb)
        .or_else(|| stage.router.at(&own_path, &verb));
    let request_id = ids::request_id();
    let log = ExecutionLog::new(&request_id);
    let Some(matched) = matched else {
        // The control plane checked the method exists; only an unroutable definition lands here.
        log.line(&format!("Starting execution for request: {request_id}"));
        log.line("Execution failed due to configuration error: the method cannot be routed");
        log.line("Method completed with status: 500");
        return TestInvokeResult {
            status: 500,
            body: r#"{"message": "Internal server error"}"#.to_owned(),
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            log: log.finish().0,
            latency_ms: started.elapsed().as_millis() as u64,
        };
    };
    let method = matched.value;
    let parts = RequestParts {
        query: parse_query(query.as_deref()),
        headers: request.headers,
    };
    let mut meta = test_request_meta(&request_id, &parts, path.clone(), verb.clone());
    meta.api_key = Some((
        "test-invoke-api-key".to_owned(),
        "test-invoke-api-key-id".to_owned(),
    ));
    let path_parameters: Vec<(&str, &str)> = matched.params.iter().collect();
    log.line(&format!("Starting execution for request: {request_id}"));
    log.line(&format!("HTTP Method: {verb}, Resource Path: {path}"));
    log.line(&format!(
        "Method request path: {}",
        log_map(path_parameters.iter().copied())
    ));
    let single_query = parts.single_query();
    log.line(&format!(
        "Method request query string: {}",
        log_map(single_query.iter().map(|(n, v)| (n.as_str(), v.as_str())))
    ));
    let single_headers = parts.single_headers();
    log.line(&format!(
        "Method request headers: {}",
        log_map(single_headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))
    ));
    log.line(&format!(
        "Method request body before transformations: {}",
        request.body
    ));
    let proxy = matches!(
        method.integration,
        CompiledIntegration::LambdaProxy { .. } | CompiledIntegration::HttpProxy { .. }
    );
    let exchange = Exchange {
        stage: &stage,
        method,
        meta,
        parts,
        path_parameters,
        body: Bytes::from(request.body),
        log: Some(&log),
    };
    // No key is asked for and the throwaway stage has no throttling: what remains of the
    // checks is request validation, which a test invocation goes through as on AWS.
    let outcome = match exchange.check_request(None) {
        Ok(()) => integration::integrate(&exchange, invoker, http_client).await,
        Err(refused) => Err(refused),
    };
    let (response, succeeded) = match outcome {
        Ok(response) => (response, true),
        Err(gateway) => {
            let error_request = ErrorRequest {
                parts: &exchange.parts,
                path_parameters: &exchange.path_parameters,
                context: template_context(&stage, method, &exchange.meta),
                stage_variables: &stage.variables,
            };
            let response = custom::respond(
                &stage.gateway_responses,
                gateway,
                &request_id,
                &error_request,
            );
            (response, false)
        }
    };
    drop(exchange);
    let status = response.status().as_u16();
    let body = String::from_utf8_lossy(response.body()).into_owned();
    let defaulted = log
        .content_type_defaulted
        .lock()
        .map(|f| *f)
        .unwrap_or(false);
    let headers = method_headers(&response, proxy && succeeded, defaulted && succeeded);
    if succeeded {
        log.line(&format!(
            "Method response body after transformations: {body}"
        ));
        log.line(&format!(
            "Method response headers: {}",
            log_map(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))
        ));
        log.line("Successfully completed execution");
    }
    log.line(&format!("Method completed with status: {status}"));
    TestInvokeResult {
        status,
        body,
        headers,
        log: log.finish().0,
        latency_ms: started.elapsed().as_millis() as u64,
    }
}

/// The request a console test runs as: AWS's fixed test-invoke source, domain and no caller.
pub(crate) fn test_request_meta(
    request_id: &str,
    parts: &RequestParts,
    path: String,
    http_method: String,
) -> RequestMeta {
    let (request_time, request_time_epoch) = now();
    RequestMeta {
        request_id: request_id.to_owned(),
        extended_request_id: ids::extended_request_id(),
        request_time,
        request_time_epoch,
        source_ip: "test-invoke-source-ip".to_owned(),
        user_agent: parts.header("user-agent").map(str::to_owned),
        domain_name: "testPrefix.testDomainName".to_owned(),
        path,
        http_method,
        api_key: None,
        caller: None,
        authorizer: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_truncated_as_aws_truncates_them() {
        let long = "x".repeat(1500);
        let line = truncated(&long);
        assert_eq!(line.len(), 1024 + " [TRUNCATED]".len());
        assert!(line.ends_with("x [TRUNCATED]"));
        assert_eq!(truncated("short"), "short");
    }

    #[test]
    fn maps_print_as_aws_prints_them() {
        assert_eq!(log_map([]), "{}");
        assert_eq!(log_map([("id", "1"), ("x", "y")]), "{id=1, x=y}");
    }

    #[test]
    fn timestamps_have_the_console_shape() {
        let stamp = log_time();
        let re =
            regex::Regex::new(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}$")
                .unwrap();
        assert!(re.is_match(&stamp), "{stamp}");
    }

    #[test]
    fn only_the_method_under_test_is_compiled() {
        let definition = json!({
            "id": "x",
            "resources": [
                {"id": "r1", "path": "/a", "resourceMethods": {"GET": {}, "POST": {}}},
                {"id": "r2", "path": "/{p}", "resourceMethods": {"GET": {}}}
            ]
        });
        let reduced = only_method(definition, "r1", "POST");
        assert_eq!(
            reduced["resources"],
            json!([{"id": "r1", "path": "/a", "resourceMethods": {"POST": {}}}])
        );
    }

    #[test]
    fn header_names_print_as_aws_spells_them() {
        assert_eq!(response_header_name("content-type"), "Content-Type");
        assert_eq!(response_header_name("x-amzn-errortype"), "x-amzn-ErrorType");
        assert_eq!(
            response_header_name("x-amzn-remapped-date"),
            "x-amzn-Remapped-Date"
        );
    }
}
