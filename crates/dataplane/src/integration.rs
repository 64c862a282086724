//! One request through the phases, from route to response.

use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use portico_core::{Invoker, ids};
use portico_vtl::{Params, RenderInput, RenderOutput};
use rand::Rng;
use serde_json::Value;

use crate::ClientInfo;
use crate::backend::{self, HttpClient};
use crate::cache::{MethodCache, StageCache, wants_invalidation};
use crate::content;
use crate::context::{RequestMeta, now, request_context, template_context};
use crate::custom::{self, ErrorRequest};
use crate::gateway::GatewayResponse;
use crate::lambda::{LambdaCall, lambda_custom, lambda_proxy};
use crate::mapping::{Inputs, evaluate};
use crate::params::RequestParts;
use crate::snapshot::{
    CompiledIntegration, CompiledMethod, CompiledResponse, CompiledStage, CompiledTemplate,
    ParameterLocation, Passthrough, RequestMapping, ResponseMapping,
};
use crate::target::InvokeTarget;
use crate::usage::KeyUsage;

/// Everything the integration phases read about the request.
pub(crate) struct Exchange<'a> {
    pub stage: &'a CompiledStage,
    pub method: &'a CompiledMethod,
    pub meta: RequestMeta,
    pub parts: RequestParts,
    pub path_parameters: Vec<(&'a str, &'a str)>,
    pub body: Bytes,
    /// The execution log, recorded only for `TestInvokeMethod` (see `test_invoke`).
    pub log: Option<&'a crate::test_invoke::ExecutionLog>,
}

/// `X-Amzn-Trace-Id`: `Root=1-{epoch seconds, 8 hex}-{24 hex}`.
pub(crate) fn trace_id(epoch_ms: i64) -> String {
    let mut rng = rand::rng();
    format!(
        "Root=1-{:08x}-{:012x}{:012x}",
        epoch_ms / 1000,
        rng.random::<u64>() & 0xffff_ffff_ffff,
        rng.random::<u64>() & 0xffff_ffff_ffff
    )
}

fn media_type(value: &str) -> &str {
    value.split(';').next().unwrap_or("").trim()
}

pub(crate) async fn run<'s>(
    stage: &'s CompiledStage,
    invoker: &dyn Invoker,
    http_client: &HttpClient,
    credentials: &dyn portico_sigv4::CredentialsProvider,
    target: InvokeTarget,
    request: Request<Bytes>,
    client: &ClientInfo,
) -> Response<Bytes> {
    let (request_time, request_time_epoch) = now();
    let parts = RequestParts::new(request.uri().query(), request.headers());
    let meta = RequestMeta {
        request_id: ids::request_id(),
        extended_request_id: ids::extended_request_id(),
        request_time,
        request_time_epoch,
        source_ip: client.source_ip.clone(),
        user_agent: parts.header("user-agent").map(str::to_owned),
        domain_name: target.domain_name.clone(),
        path: target.path.clone(),
        http_method: request.method().as_str().to_owned(),
        api_key: None,
        caller: None,
        authorizer: None,
    };
    let Some(matched) = stage.router.at(&target.path, &meta.http_method) else {
        let request = ErrorRequest {
            parts: &parts,
            path_parameters: &[],
            context: request_context(stage, None, &meta),
            stage_variables: &stage.variables,
        };
        return custom::respond(
            &stage.gateway_responses,
            GatewayResponse::missing_authentication_token(),
            &meta.request_id,
            &request,
        );
    };
    let method: &'s CompiledMethod = matched.value;
    let mut meta = meta;
    // AWS_IAM: the signature is checked first, on the request exactly as received.
    match crate::iam::authenticate(stage, method, &request, credentials) {
        Ok(caller) => meta.caller = caller,
        Err(refused) => {
            let params: Vec<(&str, &str)> = matched.params.iter().collect();
            return crate::iam::refuse(stage, method, &meta, &parts, &params, refused);
        }
    }
    let key = if method.api_key_required {
        let presented = parts.header("x-api-key");
        let usage = presented.and_then(|v| stage.api_keys.get(v).map(|u| (v, u)));
        if let Some((value, usage)) = usage {
            meta.api_key = Some((value.to_owned(), usage.key_id.clone()));
        }
        Some(usage.map(|(_, u)| u))
    } else {
        None
    };
    let path_parameters: Vec<(&str, &str)> = matched.params.iter().collect();
    let mut exchange = Exchange {
        stage,
        method,
        meta,
        parts,
        path_parameters,
        body: request.into_body(),
        log: None,
    };
    // A Lambda authorizer runs before the API key and throttling checks, as on AWS.
    let checked = match crate::authorizer::run(&exchange, invoker).await {
        Ok(granted) => {
            // With `apiKeySource: AUTHORIZER` the key is the authorizer's usageIdentifierKey.
            let key = match &granted {
                Some(g) if stage.api_key_from_authorizer && method.api_key_required => {
                    let usage = g
                        .usage_identifier_key
                        .as_deref()
                        .and_then(|v| stage.api_keys.get(v).map(|u| (v, u)));
                    exchange.meta.api_key = usage.map(|(v, u)| (v.to_owned(), u.key_id.clone()));
                    Some(usage.map(|(_, u)| u))
                }
                _ => key,
            };
            exchange.meta.authorizer = granted.map(|g| g.context);
            exchange.check_request(key)
        }
        Err(refused) => Err(refused),
    };
    let response = match checked {
        Ok(()) => match (&stage.cache, &method.cache) {
            (Some(cache), Some(settings)) => {
                cached(&exchange, cache, settings, invoker, http_client).await
            }
            _ => integrate(&exchange, invoker, http_client).await,
        },
        Err(refused) => Err(refused),
    };
    match response {
        Ok(response) => response,
        Err(gateway) => {
            let request = ErrorRequest {
                parts: &exchange.parts,
                path_parameters: &exchange.path_parameters,
                context: template_context(stage, method, &exchange.meta),
                stage_variables: &stage.variables,
            };
            custom::respond(
                &stage.gateway_responses,
                gateway,
                &exchange.meta.request_id,
                &request,
            )
        }
    }
}

/// Headers that belong to one request and are never replayed from the cache.
const PER_REQUEST: &[&str] = &["x-amzn-requestid", "x-amz-apigw-id", "x-amzn-trace-id"];

/// The cache phase: a live entry answers without the integration; `Cache-Control: max-age=0`
/// refreshes it when the method lets callers invalidate.
async fn cached(
    exchange: &Exchange<'_>,
    cache: &StageCache,
    settings: &MethodCache,
    invoker: &dyn Invoker,
    http_client: &HttpClient,
) -> Result<Response<Bytes>, GatewayResponse> {
    let invalidate = wants_invalidation(exchange.parts.header("cache-control"));
    if invalidate && settings.require_authorization && settings.fail_unauthorized {
        return Err(GatewayResponse::cache_invalidation_denied(
            &exchange.source_arn(),
        ));
    }
    let bypass = invalidate && !settings.require_authorization;
    let key = exchange.cache_key(settings);
    let now = Instant::now();
    if !bypass && let Some(entry) = cache.get(&key, now) {
        let mut response =
            exchange.base_response(entry.status.as_u16(), "application/json", entry.body, false);
        let ids: Vec<(http::HeaderName, HeaderValue)> = PER_REQUEST
            .iter()
            .filter_map(|n| {
                let value = response.headers().get(*n)?.clone();
                Some((http::HeaderName::from_static(n), value))
            })
            .collect();
        *response.headers_mut() = entry.headers;
        for (name, value) in ids {
            response.headers_mut().insert(name, value);
        }
        return Ok(response);
    }
    let response = integrate(exchange, invoker, http_client).await?;
    if response.status().is_success() {
        let mut headers = response.headers().clone();
        for name in PER_REQUEST {
            headers.remove(*name);
        }
        cache.put(
            key,
            response.status(),
            headers,
            response.body().clone(),
            settings.ttl,
            now,
        );
    }
    Ok(response)
}

pub(crate) async fn integrate(
    exchange: &Exchange<'_>,
    invoker: &dyn Invoker,
    http_client: &HttpClient,
) -> Result<Response<Bytes>, GatewayResponse> {
    match &exchange.method.integration {
        CompiledIntegration::Lambda {
            target,
            timeout,
            with_credentials,
            request,
            responses,
        } => {
            let call = LambdaCall {
                target,
                timeout: *timeout,
                with_credentials: *with_credentials,
            };
            lambda_custom(exchange, invoker, &call, request, responses).await
        }
        CompiledIntegration::LambdaProxy {
            target,
            timeout,
            with_credentials,
        } => {
            let call = LambdaCall {
                target,
                timeout: *timeout,
                with_credentials: *with_credentials,
            };
            lambda_proxy(exchange, invoker, &call).await
        }
        CompiledIntegration::Http {
            spec,
            request,
            responses,
        } => backend::http_custom(exchange, http_client, spec, request, responses).await,
        CompiledIntegration::HttpProxy { spec } => {
            backend::http_proxy(exchange, http_client, spec).await
        }
        CompiledIntegration::Mock { request, responses } => mock(exchange, request, responses),
        CompiledIntegration::Unavailable { reason } => {
            tracing::warn!(api = %exchange.stage.api_id, resource = %exchange.method.resource_path, %reason, "Execution failed due to configuration error");
            exchange.trace(|| format!("Execution failed due to configuration error: {reason}"));
            Err(GatewayResponse::internal_server_error())
        }
    }
}

impl Exchange<'_> {
    /// The checks between routing and the integration, in AWS's order: API key and its usage
    /// plan (throttle, quota), stage throttling, then required parameters (request validator).
    pub(crate) fn check_request(
        &self,
        key: Option<Option<&KeyUsage>>,
    ) -> Result<(), GatewayResponse> {
        // `Some(None)`: the method requires a key and none usable was presented.
        if let Some(key) = key {
            let Some(usage) = key.filter(|u| u.enabled) else {
                return Err(GatewayResponse::invalid_api_key());
            };
            usage.admit(&format!(
                "{}/{}",
                self.method.resource_path, self.method.http_method
            ))?;
        }
        if let Some(bucket) = &self.method.throttle
            && !bucket.try_take()
        {
            return Err(GatewayResponse::throttled());
        }
        let missing: Vec<&str> = self
            .method
            .required_parameters
            .iter()
            .filter(|p| match p.location {
                ParameterLocation::Query => !self.parts.query.iter().any(|(k, _)| *k == p.name),
                ParameterLocation::Header => self.parts.header(&p.name).is_none(),
                ParameterLocation::Path => !self
                    .path_parameters
                    .iter()
                    .any(|(k, v)| *k == p.name && !v.is_empty()),
            })
            .map(|p| p.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(GatewayResponse::missing_parameters(&missing));
        }
        if let Some(body) = &self.method.body_validation {
            let content_type = self.parts.header("content-type");
            body.check(&self.stage.api_id, content_type, &self.body)?;
        }
        Ok(())
    }

    fn render(
        &self,
        template: &CompiledTemplate,
        body: &str,
    ) -> Result<RenderOutput, GatewayResponse> {
        let template = template.as_ref().map_err(|error| {
            tracing::warn!(api = %self.stage.api_id, %error, "Execution failed due to configuration error: mapping template");
            self.trace(|| format!("Execution failed due to configuration error: Unable to parse the mapping template: {error}"));
            GatewayResponse::internal_server_error()
        })?;
        let params = Params {
            path: self
                .path_parameters
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            querystring: self.parts.single_query(),
            header: self.parts.single_headers(),
        };
        let context = if template.uses_context {
            template_context(self.stage, self.method, &self.meta)
        } else {
            serde_json::Value::Null
        };
        let input = RenderInput {
            body,
            params: &params,
            context: &context,
            stage_variables: &self.stage.variables,
        };
        template.render(&input).map_err(|error| {
            tracing::warn!(api = %self.stage.api_id, %error, "Execution failed: mapping template could not be rendered");
            self.trace(|| format!("Execution failed due to configuration error: Unable to render the mapping template: {error}"));
            GatewayResponse::internal_server_error()
        })
    }

    /// The integration request body: rendered (with the template's overrides), passed
    /// through (`None`), or refused (415).
    pub(crate) fn map_request(
        &self,
        mapping: &RequestMapping,
    ) -> Result<Option<RenderOutput>, GatewayResponse> {
        let content_type = self
            .parts
            .header("content-type")
            .map(media_type)
            .unwrap_or("application/json");
        let chosen = mapping
            .templates
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(content_type));
        match chosen {
            Some((_, template)) => {
                // A template sees a binary payload base64-encoded.
                let body = if self.request_binary() {
                    BASE64.encode(&self.body)
                } else {
                    String::from_utf8_lossy(&self.body).into_owned()
                };
                Ok(Some(self.render(template, &body)?))
            }
            None => match (mapping.passthrough, mapping.templates.is_empty()) {
                (Passthrough::WhenNoMatch, _) | (Passthrough::WhenNoTemplates, true) => Ok(None),
                _ => Err(GatewayResponse::unsupported_media_type()),
            },
        }
    }

    /// Whether the request's Content-Type is one of the binary media types.
    pub(crate) fn request_binary(&self) -> bool {
        self.parts
            .header("content-type")
            .is_some_and(|ct| self.stage.is_binary(ct))
    }

    /// The integration request payload: the rendered template, or the body passed through,
    /// converted per the integration's `contentHandling`.
    pub(crate) fn request_payload(
        &self,
        mapping: &RequestMapping,
        rendered: Option<&RenderOutput>,
    ) -> Result<Bytes, GatewayResponse> {
        let (payload, binary) = match rendered {
            Some(out) => (Bytes::from(out.body.clone()), false),
            None => (self.body.clone(), self.request_binary()),
        };
        content::request(payload, binary, mapping.content_handling).map_err(|_| {
            tracing::warn!(api = %self.stage.api_id, "Execution failed: unable to convert the request body to binary (not base64)");
            GatewayResponse::internal_server_error()
        })
    }

    /// Whether the request's first `Accept` media type is one of the binary media types.
    pub(crate) fn accepts_binary(&self) -> bool {
        self.parts
            .header("accept")
            .and_then(|a| a.split(',').next())
            .is_some_and(|first| self.stage.is_binary(first))
    }

    /// The cache key: namespace, verb, and each cache key parameter's values.
    fn cache_key(&self, settings: &MethodCache) -> String {
        let context = || template_context(self.stage, self.method, &self.meta);
        let inputs = Inputs {
            parts: &self.parts,
            path_parameters: &self.path_parameters,
            body: &self.body,
            response_headers: &[],
            context: &context,
        };
        let mut key = format!("{}\n{}", settings.namespace, self.meta.http_method);
        for source in &settings.key_parameters {
            key.push('\n');
            // Values are length-prefixed so that no two parameter lists share a key.
            for value in evaluate(source, &inputs) {
                key.push_str(&format!("{}:{value};", value.len()));
            }
        }
        key
    }

    pub(crate) fn source_arn(&self) -> String {
        let path = self.method.resource_path.trim_start_matches('/');
        format!(
            "arn:aws:execute-api:{}:{}:{}/{}/{}/{}",
            self.stage.region,
            self.stage.account_id,
            self.stage.api_id,
            self.stage.stage_name,
            self.meta.http_method,
            path
        )
    }

    pub(crate) fn base_response(
        &self,
        status: u16,
        content_type: &str,
        body: Bytes,
        lambda: bool,
    ) -> Response<Bytes> {
        let mut response = Response::new(body);
        *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
        let headers = response.headers_mut();
        if let Ok(v) = HeaderValue::from_str(content_type) {
            headers.insert(http::header::CONTENT_TYPE, v);
        }
        if let Ok(v) = HeaderValue::from_str(&self.meta.request_id) {
            headers.insert("x-amzn-requestid", v);
        }
        if let Ok(v) = HeaderValue::from_str(&self.meta.extended_request_id) {
            headers.insert("x-amz-apigw-id", v);
        }
        if lambda && let Ok(v) = HeaderValue::from_str(&trace_id(self.meta.request_time_epoch)) {
            headers.insert("x-amzn-trace-id", v);
        }
        response
    }

    /// Integration response phase for non-proxy integrations.
    pub(crate) fn map_response(
        &self,
        responses: &ResponseMapping,
        selection: Option<&str>,
        payload: &Bytes,
        integration_headers: &[(String, String)],
        lambda: bool,
    ) -> Result<Response<Bytes>, GatewayResponse> {
        // The integration's answer is binary when its Content-Type is a binary media type.
        let payload_binary = integration_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .is_some_and(|(_, v)| self.stage.is_binary(v));
        let Some(selected) = responses.select(selection) else {
            tracing::warn!(api = %self.stage.api_id, "Execution failed due to configuration error: No match for output mapping and no default output mapping configured");
            // A Lambda answer is selected by its error message; its endpoint status is 200.
            self.trace(|| format!("Execution failed due to configuration error: No match for output mapping and no default output mapping configured. Endpoint Response Status Code: {}", if lambda { "200" } else { selection.unwrap_or("200") }));
            return Err(GatewayResponse::internal_server_error());
        };
        let (content_type, rendered) =
            match pick_response_template(selected, self.parts.header("accept")) {
                Some((content_type, template)) => {
                    let body = if payload_binary {
                        BASE64.encode(payload)
                    } else {
                        String::from_utf8_lossy(payload).into_owned()
                    };
                    (content_type, Some(self.render(template, &body)?))
                }
                None => ("application/json", None),
            };
        let (status, body, overrides, binary) = match rendered {
            Some(out) => (
                out.overrides.response_status.unwrap_or(selected.status),
                Bytes::from(out.body),
                out.overrides.response_header,
                false,
            ),
            None => (selected.status, payload.clone(), Vec::new(), payload_binary),
        };
        let body = content::response(
            body,
            binary,
            self.accepts_binary(),
            selected.content_handling,
        )
        .map_err(|_| {
            tracing::warn!(api = %self.stage.api_id, "Execution failed: unable to convert the response body to binary (not base64)");
            GatewayResponse::internal_server_error()
        })?;
        let mut response = self.base_response(status, content_type, body, lambda);
        let context = || template_context(self.stage, self.method, &self.meta);
        let inputs = Inputs {
            parts: &self.parts,
            path_parameters: &self.path_parameters,
            body: payload,
            response_headers: integration_headers,
            context: &context,
        };
        for (name, source) in &selected.header_parameters {
            let values = evaluate(source, &inputs);
            if values.is_empty() {
                continue;
            }
            if let (Ok(n), Ok(v)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&values.join(",")),
            ) {
                response.headers_mut().insert(n, v);
            }
        }
        for (name, value) in overrides {
            if let (Ok(n), Ok(v)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                response.headers_mut().insert(n, v);
            }
        }
        Ok(response)
    }
}

/// Response template by the request's `Accept`, then `application/json`, then the first.
fn pick_response_template<'r>(
    response: &'r CompiledResponse,
    accept: Option<&str>,
) -> Option<(&'r str, &'r CompiledTemplate)> {
    let by_accept = accept
        .into_iter()
        .flat_map(|a| a.split(','))
        .find_map(|candidate| {
            let wanted = media_type(candidate);
            response
                .templates
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(wanted))
        });
    by_accept
        .or_else(|| {
            response
                .templates
                .iter()
                .find(|(key, _)| key == "application/json")
        })
        .or_else(|| response.templates.first())
        .map(|(key, template)| (key.as_str(), template))
}

fn mock(
    exchange: &Exchange<'_>,
    mapping: &RequestMapping,
    responses: &ResponseMapping,
) -> Result<Response<Bytes>, GatewayResponse> {
    let status = match exchange.map_request(mapping)? {
        Some(rendered) => serde_json::from_str::<Value>(&rendered.body)
            .ok()
            .and_then(|v| v.get("statusCode").and_then(Value::as_u64))
            .unwrap_or(200),
        None => 200,
    };
    let status = status.to_string();
    exchange.map_response(responses, Some(&status), &Bytes::new(), &[], false)
}
