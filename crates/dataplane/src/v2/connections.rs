//! The `@connections` management API (`apigatewaymanagementapi`): PostToConnection,
//! GetConnection and DeleteConnection reach a live WebSocket client through its
//! connection's outbound queue.

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode};
use percent_encoding::percent_decode_str;
use serde_json::json;
use tokio::sync::mpsc::error::TrySendError;
use tokio_tungstenite::tungstenite::Message;

use super::websocket::{Connections, MAX_MESSAGE, Outbound};

/// The connection id of a management URL: `[/{stage}]/@connections/{id}` (the `@` may be
/// percent-encoded); `None` for any other path.
pub fn connection_id_from_path(path: &str) -> Option<String> {
    // Every request to the listener is asked this, so it walks the segments without
    // collecting them: `@connections/{id}` or `{stage}/@connections/{id}`, nothing after.
    let is_marker = |s: &str| s == "@connections" || s.eq_ignore_ascii_case("%40connections");
    let mut segments = path.trim_start_matches('/').split('/');
    let first = segments.next()?;
    if !is_marker(first) && !is_marker(segments.next()?) {
        return None;
    }
    let id = segments.next()?;
    if id.is_empty() || segments.next().is_some() {
        return None;
    }
    Some(percent_decode_str(id).decode_utf8_lossy().into_owned())
}

fn answer(status: u16, error: Option<&'static str>, body: &str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(body.to_owned()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    if let Ok(id) = HeaderValue::from_str(&portico_core::ids::request_id()) {
        headers.insert("x-amzn-requestid", id);
    }
    if !body.is_empty() {
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    if let Some(kind) = error {
        headers.insert("x-amzn-errortype", HeaderValue::from_static(kind));
    }
    response
}

fn gone() -> Response<Bytes> {
    answer(410, Some("GoneException"), "{}")
}

fn iso_ms(epoch_ms: i64) -> String {
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(epoch_ms) * 1_000_000)
    else {
        return String::new();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

/// Runs one management call. `api_id` is the API the URL's host names, when it names one: a
/// connection of another API is `410` as if it did not exist.
pub(crate) fn manage(
    connections: &Connections,
    api_id: Option<&str>,
    method: &Method,
    connection_id: &str,
    body: Bytes,
) -> Response<Bytes> {
    let Some(connection) = connections
        .get(connection_id)
        .filter(|c| api_id.is_none_or(|api| api == c.api_id))
    else {
        return gone();
    };
    match *method {
        Method::POST => {
            if body.len() > MAX_MESSAGE {
                return answer(
                    413,
                    Some("PayloadTooLargeException"),
                    "{\"message\":\"Message too long\"}",
                );
            }
            let message = match String::from_utf8(body.to_vec()) {
                Ok(text) => Message::text(text),
                Err(_) => Message::binary(body),
            };
            match connection.outbound.try_send(Outbound::Send(message)) {
                Ok(()) => answer(200, None, ""),
                Err(TrySendError::Full(_)) => answer(429, Some("LimitExceededException"), "{}"),
                Err(TrySendError::Closed(_)) => gone(),
            }
        }
        Method::GET => {
            let body = json!({
                "connectedAt": iso_ms(connection.connected_at),
                "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
                "lastActiveAt": iso_ms(connection.last_active.load(std::sync::atomic::Ordering::Relaxed)),
            });
            answer(200, None, &body.to_string())
        }
        Method::DELETE => {
            match connection.outbound.try_send(Outbound::Close) {
                Err(TrySendError::Closed(_)) => gone(),
                // A full queue still ends the connection: the close is queued behind it.
                Err(TrySendError::Full(_)) => {
                    let outbound = connection.outbound.clone();
                    tokio::spawn(async move { outbound.send(Outbound::Close).await });
                    answer(204, None, "")
                }
                Ok(()) => answer(204, None, ""),
            }
        }
        _ => answer(
            403,
            Some("ForbiddenException"),
            "{\"message\":\"Forbidden\"}",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn management_paths() {
        assert_eq!(
            connection_id_from_path("/prod/@connections/R0oXAdfD0kwCH6w%3D").as_deref(),
            Some("R0oXAdfD0kwCH6w=")
        );
        assert_eq!(
            connection_id_from_path("/@connections/abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            connection_id_from_path("/prod/%40connections/abc").as_deref(),
            Some("abc")
        );
        assert_eq!(connection_id_from_path("/prod/@connections/"), None);
        assert_eq!(connection_id_from_path("/a/b/@connections/x"), None);
        assert_eq!(connection_id_from_path("/pets/1"), None);
        assert_eq!(connection_id_from_path("/@connections/abc/def"), None);
        assert_eq!(connection_id_from_path("/prod/@connections"), None);
        assert_eq!(connection_id_from_path(""), None);
    }

    #[test]
    fn unknown_connections_are_gone() {
        let r = manage(
            &Connections::default(),
            None,
            &Method::POST,
            "nope",
            Bytes::from("x"),
        );
        assert_eq!(r.status(), 410);
        assert_eq!(r.headers()["x-amzn-errortype"], "GoneException");
        assert_eq!(iso_ms(1_583_348_638_390), "2020-03-04T19:03:58.390Z");
    }
}
