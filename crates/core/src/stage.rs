//! How a deployed stage reaches the data plane.
//!
//! The API Gateway control plane freezes an API's definition into a deployment; whenever a
//! stage starts pointing at a deployment (or goes away) it publishes the stage here. The data
//! plane implements [`StageSink`], compiles what it receives into an immutable snapshot (routes,
//! parsed templates) and swaps it in atomically. The payload is the AWS JSON shape of the
//! objects (the same JSON the control plane answers with), so neither side depends on the other.

use serde_json::Value;

/// Identifies a stage across the whole server.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StageKey {
    pub account_id: String,
    pub region: String,
    pub api_id: String,
    pub stage_name: String,
}

/// A deployed stage, as published by the control plane.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployedStage {
    /// The `Stage` object (`stageName`, `deploymentId`, `variables`, `methodSettings`, ...).
    pub stage: Value,
    /// The frozen deployment: `{"id", "createdDate", "api": RestApi, "resources": [Resource
    /// with `resourceMethods` embedded as GetResources?embed=methods answers]}`.
    pub deployment: Value,
}

/// Receives deployed stages.
pub trait StageSink: Send + Sync {
    /// The stage now serves `deployed`; replaces whatever it served before.
    fn publish(&self, key: StageKey, deployed: DeployedStage);
    /// The stage (or its API) is gone.
    fn remove(&self, key: &StageKey);
    /// Every stage of an API is gone.
    fn remove_api(&self, account_id: &str, region: &str, api_id: &str);
}
