//! The one listener: internal endpoints, the execute-api data plane and the AWS control planes.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use portico_apigw::ApiGateway;
use portico_apigwv2::ApiGatewayV2;
use portico_core::{AwsError, Invoker, Scope, StageSink};
use portico_dataplane::v2::{
    HttpApiPlane, api_id_from_host, connection_id_from_path, is_websocket_upgrade,
};
use portico_dataplane::{ClientInfo, DataPlane, parse_invoke_target};
use portico_lambda::{Lambda, LambdaConfig};
use portico_logs::Logs;
use portico_protocol::{
    LOGS_TARGET_PREFIX, OperationRouter, Service, bind_input, detect, error_response, json_target,
};
use portico_store::{SqliteStore, Store};
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

use crate::cli::ServeArgs;

/// Largest request a deployed API accepts (API Gateway's payload limit).
const MAX_DATA_PLANE_BODY: usize = 10 * 1024 * 1024;
/// How long in-flight requests get to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

struct App {
    account_id: String,
    default_region: String,
    apigw: ApiGateway,
    lambda: Arc<Lambda>,
    dataplane: Arc<DataPlane>,
    apigateway_ops: OperationRouter,
    // API Gateway v2 (HTTP and WebSocket APIs): its own control plane and data plane.
    apigwv2: ApiGatewayV2,
    httpapi: Arc<HttpApiPlane>,
    apigatewayv2_ops: OperationRouter,
    lambda_ops: OperationRouter,
    /// CloudWatch Logs: function output, readable with `aws logs`.
    logs: Arc<Logs>,
}

pub async fn serve(
    args: ServeArgs,
    placement: Option<Arc<portico_sandbox::CpuPlacement>>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    std::fs::create_dir_all(&args.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            args.data_dir.display()
        )
    })?;
    let data_dir = std::fs::canonicalize(&args.data_dir)?;
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&data_dir).context("cannot open the store")?);
    let lambda = Lambda::open(
        store.clone(),
        LambdaConfig {
            data_dir: data_dir.clone(),
            runtime_dir: data_dir.join("runtime"),
            account_id: args.account_id.clone(),
            public_url: format!("http://{}", args.listen),
            max_environments_per_function: args.max_environments,
            idle_timeout: std::time::Duration::from_secs(args.idle_timeout_secs),
            placement: placement.clone(),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot open the Lambda service: {e}"))?;
    lambda.set_account_concurrency_limit(args.account_concurrency);
    lambda.set_enforce_permissions(!args.no_enforce_permissions);
    let logs = Logs::new();
    // Function output reaches CloudWatch Logs as on AWS: `/aws/lambda/{FunctionName}`.
    lambda.set_log_sink(logs.clone());
    let invoker: Arc<dyn Invoker> = lambda.clone();
    let iam_keys = args.iam_credentials();
    tracing::info!(access_keys = ?iam_keys.access_key_ids().collect::<Vec<_>>(), "keys AWS_IAM methods accept");
    let iam_keys: Arc<dyn portico_dataplane::CredentialsProvider> = Arc::new(iam_keys);
    let dataplane = Arc::new(DataPlane::new(invoker).with_credentials(iam_keys.clone()));
    let sink: Arc<dyn StageSink> = dataplane.clone();
    let stages = portico_apigw::publish_all_stages(store.as_ref(), sink.as_ref())
        .await
        .map_err(|e| anyhow::anyhow!("cannot load deployed stages: {e}"))?;
    let httpapi = Arc::new(HttpApiPlane::new(lambda.clone()).with_credentials(iam_keys));
    let v2_sink: Arc<dyn StageSink> = httpapi.clone();
    let v2_stages = portico_apigwv2::publish_all_stages(store.as_ref(), v2_sink.as_ref())
        .await
        .map_err(|e| anyhow::anyhow!("cannot load deployed v2 stages: {e}"))?;
    let app = Arc::new(App {
        account_id: args.account_id.clone(),
        default_region: args.default_region.clone(),
        apigw: ApiGateway::new(store.clone(), sink)
            .with_method_tester(dataplane.clone())
            .with_usage_ledger(dataplane.clone()),
        lambda: lambda.clone(),
        dataplane,
        apigateway_ops: OperationRouter::new(portico_model::apigateway::OPERATIONS),
        apigwv2: ApiGatewayV2::new(store.clone(), v2_sink, args.listen.port()),
        httpapi,
        apigatewayv2_ops: OperationRouter::new(portico_model::apigatewayv2::OPERATIONS),
        lambda_ops: OperationRouter::new(portico_model::lambda::OPERATIONS),
        logs,
    });

    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(
        listen = %args.listen,
        data_dir = %data_dir.display(),
        stages,
        v2_stages,
        startup_ms = started.elapsed().as_millis() as u64,
        "portico is serving"
    );

    // Samples CPU time and moves Portico's threads and the runtimes between CPUs.
    let placing = placement.map(|placement| tokio::spawn(placement.adapt()));
    let tracker = TaskTracker::new();
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(error) => {
                        tracing::warn!(%error, "accept failed");
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let app = app.clone();
                tracker.spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let app = app.clone();
                        async move { Ok::<_, Infallible>(handle(&app, request, peer).await) }
                    });
                    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    if let Err(error) = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).await {
                        tracing::debug!(%error, %peer, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    tracing::info!("shutting down");
    drop(listener);
    tracker.close();
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, tracker.wait()).await;
    lambda.shutdown().await;
    if let Some(placing) = placing {
        placing.abort();
    }
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

fn full(response: Response<Bytes>) -> Response<Full<Bytes>> {
    response.map(Full::new)
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, ()> {
    Limited::new(body, limit)
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .map_err(|_| ())
}

async fn handle(app: &App, request: Request<Incoming>, peer: SocketAddr) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = route(app, request, peer).await;
    let request_id = response
        .headers()
        .get("x-amzn-requestid")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    crate::telemetry::request_line(
        request_id,
        method.as_str(),
        &path,
        response.status().as_u16(),
        started.elapsed().as_micros() as u64,
    );
    full(response)
}

async fn route(app: &App, request: Request<Incoming>, peer: SocketAddr) -> Response<Bytes> {
    let path = request.uri().path();
    if let Some(internal) = path.strip_prefix("/_portico/") {
        return internal_endpoint(app, internal.to_owned()).await;
    }
    let host = request
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().host())
        .unwrap_or("")
        .to_owned();
    if let Some(connection_id) = connection_id_from_path(path) {
        // The WebSocket `@connections` management API: connection ids are unique across
        // APIs, so `--endpoint-url http://127.0.0.1:PORT/{stage}` works as well as the API's
        // own host.
        let method = request.method().clone();
        let Ok(body) = read_body(request.into_body(), MAX_DATA_PLANE_BODY).await else {
            return portico_dataplane::v2::payload_too_large();
        };
        return app
            .httpapi
            .manage_connection(&host, &method, &connection_id, body);
    }
    if let Some(api_id) = api_id_from_host(&host)
        && app.httpapi.serves(api_id)
    {
        let api_id = api_id.to_owned();
        if is_websocket_upgrade(request.headers()) {
            let mut request = request;
            let on_upgrade = hyper::upgrade::on(&mut request);
            let (parts, _) = request.into_parts();
            let client = ClientInfo {
                source_ip: peer.ip().to_string(),
            };
            return app
                .httpapi
                .upgrade(&api_id, &host, &parts, on_upgrade, &client)
                .await;
        }
        let (parts, body) = request.into_parts();
        let Ok(body) = read_body(body, MAX_DATA_PLANE_BODY).await else {
            return portico_dataplane::v2::payload_too_large();
        };
        let client = ClientInfo {
            source_ip: peer.ip().to_string(),
        };
        return app
            .httpapi
            .handle(&api_id, &host, Request::from_parts(parts, body), &client)
            .await;
    }
    if let Some(url_id) = function_url_id(&host) {
        let url_id = url_id.to_owned();
        return function_url(app, &url_id, request, peer).await;
    }
    if let Some(target) = parse_invoke_target(&host, path) {
        let (parts, body) = request.into_parts();
        let Ok(body) = read_body(body, MAX_DATA_PLANE_BODY).await else {
            return portico_dataplane::GatewayResponse::request_too_large()
                .into_response(&portico_core::ids::request_id());
        };
        let client = ClientInfo {
            source_ip: peer.ip().to_string(),
        };
        return app
            .dataplane
            .handle(target, Request::from_parts(parts, body), &client)
            .await;
    }
    control_plane(app, request).await
}

/// The URL id of a function URL host: `{url-id}.lambda-url.{region}.on.aws`, or any
/// `{url-id}.lambda-url.*` such as `{url-id}.lambda-url.localhost:4566`.
fn function_url_id(host: &str) -> Option<&str> {
    let hostname = host.split(':').next().unwrap_or(host);
    let (url_id, _) = hostname.split_once(".lambda-url.")?;
    (!url_id.is_empty()).then_some(url_id)
}

async fn function_url(
    app: &App,
    url_id: &str,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Bytes> {
    let (parts, body) = request.into_parts();
    let Ok(body) = read_body(body, portico_lambda::MAX_FUNCTION_URL_BODY).await else {
        return json_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            serde_json::json!({"Message": "Request must be smaller than 6291456 bytes for the InvokeFunction operation"}),
        );
    };
    let headers = parts
        .headers
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let url_request = portico_lambda::FunctionUrlRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers,
        body,
        source_ip: peer.ip().to_string(),
    };
    let Some(answer) = app.lambda.invoke_function_url(url_id, url_request).await else {
        // AWS has no DNS name for an unknown URL id; answer as a missing resource.
        return json_response(StatusCode::NOT_FOUND, serde_json::json!({"Message": null}));
    };
    let mut response = Response::new(answer.body);
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

async fn internal_endpoint(app: &App, path: String) -> Response<Bytes> {
    if path == "health" {
        return json_response(
            StatusCode::OK,
            serde_json::json!({
                "status": "ok",
                "version": env!("CARGO_PKG_VERSION"),
                "stages": app.dataplane.stage_count() + app.httpapi.stage_count(),
            }),
        );
    }
    let code = path
        .strip_prefix("lambda/code/")
        .and_then(|rest| rest.strip_suffix("/code.zip"))
        .and_then(|rest| rest.split_once('/'));
    if let Some((region, name)) = code
        && let Some(zip) = app.lambda.code_zip(region, name).await
    {
        let mut response = Response::new(Bytes::from(zip));
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/zip"),
        );
        return response;
    }
    json_response(
        StatusCode::NOT_FOUND,
        serde_json::json!({"message": format!("No internal endpoint /_portico/{path}")}),
    )
}

async fn control_plane(app: &App, request: Request<Incoming>) -> Response<Bytes> {
    let request_id = portico_core::ids::request_id();
    let Some((service, region)) =
        detect(request.headers(), request.uri().path(), &app.default_region)
            .map(|(s, r)| (s, r.to_owned()))
    else {
        let error = AwsError::unknown_operation(format!(
            "No AWS service or deployed API answers {} {}",
            request.method(),
            request.uri().path()
        ));
        return error_response(Service::ApiGateway, &error, &request_id);
    };
    let scope = Scope::new(app.account_id.clone(), region);
    match run_operation(app, service, &scope, request).await {
        Ok(output) => output.into_response(&request_id),
        Err(error) => {
            if error.status >= 500 {
                tracing::warn!(%error, service = service.name(), "operation failed");
            }
            error_response(service, &error, &request_id)
        }
    }
}

async fn run_operation(
    app: &App,
    service: Service,
    scope: &Scope,
    request: Request<Incoming>,
) -> Result<portico_protocol::OperationOutput, AwsError> {
    let router = match service {
        Service::ApiGateway => &app.apigateway_ops,
        Service::Lambda => &app.lambda_ops,
        Service::ApiGatewayV2 => &app.apigatewayv2_ops,
        Service::Logs => return logs_operation(app, scope, request).await,
    };
    let query: Vec<(String, String)> = request
        .uri()
        .query()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    let routed = router.route(request.method().as_str(), request.uri().path(), &query)?;
    let (parts, body) = request.into_parts();
    let body = read_body(body, portico_protocol::MAX_CONTROL_BODY)
        .await
        .map_err(|()| AwsError::request_too_large("Request must be smaller than 75497472 bytes"))?;
    let input = bind_input(routed, &query, &parts.headers, body)?;
    match service {
        Service::Lambda => app.lambda.handle(scope, input).await,
        Service::ApiGateway => app.apigw.handle(scope, input).await,
        Service::ApiGatewayV2 => app.apigwv2.handle(scope, input).await,
        // Answered above: awsJson has no rest-json binding.
        Service::Logs => Err(AwsError::unknown_operation(
            "CloudWatch Logs speaks awsJson 1.1",
        )),
    }
}

/// CloudWatch Logs (awsJson 1.1): the operation is in `X-Amz-Target`, the input is the body.
async fn logs_operation(
    app: &App,
    scope: &Scope,
    request: Request<Incoming>,
) -> Result<portico_protocol::OperationOutput, AwsError> {
    let operation = json_target(
        request.headers(),
        LOGS_TARGET_PREFIX,
        portico_logs::OPERATIONS,
    )?;
    let body = read_body(request.into_body(), portico_protocol::MAX_CONTROL_BODY)
        .await
        .map_err(|()| AwsError::request_too_large("Request must be smaller than 75497472 bytes"))?;
    app.logs.handle(scope, operation, &body)
}
