//! Compiling a deployed v2 stage into the immutable snapshot requests run against.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use portico_core::arn::{parse_function_name, parse_lambda_integration_uri};
use portico_core::{DeployedStage, StageKey};
use portico_model::apigatewayv2::{Api, Authorizer, Integration, Route, Stage};
use portico_route::{Router, RouterBuilder};
use serde::Deserialize;

use super::authorizer::{CompiledAuthorizer, LambdaAuthorizer, RouteAuth};
use super::cors::CompiledCors;
use super::http_proxy::{Mapping, parse_mapping};
use super::jwt::JwtAuthorizer;

/// A Lambda function an integration or authorizer invokes. The v2 data plane keeps its own
/// (rather than the REST snapshot's) so the two planes evolve independently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LambdaTarget {
    pub region: String,
    pub account_id: String,
    pub function_name: String,
    pub qualifier: Option<String>,
}

/// Which Lambda event and response rules an integration uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PayloadVersion {
    V1,
    V2,
}

/// How a route reaches its backend.
#[derive(Debug)]
pub(crate) enum HttpIntegration {
    /// `AWS_PROXY` with a Lambda function.
    Lambda {
        target: LambdaTarget,
        version: PayloadVersion,
        timeout: Duration,
    },
    /// `HTTP_PROXY` to a URL.
    HttpProxy {
        uri: String,
        /// `None` (or `ANY`) sends the request's own method.
        method: Option<String>,
        timeout: Duration,
        mappings: Vec<Mapping>,
    },
    /// Anything this data plane cannot call; answered 500 and logged.
    Unavailable { reason: String },
}

/// One route of the stage.
pub(crate) struct CompiledRoute {
    pub route_key: String,
    pub integration: Arc<HttpIntegration>,
    /// The route's authorizer (`CUSTOM` or `JWT`), if any.
    pub auth: Option<RouteAuth>,
    /// `AWS_IAM`: only SigV4-signed requests are served.
    pub aws_iam: bool,
}

/// One route of a WebSocket API.
pub(crate) struct WsRoute {
    pub route_key: String,
    pub integration: Arc<HttpIntegration>,
    /// Whether the integration's answer goes back to the client (a route response is set).
    pub two_way: bool,
    /// `$connect` only: the authorizer that decides the handshake.
    pub auth: Option<RouteAuth>,
    /// `$connect` only: `AWS_IAM`, the handshake must be SigV4-signed.
    pub aws_iam: bool,
}

/// The routes of a WebSocket API stage and how a message picks one.
#[derive(Default)]
pub(crate) struct WebSocketRoutes {
    pub routes: std::collections::HashMap<String, Arc<WsRoute>>,
    /// The JSON path under the message body that names the route
    /// (`$request.body.action` → `["action"]`); `None` when the expression reads nothing
    /// from the body, so every message takes `$default`.
    pub selection: Option<Vec<String>>,
}

/// A deployed HTTP or WebSocket API stage, compiled.
pub(crate) struct CompiledHttpStage {
    pub api_id: String,
    pub account_id: String,
    pub region: String,
    pub stage_name: String,
    pub variables: BTreeMap<String, String>,
    pub router: Router<Arc<CompiledRoute>>,
    pub cors: Option<CompiledCors>,
    /// `disableExecuteApiEndpoint`: the default endpoint answers 403.
    pub disabled: bool,
    /// Present for WebSocket APIs (whose `router` is empty).
    pub websocket: Option<WebSocketRoutes>,
}

/// `$request.body.a.b` or `${request.body.a.b}` → `["a", "b"]`.
pub(crate) fn parse_selection(expression: &str) -> Option<Vec<String>> {
    let inner = expression
        .strip_prefix("${")
        .and_then(|rest| rest.strip_suffix('}'))
        .map(|rest| format!("${rest}"))
        .unwrap_or_else(|| expression.to_owned());
    let path = inner.strip_prefix("$request.body.")?;
    let parts: Vec<String> = path.split('.').map(str::to_owned).collect();
    (!parts.iter().any(String::is_empty)).then_some(parts)
}

/// The frozen deployment as `portico-apigwv2` publishes it.
#[derive(Debug, Default, Deserialize)]
struct Frozen {
    #[serde(default)]
    api: Api,
    #[serde(default)]
    routes: Vec<Route>,
    #[serde(default)]
    integrations: Vec<Integration>,
    #[serde(default)]
    authorizers: Vec<Authorizer>,
    /// WebSocket route responses, each naming its route by `routeId`.
    #[serde(default, rename = "routeResponses")]
    route_responses: Vec<serde_json::Value>,
}

/// The authorizer a route names (`CUSTOM` or `JWT`); `Err` when it cannot be used.
fn route_auth(
    route: &Route,
    authorizers: &BTreeMap<&str, Arc<CompiledAuthorizer>>,
) -> Result<Option<RouteAuth>, String> {
    if !matches!(route.authorization_type.as_deref(), Some("CUSTOM" | "JWT")) {
        return Ok(None);
    }
    let id = route.authorizer_id.as_deref().unwrap_or_default();
    let authorizer = authorizers
        .get(id)
        .ok_or_else(|| format!("authorizer {id} is not usable"))?;
    Ok(Some(RouteAuth {
        authorizer: authorizer.clone(),
        scopes: route.authorization_scopes.clone().unwrap_or_default(),
    }))
}

fn compile_authorizer(authorizer: &Authorizer, key: &StageKey) -> Option<CompiledAuthorizer> {
    let sources = authorizer.identity_source.clone().unwrap_or_default();
    match authorizer.authorizer_type.as_deref() {
        Some("JWT") => {
            let config = authorizer.jwt_configuration.as_ref()?;
            Some(CompiledAuthorizer::Jwt(JwtAuthorizer::new(
                config.issuer.clone()?,
                config.audience.clone().unwrap_or_default(),
                sources.first()?.clone(),
            )))
        }
        Some("REQUEST") => Some(CompiledAuthorizer::Lambda(LambdaAuthorizer {
            target: lambda_target(authorizer.authorizer_uri.as_deref()?, key)?,
            version: match authorizer.authorizer_payload_format_version.as_deref() {
                Some("2.0") => PayloadVersion::V2,
                _ => PayloadVersion::V1,
            },
            simple: authorizer.enable_simple_responses == Some(true),
            identity_sources: sources,
            ttl: Duration::from_secs(
                authorizer
                    .authorizer_result_ttl_in_seconds
                    .unwrap_or(0)
                    .clamp(0, 3600) as u64,
            ),
            cache: Default::default(),
            // Lambda checks API Gateway's call against the function's policy unless the
            // authorizer invokes with a role of its own.
            source_arn: authorizer.authorizer_credentials_arn.is_none().then(|| {
                format!(
                    "arn:aws:execute-api:{}:{}:{}/authorizers/{}",
                    key.region,
                    key.account_id,
                    key.api_id,
                    authorizer.authorizer_id.as_deref().unwrap_or_default()
                )
            }),
        })),
        _ => None,
    }
}

fn lambda_target(uri: &str, key: &StageKey) -> Option<LambdaTarget> {
    // HTTP APIs take the function ARN itself; the REST-style invocation URI works too.
    let (function, uri_region) = match parse_lambda_integration_uri(uri) {
        Some(parsed) => (parsed.function, Some(parsed.region)),
        None if uri.starts_with("arn:") => (parse_function_name(uri).ok()?, None),
        None => return None,
    };
    Some(LambdaTarget {
        region: function
            .region
            .or(uri_region)
            .unwrap_or_else(|| key.region.clone()),
        account_id: function
            .account_id
            .unwrap_or_else(|| key.account_id.clone()),
        function_name: function.name,
        qualifier: function.qualifier,
    })
}

/// Replaces `${stageVariables.name}` with the stage's value (empty when unset): stage
/// variables are fixed per deployment, so this happens once, here.
pub(crate) fn resolve_stage_variables(text: &str, variables: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${stageVariables.") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "${stageVariables.".len()..];
        match after.find('}') {
            Some(end) => {
                if let Some(value) = variables.get(&after[..end]) {
                    out.push_str(value);
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn compile_integration(
    integration: &Integration,
    key: &StageKey,
    variables: &BTreeMap<String, String>,
) -> HttpIntegration {
    let timeout = Duration::from_millis(
        integration
            .timeout_in_millis
            .unwrap_or(30_000)
            .clamp(50, 30_000) as u64,
    );
    match integration.integration_type.as_deref() {
        Some("AWS_PROXY") => {
            let uri = resolve_stage_variables(
                integration.integration_uri.as_deref().unwrap_or_default(),
                variables,
            );
            let uri = uri.as_str();
            match lambda_target(uri, key) {
                Some(target) => HttpIntegration::Lambda {
                    target,
                    version: match integration.payload_format_version.as_deref() {
                        Some("2.0") => PayloadVersion::V2,
                        _ => PayloadVersion::V1,
                    },
                    timeout,
                },
                None => HttpIntegration::Unavailable {
                    reason: format!("AWS_PROXY integration URI {uri} names no Lambda function"),
                },
            }
        }
        Some("HTTP_PROXY") => HttpIntegration::HttpProxy {
            uri: resolve_stage_variables(
                integration.integration_uri.as_deref().unwrap_or_default(),
                variables,
            ),
            method: integration.integration_method.clone(),
            timeout,
            mappings: integration
                .request_parameters
                .iter()
                .flatten()
                .filter_map(|(name, value)| {
                    let parsed = parse_mapping(name, value);
                    if parsed.is_none() {
                        tracing::warn!(api = %key.api_id, parameter = %name, "request parameter ignored");
                    }
                    parsed
                })
                .collect(),
        },
        other => HttpIntegration::Unavailable {
            reason: format!(
                "integration type {} is not served by Portico's HTTP API data plane",
                other.unwrap_or("(none)")
            ),
        },
    }
}

/// Compiles a published stage. Never fails: what cannot be served answers 500 at request
/// time, as AWS answers a misconfigured route, and the reason is logged here once.
pub(crate) fn compile(key: &StageKey, deployed: &DeployedStage) -> CompiledHttpStage {
    let stage: Stage = serde_json::from_value(deployed.stage.clone()).unwrap_or_default();
    let variables = stage.stage_variables.clone().unwrap_or_default();
    let frozen: Frozen = serde_json::from_value(deployed.deployment.clone()).unwrap_or_else(|e| {
        tracing::warn!(api = %key.api_id, stage = %key.stage_name, error = %e, "unreadable v2 deployment; the stage serves no routes");
        Frozen::default()
    });
    let websocket_api = frozen.api.protocol_type.as_deref() == Some("WEBSOCKET");
    let integrations: BTreeMap<&str, Arc<HttpIntegration>> = frozen
        .integrations
        .iter()
        .filter_map(|i| {
            let id = i.integration_id.as_deref()?;
            Some((id, Arc::new(compile_integration(i, key, &variables))))
        })
        .collect();
    let authorizers: BTreeMap<&str, Arc<CompiledAuthorizer>> = frozen
        .authorizers
        .iter()
        .filter_map(|a| {
            let id = a.authorizer_id.as_deref()?;
            match compile_authorizer(a, key) {
                Some(compiled) => Some((id, Arc::new(compiled))),
                None => {
                    tracing::warn!(api = %key.api_id, authorizer = id, "authorizer cannot be used; its routes answer 500");
                    None
                }
            }
        })
        .collect();
    let mut builder = RouterBuilder::http_api();
    let mut websocket = websocket_api.then(|| WebSocketRoutes {
        routes: Default::default(),
        selection: frozen
            .api
            .route_selection_expression
            .as_deref()
            .and_then(parse_selection),
    });
    for route in &frozen.routes {
        let Some(route_key) = route.route_key.as_deref() else {
            continue;
        };
        let mut integration = route
            .target
            .as_deref()
            .and_then(|t| t.strip_prefix("integrations/"))
            .and_then(|id| integrations.get(id).cloned())
            .unwrap_or_else(|| {
                Arc::new(HttpIntegration::Unavailable {
                    reason: format!("route {route_key} has no integration target"),
                })
            });
        let auth = match route_auth(route, &authorizers) {
            Ok(auth) => auth,
            // A route whose authorizer cannot run must not be served unauthenticated.
            Err(reason) => {
                integration = Arc::new(HttpIntegration::Unavailable { reason });
                None
            }
        };
        if let HttpIntegration::Unavailable { reason } = integration.as_ref() {
            tracing::warn!(api = %key.api_id, stage = %key.stage_name, route = route_key, %reason, "route will answer 500");
        }
        if let Some(ws) = websocket.as_mut() {
            let two_way = route.route_response_selection_expression.is_some()
                || frozen.route_responses.iter().any(|r| {
                    r.get("routeId").and_then(|v| v.as_str()) == route.route_id.as_deref()
                });
            ws.routes.insert(
                route_key.to_owned(),
                Arc::new(WsRoute {
                    route_key: route_key.to_owned(),
                    integration,
                    two_way,
                    auth,
                    aws_iam: route.authorization_type.as_deref() == Some("AWS_IAM"),
                }),
            );
            continue;
        }
        let compiled = Arc::new(CompiledRoute {
            route_key: route_key.to_owned(),
            integration,
            auth,
            aws_iam: route.authorization_type.as_deref() == Some("AWS_IAM"),
        });
        if let Err(error) = builder.insert_route_key(route_key, compiled) {
            tracing::warn!(api = %key.api_id, route = route_key, %error, "route skipped");
        }
    }
    CompiledHttpStage {
        api_id: key.api_id.clone(),
        account_id: key.account_id.clone(),
        region: key.region.clone(),
        stage_name: key.stage_name.clone(),
        disabled: frozen.api.disable_execute_api_endpoint == Some(true),
        variables,
        router: builder.build(),
        cors: frozen
            .api
            .cors_configuration
            .as_ref()
            .map(CompiledCors::new),
        websocket,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_variables_resolve_at_compile_time() {
        let vars: BTreeMap<String, String> = [("fn".to_owned(), "hello".to_owned())].into();
        assert_eq!(
            resolve_stage_variables(
                "arn:aws:lambda:us-east-1:1:function:${stageVariables.fn}",
                &vars
            ),
            "arn:aws:lambda:us-east-1:1:function:hello"
        );
        assert_eq!(
            resolve_stage_variables("http://h/${stageVariables.none}/x", &vars),
            "http://h//x"
        );
        assert_eq!(
            resolve_stage_variables("http://h/${stageVariables.fn", &vars),
            "http://h/${stageVariables.fn"
        );
    }
}
