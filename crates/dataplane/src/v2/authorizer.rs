//! HTTP API authorizers on the request path: Lambda (`REQUEST`) authorizers with payload 1.0
//! or 2.0, simple or IAM-policy responses and result caching by identity, and JWT authorizers
//! (see `jwt`). Every outcome is one of AWS's answers: `401 Unauthorized` (identity missing
//! or token invalid), `403 Forbidden` (denied), `500 Internal Server Error` (authorizer broke).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use portico_core::{InvocationType, InvokeRequest, Invoker};
use serde_json::{Map, Value, json};

use super::compile::LambdaTarget;
use super::compile::PayloadVersion;
use super::event::{AuthorizerContext, RequestFacts, event_v1_value, event_v2_value};
use super::jwt::JwtAuthorizer;

/// AWS gives a Lambda authorizer 10 seconds.
const AUTHORIZER_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a request is not let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Unauthorized,
    Forbidden,
    Failed,
}

impl Refusal {
    pub fn status_and_message(self) -> (u16, &'static str) {
        match self {
            Refusal::Unauthorized => (401, "Unauthorized"),
            Refusal::Forbidden => (403, "Forbidden"),
            Refusal::Failed => (500, "Internal Server Error"),
        }
    }
}

/// A compiled authorizer.
pub(crate) enum CompiledAuthorizer {
    Lambda(LambdaAuthorizer),
    Jwt(JwtAuthorizer),
}

/// A route's authorization: its authorizer and the scopes it asks for.
pub(crate) struct RouteAuth {
    pub authorizer: std::sync::Arc<CompiledAuthorizer>,
    pub scopes: Vec<String>,
}

pub(crate) struct LambdaAuthorizer {
    pub target: LambdaTarget,
    pub version: PayloadVersion,
    pub simple: bool,
    pub identity_sources: Vec<String>,
    pub ttl: Duration,
    /// Results by identity values, while their TTL runs (only with a TTL and sources).
    pub cache: Mutex<HashMap<String, (Instant, Value)>>,
    /// `arn:aws:execute-api:{region}:{account}:{api}/authorizers/{id}`, presented to Lambda's
    /// permission check; `None` when the authorizer has credentials of its own.
    pub source_arn: Option<String>,
}

/// Evaluates `$request.header.X`, `$request.querystring.X` (or `route.request.…` as WebSocket
/// APIs write them), `$context.X` and `$stageVariables.X` identity sources; `None` when the value is absent or empty.
pub(crate) fn identity_value(source: &str, facts: &RequestFacts<'_>) -> Option<String> {
    // WebSocket APIs spell request sources `route.request.header.X`.
    let spelled;
    let source = match source.strip_prefix("route.request.") {
        Some(rest) => {
            spelled = format!("$request.{rest}");
            spelled.as_str()
        }
        None => source,
    };
    let value = if let Some(name) = source.strip_prefix("$request.header.") {
        let name = name.to_ascii_lowercase();
        facts
            .headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.join(","))
    } else if let Some(name) = source.strip_prefix("$request.querystring.") {
        form_urlencoded::parse(facts.raw_query.as_bytes())
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .reduce(|a, b| format!("{a},{b}"))
    } else if let Some(name) = source.strip_prefix("$stageVariables.") {
        facts.stage.variables.get(name).cloned()
    } else if let Some(name) = source.strip_prefix("$context.") {
        match name {
            "routeKey" => Some(facts.route_key.to_owned()),
            "stage" => Some(facts.stage.stage_name.clone()),
            "apiId" => Some(facts.stage.api_id.clone()),
            "requestId" => Some(facts.request_id.to_owned()),
            "identity.sourceIp" => Some(facts.source_ip.to_owned()),
            _ => None,
        }
    } else {
        None
    };
    value.filter(|v| !v.is_empty())
}

/// `*` matches any run of characters (slashes included), `?` one character.
pub(crate) fn arn_matches(pattern: &str, arn: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let a: Vec<char> = arn.chars().collect();
    let (mut pi, mut ai) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ai < a.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == a[ai]) {
            pi += 1;
            ai += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ai;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ai = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Whether an IAM policy document allows `execute-api:Invoke` on `arn`: an explicit Deny
/// wins, then any Allow.
fn policy_allows(policy: &Value, arn: &str) -> Option<bool> {
    let statements = match policy.get("Statement")? {
        Value::Array(list) => list.clone(),
        single @ Value::Object(_) => vec![single.clone()],
        _ => return None,
    };
    let listed = |value: Option<&Value>| -> Vec<String> {
        match value {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut allowed = false;
    for statement in &statements {
        let actions = listed(statement.get("Action"));
        let applies = actions.iter().any(|a| arn_matches(a, "execute-api:Invoke"))
            && listed(statement.get("Resource"))
                .iter()
                .any(|r| arn_matches(r, arn));
        if !applies {
            continue;
        }
        match statement.get("Effect").and_then(Value::as_str) {
            Some("Deny") => return Some(false),
            Some("Allow") => allowed = true,
            _ => return None,
        }
    }
    Some(allowed)
}

/// String-valued context entries as 1.0 events carry them.
fn context_object(value: Option<&Value>) -> Map<String, Value> {
    match value {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    }
}

impl LambdaAuthorizer {
    fn event(&self, facts: &RequestFacts<'_>, route_arn: &str, identity: &[String]) -> Value {
        let mut event = match self.version {
            PayloadVersion::V2 => event_v2_value(facts),
            PayloadVersion::V1 => event_v1_value(facts),
        };
        if let Value::Object(map) = &mut event {
            map.remove("body");
            map.remove("isBase64Encoded");
            map.insert("type".into(), "REQUEST".into());
            match self.version {
                PayloadVersion::V2 => {
                    map.insert("routeArn".into(), route_arn.into());
                    map.insert("identitySource".into(), json!(identity));
                }
                PayloadVersion::V1 => {
                    map.insert("methodArn".into(), route_arn.into());
                    map.insert("identitySource".into(), identity.join(",").into());
                    map.insert("authorizationToken".into(), identity.join(",").into());
                }
            }
        }
        event
    }

    /// What the function's answer means for `route_arn`.
    fn decide(&self, answer: &Value, route_arn: &str) -> Result<AuthorizerContext, Refusal> {
        let Value::Object(map) = answer else {
            return Err(Refusal::Failed);
        };
        let context = context_object(map.get("context"));
        if self.simple && self.version == PayloadVersion::V2 {
            return match map.get("isAuthorized") {
                Some(Value::Bool(true)) => Ok(AuthorizerContext {
                    v2: json!({"lambda": context}),
                    v1: Value::Object(context),
                    iam_caller: None,
                }),
                Some(Value::Bool(false)) => Err(Refusal::Forbidden),
                _ => Err(Refusal::Failed),
            };
        }
        let policy = map.get("policyDocument").ok_or(Refusal::Failed)?;
        match policy_allows(policy, route_arn) {
            Some(true) => {
                let mut v1 = context.clone();
                if let Some(principal) = map.get("principalId") {
                    v1.insert("principalId".into(), principal.clone());
                }
                v1.insert("integrationLatency".into(), 0.into());
                Ok(AuthorizerContext {
                    v2: json!({"lambda": context}),
                    v1: Value::Object(v1),
                    iam_caller: None,
                })
            }
            Some(false) => Err(Refusal::Forbidden),
            None => Err(Refusal::Failed),
        }
    }

    async fn authorize(
        &self,
        invoker: &dyn Invoker,
        facts: &RequestFacts<'_>,
        route_arn: &str,
    ) -> Result<AuthorizerContext, Refusal> {
        let mut identity = Vec::with_capacity(self.identity_sources.len());
        for source in &self.identity_sources {
            // A missing identity source: the authorizer is not called at all.
            identity.push(identity_value(source, facts).ok_or(Refusal::Unauthorized)?);
        }
        let cache_key = (!self.ttl.is_zero() && !identity.is_empty()).then(|| identity.join(","));
        if let Some(key) = &cache_key
            && let Ok(cache) = self.cache.lock()
            && let Some((expires, answer)) = cache.get(key)
            && *expires > Instant::now()
        {
            return self.decide(answer, route_arn);
        }
        let event = self.event(facts, route_arn, &identity);
        let request = InvokeRequest {
            region: self.target.region.clone(),
            account_id: self.target.account_id.clone(),
            function_name: self.target.function_name.clone(),
            qualifier: self.target.qualifier.clone(),
            payload: Bytes::from(serde_json::to_vec(&event).unwrap_or_default()),
            invocation_type: InvocationType::RequestResponse,
            client_context: None,
            source_arn: self.source_arn.clone(),
            log_tail: false,
        };
        let answer = match tokio::time::timeout(AUTHORIZER_TIMEOUT, invoker.invoke(request)).await {
            Ok(Ok(result)) if result.function_error.is_none() => {
                serde_json::from_slice::<Value>(&result.payload).map_err(|_| Refusal::Failed)?
            }
            Ok(Err(error)) => {
                // Most often a missing grant: name the call Lambda refused.
                tracing::warn!(
                    function = %self.target.function_name,
                    source_arn = self.source_arn.as_deref().unwrap_or("-"),
                    error = %error.message,
                    "authorizer could not be invoked"
                );
                return Err(Refusal::Failed);
            }
            _ => {
                tracing::warn!(function = %self.target.function_name, "authorizer failed");
                return Err(Refusal::Failed);
            }
        };
        let decision = self.decide(&answer, route_arn);
        if let Some(key) = cache_key
            && decision != Err(Refusal::Failed)
            && let Ok(mut cache) = self.cache.lock()
        {
            let now = Instant::now();
            cache.retain(|_, (expires, _)| *expires > now);
            cache.insert(key, (now + self.ttl, answer));
        }
        decision
    }
}

impl RouteAuth {
    /// Runs the route's authorizer for one request.
    pub async fn check(
        &self,
        invoker: &dyn Invoker,
        http_client: &crate::backend::HttpClient,
        facts: &RequestFacts<'_>,
        route_arn: &str,
    ) -> Result<AuthorizerContext, Refusal> {
        match self.authorizer.as_ref() {
            CompiledAuthorizer::Lambda(lambda) => lambda.authorize(invoker, facts, route_arn).await,
            CompiledAuthorizer::Jwt(jwt) => jwt.authorize(http_client, facts, &self.scopes).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_wildcards() {
        let arn = "arn:aws:execute-api:us-east-1:123:abc/prod/GET/pets/1";
        assert!(arn_matches("arn:aws:execute-api:us-east-1:123:abc/*", arn));
        assert!(arn_matches(
            "arn:aws:execute-api:*:123:abc/prod/GET/pets/?",
            arn
        ));
        assert!(arn_matches("*", arn));
        assert!(!arn_matches(
            "arn:aws:execute-api:us-east-1:123:abc/prod/POST/*",
            arn
        ));
    }

    #[test]
    fn policies_deny_first_then_allow() {
        let arn = "arn:aws:execute-api:us-east-1:1:a/s/GET/x";
        let allow = json!({"Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ["arn:aws:execute-api:us-east-1:1:a/*"]}]});
        assert_eq!(policy_allows(&allow, arn), Some(true));
        let deny = json!({"Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"},
            {"Action": "execute-api:*", "Effect": "Deny", "Resource": arn}
        ]});
        assert_eq!(policy_allows(&deny, arn), Some(false));
        let other = json!({"Statement": {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "arn:aws:execute-api:us-east-1:1:b/*"}});
        assert_eq!(policy_allows(&other, arn), Some(false));
        assert_eq!(policy_allows(&json!({}), arn), None);
    }
}
