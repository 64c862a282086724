//! One WebSocket connection's session: the facts every Lambda event of the connection
//! repeats, and the `$connect`, MESSAGE and `$disconnect` events built from them.

use std::sync::Arc;

use portico_core::ids;
use serde_json::{Map, Value, json};

use super::compile::CompiledHttpStage;
use crate::iam::Caller;

/// The facts every event of one connection repeats.
#[derive(Clone)]
pub(crate) struct Session {
    pub(crate) stage: Arc<CompiledHttpStage>,
    pub(crate) connection_id: String,
    pub(crate) connected_at: i64,
    pub(crate) domain_name: String,
    pub(crate) source_ip: String,
    pub(crate) user_agent: String,
    /// The upgrade request's headers: `$connect` and `$disconnect` carry them.
    pub(crate) headers: Vec<(String, Vec<String>)>,
    pub(crate) raw_query: String,
    /// What the `$connect` authorizer established; every later event carries it.
    pub(crate) authorizer: Option<Value>,
    /// Who signed an `AWS_IAM` `$connect`; every later event names them in `identity`.
    pub(crate) iam_caller: Option<Caller>,
}

impl Session {
    pub(crate) fn request_context(
        &self,
        route_key: &str,
        event_type: &str,
        request_id: &str,
    ) -> Map<String, Value> {
        let (time, epoch) = crate::context::now();
        let Value::Object(map) = json!({
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": time,
            "messageDirection": "IN",
            "stage": self.stage.stage_name,
            "connectedAt": self.connected_at,
            "requestTimeEpoch": epoch,
            "identity": {"userAgent": self.user_agent, "sourceIp": self.source_ip},
            "requestId": request_id,
            "domainName": self.domain_name,
            "connectionId": self.connection_id,
            "apiId": self.stage.api_id,
        }) else {
            return Map::new();
        };
        let mut map = map;
        if let (Some(caller), Some(Value::Object(identity))) =
            (&self.iam_caller, map.get_mut("identity"))
        {
            caller.fill_identity(identity);
        }
        if let Some(authorizer) = &self.authorizer {
            map.insert("authorizer".into(), authorizer.clone());
        }
        map
    }

    pub(crate) fn header_maps(&self) -> (Value, Value) {
        let single: Map<String, Value> = self
            .headers
            .iter()
            .filter_map(|(n, v)| Some((n.clone(), Value::from(v.last()?.as_str()))))
            .collect();
        let multi: Map<String, Value> = self
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), Value::from(v.clone())))
            .collect();
        (Value::Object(single), Value::Object(multi))
    }

    pub(crate) fn connect_event(&self, request_id: &str) -> Value {
        let (headers, multi) = self.header_maps();
        let mut query: Vec<(String, Vec<String>)> = Vec::new();
        for (k, v) in form_urlencoded::parse(self.raw_query.as_bytes()) {
            match query.iter_mut().find(|(name, _)| *name == k) {
                Some((_, values)) => values.push(v.into_owned()),
                None => query.push((k.into_owned(), vec![v.into_owned()])),
            }
        }
        let mut event = json!({
            "headers": headers,
            "multiValueHeaders": multi,
            "requestContext": self.request_context("$connect", "CONNECT", request_id),
            "isBase64Encoded": false,
        });
        if !query.is_empty() {
            event["queryStringParameters"] = Value::Object(
                query
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), Value::from(v.last()?.as_str()))))
                    .collect(),
            );
            event["multiValueQueryStringParameters"] = Value::Object(
                query
                    .into_iter()
                    .map(|(k, v)| (k, Value::from(v)))
                    .collect(),
            );
        }
        event
    }

    pub(crate) fn message_event(
        &self,
        route_key: &str,
        request_id: &str,
        body: &str,
        binary: bool,
    ) -> Value {
        let mut context = self.request_context(route_key, "MESSAGE", request_id);
        context.insert("messageId".into(), ids::extended_request_id().into());
        json!({
            "requestContext": context,
            "body": body,
            "isBase64Encoded": binary,
        })
    }

    pub(crate) fn disconnect_event(&self, request_id: &str, code: u16, reason: &str) -> Value {
        let (headers, multi) = self.header_maps();
        let mut context = self.request_context("$disconnect", "DISCONNECT", request_id);
        context.insert("disconnectStatusCode".into(), code.into());
        context.insert("disconnectReason".into(), reason.into());
        json!({
            "headers": headers,
            "multiValueHeaders": multi,
            "requestContext": context,
            "isBase64Encoded": false,
        })
    }

    pub(crate) fn source_arn(&self, route_key: &str) -> String {
        format!(
            "arn:aws:execute-api:{}:{}:{}/{}/{}",
            self.stage.region,
            self.stage.account_id,
            self.stage.api_id,
            self.stage.stage_name,
            route_key
        )
    }
}
