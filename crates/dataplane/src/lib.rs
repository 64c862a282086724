//! The execute-api data plane: serves deployed REST API stages.
//!
//! Deployed stages arrive through [`StageSink`] and are compiled once into immutable
//! snapshots ([`snapshot::CompiledStage`]: a route trie, parsed mapping templates, compiled
//! selection patterns), published with `ArcSwap`. A request then runs in fixed phases with
//! no store access, no template parsing and no global lock:
//!
//! 1. target: which API and stage the URL names ([`target::InvokeTarget`]);
//! 2. route: resource and method from the stage's trie (else `403 Missing Authentication Token`);
//! 3. integration request: parameter capture and template rendering (non-proxy) or the proxy event;
//! 4. integration: the Lambda function through [`Invoker`], an HTTP backend, or MOCK;
//! 5. integration response: selection, response template, status and headers;
//! 6. gateway responses for every failure, worded as AWS words them.

mod authorizer;
mod backend;
mod cache;
mod content;
mod context;
mod custom;
mod gateway;
mod iam;
mod integration;
mod json_out;
mod lambda;
mod mapping;
mod params;
mod proxy;
pub mod snapshot;
pub mod target;
mod test_authorizer;
mod test_invoke;
pub mod throttle;
mod tls;
mod usage;
mod usage_ledger;
pub mod v2;
mod validate;

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::{Request, Response};
use portico_core::{DeployedStage, Invoker, StageKey, StageSink};
pub use portico_sigv4::{CredentialsProvider, StaticCredentials};

pub use gateway::GatewayResponse;
use snapshot::CompiledStage;
pub use target::{InvokeTarget, parse_invoke_target};

/// Stages are addressed by API id and stage name: invoke URLs carry no account or region.
type StageMap = HashMap<(String, String), Arc<CompiledStage>>;

/// The execute-api data plane.
pub struct DataPlane {
    stages: ArcSwap<StageMap>,
    invoker: Arc<dyn Invoker>,
    /// One pooled client for every HTTP and HTTP_PROXY integration.
    http_client: backend::HttpClient,
    /// Usage-plan quota counters, kept across stage recompiles.
    quotas: usage::QuotaCounters,
    /// The keys `AWS_IAM` methods accept signatures from (see `iam`).
    credentials: Arc<dyn CredentialsProvider>,
}

/// Facts about the connection a request came in on.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// The immediate TCP peer (`$context.identity.sourceIp`).
    pub source_ip: String,
}

impl DataPlane {
    pub fn new(invoker: Arc<dyn Invoker>) -> Self {
        Self {
            stages: ArcSwap::from_pointee(HashMap::new()),
            invoker,
            http_client: backend::client(),
            quotas: usage::QuotaCounters::default(),
            credentials: Arc::new(StaticCredentials::new()),
        }
    }

    /// Sets the keys `AWS_IAM` methods accept; without any, every signed request to such a
    /// method is answered as an unknown key.
    pub fn with_credentials(mut self, credentials: Arc<dyn CredentialsProvider>) -> Self {
        self.credentials = credentials;
        self
    }

    /// Serves one request addressed to a deployed API.
    pub async fn handle(
        &self,
        target: InvokeTarget,
        request: Request<Bytes>,
        client: &ClientInfo,
    ) -> Response<Bytes> {
        let stages = self.stages.load();
        let Some(stage) = stages
            .get(&(target.api_id.clone(), target.stage.clone()))
            .cloned()
        else {
            drop(stages);
            return if self.api_exists(&target.api_id) {
                GatewayResponse::forbidden().into_response(&portico_core::ids::request_id())
            } else {
                GatewayResponse::unknown_api(&target.api_id)
                    .into_response(&portico_core::ids::request_id())
            };
        };
        drop(stages);
        integration::run(
            &stage,
            self.invoker.as_ref(),
            &self.http_client,
            self.credentials.as_ref(),
            target,
            request,
            client,
        )
        .await
    }

    fn api_exists(&self, api_id: &str) -> bool {
        self.stages.load().keys().any(|(api, _)| api == api_id)
    }

    /// How many stages are being served.
    pub fn stage_count(&self) -> usize {
        self.stages.load().len()
    }
}

impl StageSink for DataPlane {
    fn publish(&self, key: StageKey, deployed: DeployedStage) {
        let mut stage = snapshot::compile(&key, &deployed);
        self.quotas.adopt(&mut stage.api_keys);
        let compiled = Arc::new(stage);
        self.stages.rcu(|current| {
            let mut next = StageMap::clone(current);
            next.insert(
                (key.api_id.clone(), key.stage_name.clone()),
                compiled.clone(),
            );
            next
        });
    }

    fn remove(&self, key: &StageKey) {
        self.stages.rcu(|current| {
            let mut next = StageMap::clone(current);
            next.remove(&(key.api_id.clone(), key.stage_name.clone()));
            next
        });
    }

    fn remove_api(&self, _account_id: &str, _region: &str, api_id: &str) {
        self.stages.rcu(|current| {
            let mut next = StageMap::clone(current);
            next.retain(|(api, _), _| api != api_id);
            next
        });
    }
}
