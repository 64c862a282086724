//! How the API Gateway control plane answers `TestInvokeMethod` (the console's "Test" button)
//! without depending on the data plane.
//!
//! A test invocation runs a method's *current* definition, not a deployment: the control plane
//! hands over the API document shaped as a frozen deployment would be, and the data plane
//! compiles it into a throwaway stage (`test-invoke-stage`), runs one request through its
//! pipeline without authorization, API keys or throttling, and records the execution log as
//! the console shows it. `TestInvokeAuthorizer` works the same way: the data plane compiles the
//! document's authorizers as for a stage and runs the named one once against a simulated
//! request. Plain data in and out, so neither side depends on the other.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::invoke::BoxFuture;

/// The name AWS gives the stage a test invocation runs in (`$context.stage`, source ARNs).
pub const TEST_INVOKE_STAGE: &str = "test-invoke-stage";

/// One test invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct TestInvokeRequest {
    pub account_id: String,
    pub region: String,
    pub api_id: String,
    /// The API's current definition in the shape of a frozen deployment:
    /// `{"id", "api": RestApi, "resources": [Resource with resourceMethods], "gatewayResponses",
    /// "requestValidators"}` (see [`crate::DeployedStage::deployment`]).
    pub definition: Value,
    pub resource_id: String,
    pub http_method: String,
    /// `pathWithQueryString`; `None` runs the resource's own path.
    pub path_with_query_string: Option<String>,
    pub body: String,
    /// Request headers in order, repeated names kept (`headers` and `multiValueHeaders`).
    pub headers: Vec<(String, String)>,
    /// `stageVariables`: the variables of the simulated stage.
    pub stage_variables: BTreeMap<String, String>,
}

/// What the test invocation answered, and how it got there.
#[derive(Debug, Clone, PartialEq)]
pub struct TestInvokeResult {
    pub status: u16,
    pub body: String,
    /// The method response headers, in order, repeated names kept.
    pub headers: Vec<(String, String)>,
    /// The execution log, as the console shows it (`Execution log for request {id}\n...`).
    pub log: String,
    /// Milliseconds the whole invocation took.
    pub latency_ms: u64,
}

/// Something that can run a method's or an authorizer's current definition: implemented by
/// the data plane.
pub trait MethodTester: Send + Sync {
    fn test_invoke(&self, request: TestInvokeRequest) -> BoxFuture<'_, TestInvokeResult>;

    /// `TestInvokeAuthorizer`: runs the authorizer without caching its answer.
    fn test_authorizer(
        &self,
        request: TestAuthorizerRequest,
    ) -> BoxFuture<'_, TestAuthorizerResult>;
}

/// The stage a `TestInvokeAuthorizer` call simulates: its name in the `methodArn` the function
/// receives (`arn:aws:execute-api:{region}:{account}:{api}/ESTestInvoke-stage/GET/`).
pub const TEST_AUTHORIZER_STAGE: &str = "ESTestInvoke-stage";

/// One `TestInvokeAuthorizer` call: an authorizer's current definition run against a
/// simulated `GET` request.
#[derive(Debug, Clone, PartialEq)]
pub struct TestAuthorizerRequest {
    pub account_id: String,
    pub region: String,
    pub api_id: String,
    /// The API's current definition in the shape of a frozen deployment (as for
    /// [`TestInvokeRequest::definition`]); its `authorizers` hold the one under test.
    pub definition: Value,
    pub authorizer_id: String,
    /// `pathWithQueryString`; `None` is the root path.
    pub path_with_query_string: Option<String>,
    pub body: String,
    /// Request headers in order, repeated names kept (`headers` and `multiValueHeaders`).
    pub headers: Vec<(String, String)>,
    /// `stageVariables`: the variables of the simulated stage.
    pub stage_variables: BTreeMap<String, String>,
}

/// What the authorizer answered.
#[derive(Debug, Clone, PartialEq)]
pub struct TestAuthorizerResult {
    /// The status the client would have received: 200 when let through, 401, 403 or 500.
    pub client_status: u16,
    pub log: String,
    pub latency_ms: u64,
    /// `principalId` of the function's answer, when it gave one.
    pub principal_id: Option<String>,
    /// The answer's `policyDocument`, as a JSON string.
    pub policy: Option<String>,
    /// The answer's `context` entries, each value as a one-element list.
    pub authorization: BTreeMap<String, Vec<String>>,
}
