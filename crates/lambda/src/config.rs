//! What the Lambda service needs to know about its surroundings.

use std::path::PathBuf;

/// Lambda service settings.
#[derive(Debug, Clone)]
pub struct LambdaConfig {
    /// Where code zips and their extractions live (`{data_dir}/lambda/...`).
    pub data_dir: PathBuf,
    /// Where the bootstraps shipped inside the binary are written for runtimes to run.
    pub runtime_dir: PathBuf,
    /// The account functions belong to.
    pub account_id: String,
    /// Base URL clients reach this server at, for `GetFunction`'s code `Location`.
    pub public_url: String,
    /// Most execution environments one function version keeps at once; invocations beyond it
    /// wait for a free environment instead of starting more processes than the machine can run.
    pub max_environments_per_function: usize,
    /// How long a warm execution environment may sit unused before it is stopped, as Lambda
    /// reclaims idle environments after some minutes. Its next invocation is a cold start.
    pub idle_timeout: std::time::Duration,
    /// Which CPUs runtimes run on, when the server's workers keep CPUs of their own; `None`:
    /// wherever the kernel puts them.
    pub placement: Option<std::sync::Arc<portico_sandbox::CpuPlacement>>,
}
