//! `TestInvokeAuthorizer`: one run of an authorizer's current definition, as the console's
//! authorizer "Test" button shows it.
//!
//! The API document is compiled the way a deployment is ([`crate::snapshot::compile`]) into a
//! throwaway `test-invoke-stage` (what `requestContext.stage` says, as on AWS) whose only method is a `GET /` guarded by the authorizer under
//! test, so the authorizer is compiled exactly as for a real stage. The simulated request then
//! goes through [`CompiledAuthorizer::test`](crate::authorizer::CompiledAuthorizer::test): the
//! same identity checks, event, invocation (with the same source ARN, so the function's
//! resource policy is enforced unless the authorizer has credentials) and policy evaluation a
//! real request gets, without the answer cache. The method ARN names AWS's other test stage,
//! `ESTestInvoke-stage`, and the requested path (`.../ESTestInvoke-stage/GET/` for the root).

use std::collections::BTreeMap;
use std::time::Instant;

use bytes::Bytes;
use portico_core::test_invoke::TEST_AUTHORIZER_STAGE;
use portico_core::{Invoker, TestAuthorizerRequest, TestAuthorizerResult, ids};
use serde_json::{Value, json};

use crate::authorizer::{CompiledAuthorizer, Granted};

use crate::gateway::GatewayResponse;
use crate::integration::Exchange;
use crate::params::{RequestParts, parse_query};
use crate::test_invoke::{ExecutionLog, compile_test_stage, log_map};

/// The id of the one resource of the throwaway stage (`requestContext.resourceId` on AWS).
const TEST_RESOURCE: &str = "test-invoke-resource-id";

/// An identity value as AWS logs it: all but its last six characters masked.
pub(crate) fn mask(value: &str) -> String {
    let count = value.chars().count();
    let hidden = count.saturating_sub(6);
    let mut out = "*".repeat(hidden);
    out.extend(value.chars().skip(hidden));
    out
}

/// The API document with its resources replaced by one `GET /` method that the authorizer
/// under test guards (a MOCK integration, never called).
fn guarded_root(mut definition: Value, authorizer_id: &str) -> Value {
    let resources = json!([{
        "id": TEST_RESOURCE,
        "path": "/",
        "resourceMethods": {
            "GET": {
                "httpMethod": "GET",
                "authorizationType": "CUSTOM",
                "authorizerId": authorizer_id,
                "methodIntegration": {"type": "MOCK"}
            }
        }
    }]);
    if let Some(object) = definition.as_object_mut() {
        object.insert("resources".to_owned(), resources);
    }
    definition
}

/// `(path, query)` of `pathWithQueryString`; the root when absent or empty.
fn split_path(path_with_query: Option<&str>) -> (String, Option<String>) {
    match path_with_query {
        Some(full) if !full.is_empty() => {
            let (path, query) = match full.split_once('?') {
                Some((path, query)) => (path, Some(query.to_owned())),
                None => (full, None),
            };
            let path = if path.starts_with('/') {
                path.to_owned()
            } else {
                format!("/{path}")
            };
            (path, query)
        }
        _ => ("/".to_owned(), None),
    }
}

/// The answer's `context` entries as `authorization` lists (principal left out: it has its own
/// member).
fn authorization(context: &Value) -> BTreeMap<String, Vec<String>> {
    context
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(key, _)| *key != "principalId")
        .filter_map(|(key, value)| Some((key.clone(), vec![value.as_str()?.to_owned()])))
        .collect()
}

impl CompiledAuthorizer {
    /// `TestInvokeAuthorizer`: runs the authorizer once, bypassing its cache, and returns the
    /// function's answer (when it gave a usable one) with the decision a request would get.
    /// `arn_stage` is the stage the method ARN names (AWS's test stage there differs from the
    /// one `requestContext.stage` carries).
    pub(crate) async fn test(
        &self,
        exchange: &Exchange<'_>,
        invoker: &dyn Invoker,
        arn_stage: &str,
    ) -> (Option<Value>, Result<Granted, GatewayResponse>) {
        exchange.trace(|| {
            format!(
                "Starting authorizer: {} for request: {}",
                self.id, exchange.meta.request_id
            )
        });
        let identity = match self.identity(exchange) {
            Ok(identity) => identity,
            Err(refused) => return (None, Err(refused)),
        };
        exchange.trace(|| {
            let sources = self.sources();
            let masked: Vec<String> = identity.iter().map(|v| mask(v)).collect();
            let pairs = sources
                .iter()
                .map(String::as_str)
                .zip(masked.iter().map(String::as_str));
            format!("Incoming identity: {}", log_map(pairs))
        });
        let method_arn = crate::authorizer::method_arn_in(exchange, arn_stage);
        let event = self.event(exchange, &method_arn, &identity);
        match self.call(exchange, invoker, &event).await {
            Ok(answer) => {
                let decision = self.decide(exchange, &answer, &method_arn);
                (Some(answer), decision)
            }
            Err(refused) => (None, Err(refused)),
        }
    }
}

pub(crate) async fn run(
    invoker: &dyn Invoker,
    request: TestAuthorizerRequest,
) -> TestAuthorizerResult {
    let started = Instant::now();
    let stage = compile_test_stage(
        (&request.account_id, &request.region, &request.api_id),
        &request.stage_variables,
        guarded_root(request.definition, &request.authorizer_id),
    );
    let request_id = ids::request_id();
    let log = ExecutionLog::new(&request_id);
    let finish = |log: ExecutionLog, client_status: u16| TestAuthorizerResult {
        client_status,
        log: log.finish().0,
        latency_ms: started.elapsed().as_millis() as u64,
        principal_id: None,
        policy: None,
        authorization: BTreeMap::new(),
    };
    let Some(matched) = stage.router.at("/", "GET") else {
        log.line("Execution failed due to configuration error: the authorizer cannot be compiled");
        return finish(log, 500);
    };
    let method = matched.value;
    let Some(authorizer) = method.authorizer.clone() else {
        log.line("Execution failed due to configuration error: the authorizer cannot be compiled");
        return finish(log, 500);
    };
    let (path, query) = split_path(request.path_with_query_string.as_deref());
    let parts = RequestParts {
        query: parse_query(query.as_deref()),
        headers: request.headers,
    };
    let meta = crate::test_invoke::test_request_meta(&request_id, &parts, path, "GET".to_owned());
    let exchange = Exchange {
        stage: &stage,
        method,
        meta,
        parts,
        path_parameters: Vec::new(),
        body: Bytes::from(request.body),
        log: Some(&log),
    };
    let (answer, decision) = authorizer
        .test(&exchange, invoker, TEST_AUTHORIZER_STAGE)
        .await;
    drop(exchange);
    let client_status = match &decision {
        Ok(_) => 200,
        Err(refused) => refused.status,
    };
    let principal_id = answer
        .as_ref()
        .and_then(|a| a.get("principalId"))
        .and_then(|p| match p {
            Value::String(s) => Some(s.clone()),
            Value::Number(_) | Value::Bool(_) => Some(p.to_string()),
            _ => None,
        });
    let policy = answer
        .as_ref()
        .and_then(|a| a.get("policyDocument"))
        .map(Value::to_string);
    match &decision {
        Ok(_) => {
            log.line(&format!(
                "Using valid authorizer policy for principal: {}",
                principal_id.as_deref().unwrap_or_default()
            ));
            log.line("Successfully completed authorizer execution");
        }
        Err(refused) if refused.status == 403 => {
            log.line(&format!(
                "Using valid authorizer policy for principal: {}",
                principal_id.as_deref().unwrap_or_default()
            ));
            log.line("The client is not authorized to perform this operation.");
        }
        Err(refused) if refused.status == 401 => {
            log.line(&format!("Unauthorized request: {request_id}"));
            log.line("Unauthorized");
        }
        Err(_) => log.line("Execution failed due to configuration error: Authorizer error"),
    }
    let authorization = decision
        .as_ref()
        .map(|granted| authorization(&granted.context))
        .unwrap_or_default();
    TestAuthorizerResult {
        client_status,
        log: log.finish().0,
        latency_ms: started.elapsed().as_millis() as u64,
        principal_id,
        policy,
        authorization,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_path_defaults_to_the_root() {
        assert_eq!(split_path(None), ("/".to_owned(), None));
        assert_eq!(split_path(Some("")), ("/".to_owned(), None));
        assert_eq!(
            split_path(Some("/pets/1?a=b")),
            ("/pets/1".to_owned(), Some("a=b".to_owned()))
        );
        assert_eq!(split_path(Some("pets")), ("/pets".to_owned(), None));
    }

    #[test]
    fn the_authorizer_guards_the_only_method() {
        let definition =
            json!({"id": "d", "resources": [{"id": "r", "path": "/x"}], "authorizers": []});
        let guarded = guarded_root(definition, "auth1");
        let resources = guarded["resources"].as_array().unwrap();
        assert_eq!(resources.len(), 1);
        let method = &resources[0]["resourceMethods"]["GET"];
        assert_eq!(method["authorizationType"], "CUSTOM");
        assert_eq!(method["authorizerId"], "auth1");
        assert_eq!(guarded["authorizers"], json!([]));
    }

    #[test]
    fn identities_are_masked_but_their_last_six_characters() {
        assert_eq!(mask("aaaaaaaaaaaaaa"), "********aaaaaa");
        assert_eq!(mask("allow"), "allow");
        assert_eq!(mask(""), "");
        assert_eq!(mask("ééééééé"), "*éééééé");
    }

    #[test]
    fn context_entries_become_authorization_lists() {
        let context = json!({"principalId": "user", "tier": "gold", "n": "1"});
        assert_eq!(
            authorization(&context),
            BTreeMap::from([
                ("n".to_owned(), vec!["1".to_owned()]),
                ("tier".to_owned(), vec!["gold".to_owned()]),
            ])
        );
    }
}
