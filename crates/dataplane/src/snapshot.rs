//! Compiling a deployed stage into what requests read: done once per deployment.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use portico_core::arn::parse_lambda_integration_uri;
use portico_core::{DeployedStage, StageKey};
use portico_model::apigateway::{
    Authorizer, GatewayResponse as GatewayResponseModel, Integration, IntegrationResponse, Method,
    MethodSetting, RequestValidator, Resource, RestApi,
};
use portico_route::{Router, RouterBuilder};
use portico_vtl::Template;
use regex::Regex;
use serde::Deserialize;

use crate::cache::{MethodCache, StageCache};
use crate::content::ContentHandling;
use crate::custom::CompiledGatewayResponse;
use crate::mapping::{
    RequestParameter, Source, UriPart, compile_request_parameters, compile_uri,
    resolve_stage_variables,
};
use crate::throttle::TokenBucket;
use crate::usage::KeyUsage;

/// A stage ready to serve.
pub struct CompiledStage {
    pub api_id: String,
    pub account_id: String,
    pub region: String,
    pub stage_name: String,
    pub deployment_id: String,
    pub variables: BTreeMap<String, String>,
    /// The API's `binaryMediaTypes` (`image/png`, `image/*`, `*/*`).
    pub binary_media_types: Vec<String>,
    /// Customised gateway responses by type.
    pub gateway_responses: HashMap<String, CompiledGatewayResponse>,
    /// `apiKeySource: AUTHORIZER`: the API key is the Lambda authorizer's `usageIdentifierKey`
    /// rather than the `x-api-key` header.
    pub api_key_from_authorizer: bool,
    /// API keys of the usage plans that name this stage, by key value.
    pub api_keys: HashMap<String, KeyUsage>,
    /// The stage cache, when `cacheClusterEnabled`.
    pub cache: Option<StageCache>,
    pub router: Router<Arc<CompiledMethod>>,
}

impl CompiledStage {
    /// Whether a `Content-Type` or `Accept` media type is one of the binary media types.
    pub fn is_binary(&self, media_type: &str) -> bool {
        let wanted = media_type.split(';').next().unwrap_or("").trim();
        let Some((kind, sub)) = wanted.split_once('/') else {
            return false;
        };
        self.binary_media_types.iter().any(|listed| {
            let Some((lk, ls)) = listed.split_once('/') else {
                return false;
            };
            (lk == "*" || lk.eq_ignore_ascii_case(kind))
                && (ls == "*" || ls.eq_ignore_ascii_case(sub))
        })
    }
}

/// One method of one resource.
pub struct CompiledMethod {
    pub resource_id: String,
    pub resource_path: String,
    pub http_method: String,
    /// Parameters a request validator requires, checked before the integration.
    pub required_parameters: Vec<RequiredParameter>,
    /// Body validation against the method's request models, when its validator asks for it.
    pub body_validation: Option<crate::validate::BodyValidation>,
    pub api_key_required: bool,
    /// `authorizationType: AWS_IAM`: requests must be SigV4-signed (see `iam`).
    pub aws_iam: bool,
    /// The stage's throttling for this method (`methodSettings` for it, else `*/*`).
    pub throttle: Option<TokenBucket>,
    /// Caching, when the stage has a cache and the method's settings enable it.
    pub cache: Option<MethodCache>,
    /// The Lambda authorizer of an `authorizationType: CUSTOM` method.
    pub authorizer: Option<Arc<crate::authorizer::CompiledAuthorizer>>,
    pub integration: CompiledIntegration,
}

/// The method's entry of the stage's `methodSettings` (its own, else `*/*`).
fn setting<'a>(
    settings: &'a BTreeMap<String, MethodSetting>,
    path: &str,
    verb: &str,
) -> Option<&'a MethodSetting> {
    settings
        .get(&format!("{}/{verb}", path.trim_start_matches('/')))
        .or_else(|| settings.get("*/*"))
}

/// How the method caches, when the stage cache is on and its settings enable caching.
fn method_cache(
    setting: Option<&MethodSetting>,
    method: &Method,
    resource_id: &str,
    variables: &BTreeMap<String, String>,
) -> Option<MethodCache> {
    let setting = setting.filter(|s| s.caching_enabled == Some(true))?;
    let ttl = setting.cache_ttl_in_seconds.unwrap_or(300);
    if ttl <= 0 {
        return None;
    }
    let integration = method.method_integration.as_ref();
    Some(MethodCache {
        ttl: Duration::from_secs(ttl as u64),
        namespace: integration
            .and_then(|i| i.cache_namespace.clone())
            .unwrap_or_else(|| resource_id.to_owned()),
        key_parameters: integration
            .and_then(|i| i.cache_key_parameters.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|p| Source::parse(p, variables))
            .collect(),
        require_authorization: setting.require_authorization_for_cache_control != Some(false),
        fail_unauthorized: setting
            .unauthorized_cache_control_header_strategy
            .as_deref()
            == Some("FAIL_WITH_403"),
    })
}

/// The method's throttling bucket from the stage's `methodSettings`.
fn throttle(
    settings: &BTreeMap<String, MethodSetting>,
    path: &str,
    verb: &str,
) -> Option<TokenBucket> {
    let setting = setting(settings, path, verb)?;
    TokenBucket::new(
        setting.throttling_rate_limit?,
        f64::from(setting.throttling_burst_limit?),
    )
}

/// A `method.request.{path|querystring|header}.{name}` declared required, on a method whose
/// request validator checks parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredParameter {
    pub location: ParameterLocation,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterLocation {
    Path,
    Query,
    Header,
}

fn required_parameters(method: &Method, validators: &[RequestValidator]) -> Vec<RequiredParameter> {
    let checks = method.request_validator_id.as_deref().is_some_and(|id| {
        validators
            .iter()
            .any(|v| v.id.as_deref() == Some(id) && v.validate_request_parameters == Some(true))
    });
    if !checks {
        return Vec::new();
    }
    method
        .request_parameters
        .iter()
        .flatten()
        .filter(|(_, required)| **required)
        .filter_map(|(key, _)| {
            let rest = key.strip_prefix("method.request.")?;
            let (kind, name) = rest.split_once('.')?;
            let location = match kind {
                "path" => ParameterLocation::Path,
                "querystring" | "multivaluequerystring" => ParameterLocation::Query,
                "header" | "multivalueheader" => ParameterLocation::Header,
                _ => return None,
            };
            Some(RequiredParameter {
                location,
                name: name.to_owned(),
            })
        })
        .collect()
}

/// The Lambda function an integration calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaTarget {
    pub region: String,
    pub account_id: String,
    pub function_name: String,
    pub qualifier: Option<String>,
}

/// How a method reaches its backend.
pub enum CompiledIntegration {
    /// `AWS` with a Lambda URI: custom (non-proxy) Lambda integration.
    Lambda {
        target: LambdaTarget,
        timeout: Duration,
        /// The integration names a `credentials` role (no resource-policy check).
        with_credentials: bool,
        request: RequestMapping,
        responses: ResponseMapping,
    },
    /// `AWS_PROXY` with a Lambda URI.
    LambdaProxy {
        target: LambdaTarget,
        timeout: Duration,
        with_credentials: bool,
    },
    /// `HTTP`: mapped request to a backend; the response selected by its status code.
    Http {
        spec: HttpSpec,
        request: RequestMapping,
        responses: ResponseMapping,
    },
    /// `HTTP_PROXY`: the request passed through, the backend's answer returned as-is.
    HttpProxy { spec: HttpSpec },
    /// `MOCK`: the request template's `statusCode` selects the response.
    Mock {
        request: RequestMapping,
        responses: ResponseMapping,
    },
    /// An integration this data plane cannot call; requests answer 500 as AWS answers a
    /// misconfigured integration, and the reason is logged.
    Unavailable { reason: String },
}

/// Where and how an HTTP integration calls its backend.
pub struct HttpSpec {
    /// The integration URI with stage variables resolved, split on `{name}` placeholders.
    pub uri: Vec<UriPart>,
    /// The integration's `httpMethod`; `ANY` (or none) sends the caller's verb.
    pub method: Option<String>,
    pub timeout: Duration,
    pub parameters: Vec<RequestParameter>,
    /// `tlsConfig.insecureSkipVerification`.
    pub skip_ca_verification: bool,
}

/// `passthroughBehavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passthrough {
    WhenNoMatch,
    WhenNoTemplates,
    Never,
}

/// A template parsed once; a template that does not parse is kept as its error, logged at
/// deployment, and answered 500 at request time.
pub type CompiledTemplate = Result<ParsedTemplate, String>;

/// A mapping template parsed at deployment, with what rendering it needs.
#[derive(Debug)]
pub struct ParsedTemplate {
    template: Template,
    /// Whether the template can read `$context`. When it cannot (the seed's template, most
    /// request templates), requests skip building the context object: some thirty values,
    /// which was most of the allocation a MOCK or custom-integration request did.
    pub uses_context: bool,
}

impl ParsedTemplate {
    /// Parses `source`. `uses_context` errs on the side of building the context: any mention of
    /// `context`, or an `#evaluate` that could compute one, counts.
    pub fn parse(source: &str) -> Result<Self, portico_vtl::ParseError> {
        Ok(Self {
            template: Template::parse(source)?,
            uses_context: source.contains("context") || source.contains("evaluate"),
        })
    }
}

impl std::ops::Deref for ParsedTemplate {
    type Target = Template;

    fn deref(&self) -> &Template {
        &self.template
    }
}

/// Request templates by content type, and the passthrough rule.
pub struct RequestMapping {
    pub templates: Vec<(String, CompiledTemplate)>,
    pub passthrough: Passthrough,
    pub content_handling: Option<ContentHandling>,
}

/// An integration response.
pub struct CompiledResponse {
    pub status: u16,
    /// Full-match selection pattern; `None` for the default response.
    pub pattern: Option<Regex>,
    pub templates: Vec<(String, CompiledTemplate)>,
    /// `method.response.header.{name}` -> where its value comes from.
    pub header_parameters: Vec<(String, Source)>,
    pub content_handling: Option<ContentHandling>,
}

/// Integration responses in selection order.
pub struct ResponseMapping {
    pub patterned: Vec<CompiledResponse>,
    pub default: Option<CompiledResponse>,
}

impl ResponseMapping {
    /// The response for a selection value (Lambda error message or backend status code).
    pub fn select(&self, value: Option<&str>) -> Option<&CompiledResponse> {
        value
            .and_then(|v| {
                self.patterned
                    .iter()
                    .find(|r| r.pattern.as_ref().is_some_and(|p| p.is_match(v)))
            })
            .or(self.default.as_ref())
    }
}

#[derive(Deserialize)]
struct Frozen {
    #[serde(default)]
    id: String,
    #[serde(default)]
    resources: Vec<Resource>,
    #[serde(default)]
    api: Option<RestApi>,
    #[serde(default, rename = "gatewayResponses")]
    gateway_responses: BTreeMap<String, GatewayResponseModel>,
    #[serde(default, rename = "requestValidators")]
    request_validators: Vec<RequestValidator>,
    #[serde(default)]
    authorizers: Vec<Authorizer>,
}

fn compile_templates(
    templates: Option<&BTreeMap<String, String>>,
    key: &StageKey,
    where_: &str,
) -> Vec<(String, CompiledTemplate)> {
    templates
        .into_iter()
        .flatten()
        .map(|(content_type, source)| {
            let compiled = ParsedTemplate::parse(source).map_err(|e| {
                let message = e.to_string();
                tracing::warn!(api = %key.api_id, stage = %key.stage_name, %where_, %content_type, error = %message, "mapping template does not parse");
                message
            });
            (content_type.clone(), compiled)
        })
        .collect()
}

/// Compiled selection patterns, shared by every deployment this thread compiles. APIs repeat a
/// handful of patterns (`.*Error.*`, `4\d{2}`) across all their methods, and compiling a regex
/// costs far more than the rest of a method: without this, building a 400-method API's
/// patterns dominated its deployment. A `Regex` is a cheap handle, so cached ones are shared.
const PATTERN_CACHE_LIMIT: usize = 4096;

thread_local! {
    static PATTERNS: std::cell::RefCell<HashMap<String, Regex>> =
        std::cell::RefCell::new(HashMap::new());
}

/// `pattern` as the full-match regex API Gateway applies (Java's `matches`).
fn selection_regex(pattern: &str) -> Result<Regex, regex::Error> {
    PATTERNS.with(|cache| {
        if let Some(found) = cache.borrow().get(pattern) {
            return Ok(found.clone());
        }
        let compiled = Regex::new(&format!("^(?:{pattern})$"))?;
        let mut cache = cache.borrow_mut();
        if cache.len() >= PATTERN_CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(pattern.to_owned(), compiled.clone());
        Ok(compiled)
    })
}

fn compile_response(
    response: &IntegrationResponse,
    key: &StageKey,
    variables: &BTreeMap<String, String>,
    where_: &str,
) -> Option<CompiledResponse> {
    let status = response.status_code.as_deref()?.parse().ok()?;
    let pattern = match response.selection_pattern.as_deref() {
        None | Some("") => None,
        Some(p) => match selection_regex(p) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!(api = %key.api_id, %where_, pattern = p, error = %e, "selection pattern does not compile");
                return None;
            }
        },
    };
    let header_parameters = response
        .response_parameters
        .iter()
        .flatten()
        .filter_map(|(dest, source)| {
            let name = dest.strip_prefix("method.response.header.")?;
            match Source::parse(source, variables) {
                Some(parsed) => Some((name.to_owned(), parsed)),
                None => {
                    tracing::warn!(api = %key.api_id, %where_, %dest, %source, "response parameter not mapped: invalid source");
                    None
                }
            }
        })
        .collect();
    Some(CompiledResponse {
        status,
        pattern,
        templates: compile_templates(response.response_templates.as_ref(), key, where_),
        header_parameters,
        content_handling: ContentHandling::parse(response.content_handling.as_deref()),
    })
}

fn compile_responses(
    integration: &Integration,
    key: &StageKey,
    variables: &BTreeMap<String, String>,
    where_: &str,
) -> ResponseMapping {
    let mut patterned = Vec::new();
    let mut default = None;
    for response in integration
        .integration_responses
        .iter()
        .flatten()
        .map(|(_, r)| r)
    {
        if let Some(compiled) = compile_response(response, key, variables, where_) {
            if compiled.pattern.is_some() {
                patterned.push(compiled);
            } else {
                default = Some(compiled);
            }
        }
    }
    ResponseMapping { patterned, default }
}

fn request_mapping(integration: &Integration, key: &StageKey, where_: &str) -> RequestMapping {
    RequestMapping {
        templates: compile_templates(integration.request_templates.as_ref(), key, where_),
        passthrough: match integration.passthrough_behavior.as_deref() {
            Some("NEVER") => Passthrough::Never,
            Some("WHEN_NO_TEMPLATES") => Passthrough::WhenNoTemplates,
            _ => Passthrough::WhenNoMatch,
        },
        content_handling: ContentHandling::parse(integration.content_handling.as_deref()),
    }
}

fn lambda_target(uri: Option<&str>, key: &StageKey) -> Option<LambdaTarget> {
    let parsed = parse_lambda_integration_uri(uri?)?;
    Some(LambdaTarget {
        region: parsed.function.region.unwrap_or(parsed.region),
        account_id: parsed
            .function
            .account_id
            .unwrap_or_else(|| key.account_id.clone()),
        function_name: parsed.function.name,
        qualifier: parsed.function.qualifier,
    })
}

fn http_spec(
    integration: &Integration,
    key: &StageKey,
    variables: &BTreeMap<String, String>,
    where_: &str,
    timeout: Duration,
) -> HttpSpec {
    HttpSpec {
        uri: compile_uri(integration.uri.as_deref().unwrap_or(""), variables),
        method: integration.http_method.clone(),
        timeout,
        skip_ca_verification: integration
            .tls_config
            .as_ref()
            .and_then(|t| t.insecure_skip_verification)
            == Some(true),
        parameters: compile_request_parameters(
            integration.request_parameters.as_ref(),
            variables,
            |dest, source| {
                tracing::warn!(api = %key.api_id, %where_, %dest, %source, "request parameter not mapped: invalid mapping");
            },
        ),
    }
}

/// The service an `arn:aws:apigateway:{region}:{service}:...` integration URI names.
fn aws_service(uri: &str) -> &str {
    uri.split(':')
        .nth(4)
        .filter(|s| !s.is_empty())
        .unwrap_or("unknown")
}

fn compile_integration(
    method: &Method,
    key: &StageKey,
    variables: &BTreeMap<String, String>,
    where_: &str,
) -> CompiledIntegration {
    let Some(integration) = method.method_integration.as_ref() else {
        return CompiledIntegration::Unavailable {
            reason: "the method has no integration".to_owned(),
        };
    };
    let timeout = Duration::from_millis(
        integration
            .timeout_in_millis
            .unwrap_or(29_000)
            .clamp(50, 29_000) as u64,
    );
    match integration.r#type.as_deref() {
        Some("MOCK") => CompiledIntegration::Mock {
            request: request_mapping(integration, key, where_),
            responses: compile_responses(integration, key, variables, where_),
        },
        Some("HTTP") => CompiledIntegration::Http {
            spec: http_spec(integration, key, variables, where_, timeout),
            request: request_mapping(integration, key, where_),
            responses: compile_responses(integration, key, variables, where_),
        },
        Some("HTTP_PROXY") => CompiledIntegration::HttpProxy {
            spec: http_spec(integration, key, variables, where_, timeout),
        },
        Some(kind @ ("AWS" | "AWS_PROXY")) => {
            // `${stageVariables.x}` may name the function (or its alias) in the ARN.
            let uri = integration
                .uri
                .as_deref()
                .map(|u| resolve_stage_variables(u, variables));
            // With a `credentials` role API Gateway invokes as that role and the function's
            // resource policy is not consulted.
            let with_credentials = integration.credentials.is_some();
            match lambda_target(uri.as_deref(), key) {
                Some(target) if kind == "AWS_PROXY" => CompiledIntegration::LambdaProxy {
                    target,
                    timeout,
                    with_credentials,
                },
                Some(target) => CompiledIntegration::Lambda {
                    target,
                    timeout,
                    with_credentials,
                    request: request_mapping(integration, key, where_),
                    responses: compile_responses(integration, key, variables, where_),
                },
                None => {
                    let uri = integration.uri.as_deref().unwrap_or("");
                    CompiledIntegration::Unavailable {
                        reason: format!(
                            "the {} service integration is not supported by Portico (only Lambda is): {uri}",
                            aws_service(uri)
                        ),
                    }
                }
            }
        }
        other => CompiledIntegration::Unavailable {
            reason: format!(
                "integration type {} is not served yet",
                other.unwrap_or("none")
            ),
        },
    }
}

/// Compiles a published stage. Parts that cannot be compiled are logged and answer 500.
pub fn compile(key: &StageKey, deployed: &DeployedStage) -> CompiledStage {
    let frozen: Frozen = serde_json::from_value(deployed.deployment.clone()).unwrap_or_else(|e| {
        tracing::warn!(api = %key.api_id, stage = %key.stage_name, error = %e, "deployment is unreadable");
        Frozen { id: String::new(), resources: Vec::new(), api: None, gateway_responses: BTreeMap::new(), request_validators: Vec::new(), authorizers: Vec::new() }
    });
    let variables: BTreeMap<String, String> = deployed
        .stage
        .get("variables")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let method_settings: BTreeMap<String, MethodSetting> = deployed
        .stage
        .get("methodSettings")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let cache = (deployed.stage.get("cacheClusterEnabled") == Some(&serde_json::Value::Bool(true)))
        .then(StageCache::default);
    let authorizers =
        crate::authorizer::compile_all(&frozen.authorizers, key, |uri| lambda_target(uri, key));
    // Models are read apart from `Frozen` so deployments made before models existed load.
    let mut models = crate::validate::ModelSet::new(
        &key.api_id,
        &deployed
            .deployment
            .get("models")
            .and_then(|v| {
                serde_json::from_value::<Vec<portico_model::apigateway::Model>>(v.clone()).ok()
            })
            .unwrap_or_default(),
    );
    let mut builder = RouterBuilder::new();
    for resource in &frozen.resources {
        let (Some(resource_id), Some(path)) = (&resource.id, &resource.path) else {
            continue;
        };
        for (verb, method) in resource.resource_methods.iter().flatten() {
            let where_ = format!("{verb} {path}");
            let compiled = Arc::new(CompiledMethod {
                resource_id: resource_id.clone(),
                resource_path: path.clone(),
                http_method: verb.clone(),
                required_parameters: required_parameters(method, &frozen.request_validators),
                body_validation: crate::validate::compile_for_method(
                    method,
                    &frozen.request_validators,
                    &mut models,
                    &where_,
                ),
                api_key_required: method.api_key_required == Some(true),
                aws_iam: method.authorization_type.as_deref() == Some("AWS_IAM"),
                throttle: throttle(&method_settings, path, verb),
                cache: if cache.is_some() {
                    method_cache(
                        setting(&method_settings, path, verb),
                        method,
                        resource_id,
                        &variables,
                    )
                } else {
                    None
                },
                authorizer: crate::authorizer::for_method(method, &authorizers, key),
                integration: compile_integration(method, key, &variables, &where_),
            });
            if let Err(e) = builder.insert(path, verb, compiled) {
                tracing::warn!(api = %key.api_id, %where_, error = %e, "route not served");
            }
        }
    }
    let gateway_responses = crate::custom::compile(&frozen.gateway_responses, key, &variables);
    let api_key_from_authorizer = frozen
        .api
        .as_ref()
        .and_then(|a| a.api_key_source.as_deref())
        == Some("AUTHORIZER");
    CompiledStage {
        api_key_from_authorizer,
        api_id: key.api_id.clone(),
        account_id: key.account_id.clone(),
        region: key.region.clone(),
        stage_name: key.stage_name.clone(),
        deployment_id: frozen.id,
        variables,
        gateway_responses,
        api_keys: crate::usage::compile(&deployed.stage),
        cache,
        binary_media_types: frozen
            .api
            .and_then(|api| api.binary_media_types)
            .unwrap_or_default(),
        router: builder.build(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn selection_patterns_match_whole_values_and_are_compiled_once() {
        let first = super::selection_regex(r"4\d{2}").unwrap();
        assert!(first.is_match("404"));
        assert!(!first.is_match("4040"));
        assert!(!first.is_match("x404"));
        let again = super::selection_regex(r"4\d{2}").unwrap();
        assert_eq!(first.as_str(), again.as_str());
        assert!(super::PATTERNS.with(|c| c.borrow().contains_key(r"4\d{2}")));
        assert!(super::selection_regex("(unclosed").is_err());
    }

    #[test]
    fn service_of_uri() {
        assert_eq!(
            super::aws_service("arn:aws:apigateway:us-east-1:sqs:path/123/queue"),
            "sqs"
        );
        assert_eq!(
            super::aws_service("arn:aws:apigateway:us-east-1:dynamodb:action/PutItem"),
            "dynamodb"
        );
        assert_eq!(super::aws_service("nonsense"), "unknown");
    }

    #[test]
    fn templates_know_whether_they_read_the_context() {
        let seed =
            super::ParsedTemplate::parse("{\"greeter\":\"$input.params('greeter')\"}").unwrap();
        assert!(!seed.uses_context);
        for source in [
            "$context.requestId",
            "${context.stage}",
            "$!context.identity.sourceIp",
            "#set($context.responseOverride.status = 418)",
            "#evaluate($code)",
        ] {
            assert!(
                super::ParsedTemplate::parse(source).unwrap().uses_context,
                "{source}"
            );
        }
    }
}
