//! TestInvokeMethod and TestInvokeAuthorizer: the console's "Test" buttons.
//!
//! The method's current (undeployed) definition is what runs: the API document is handed,
//! whole, to the [`MethodTester`] (the data plane), which compiles it into a throwaway stage and
//! runs one request through it without authorization or API keys. This crate only validates the
//! address (the same NotFound wording as GetMethod) and shapes the answer. TestInvokeAuthorizer
//! likewise hands the document to the tester, which runs the named authorizer's current
//! definition (not the deployed one) against a simulated request.

use std::collections::BTreeMap;

use portico_core::{AwsError, MethodTester, TestAuthorizerRequest, TestInvokeRequest};
use portico_model::apigateway::{
    TestInvokeAuthorizerRequest, TestInvokeAuthorizerResponse, TestInvokeMethodRequest,
    TestInvokeMethodResponse,
};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::Call;
use crate::doc::required;

const INPUT: &str = "testInvokeMethodInput";
const AUTHORIZER_INPUT: &str = "testInvokeAuthorizerInput";

/// Request headers in order: every value of `multiValueHeaders`, then the `headers` whose
/// names it does not already carry.
fn request_headers(
    single: Option<BTreeMap<String, String>>,
    multi: Option<BTreeMap<String, Vec<String>>>,
) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = multi
        .into_iter()
        .flatten()
        .flat_map(|(name, values)| values.into_iter().map(move |v| (name.clone(), v)))
        .collect();
    for (name, value) in single.into_iter().flatten() {
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
            headers.push((name, value));
        }
    }
    headers
}

/// `headers` (the last value of each name) and `multiValueHeaders` (every value).
fn response_headers(
    headers: &[(String, String)],
) -> (BTreeMap<String, String>, BTreeMap<String, Vec<String>>) {
    let mut single = BTreeMap::new();
    let mut multi: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        single.insert(name.clone(), value.clone());
        multi.entry(name.clone()).or_default().push(value.clone());
    }
    (single, multi)
}

fn tester<'a>(call: &'a Call<'_>, operation: &str) -> Result<&'a dyn MethodTester, AwsError> {
    call.service.tester.as_deref().ok_or_else(|| {
        AwsError::new(
            "NotImplementedException",
            501,
            format!("{operation} needs the data plane, which this server does not run"),
        )
    })
}

/// The stored document is the definition a deployment would freeze (same member names).
fn definition(doc: &crate::doc::ApiDoc) -> Result<Value, AwsError> {
    serde_json::to_value(doc).map_err(|e| {
        AwsError::new(
            "InternalFailure",
            500,
            format!("the API definition cannot be read: {e}"),
        )
    })
}

pub(crate) async fn test_invoke_method(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: TestInvokeMethodRequest = decode(input)?;
    let api_id = required(req.rest_api_id, INPUT, "restApiId")?;
    let resource_id = required(req.resource_id, INPUT, "resourceId")?;
    let http_method = required(req.http_method, INPUT, "httpMethod")?;
    let (doc, _) = call.load_api(&api_id).await?;
    doc.method(&resource_id, &http_method)?;
    let tester = tester(call, "TestInvokeMethod")?;
    let definition = definition(&doc)?;
    let result = tester
        .test_invoke(TestInvokeRequest {
            account_id: call.scope.account_id.clone(),
            region: call.scope.region.clone(),
            api_id,
            definition,
            resource_id,
            http_method,
            path_with_query_string: req.path_with_query_string,
            body: req.body.unwrap_or_default(),
            headers: request_headers(req.headers, req.multi_value_headers),
            stage_variables: req.stage_variables.unwrap_or_default(),
        })
        .await;
    let (headers, multi_value_headers) = response_headers(&result.headers);
    OperationOutput::json(
        op,
        &TestInvokeMethodResponse {
            status: Some(i32::from(result.status)),
            body: Some(result.body),
            headers: Some(headers),
            multi_value_headers: Some(multi_value_headers),
            log: Some(result.log),
            latency: Some(i64::try_from(result.latency_ms).unwrap_or(i64::MAX)),
        },
    )
}

pub(crate) async fn test_invoke_authorizer(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: TestInvokeAuthorizerRequest = decode(input)?;
    let api_id = required(req.rest_api_id, AUTHORIZER_INPUT, "restApiId")?;
    let authorizer_id = required(req.authorizer_id, AUTHORIZER_INPUT, "authorizerId")?;
    let (doc, _) = call.load_api(&api_id).await?;
    doc.authorizer(&authorizer_id)?;
    let tester = tester(call, "TestInvokeAuthorizer")?;
    let definition = definition(&doc)?;
    let result = tester
        .test_authorizer(TestAuthorizerRequest {
            account_id: call.scope.account_id.clone(),
            region: call.scope.region.clone(),
            api_id,
            definition,
            authorizer_id,
            path_with_query_string: req.path_with_query_string,
            body: req.body.unwrap_or_default(),
            headers: request_headers(req.headers, req.multi_value_headers),
            stage_variables: req.stage_variables.unwrap_or_default(),
        })
        .await;
    OperationOutput::json(
        op,
        &TestInvokeAuthorizerResponse {
            client_status: Some(i32::from(result.client_status)),
            log: Some(result.log),
            latency: Some(i64::try_from(result.latency_ms).unwrap_or(i64::MAX)),
            principal_id: result.principal_id,
            policy: result.policy,
            authorization: (!result.authorization.is_empty()).then_some(result.authorization),
            // Claims come from Cognito user pools, which Portico's authorizers do not serve.
            claims: None,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn multi_value_headers_come_first_and_win() {
        let single = BTreeMap::from([
            ("Accept".to_owned(), "a".to_owned()),
            ("X-One".to_owned(), "1".to_owned()),
        ]);
        let multi = BTreeMap::from([("accept".to_owned(), vec!["b".to_owned(), "c".to_owned()])]);
        assert_eq!(
            request_headers(Some(single), Some(multi)),
            pairs(&[("accept", "b"), ("accept", "c"), ("X-One", "1")])
        );
        assert!(request_headers(None, None).is_empty());
    }

    #[test]
    fn repeated_response_headers_keep_every_value() {
        let (single, multi) = response_headers(&pairs(&[
            ("Set-Cookie", "a=1"),
            ("Content-Type", "application/json"),
            ("Set-Cookie", "b=2"),
        ]));
        assert_eq!(single["Set-Cookie"], "b=2");
        assert_eq!(multi["Set-Cookie"], vec!["a=1", "b=2"]);
        assert_eq!(multi["Content-Type"], vec!["application/json"]);
    }
}
