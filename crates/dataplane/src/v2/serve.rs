//! One HTTP API request through its phases, and the gateway's own answers.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use portico_core::{InvocationType, InvokeRequest, Invoker, ids};
use rand::Rng;

use super::compile::LambdaTarget;
use super::compile::{CompiledHttpStage, HttpIntegration, PayloadVersion};
use super::cors::CompiledCors;
use super::event::{AuthorizerContext, RequestFacts, event_v1, event_v2};
use super::http_proxy::{self, ProxyInputs};
use super::response::{FunctionResponse, parse_v1, parse_v2};
use crate::ClientInfo;
use crate::backend::HttpClient;
use serde_json::json;

/// A response the gateway makes itself: `{"message":"…"}` as HTTP APIs word it.
pub(crate) fn gateway(status: u16, message: &str, request_id: &str) -> Response<Bytes> {
    let body = format!("{{\"message\":{}}}", serde_json::Value::from(message));
    let mut response = Response::new(Bytes::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    stamp(&mut response, request_id);
    response
}

fn stamp(response: &mut Response<Bytes>, request_id: &str) {
    if let Ok(id) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("apigw-requestid", id);
    }
}

/// No stage, no route: `404 {"message":"Not Found"}`.
pub(crate) fn not_found() -> Response<Bytes> {
    gateway(404, "Not Found", &ids::extended_request_id())
}

fn internal_error(request_id: &str) -> Response<Bytes> {
    gateway(500, "Internal Server Error", request_id)
}

/// `X-Amzn-Trace-Id`: `Root=1-{epoch seconds, 8 hex}-{24 hex}`.
fn trace_id(epoch_ms: i64) -> String {
    let mut rng = rand::rng();
    format!(
        "Root=1-{:08x}-{:012x}{:012x}",
        epoch_ms / 1000,
        rng.random::<u64>() & 0xffff_ffff_ffff,
        rng.random::<u64>() & 0xffff_ffff_ffff
    )
}

/// The request headers as the integration sees them: lower-case names, all values, and the
/// forwarding headers the gateway adds.
fn event_headers(
    request: &Request<Bytes>,
    client: &ClientInfo,
    epoch_ms: i64,
) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in request.headers() {
        if name == http::header::CONNECTION {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match out.iter_mut().find(|(n, _)| n == name.as_str()) {
            Some((_, values)) => values.push(value),
            None => out.push((name.as_str().to_owned(), vec![value])),
        }
    }
    let mut set =
        |name: &str, value: String, append: bool| match out.iter_mut().find(|(n, _)| n == name) {
            Some((_, values)) if append => {
                if let Some(last) = values.last_mut() {
                    last.push_str(", ");
                    last.push_str(&value);
                }
            }
            Some(_) => {}
            None => out.push((name.to_owned(), vec![value])),
        };
    let port = request
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.rsplit_once(':'))
        .map(|(_, port)| port.to_owned())
        .unwrap_or_else(|| "80".to_owned());
    set("x-amzn-trace-id", trace_id(epoch_ms), false);
    set("x-forwarded-for", client.source_ip.clone(), true);
    set("x-forwarded-port", port, false);
    set("x-forwarded-proto", "http".to_owned(), false);
    out
}

pub(crate) async fn run(
    stage: &CompiledHttpStage,
    backends: &Backends<'_>,
    host: &str,
    route_path: &str,
    request: Request<Bytes>,
    client: &ClientInfo,
) -> Response<Bytes> {
    let request_id = ids::extended_request_id();
    if let Some(cors) = &stage.cors
        && CompiledCors::is_preflight(request.method(), request.headers())
    {
        let mut response = cors.preflight(request.headers());
        stamp(&mut response, &request_id);
        return response;
    }
    let mut response = route(
        stage,
        backends,
        host,
        route_path,
        &request,
        client,
        &request_id,
    )
    .await;
    if let Some(cors) = &stage.cors {
        cors.decorate(request.headers(), &mut response);
    }
    response
}

/// What integrations are called through.
/// What a request may call on: functions, HTTP backends, and the keys `AWS_IAM` accepts.
pub(crate) struct Backends<'a> {
    pub invoker: &'a dyn Invoker,
    pub http_client: &'a HttpClient,
    pub credentials: &'a dyn portico_sigv4::CredentialsProvider,
}

/// An `AWS_IAM` route's check: the caller's SigV4 signature for `execute-api` in the API's
/// region, against the configured keys (every key acts as its account's root user; no IAM
/// policy is evaluated). An unsigned request is `403 Forbidden`, a bad signature 403 with the
/// signature's own message; a signed caller shows as `requestContext.authorizer.iam`.
/// Also `$connect`'s check on a WebSocket API, over the upgrade request (no body).
pub(super) fn iam_caller(
    stage: &CompiledHttpStage,
    parts: (&http::Method, &http::Uri, &http::HeaderMap),
    body: &[u8],
    credentials: &dyn portico_sigv4::CredentialsProvider,
) -> Result<AuthorizerContext, (u16, String)> {
    match crate::iam::verify_caller(&stage.account_id, &stage.region, parts, body, credentials) {
        Ok(caller) => Ok(AuthorizerContext {
            v2: json!({"iam": {
                "accessKey": caller.access_key,
                "accountId": caller.account_id,
                "callerId": caller.principal_id(),
                "cognitoIdentity": null,
                "principalOrgId": null,
                "userArn": caller.user_arn(),
                "userId": caller.principal_id(),
            }}),
            v1: json!({"claims": null, "scopes": null}),
            iam_caller: Some(caller),
        }),
        Err(portico_sigv4::SigV4Error::MissingAuthenticationToken) => {
            Err((403, "Forbidden".to_owned()))
        }
        Err(refused) => Err((refused.status(), refused.message())),
    }
}

async fn route(
    stage: &CompiledHttpStage,
    backends: &Backends<'_>,
    host: &str,
    route_path: &str,
    request: &Request<Bytes>,
    client: &ClientInfo,
    request_id: &str,
) -> Response<Bytes> {
    let method = request.method().as_str();
    let Some(matched) = stage.router.at(route_path, method) else {
        return gateway(404, "Not Found", request_id);
    };
    let route = matched.value;
    let (time, time_epoch) = crate::context::now();
    let headers = event_headers(request, client, time_epoch);
    let path_parameters: Vec<(&str, &str)> = matched.params.iter().collect();
    let hostname = host.split(':').next().unwrap_or(host);
    let mut facts = RequestFacts {
        stage,
        route_key: &route.route_key,
        method,
        raw_path: request.uri().path(),
        raw_query: request.uri().query().unwrap_or(""),
        headers: &headers,
        path_parameters: &path_parameters,
        body: request.body(),
        request_id,
        time: &time,
        time_epoch,
        source_ip: &client.source_ip,
        domain_name: hostname,
        authorizer: None,
    };
    let authorized;
    if route.aws_iam {
        match iam_caller(
            stage,
            (request.method(), request.uri(), request.headers()),
            request.body(),
            backends.credentials,
        ) {
            Ok(context) => authorized = context,
            Err((status, message)) => return gateway(status, &message, request_id),
        }
        facts.authorizer = Some(&authorized);
    } else if let Some(auth) = &route.auth {
        let route_arn = format!(
            "arn:aws:execute-api:{}:{}:{}/{}/{}{}",
            stage.region, stage.account_id, stage.api_id, stage.stage_name, method, route_path
        );
        match auth
            .check(backends.invoker, backends.http_client, &facts, &route_arn)
            .await
        {
            Ok(context) => authorized = context,
            Err(refusal) => {
                let (status, message) = refusal.status_and_message();
                return gateway(status, message, request_id);
            }
        }
        facts.authorizer = Some(&authorized);
    }
    let (target, version, timeout) = match route.integration.as_ref() {
        HttpIntegration::Lambda {
            target,
            version,
            timeout,
        } => (target, *version, *timeout),
        HttpIntegration::HttpProxy {
            uri,
            method: integration_method,
            timeout,
            mappings,
        } => {
            let context = |name: &str| -> Option<String> {
                Some(match name {
                    "requestId" | "extendedRequestId" => request_id.to_owned(),
                    "apiId" => stage.api_id.clone(),
                    "accountId" => stage.account_id.clone(),
                    "stage" => stage.stage_name.clone(),
                    "routeKey" => route.route_key.clone(),
                    "domainName" => hostname.to_owned(),
                    "httpMethod" => method.to_owned(),
                    "path" => request.uri().path().to_owned(),
                    "requestTime" => time.clone(),
                    "requestTimeEpoch" => time_epoch.to_string(),
                    "identity.sourceIp" => client.source_ip.clone(),
                    _ => return None,
                })
            };
            let inputs = ProxyInputs {
                method,
                route_path,
                raw_query: request.uri().query().unwrap_or(""),
                headers: &headers,
                path_parameters: &path_parameters,
                is_default_route: matched.is_default,
                stage_variables: &stage.variables,
                context: &context,
                body: request.body().clone(),
            };
            let outgoing =
                http_proxy::outgoing(uri, integration_method.as_deref(), mappings, &inputs);
            return match http_proxy::call(backends.http_client, &outgoing, *timeout).await {
                Ok(mut response) => {
                    stamp(&mut response, request_id);
                    response
                }
                Err((status, message)) => gateway(status, message, request_id),
            };
        }
        HttpIntegration::Unavailable { reason } => {
            tracing::warn!(api = %stage.api_id, route = %route.route_key, %reason, "Execution failed due to configuration error");
            return internal_error(request_id);
        }
    };
    let event = match version {
        PayloadVersion::V2 => event_v2(&facts),
        PayloadVersion::V1 => event_v1(&facts),
    };
    let source_arn = source_arn(stage, &route.route_key, method);
    let payload = match invoke(backends.invoker, target, timeout, event, source_arn).await {
        Ok(payload) => payload,
        Err(response) => return response(request_id),
    };
    let parsed = match version {
        PayloadVersion::V2 => parse_v2(&payload),
        PayloadVersion::V1 => parse_v1(&payload),
    };
    match parsed {
        Some(parsed) => into_response(parsed, request_id),
        None => {
            tracing::warn!(api = %stage.api_id, route = %route.route_key, "Execution failed: malformed Lambda proxy response");
            internal_error(request_id)
        }
    }
}

/// `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}`, or
/// `…/{stage}/$default` for the default route (aws-behaviour §8.1).
fn source_arn(stage: &CompiledHttpStage, route_key: &str, method: &str) -> String {
    let resource = match route_key.split_once(' ') {
        Some((_, path)) => format!("{method}/{}", path.trim_start_matches('/')),
        None => route_key.to_owned(),
    };
    format!(
        "arn:aws:execute-api:{}:{}:{}/{}/{}",
        stage.region, stage.account_id, stage.api_id, stage.stage_name, resource
    )
}

type Failure = fn(&str) -> Response<Bytes>;

async fn invoke(
    invoker: &dyn Invoker,
    target: &LambdaTarget,
    timeout: Duration,
    event: Vec<u8>,
    source_arn: String,
) -> Result<Bytes, Failure> {
    let request = InvokeRequest {
        region: target.region.clone(),
        account_id: target.account_id.clone(),
        function_name: target.function_name.clone(),
        qualifier: target.qualifier.clone(),
        payload: Bytes::from(event),
        invocation_type: InvocationType::RequestResponse,
        client_context: None,
        source_arn: Some(source_arn),
        log_tail: false,
    };
    match tokio::time::timeout(timeout, invoker.invoke(request)).await {
        Err(_) => Err(|id| gateway(503, "Service Unavailable", id)),
        Ok(Err(error)) => {
            tracing::warn!(%error, "Execution failed: the Lambda function could not be invoked");
            Err(internal_error)
        }
        Ok(Ok(result)) if result.function_error.is_some() => {
            tracing::warn!(function = %target.function_name, "Execution failed: the Lambda function returned an error");
            Err(internal_error)
        }
        Ok(Ok(result)) => Ok(result.payload),
    }
}

fn into_response(parsed: FunctionResponse, request_id: &str) -> Response<Bytes> {
    let mut response = Response::new(parsed.body);
    *response.status_mut() = StatusCode::from_u16(parsed.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    // Appended, not inserted: payload 1.0 may name a header once per `multiValueHeaders`
    // value, and each is its own header line.
    for (name, value) in parsed.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.append(n, v);
        }
    }
    for cookie in parsed.cookies {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            headers.append(http::header::SET_COOKIE, v);
        }
    }
    stamp(&mut response, request_id);
    response
}
