//! REST API Lambda authorizers (`TOKEN` and `REQUEST`) on the request path.
//!
//! A method with `authorizationType: CUSTOM` runs its authorizer after the route is matched
//! and before the API key, throttling and the integration. The authorizer function answers
//! with a principal, an IAM policy document and an optional `context`; the policy is evaluated
//! against the request's method ARN (explicit Deny wins, then any Allow), and the principal and
//! context reach `$context.authorizer` and the proxy event's `requestContext.authorizer`.
//! Answers are cached per identity-source values for the authorizer's TTL, and a cached answer
//! is evaluated again against each new method ARN, as AWS does.
//!
//! Every refusal is a gateway response (so an API's customisation applies): UNAUTHORIZED
//! (identity missing or rejected, or the function failed with `Unauthorized`), ACCESS_DENIED
//! (policy), AUTHORIZER_CONFIGURATION_ERROR (the function could not be invoked or failed) and
//! AUTHORIZER_FAILURE (its answer is not a valid authorizer result). Cognito user-pool
//! authorizers are not served: their methods answer AUTHORIZER_CONFIGURATION_ERROR.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use portico_core::{InvocationType, InvokeRequest, Invoker, StageKey};
use portico_model::apigateway::{Authorizer, Method};
use regex::Regex;
use serde_json::{Map, Value};

use crate::gateway::GatewayResponse;
use crate::integration::Exchange;
use crate::snapshot::LambdaTarget;

/// How long API Gateway waits for an authorizer function.
const AUTHORIZER_TIMEOUT: Duration = Duration::from_secs(10);
/// Cached answers kept per authorizer before expired ones are swept.
const CACHE_SWEEP_AT: usize = 1024;
/// Most answers cached per authorizer: beyond it (every entry still live), new answers are not
/// cached, so callers inventing identities cannot grow the cache without bound.
const CACHE_MAX: usize = 16 * 1024;

/// Where a request's identity comes from.
enum Kind {
    /// One header; optionally checked against `identityValidationExpression` first.
    Token {
        header: String,
        validation: Option<Regex>,
    },
    /// Every listed source must be present (`method.request.header.X`,
    /// `method.request.querystring.X`, `stageVariables.X`, `context.X`).
    Request { sources: Vec<String> },
    /// A type Portico does not run (Cognito user pools).
    Unsupported(String),
}

/// One authorizer of a deployed stage.
pub struct CompiledAuthorizer {
    pub(crate) id: String,
    kind: Kind,
    /// `None` when `authorizerUri` names no Lambda function.
    target: Option<LambdaTarget>,
    /// `authorizerCredentials` names a role: the function's resource policy is not consulted.
    with_credentials: bool,
    ttl: Duration,
    /// Function answers by identity values, while their TTL runs.
    cache: Mutex<HashMap<String, (Instant, Arc<Value>)>>,
}

/// Compiles a deployment's authorizers, by id.
pub(crate) fn compile_all(
    authorizers: &[Authorizer],
    key: &StageKey,
    lambda_target: impl Fn(Option<&str>) -> Option<LambdaTarget>,
) -> HashMap<String, Arc<CompiledAuthorizer>> {
    authorizers
        .iter()
        .filter_map(|a| {
            let id = a.id.clone()?;
            let sources = a.identity_source.as_deref().unwrap_or_default();
            let kind = match a.r#type.as_deref() {
                Some("TOKEN") => Kind::Token {
                    header: sources
                        .strip_prefix("method.request.header.")
                        .unwrap_or("Authorization")
                        .to_owned(),
                    validation: a.identity_validation_expression.as_deref().and_then(|e| {
                        // AWS matches the whole token against the expression.
                        Regex::new(&format!("^(?:{e})$"))
                            .map_err(|error| {
                                tracing::warn!(api = %key.api_id, authorizer = %id, %error, "identityValidationExpression does not compile; tokens are not checked against it");
                            })
                            .ok()
                    }),
                },
                Some("REQUEST") => Kind::Request {
                    sources: sources
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                },
                other => Kind::Unsupported(other.unwrap_or("none").to_owned()),
            };
            let compiled = CompiledAuthorizer {
                id: id.clone(),
                kind,
                target: lambda_target(a.authorizer_uri.as_deref()),
                with_credentials: a.authorizer_credentials.is_some(),
                ttl: Duration::from_secs(
                    a.authorizer_result_ttl_in_seconds.unwrap_or(300).clamp(0, 3600) as u64,
                ),
                cache: Mutex::new(HashMap::new()),
            };
            Some((id, Arc::new(compiled)))
        })
        .collect()
}

/// The authorizer a method runs: its own for `CUSTOM` and `COGNITO_USER_POOLS` methods (one
/// whose id names nothing answers AUTHORIZER_CONFIGURATION_ERROR), none otherwise.
pub(crate) fn for_method(
    method: &Method,
    authorizers: &HashMap<String, Arc<CompiledAuthorizer>>,
    key: &StageKey,
) -> Option<Arc<CompiledAuthorizer>> {
    if !matches!(
        method.authorization_type.as_deref(),
        Some("CUSTOM" | "COGNITO_USER_POOLS")
    ) {
        return None;
    }
    let id = method.authorizer_id.clone().unwrap_or_default();
    if let Some(found) = authorizers.get(&id) {
        return Some(found.clone());
    }
    tracing::warn!(api = %key.api_id, authorizer = %id, "a method names an authorizer the deployment does not have");
    Some(Arc::new(CompiledAuthorizer {
        id,
        kind: Kind::Unsupported("missing".to_owned()),
        target: None,
        with_credentials: false,
        ttl: Duration::ZERO,
        cache: Mutex::new(HashMap::new()),
    }))
}

impl GatewayResponse {
    /// UNAUTHORIZED: the identity is missing, fails validation, or the authorizer said so.
    pub fn unauthorized() -> Self {
        Self {
            status: 401,
            error_type: "UnauthorizedException",
            body: "{\"message\":\"Unauthorized\"}".to_owned(),
            validation_error: String::new(),
            response_type: "UNAUTHORIZED",
            message: "Unauthorized".to_owned(),
        }
    }

    /// ACCESS_DENIED from an authorizer's policy (its body says `Message`, capitalised).
    pub fn authorizer_denied(explicit: bool) -> Self {
        let message = if explicit {
            "User is not authorized to access this resource with an explicit deny"
        } else {
            "User is not authorized to access this resource"
        };
        Self {
            status: 403,
            error_type: "AccessDeniedException",
            body: format!("{{\"Message\":\"{message}\"}}"),
            validation_error: String::new(),
            response_type: "ACCESS_DENIED",
            message: message.to_owned(),
        }
    }

    /// AUTHORIZER_CONFIGURATION_ERROR: the authorizer could not be invoked, or failed.
    pub fn authorizer_configuration_error() -> Self {
        Self {
            status: 500,
            error_type: "AuthorizerConfigurationException",
            body: "{\"message\":null}".to_owned(),
            validation_error: String::new(),
            response_type: "AUTHORIZER_CONFIGURATION_ERROR",
            message: String::new(),
        }
    }

    /// AUTHORIZER_FAILURE: the authorizer's answer is not a valid result.
    pub fn authorizer_failure() -> Self {
        Self {
            status: 500,
            error_type: "AuthorizerConfigurationException",
            body: "{\"message\":null}".to_owned(),
            validation_error: String::new(),
            response_type: "AUTHORIZER_FAILURE",
            message: String::new(),
        }
    }
}

/// What a policy document says about one method ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allow,
    /// A Deny statement matches: it wins over every Allow.
    ExplicitDeny,
    /// No statement matches.
    NoMatch,
}

/// IAM wildcard match: `*` is any run of characters (slashes included), `?` one character.
pub(crate) fn wildcard(pattern: &str, value: &str) -> bool {
    let (p, v) = (pattern.as_bytes(), value.as_bytes());
    let (mut pi, mut vi) = (0, 0);
    // Where the last `*` was and how much of `value` it has swallowed so far.
    let mut backtrack: Option<(usize, usize)> = None;
    while vi < v.len() {
        match p.get(pi) {
            Some(b'*') => {
                backtrack = Some((pi, vi));
                pi += 1;
            }
            Some(&c) if c == b'?' || c == v[vi] => {
                pi += 1;
                vi += 1;
            }
            _ => match backtrack {
                Some((star, swallowed)) => {
                    pi = star + 1;
                    vi = swallowed + 1;
                    backtrack = Some((star, swallowed + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

fn strings(value: Option<&Value>) -> Option<Vec<&str>> {
    match value? {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(items) => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

/// Evaluates a policy document for `execute-api:Invoke` on `arn`; `None` when the document
/// is not one API Gateway accepts.
pub(crate) fn evaluate_policy(policy: &Value, arn: &str) -> Option<Verdict> {
    let statements: Vec<&Value> = match policy.get("Statement")? {
        Value::Array(list) => list.iter().collect(),
        single @ Value::Object(_) => vec![single],
        _ => return None,
    };
    let mut verdict = Verdict::NoMatch;
    for statement in statements {
        let effect = statement.get("Effect").and_then(Value::as_str)?;
        let actions = strings(statement.get("Action"))?;
        let resources = strings(statement.get("Resource"))?;
        let acts = actions
            .iter()
            .any(|a| wildcard(&a.to_ascii_lowercase(), "execute-api:invoke"));
        if !acts || !resources.iter().any(|r| wildcard(r, arn)) {
            continue;
        }
        match effect {
            "Deny" => return Some(Verdict::ExplicitDeny),
            "Allow" => verdict = Verdict::Allow,
            _ => return None,
        }
    }
    Some(verdict)
}

/// `$context.authorizer`: the principal and the context entries, every value a string.
/// `None` when the answer is not a valid authorizer result.
fn granted(answer: &Value) -> Option<Value> {
    let mut out = Map::new();
    match answer.get("principalId") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            out.insert("principalId".into(), s.clone().into());
        }
        Some(scalar @ (Value::Number(_) | Value::Bool(_))) => {
            out.insert("principalId".into(), scalar.to_string().into());
        }
        Some(_) => return None,
    }
    match answer.get("context") {
        None | Some(Value::Null) => {}
        Some(Value::Object(context)) => {
            for (key, value) in context {
                let text = match value {
                    Value::String(s) => s.clone(),
                    Value::Number(_) | Value::Bool(_) => value.to_string(),
                    // Objects and arrays are not allowed in an authorizer context.
                    _ => return None,
                };
                out.insert(key.clone(), text.into());
            }
        }
        Some(_) => return None,
    }
    Some(Value::Object(out))
}

/// What an authorizer that let a request through leaves for the rest of the pipeline.
pub(crate) struct Granted {
    /// `$context.authorizer`: the principal and the context entries, as strings.
    pub context: Value,
    /// `usageIdentifierKey`: the API key when the API's key source is `AUTHORIZER`.
    pub usage_identifier_key: Option<String>,
}

/// Runs the method's authorizer, if it has one.
pub(crate) async fn run(
    exchange: &Exchange<'_>,
    invoker: &dyn Invoker,
) -> Result<Option<Granted>, GatewayResponse> {
    match &exchange.method.authorizer {
        Some(authorizer) => authorizer.authorize(exchange, invoker).await.map(Some),
        None => Ok(None),
    }
}

impl CompiledAuthorizer {
    /// The identity values the cache is keyed by; `None` when one is missing (401).
    pub(crate) fn identity(&self, exchange: &Exchange<'_>) -> Result<Vec<String>, GatewayResponse> {
        match &self.kind {
            Kind::Token { header, validation } => {
                let token = exchange
                    .parts
                    .header(header)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(GatewayResponse::unauthorized)?;
                if validation.as_ref().is_some_and(|re| !re.is_match(token)) {
                    return Err(GatewayResponse::unauthorized());
                }
                Ok(vec![token.to_owned()])
            }
            Kind::Request { sources } => sources
                .iter()
                .map(|s| identity_value(s, exchange).ok_or_else(GatewayResponse::unauthorized))
                .collect(),
            Kind::Unsupported(kind) => {
                tracing::warn!(api = %exchange.stage.api_id, authorizer = %self.id, %kind, "Execution failed due to configuration error: authorizers of this type are not supported by Portico");
                Err(GatewayResponse::authorizer_configuration_error())
            }
        }
    }

    pub(crate) fn event(
        &self,
        exchange: &Exchange<'_>,
        method_arn: &str,
        identity: &[String],
    ) -> Value {
        let mut event = Map::new();
        match self.kind {
            Kind::Token { .. } => {
                event.insert("type".into(), "TOKEN".into());
                event.insert(
                    "authorizationToken".into(),
                    identity.first().cloned().unwrap_or_default().into(),
                );
                event.insert("methodArn".into(), method_arn.into());
            }
            _ => {
                event.insert("type".into(), "REQUEST".into());
                event.insert("methodArn".into(), method_arn.into());
                // The proxy event's request facts, without the body.
                if let Ok(Value::Object(proxy)) =
                    serde_json::from_slice::<Value>(&crate::proxy::event(exchange))
                {
                    for (key, value) in proxy {
                        if key != "body" && key != "isBase64Encoded" {
                            event.insert(key, value);
                        }
                    }
                }
            }
        }
        Value::Object(event)
    }

    /// The authorizer's source ARN for the function's resource policy.
    fn source_arn(&self, exchange: &Exchange<'_>) -> String {
        let stage = exchange.stage;
        format!(
            "arn:aws:execute-api:{}:{}:{}/authorizers/{}",
            stage.region, stage.account_id, stage.api_id, self.id
        )
    }

    pub(crate) async fn call(
        &self,
        exchange: &Exchange<'_>,
        invoker: &dyn Invoker,
        event: &Value,
    ) -> Result<Value, GatewayResponse> {
        let api = &exchange.stage.api_id;
        let Some(target) = &self.target else {
            tracing::warn!(%api, authorizer = %self.id, "Execution failed due to configuration error: the authorizer URI names no Lambda function");
            return Err(GatewayResponse::authorizer_configuration_error());
        };
        let source_arn = self.source_arn(exchange);
        let request = InvokeRequest {
            region: target.region.clone(),
            account_id: target.account_id.clone(),
            function_name: target.function_name.clone(),
            qualifier: target.qualifier.clone(),
            payload: Bytes::from(serde_json::to_vec(event).unwrap_or_default()),
            invocation_type: InvocationType::RequestResponse,
            client_context: None,
            source_arn: (!self.with_credentials).then(|| source_arn.clone()),
            log_tail: false,
        };
        // Only a test invocation records these lines: real requests skip the formatting.
        if exchange.log.is_some() {
            exchange.trace_lambda_request(&request);
        }
        let started = exchange.trace_clock();
        let result = match tokio::time::timeout(AUTHORIZER_TIMEOUT, invoker.invoke(request)).await {
            Err(_) => {
                tracing::warn!(%api, authorizer = %self.id, "Execution failed due to configuration error: the authorizer timed out");
                return Err(GatewayResponse::authorizer_configuration_error());
            }
            Ok(Err(error)) if error.code == "AccessDeniedException" => {
                let function = match &target.qualifier {
                    Some(q) => format!("{}:{q}", target.function_name),
                    None => target.function_name.clone(),
                };
                tracing::warn!(
                    %api,
                    authorizer = %self.id,
                    function = %function,
                    source_arn = %source_arn,
                    grant = %format!(
                        "aws lambda add-permission --function-name {function} --statement-id apigateway-{api}-authorizer-{} --action lambda:InvokeFunction --principal apigateway.amazonaws.com --source-arn \"{source_arn}\"",
                        self.id
                    ),
                    "Execution failed due to configuration error: Invalid permissions on Lambda function"
                );
                return Err(GatewayResponse::authorizer_configuration_error());
            }
            Ok(Err(error)) => {
                tracing::warn!(%api, authorizer = %self.id, %error, "Execution failed due to configuration error: the authorizer function could not be invoked");
                return Err(GatewayResponse::authorizer_configuration_error());
            }
            Ok(Ok(result)) => result,
        };
        if exchange.log.is_some() {
            exchange.trace_lambda_response(&result, started);
        }
        let answer = serde_json::from_slice::<Value>(&result.payload).ok();
        if result.function_error.is_some() {
            // A function failing with exactly "Unauthorized" asks for a 401.
            let message = answer
                .as_ref()
                .and_then(|a| a.get("errorMessage"))
                .and_then(Value::as_str);
            if message == Some("Unauthorized") {
                return Err(GatewayResponse::unauthorized());
            }
            tracing::warn!(%api, authorizer = %self.id, error = ?message, "Execution failed due to configuration error: the authorizer function failed");
            return Err(GatewayResponse::authorizer_configuration_error());
        }
        answer.ok_or_else(|| {
            tracing::warn!(%api, authorizer = %self.id, "Execution failed due to configuration error: Invalid JSON in response");
            GatewayResponse::authorizer_failure()
        })
    }

    /// A (possibly cached) answer evaluated for this request's method ARN.
    pub(crate) fn decide(
        &self,
        exchange: &Exchange<'_>,
        answer: &Value,
        method_arn: &str,
    ) -> Result<Granted, GatewayResponse> {
        let malformed = || {
            tracing::warn!(api = %exchange.stage.api_id, authorizer = %self.id, "Execution failed due to configuration error: the authorizer's answer is not a valid authorizer result");
            GatewayResponse::authorizer_failure()
        };
        let policy = answer.get("policyDocument").ok_or_else(malformed)?;
        let context = granted(answer).ok_or_else(malformed)?;
        match evaluate_policy(policy, method_arn).ok_or_else(malformed)? {
            Verdict::Allow => Ok(Granted {
                context,
                usage_identifier_key: answer
                    .get("usageIdentifierKey")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            }),
            Verdict::ExplicitDeny => Err(GatewayResponse::authorizer_denied(true)),
            Verdict::NoMatch => Err(GatewayResponse::authorizer_denied(false)),
        }
    }

    /// The identity sources, in the order [`Self::identity`] returns their values (for the
    /// test log's `Incoming identity` line).
    pub(crate) fn sources(&self) -> Vec<String> {
        match &self.kind {
            Kind::Token { header, .. } => vec![format!("method.request.header.{header}")],
            Kind::Request { sources } => sources.clone(),
            Kind::Unsupported(_) => Vec::new(),
        }
    }

    /// Runs the authorizer for one request.
    pub(crate) async fn authorize(
        &self,
        exchange: &Exchange<'_>,
        invoker: &dyn Invoker,
    ) -> Result<Granted, GatewayResponse> {
        let identity = self.identity(exchange)?;
        let method_arn = method_arn(exchange);
        // Values are length-prefixed so that no two identity lists share a key.
        let cache_key = (!self.ttl.is_zero()).then(|| {
            identity
                .iter()
                .map(|v| format!("{}:{v}", v.len()))
                .collect::<String>()
        });
        let now = Instant::now();
        let cached = cache_key.as_ref().and_then(|key| {
            let cache = self.cache.lock().ok()?;
            let (expires, answer) = cache.get(key)?;
            (*expires > now).then(|| answer.clone())
        });
        if let Some(answer) = cached {
            return self.decide(exchange, &answer, &method_arn);
        }
        let event = self.event(exchange, &method_arn, &identity);
        let answer = Arc::new(self.call(exchange, invoker, &event).await?);
        let decision = self.decide(exchange, &answer, &method_arn);
        // Only valid results are cached: Allow and Deny alike.
        let valid = !matches!(&decision, Err(e) if e.response_type == "AUTHORIZER_FAILURE");
        if let Some(key) = cache_key
            && valid
            && let Ok(mut cache) = self.cache.lock()
        {
            if cache.len() >= CACHE_SWEEP_AT {
                cache.retain(|_, (expires, _)| *expires > now);
            }
            if cache.len() < CACHE_MAX {
                cache.insert(key, (now + self.ttl, answer));
            }
        }
        decision
    }
}

/// The request's method ARN: the stage, the verb and the path as requested (not the resource
/// template), as the authorizer's `methodArn` carries it.
fn method_arn(exchange: &Exchange<'_>) -> String {
    method_arn_in(exchange, &exchange.stage.stage_name)
}

pub(crate) fn method_arn_in(exchange: &Exchange<'_>, stage_name: &str) -> String {
    let stage = exchange.stage;
    format!(
        "arn:aws:execute-api:{}:{}:{}/{}/{}/{}",
        stage.region,
        stage.account_id,
        stage.api_id,
        stage_name,
        exchange.meta.http_method,
        exchange.meta.path.trim_start_matches('/')
    )
}

/// One `REQUEST` identity source's value; `None` when absent or empty.
fn identity_value(source: &str, exchange: &Exchange<'_>) -> Option<String> {
    let parts = &exchange.parts;
    let value = if let Some(name) = source.strip_prefix("method.request.header.") {
        parts.header(name).map(str::to_owned)
    } else if let Some(name) = source.strip_prefix("method.request.querystring.") {
        parts
            .query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    } else if let Some(name) = source.strip_prefix("method.request.multivaluequerystring.") {
        let values: Vec<&str> = parts
            .query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    } else if let Some(name) = source.strip_prefix("method.request.multivalueheader.") {
        let values: Vec<&str> = parts
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    } else if let Some(name) = source.strip_prefix("stageVariables.") {
        exchange.stage.variables.get(name).cloned()
    } else if let Some(path) = source.strip_prefix("context.") {
        let context =
            crate::context::template_context(exchange.stage, exchange.method, &exchange.meta);
        path.split('.')
            .try_fold(&context, |v, k| v.get(k))
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            })
    } else {
        None
    };
    value.filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/pets/1";

    #[test]
    fn wildcards() {
        assert!(wildcard(
            "arn:aws:execute-api:us-east-1:123456789012:abc/*",
            ARN
        ));
        assert!(wildcard("arn:aws:execute-api:*:*:abc/prod/GET/pets/?", ARN));
        assert!(wildcard("*", ARN));
        assert!(wildcard("*/GET/*", ARN));
        assert!(!wildcard(
            "arn:aws:execute-api:us-east-1:123456789012:abc/*/POST/*",
            ARN
        ));
        assert!(!wildcard(
            "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/pets/??",
            ARN
        ));
        assert!(!wildcard("abc", "abcd"));
        assert!(wildcard("a*b*c", "axxbyyc"));
        assert!(!wildcard("a*b*c", "axxbyy"));
    }

    #[test]
    fn deny_wins_then_allow_then_no_match() {
        let allow = json!({"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ["arn:aws:execute-api:us-east-1:123456789012:abc/*"]}
        ]});
        assert_eq!(evaluate_policy(&allow, ARN), Some(Verdict::Allow));
        let deny = json!({"Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"},
            {"Action": "execute-api:*", "Effect": "Deny", "Resource": ARN}
        ]});
        assert_eq!(evaluate_policy(&deny, ARN), Some(Verdict::ExplicitDeny));
        let other = json!({"Statement": {"Action": "execute-api:Invoke", "Effect": "Allow",
            "Resource": "arn:aws:execute-api:us-east-1:123456789012:abc/prod/POST/*"}});
        assert_eq!(evaluate_policy(&other, ARN), Some(Verdict::NoMatch));
        let not_invoke =
            json!({"Statement": [{"Action": "s3:GetObject", "Effect": "Allow", "Resource": "*"}]});
        assert_eq!(evaluate_policy(&not_invoke, ARN), Some(Verdict::NoMatch));
        assert_eq!(evaluate_policy(&json!({}), ARN), None);
        let bad_effect =
            json!({"Statement": [{"Action": "*", "Effect": "Maybe", "Resource": "*"}]});
        assert_eq!(evaluate_policy(&bad_effect, ARN), None);
    }

    #[test]
    fn context_values_are_stringified() {
        let answer = json!({"principalId": "user", "context": {"s": "x", "n": 1, "b": true}});
        assert_eq!(
            granted(&answer),
            Some(json!({"principalId": "user", "s": "x", "n": "1", "b": "true"}))
        );
        assert_eq!(granted(&json!({"context": {"o": {"a": 1}}})), None);
        assert_eq!(granted(&json!({"context": {"a": [1]}})), None);
        assert_eq!(granted(&json!({})), Some(json!({})));
    }

    #[test]
    fn refusals_are_worded_as_aws() {
        let denied = GatewayResponse::authorizer_denied(true);
        assert_eq!(
            denied.body,
            r#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#
        );
        assert_eq!(
            GatewayResponse::authorizer_denied(false).body,
            r#"{"Message":"User is not authorized to access this resource"}"#
        );
        assert_eq!(
            GatewayResponse::unauthorized().body,
            r#"{"message":"Unauthorized"}"#
        );
        assert_eq!(GatewayResponse::authorizer_failure().status, 500);
    }
}
