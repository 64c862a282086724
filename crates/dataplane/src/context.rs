//! `$context` for mapping templates and `requestContext` for proxy events: the same facts.

use serde_json::{Map, Value, json};

use crate::json_out::JsonObject;
use crate::snapshot::{CompiledMethod, CompiledStage};

/// Per-request facts, gathered once.
pub(crate) struct RequestMeta {
    pub request_id: String,
    pub extended_request_id: String,
    /// `dd/MMM/yyyy:HH:mm:ss +0000`.
    pub request_time: String,
    /// Milliseconds since the epoch.
    pub request_time_epoch: i64,
    pub source_ip: String,
    pub user_agent: Option<String>,
    pub domain_name: String,
    /// The request path below the stage, as received.
    pub path: String,
    pub http_method: String,
    /// `(apiKey, apiKeyId)` for a method that requires a key and got a known one.
    pub api_key: Option<(String, String)>,
    /// Who signed the request, on an `AWS_IAM` method.
    pub caller: Option<crate::iam::Caller>,
    /// `$context.authorizer` once a Lambda authorizer let the request through.
    pub authorizer: Option<Value>,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The current time as `(requestTime, requestTimeEpoch)`.
pub(crate) fn now() -> (String, i64) {
    let now = time::OffsetDateTime::now_utc();
    let clf = format!(
        "{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000",
        now.day(),
        MONTHS[usize::from(u8::from(now.month())) - 1],
        now.year(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let epoch_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
    (clf, epoch_ms)
}

impl RequestMeta {
    pub fn domain_prefix(&self) -> &str {
        self.domain_name.split('.').next().unwrap_or("")
    }

    /// `$context.path` / `requestContext.path`: the path including the stage.
    pub fn stage_path(&self, stage: &CompiledStage) -> String {
        format!("/{}{}", stage.stage_name, self.path)
    }

    /// [`RequestMeta::identity`] for a request with no signer and no API key, written out.
    fn write_anonymous_identity(&self, identity: &mut JsonObject<'_>) {
        identity.null("cognitoIdentityPoolId");
        identity.null("accountId");
        identity.null("cognitoIdentityId");
        identity.null("caller");
        identity.str("sourceIp", &self.source_ip);
        identity.null("principalOrgId");
        identity.null("accessKey");
        identity.null("cognitoAuthenticationType");
        identity.null("cognitoAuthenticationProvider");
        identity.null("userArn");
        identity.opt_str("userAgent", self.user_agent.as_deref());
        identity.null("user");
    }

    fn identity(&self) -> Value {
        let mut identity = json!({
            "cognitoIdentityPoolId": null,
            "accountId": null,
            "cognitoIdentityId": null,
            "caller": null,
            "sourceIp": self.source_ip,
            "principalOrgId": null,
            "accessKey": null,
            "cognitoAuthenticationType": null,
            "cognitoAuthenticationProvider": null,
            "userArn": null,
            "userAgent": self.user_agent,
            "user": null,
        });
        if let (Some(caller), Value::Object(map)) = (&self.caller, &mut identity) {
            caller.fill_identity(map);
        }
        if let (Some((key, id)), Value::Object(map)) = (&self.api_key, &mut identity) {
            map.insert("apiKey".into(), key.clone().into());
            map.insert("apiKeyId".into(), id.clone().into());
        }
        identity
    }
}

/// `$context` for a mapping template, with the keys AWS has on a request without authorizer.
pub(crate) fn template_context(
    stage: &CompiledStage,
    method: &CompiledMethod,
    meta: &RequestMeta,
) -> Value {
    request_context(stage, Some(method), meta)
}

/// `$context` for a request that may not have matched a method (gateway responses).
pub(crate) fn request_context(
    stage: &CompiledStage,
    method: Option<&CompiledMethod>,
    meta: &RequestMeta,
) -> Value {
    let mut map = Map::with_capacity(18);
    if let Some(method) = method {
        map.insert("resourceId".into(), method.resource_id.clone().into());
        map.insert("resourcePath".into(), method.resource_path.clone().into());
    }
    map.insert("httpMethod".into(), meta.http_method.clone().into());
    map.insert(
        "extendedRequestId".into(),
        meta.extended_request_id.clone().into(),
    );
    map.insert("requestTime".into(), meta.request_time.clone().into());
    map.insert("path".into(), meta.stage_path(stage).into());
    map.insert("accountId".into(), stage.account_id.clone().into());
    map.insert("protocol".into(), "HTTP/1.1".into());
    map.insert("stage".into(), stage.stage_name.clone().into());
    map.insert("domainPrefix".into(), meta.domain_prefix().into());
    map.insert("requestTimeEpoch".into(), meta.request_time_epoch.into());
    map.insert("requestId".into(), meta.request_id.clone().into());
    map.insert("identity".into(), meta.identity());
    map.insert("domainName".into(), meta.domain_name.clone().into());
    map.insert("deploymentId".into(), stage.deployment_id.clone().into());
    map.insert("apiId".into(), stage.api_id.clone().into());
    if let Some(authorizer) = &meta.authorizer {
        map.insert("authorizer".into(), authorizer.clone());
    }
    Value::Object(map)
}

/// Writes the fields of a REST (payload 1.0) proxy event's `requestContext`: the keys of
/// [`request_context`], in AWS's order for proxy events.
pub(crate) fn write_proxy_request_context(
    context: &mut JsonObject<'_>,
    stage: &CompiledStage,
    method: &CompiledMethod,
    meta: &RequestMeta,
) {
    context.str("resourceId", &method.resource_id);
    context.str("resourcePath", &method.resource_path);
    context.str("httpMethod", &meta.http_method);
    context.str("extendedRequestId", &meta.extended_request_id);
    context.str("requestTime", &meta.request_time);
    context.str("path", &meta.stage_path(stage));
    context.str("accountId", &stage.account_id);
    context.str("protocol", "HTTP/1.1");
    context.str("stage", &stage.stage_name);
    context.str("domainPrefix", meta.domain_prefix());
    context.int("requestTimeEpoch", meta.request_time_epoch);
    context.str("requestId", &meta.request_id);
    if meta.caller.is_none() && meta.api_key.is_none() {
        context.object("identity", |identity| {
            meta.write_anonymous_identity(identity)
        });
    } else {
        context.value("identity", &meta.identity());
    }
    context.str("domainName", &meta.domain_name);
    context.str("deploymentId", &stage.deployment_id);
    context.str("apiId", &stage.api_id);
    // A Lambda authorizer's principal and context, with the latency AWS reports beside them.
    if let Some(Value::Object(granted)) = &meta.authorizer {
        let mut authorizer = granted.clone();
        authorizer.insert("integrationLatency".into(), 0.into());
        context.value("authorizer", &authorizer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_time_is_clf() {
        let (clf, epoch) = now();
        assert_eq!(clf.len(), "04/Mar/2020:19:15:17 +0000".len());
        assert!(clf.ends_with(" +0000"));
        assert!(epoch > 1_600_000_000_000);
    }
}
