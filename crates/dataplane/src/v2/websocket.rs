//! WebSocket APIs: the upgrade (with the `$connect` route deciding), one task per connection
//! routing each message by the route selection expression, `$disconnect`, AWS's limits (128 KB
//! messages, 32 KB frames, 10 minutes idle), and the connection registry the `@connections`
//! management API reaches clients through.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{HeaderValue, Response, StatusCode};
use hyper_util::rt::TokioIo;
use portico_core::{InvocationType, InvokeRequest, Invoker, ids};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, handshake::derive_accept_key};

use super::authorizer::{Refusal, RouteAuth};
use super::compile::{CompiledHttpStage, HttpIntegration, WsRoute};
use super::event::{AuthorizerContext, RequestFacts};
use super::ws_session::Session;

/// AWS's WebSocket message limit.
pub(crate) const MAX_MESSAGE: usize = 128 * 1024;
/// AWS's WebSocket frame limit.
const MAX_FRAME: usize = 32 * 1024;
/// AWS closes a connection with no traffic for 10 minutes.
const IDLE_TIMEOUT: Duration = Duration::from_secs(600);
/// AWS ends every connection after 2 hours.
const MAX_DURATION: Duration = Duration::from_secs(2 * 60 * 60);
/// Messages waiting for a slow client; beyond this PostToConnection answers 429, as AWS does
/// when "the WebSocket client side buffer is full".
const OUTBOUND_QUEUE: usize = 256;

/// What another task asks a connection to do.
pub(crate) enum Outbound {
    Send(Message),
    /// DeleteConnection: close with 1000 and run `$disconnect`.
    Close,
}

/// A live connection, as the registry and the management API see it.
pub(crate) struct Connection {
    pub api_id: String,
    /// Milliseconds since the epoch.
    pub connected_at: i64,
    pub last_active: AtomicI64,
    pub source_ip: String,
    pub user_agent: String,
    pub outbound: mpsc::Sender<Outbound>,
}

/// Every live connection by id. Touched on connect, disconnect and management calls only,
/// never per message.
#[derive(Default)]
pub(crate) struct Connections {
    live: RwLock<HashMap<String, Arc<Connection>>>,
}

impl Connections {
    pub fn get(&self, id: &str) -> Option<Arc<Connection>> {
        self.live.read().ok()?.get(id).cloned()
    }

    fn insert(&self, id: String, connection: Arc<Connection>) {
        if let Ok(mut live) = self.live.write() {
            live.insert(id, connection);
        }
    }

    fn remove(&self, id: &str) {
        if let Ok(mut live) = self.live.write() {
            live.remove(id);
        }
    }
}

pub(crate) fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// What a route's integration answered.
enum Outcome {
    /// The function's result payload.
    Answer(Bytes),
    Failed,
}

async fn run_route(
    invoker: &dyn Invoker,
    session: &Session,
    route: &WsRoute,
    event: &Value,
) -> Outcome {
    let HttpIntegration::Lambda {
        target, timeout, ..
    } = route.integration.as_ref()
    else {
        tracing::warn!(api = %session.stage.api_id, route = %route.route_key, "WebSocket route has no Lambda proxy integration");
        return Outcome::Failed;
    };
    let request = InvokeRequest {
        region: target.region.clone(),
        account_id: target.account_id.clone(),
        function_name: target.function_name.clone(),
        qualifier: target.qualifier.clone(),
        payload: Bytes::from(serde_json::to_vec(event).unwrap_or_default()),
        invocation_type: InvocationType::RequestResponse,
        client_context: None,
        source_arn: Some(session.source_arn(&route.route_key)),
        log_tail: false,
    };
    match tokio::time::timeout(
        (*timeout).min(Duration::from_millis(29_000)),
        invoker.invoke(request),
    )
    .await
    {
        Ok(Ok(result)) if result.function_error.is_none() => Outcome::Answer(result.payload),
        Ok(Ok(_)) => {
            tracing::warn!(route = %route.route_key, "WebSocket route function returned an error");
            Outcome::Failed
        }
        Ok(Err(error)) => {
            tracing::warn!(route = %route.route_key, %error, "WebSocket route function could not be invoked");
            Outcome::Failed
        }
        Err(_) => {
            tracing::warn!(route = %route.route_key, "WebSocket route function timed out");
            Outcome::Failed
        }
    }
}

/// A proxy result's status (`statusCode`, 200 when absent) and `body`.
fn proxy_result(payload: &[u8]) -> (u16, Option<String>) {
    match serde_json::from_slice::<Value>(payload) {
        Ok(Value::Object(map)) => {
            let status = match map.get("statusCode") {
                Some(Value::Number(n)) => n
                    .as_u64()
                    .and_then(|c| u16::try_from(c).ok())
                    .unwrap_or(500),
                Some(Value::String(s)) => s.trim().parse().unwrap_or(500),
                _ => 200,
            };
            let body = map.get("body").and_then(Value::as_str).map(str::to_owned);
            (status, body)
        }
        Ok(Value::Null) | Err(_) => (200, None),
        Ok(Value::String(text)) => (200, Some(text)),
        Ok(other) => (200, Some(other.to_string())),
    }
}

fn plain(status: u16, body: &str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(body.to_owned()));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Whether a request asks for a WebSocket.
pub(crate) fn is_upgrade(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Everything the upgrade needs from the plane.
pub(crate) struct Upgrade<'a> {
    pub stage: Arc<CompiledHttpStage>,
    pub invoker: Arc<dyn Invoker>,
    pub connections: Arc<Connections>,
    pub parts: &'a http::request::Parts,
    pub on_upgrade: hyper::upgrade::OnUpgrade,
    pub domain_name: String,
    pub source_ip: String,
    pub http_client: &'a crate::backend::HttpClient,
    pub credentials: &'a dyn portico_sigv4::CredentialsProvider,
}

/// Runs the `$connect` route's authorizer over the upgrade request.
async fn authorize_connect(
    upgrade: &Upgrade<'_>,
    session: &Session,
    auth: &RouteAuth,
    request_id: &str,
) -> Result<AuthorizerContext, Refusal> {
    let (time, time_epoch) = crate::context::now();
    let facts = RequestFacts {
        stage: &session.stage,
        route_key: "$connect",
        method: "GET",
        raw_path: upgrade.parts.uri.path(),
        raw_query: &session.raw_query,
        headers: &session.headers,
        path_parameters: &[],
        body: &[],
        request_id,
        time: &time,
        time_epoch,
        source_ip: &session.source_ip,
        domain_name: &session.domain_name,
        authorizer: None,
    };
    let route_arn = session.source_arn("$connect");
    auth.check(
        upgrade.invoker.as_ref(),
        upgrade.http_client,
        &facts,
        &route_arn,
    )
    .await
}

/// Answers the upgrade request: runs `$connect`, then switches protocols and hands the
/// connection to its own task.
pub(crate) async fn accept(upgrade: Upgrade<'_>) -> Response<Bytes> {
    let parts = upgrade.parts;
    let Some(key) = parts.headers.get(http::header::SEC_WEBSOCKET_KEY) else {
        return plain(400, "{\"message\":\"Bad Request\"}");
    };
    let accept_key = derive_accept_key(key.as_bytes());
    let mut headers: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match headers.iter_mut().find(|(n, _)| n == name.as_str()) {
            Some((_, values)) => values.push(value),
            None => headers.push((name.as_str().to_owned(), vec![value])),
        }
    }
    let user_agent = parts
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let session = Session {
        stage: upgrade.stage.clone(),
        connection_id: ids::extended_request_id(),
        connected_at: now_ms(),
        domain_name: upgrade.domain_name.clone(),
        source_ip: upgrade.source_ip.clone(),
        user_agent,
        headers,
        raw_query: parts.uri.query().unwrap_or("").to_owned(),
        authorizer: None,
        iam_caller: None,
    };
    let mut session = session;
    let routes = upgrade.stage.websocket.as_ref();
    if let Some(route) = routes.and_then(|ws| ws.routes.get("$connect")) {
        let request_id = ids::extended_request_id();
        if route.aws_iam {
            let stage = &upgrade.stage;
            match super::serve::iam_caller(
                stage,
                (&parts.method, &parts.uri, &parts.headers),
                &[],
                upgrade.credentials,
            ) {
                Ok(context) => session.iam_caller = context.iam_caller,
                Err((status, message)) => {
                    return plain(status, &json!({"message": message}).to_string());
                }
            }
        }
        if let Some(auth) = &route.auth {
            match authorize_connect(&upgrade, &session, auth, &request_id).await {
                Ok(context) => session.authorizer = Some(context.v1),
                Err(refusal) => {
                    let (status, message) = refusal.status_and_message();
                    let body = json!({"message": message}).to_string();
                    return plain(status, &body);
                }
            }
        }
        let event = session.connect_event(&request_id);
        match run_route(upgrade.invoker.as_ref(), &session, route, &event).await {
            Outcome::Answer(payload) => {
                let (status, body) = proxy_result(&payload);
                if !(200..300).contains(&status) {
                    // A non-2xx from `$connect` refuses the connection with that status.
                    return plain(status, body.as_deref().unwrap_or(""));
                }
            }
            Outcome::Failed => return plain(500, "{\"message\":\"Internal server error\"}"),
        }
    }
    let (sender, receiver) = mpsc::channel(OUTBOUND_QUEUE);
    let connection = Arc::new(Connection {
        api_id: upgrade.stage.api_id.clone(),
        connected_at: session.connected_at,
        last_active: AtomicI64::new(session.connected_at),
        source_ip: session.source_ip.clone(),
        user_agent: session.user_agent.clone(),
        outbound: sender,
    });
    upgrade
        .connections
        .insert(session.connection_id.clone(), connection.clone());
    let invoker = upgrade.invoker;
    let connections = upgrade.connections;
    let on_upgrade = upgrade.on_upgrade;
    tokio::spawn(async move {
        let (code, reason) = match on_upgrade.await {
            Ok(upgraded) => {
                let config = WebSocketConfig::default()
                    .max_message_size(Some(MAX_MESSAGE))
                    .max_frame_size(Some(MAX_FRAME));
                let socket = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(config),
                )
                .await;
                serve(
                    socket,
                    session.clone(),
                    connection,
                    receiver,
                    invoker.clone(),
                )
                .await
            }
            Err(error) => {
                tracing::debug!(%error, "WebSocket upgrade failed");
                connections.remove(&session.connection_id);
                return;
            }
        };
        connections.remove(&session.connection_id);
        if let Some(route) = session
            .stage
            .websocket
            .as_ref()
            .and_then(|ws| ws.routes.get("$disconnect"))
        {
            let event = session.disconnect_event(&ids::extended_request_id(), code, &reason);
            run_route(invoker.as_ref(), &session, route, &event).await;
        }
    });
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let out = response.headers_mut();
    out.insert(http::header::UPGRADE, HeaderValue::from_static("websocket"));
    out.insert(
        http::header::CONNECTION,
        HeaderValue::from_static("upgrade"),
    );
    if let Ok(v) = HeaderValue::from_str(&accept_key) {
        out.insert(http::header::SEC_WEBSOCKET_ACCEPT, v);
    }
    response
}

/// The route a message takes: the selection expression's value, else `$default`.
fn select_route<'s>(stage: &'s CompiledHttpStage, text: &str) -> Option<&'s Arc<WsRoute>> {
    let ws = stage.websocket.as_ref()?;
    let key = ws.selection.as_ref().and_then(|path| {
        let mut value: Value = serde_json::from_str(text).ok()?;
        for part in path {
            value = value.get_mut(part)?.take();
        }
        match value {
            Value::String(s) => Some(s),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    });
    key.and_then(|k| ws.routes.get(&k))
        .or_else(|| ws.routes.get("$default"))
}

fn error_frame(message: &str, session: &Session, request_id: &str) -> Message {
    Message::text(
        json!({"message": message, "connectionId": session.connection_id, "requestId": request_id})
            .to_string(),
    )
}

/// Runs one message through its route; the answer (if the route returns one) or an error
/// frame goes back through the connection's outbound queue.
async fn dispatch(
    invoker: Arc<dyn Invoker>,
    session: Session,
    outbound: mpsc::Sender<Outbound>,
    message: Message,
) {
    let (text, binary) = match &message {
        Message::Text(text) => (text.as_str().to_owned(), false),
        Message::Binary(data) => {
            use base64::Engine;
            (base64::engine::general_purpose::STANDARD.encode(data), true)
        }
        _ => return,
    };
    let request_id = ids::extended_request_id();
    let Some(route) = select_route(&session.stage, if binary { "" } else { &text }) else {
        let _ = outbound
            .send(Outbound::Send(error_frame(
                "Forbidden",
                &session,
                &request_id,
            )))
            .await;
        return;
    };
    let event = session.message_event(&route.route_key, &request_id, &text, binary);
    match run_route(invoker.as_ref(), &session, route, &event).await {
        Outcome::Answer(payload) if route.two_way => {
            if let (_, Some(body)) = proxy_result(&payload) {
                let _ = outbound.send(Outbound::Send(Message::text(body))).await;
            }
        }
        Outcome::Answer(_) => {}
        Outcome::Failed => {
            let _ = outbound
                .send(Outbound::Send(error_frame(
                    "Internal server error",
                    &session,
                    &request_id,
                )))
                .await;
        }
    }
}

/// The connection's life: messages in, queued messages out, until either side closes, the
/// idle timeout passes or a limit is broken. Returns the close code and reason `$disconnect`
/// reports.
async fn serve(
    socket: WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>,
    session: Session,
    connection: Arc<Connection>,
    mut receiver: mpsc::Receiver<Outbound>,
    invoker: Arc<dyn Invoker>,
) -> (u16, String) {
    let (mut sink, mut stream) = socket.split();
    let idle = tokio::time::sleep(IDLE_TIMEOUT);
    tokio::pin!(idle);
    let lifetime = tokio::time::sleep(MAX_DURATION);
    tokio::pin!(lifetime);
    loop {
        tokio::select! {
            incoming = stream.next() => {
                let message = match incoming {
                    None => return (1006, "Connection closed abnormally".to_owned()),
                    Some(Ok(message)) => message,
                    Some(Err(error)) => {
                        // A message over 128 KB or a frame over 32 KB ends the connection
                        // with 1009, as AWS does.
                        tracing::debug!(%error, connection = %session.connection_id, "WebSocket read failed");
                        let frame = CloseFrame { code: CloseCode::Size, reason: "Message too big".into() };
                        let _ = sink.send(Message::Close(Some(frame))).await;
                        return (1009, "Message too big".to_owned());
                    }
                };
                connection.last_active.store(now_ms(), Ordering::Relaxed);
                idle.as_mut().reset(tokio::time::Instant::now() + IDLE_TIMEOUT);
                match message {
                    Message::Text(_) | Message::Binary(_) => {
                        tokio::spawn(dispatch(invoker.clone(), session.clone(), connection.outbound.clone(), message));
                    }
                    Message::Close(frame) => {
                        return match frame {
                            Some(frame) => (u16::from(frame.code), frame.reason.to_string()),
                            None => (1005, String::new()),
                        };
                    }
                    _ => {}
                }
            }
            out = receiver.recv() => match out {
                Some(Outbound::Send(message)) => {
                    if sink.send(message).await.is_err() {
                        return (1006, "Connection closed abnormally".to_owned());
                    }
                }
                Some(Outbound::Close) | None => {
                    let frame = CloseFrame { code: CloseCode::Normal, reason: "".into() };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    return (1000, "Connection deleted".to_owned());
                }
            },
            () = &mut lifetime => {
                let frame = CloseFrame { code: CloseCode::Away, reason: "Going away".into() };
                let _ = sink.send(Message::Close(Some(frame))).await;
                return (1001, "Going away".to_owned());
            }
            () = &mut idle => {
                let frame = CloseFrame { code: CloseCode::Away, reason: "Going away".into() };
                let _ = sink.send(Message::Close(Some(frame))).await;
                return (1001, "Going away".to_owned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v2::compile::{WebSocketRoutes, parse_selection};

    fn stage(selection: &str, keys: &[&str]) -> CompiledHttpStage {
        let routes = keys
            .iter()
            .map(|k| {
                (
                    (*k).to_owned(),
                    Arc::new(WsRoute {
                        route_key: (*k).to_owned(),
                        integration: Arc::new(HttpIntegration::Unavailable {
                            reason: String::new(),
                        }),
                        two_way: false,
                        auth: None,
                        aws_iam: false,
                    }),
                )
            })
            .collect();
        CompiledHttpStage {
            api_id: "a".into(),
            account_id: "1".into(),
            region: "us-east-1".into(),
            stage_name: "prod".into(),
            variables: Default::default(),
            disabled: false,
            router: portico_route::RouterBuilder::http_api().build(),
            cors: None,
            websocket: Some(WebSocketRoutes {
                routes,
                selection: parse_selection(selection),
            }),
        }
    }

    #[test]
    fn selection_expressions() {
        assert_eq!(
            parse_selection("$request.body.action"),
            Some(vec!["action".to_owned()])
        );
        assert_eq!(
            parse_selection("${request.body.msg.kind}"),
            Some(vec!["msg".to_owned(), "kind".to_owned()])
        );
        assert_eq!(parse_selection("$request.header.x"), None);
        assert_eq!(parse_selection("$request.body."), None);
    }

    #[test]
    fn messages_pick_their_route_or_default() {
        let s = stage("$request.body.action", &["send", "$default", "7"]);
        let key = |text: &str| select_route(&s, text).map(|r| r.route_key.clone());
        assert_eq!(key(r#"{"action":"send"}"#).as_deref(), Some("send"));
        assert_eq!(key(r#"{"action":"other"}"#).as_deref(), Some("$default"));
        assert_eq!(key(r#"{"action":7}"#).as_deref(), Some("7"));
        assert_eq!(key("not json").as_deref(), Some("$default"));
        let s = stage("$request.body.action", &["send"]);
        assert!(select_route(&s, r#"{"action":"x"}"#).is_none());
    }

    #[test]
    fn proxy_results() {
        assert_eq!(
            proxy_result(br#"{"statusCode":403,"body":"no"}"#),
            (403, Some("no".to_owned()))
        );
        assert_eq!(
            proxy_result(br#"{"body":"b"}"#),
            (200, Some("b".to_owned()))
        );
        assert_eq!(proxy_result(b"null"), (200, None));
        assert_eq!(proxy_result(br#""text""#), (200, Some("text".to_owned())));
        assert_eq!(proxy_result(b"[1]"), (200, Some("[1]".to_owned())));
    }
}
