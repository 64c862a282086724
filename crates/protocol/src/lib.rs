//! AWS rest-json and awsJson 1.1, server side.
//!
//! Turns an HTTP request into an operation and its input, and an operation's output or error
//! into the HTTP answer AWS would give. It knows the wire (paths, query strings, headers, JSON
//! bodies, error envelopes) and nothing of what operations mean: services do that.
//!
//! Flow: [`detect`] tells the service and region (from the SigV4 credential scope, else the
//! path), [`OperationRouter::route`] picks the operation from the generated binding tables,
//! [`bind_input`] gathers the input members from path labels, query, headers and body into one
//! JSON object that deserializes into the generated input struct, and [`output`] writes answers.
//! awsJson 1.1 services (CloudWatch Logs) take the operation from `X-Amz-Target`
//! ([`json_target`]) and the whole input from the body ([`json_input`]); their answers are
//! [`OperationOutput::aws_json`] and their errors `{"__type", "message"}` ([`error_response`]).

mod bind;
mod detect;
mod json;
pub mod output;
mod router;

pub use bind::{OperationInput, bind_input, decode};
pub use detect::{Service, SigV4Scope, detect, sigv4_scope};
pub use json::{AMZ_JSON_1_1, LOGS_TARGET_PREFIX, json_input, json_target};
pub use output::{OperationOutput, error_response};
pub use router::{OperationRouter, RoutedOperation};

/// Largest control-plane request body accepted: a 50 MB function zip, base64-encoded inside JSON.
pub const MAX_CONTROL_BODY: usize = 72 * 1024 * 1024;
