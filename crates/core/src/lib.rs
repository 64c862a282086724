//! Foundation of Portico: identifiers, ARNs, the account/region scope, the AWS error type, and
//! the traits through which services reach each other (the data plane invokes functions through
//! [`Invoker`] without depending on the Lambda service; the API Gateway control plane publishes
//! deployed stages through [`StageSink`] without depending on the data plane).
//!
//! No tokio and no IO here: everything is plain data and traits.

pub mod arn;
pub mod error;
pub mod ids;
pub mod invoke;
pub mod logsink;
pub mod scope;
pub mod stage;
pub mod test_invoke;
pub mod usage;

pub use error::AwsError;
pub use invoke::{BoxFuture, InvocationType, InvokeRequest, InvokeResult, Invoker};
pub use logsink::{FunctionLogSink, LogLine, LogTarget};
pub use scope::Scope;
pub use stage::{DeployedStage, StageKey, StageSink};
pub use test_invoke::{
    MethodTester, TestAuthorizerRequest, TestAuthorizerResult, TestInvokeRequest, TestInvokeResult,
};
pub use usage::{DailyUsage, QuotaPeriod, QuotaSpec, UsageLedger};

/// The account id Portico reports unless configured otherwise: the one the AWS documents use.
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";
/// The region assumed when a request carries no SigV4 credential scope.
pub const DEFAULT_REGION: &str = "us-east-1";
