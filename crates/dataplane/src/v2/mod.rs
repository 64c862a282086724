//! The HTTP API (API Gateway v2) data plane.
//!
//! Deployed v2 stages arrive through [`StageSink`] (published by `portico-apigwv2`) and are
//! compiled once into immutable [`compile::CompiledHttpStage`] snapshots — a route trie over
//! route keys, the resolved Lambda targets, the CORS configuration — kept per API behind an
//! `ArcSwap`. A request then runs with no store access and no lock:
//!
//! 1. stage: the first path segment when it names a stage, else the `$default` stage (served
//!    at the root), else `404 {"message":"Not Found"}`;
//! 2. CORS preflight answered by the gateway when the API has a CORS configuration;
//! 3. route: exact > `{param}` > `{greedy+}` > `$default`, a method before `ANY`;
//! 4. integration: the Lambda function through [`Invoker`] with the payload 1.0 or 2.0 event;
//! 5. the response rules of the payload version, CORS headers, `apigw-requestid`.
//!
//! The REST data plane ([`crate::DataPlane`]) is separate: HTTP APIs differ in URL layout,
//! events, response inference and every default error.

mod authorizer;
mod compile;
mod connections;
mod cors;
mod event;
mod http_proxy;
mod jwt;
mod response;
mod serve;
mod websocket;
mod ws_session;

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::{Request, Response};
use portico_core::{DeployedStage, Invoker, StageKey, StageSink};

use crate::ClientInfo;
use compile::CompiledHttpStage;
pub use connections::connection_id_from_path;
use websocket::Connections;

/// The stages of one API, by name.
type ApiStages = HashMap<String, Arc<CompiledHttpStage>>;

/// Serves deployed HTTP API stages.
pub struct HttpApiPlane {
    /// Invoke URLs carry no account or region, so APIs are keyed by id alone.
    apis: ArcSwap<HashMap<String, Arc<ApiStages>>>,
    invoker: Arc<dyn Invoker>,
    /// One pooled client for every HTTP_PROXY integration.
    http_client: crate::backend::HttpClient,
    /// Live WebSocket connections, for the `@connections` management API.
    connections: Arc<Connections>,
    /// The keys `AWS_IAM` routes accept.
    credentials: Arc<dyn portico_sigv4::CredentialsProvider>,
}

/// Whether a request asks to upgrade to a WebSocket.
pub fn is_websocket_upgrade(headers: &http::HeaderMap) -> bool {
    websocket::is_upgrade(headers)
}

/// A body over the 10 MB payload limit: `413 {"message":"Request Entity Too Large"}`.
pub fn payload_too_large() -> Response<Bytes> {
    serve::gateway(
        413,
        "Request Entity Too Large",
        &portico_core::ids::extended_request_id(),
    )
}

/// The API id of a host-style invoke URL (`{api-id}.execute-api.{anything}`).
pub fn api_id_from_host(host: &str) -> Option<&str> {
    let hostname = host.split(':').next().unwrap_or(host);
    hostname
        .split_once(".execute-api.")
        .map(|(api, _)| api)
        .filter(|api| !api.is_empty())
}

impl HttpApiPlane {
    pub fn new(invoker: Arc<dyn Invoker>) -> Self {
        Self {
            apis: ArcSwap::from_pointee(HashMap::new()),
            invoker,
            http_client: crate::backend::client(),
            connections: Arc::default(),
            credentials: Arc::new(portico_sigv4::StaticCredentials::new()),
        }
    }

    /// The keys whose SigV4 signatures `AWS_IAM` routes accept (none by default).
    #[must_use]
    pub fn with_credentials(
        mut self,
        credentials: Arc<dyn portico_sigv4::CredentialsProvider>,
    ) -> Self {
        self.credentials = credentials;
        self
    }

    /// Whether `api_id` is a deployed v2 API (so its requests belong here, not to REST).
    pub fn serves(&self, api_id: &str) -> bool {
        self.apis.load().contains_key(api_id)
    }

    /// How many stages are being served.
    pub fn stage_count(&self) -> usize {
        self.apis.load().values().map(|s| s.len()).sum()
    }

    /// Serves one request addressed to `api_id`; `host` is the `Host` the client used.
    pub async fn handle(
        &self,
        api_id: &str,
        host: &str,
        request: Request<Bytes>,
        client: &ClientInfo,
    ) -> Response<Bytes> {
        let stages = self.apis.load().get(api_id).cloned();
        let Some(stages) = stages else {
            return serve::not_found();
        };
        let path = request.uri().path().to_owned();
        let (stage, route_path) = match select_stage(&stages, &path) {
            Some(found) => found,
            None => return serve::not_found(),
        };
        if stage.disabled {
            return serve::gateway(403, "Forbidden", &portico_core::ids::extended_request_id());
        }
        if stage.websocket.is_some() {
            // A WebSocket API answers plain HTTP only on its management API, which the
            // listener sends to `manage`; anything else is refused as AWS refuses it.
            return serve::gateway(403, "Forbidden", &portico_core::ids::extended_request_id());
        }
        let backends = serve::Backends {
            invoker: self.invoker.as_ref(),
            http_client: &self.http_client,
            credentials: self.credentials.as_ref(),
        };
        serve::run(&stage, &backends, host, &route_path, request, client).await
    }
}

impl HttpApiPlane {
    /// Answers a WebSocket upgrade to `api_id`: `$connect` decides, then the connection gets
    /// its own task. `on_upgrade` is the listener's handle on the upgraded socket.
    pub async fn upgrade(
        &self,
        api_id: &str,
        host: &str,
        parts: &http::request::Parts,
        on_upgrade: hyper::upgrade::OnUpgrade,
        client: &ClientInfo,
    ) -> Response<Bytes> {
        let stage = self.apis.load().get(api_id).and_then(|stages| {
            let name = parts.uri.path().trim_matches('/');
            stages.get(name).cloned()
        });
        let Some(stage) = stage.filter(|s| s.websocket.is_some() && !s.disabled) else {
            return serve::gateway(403, "Forbidden", &portico_core::ids::extended_request_id());
        };
        websocket::accept(websocket::Upgrade {
            stage,
            invoker: self.invoker.clone(),
            connections: self.connections.clone(),
            parts,
            on_upgrade,
            domain_name: host.split(':').next().unwrap_or(host).to_owned(),
            source_ip: client.source_ip.clone(),
            http_client: &self.http_client,
            credentials: self.credentials.as_ref(),
        })
        .await
    }

    /// Runs a `@connections` management call (PostToConnection, GetConnection,
    /// DeleteConnection). `host` is the request's `Host`; when it names an API, only that
    /// API's connections are reachable.
    pub fn manage_connection(
        &self,
        host: &str,
        method: &http::Method,
        connection_id: &str,
        body: Bytes,
    ) -> Response<Bytes> {
        connections::manage(
            &self.connections,
            api_id_from_host(host),
            method,
            connection_id,
            body,
        )
    }
}

/// The stage a path names and the path below it: a first segment equal to a stage name wins,
/// else the `$default` stage gets the whole path.
fn select_stage(stages: &ApiStages, path: &str) -> Option<(Arc<CompiledHttpStage>, String)> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let (first, rest) = match trimmed.find('/') {
        Some(i) => (&trimmed[..i], &trimmed[i..]),
        None => (trimmed, ""),
    };
    if first != "$default"
        && let Some(stage) = stages.get(first)
    {
        let rest = if rest.is_empty() { "/" } else { rest };
        return Some((stage.clone(), rest.to_owned()));
    }
    let default = stages.get("$default")?;
    let path = if path.is_empty() { "/" } else { path };
    Some((default.clone(), path.to_owned()))
}

impl StageSink for HttpApiPlane {
    fn publish(&self, key: StageKey, deployed: DeployedStage) {
        let compiled = Arc::new(compile::compile(&key, &deployed));
        self.apis.rcu(|current| {
            let mut next = HashMap::clone(current);
            let mut stages = next
                .get(&key.api_id)
                .map(|s| ApiStages::clone(s))
                .unwrap_or_default();
            stages.insert(key.stage_name.clone(), compiled.clone());
            next.insert(key.api_id.clone(), Arc::new(stages));
            next
        });
    }

    fn remove(&self, key: &StageKey) {
        self.apis.rcu(|current| {
            let mut next = HashMap::clone(current);
            if let Some(existing) = next.get(&key.api_id) {
                let mut stages = ApiStages::clone(existing);
                stages.remove(&key.stage_name);
                if stages.is_empty() {
                    next.remove(&key.api_id);
                } else {
                    next.insert(key.api_id.clone(), Arc::new(stages));
                }
            }
            next
        });
    }

    fn remove_api(&self, _account_id: &str, _region: &str, api_id: &str) {
        self.apis.rcu(|current| {
            let mut next = HashMap::clone(current);
            next.remove(api_id);
            next
        });
    }
}

#[cfg(test)]
mod tests;
