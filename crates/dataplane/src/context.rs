//! `$context` for mapping templates and `requestContext` for proxy events: the same facts.

use serde_json::{Map, Value};

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

/// The keys of `identity` (`$context.identity`, a REST proxy event's
/// `requestContext.identity`) in AWS's order; an API key adds `apiKey` and `apiKeyId` after them.
const IDENTITY_KEYS: [&str; 12] = [
    "cognitoIdentityPoolId",
    "accountId",
    "cognitoIdentityId",
    "caller",
    "sourceIp",
    "principalOrgId",
    "accessKey",
    "cognitoAuthenticationType",
    "cognitoAuthenticationProvider",
    "userArn",
    "userAgent",
    "user",
];

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

    /// The value of one of [`IDENTITY_KEYS`] before a signer or an API key fills theirs:
    /// the client's address and user agent, `null` for the rest.
    fn anonymous_identity_field(&self, key: &str) -> Option<&str> {
        match key {
            "sourceIp" => Some(&self.source_ip),
            "userAgent" => self.user_agent.as_deref(),
            _ => None,
        }
    }

    /// [`RequestMeta::identity`] for a request with no signer and no API key, written out.
    fn write_anonymous_identity(&self, identity: &mut JsonObject<'_>) {
        for key in IDENTITY_KEYS {
            identity.opt_str(key, self.anonymous_identity_field(key));
        }
    }

    fn identity(&self) -> Value {
        let mut map = Map::with_capacity(IDENTITY_KEYS.len() + 2);
        for key in IDENTITY_KEYS {
            map.insert(key.into(), self.anonymous_identity_field(key).into());
        }
        if let Some(caller) = &self.caller {
            caller.fill_identity(&mut map);
        }
        if let Some((key, id)) = &self.api_key {
            map.insert("apiKey".into(), key.clone().into());
            map.insert("apiKeyId".into(), id.clone().into());
        }
        Value::Object(map)
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

    fn meta(user_agent: Option<&str>) -> RequestMeta {
        RequestMeta {
            request_id: "r".to_owned(),
            extended_request_id: "e".to_owned(),
            request_time: "t".to_owned(),
            request_time_epoch: 0,
            source_ip: "198.51.100.7".to_owned(),
            user_agent: user_agent.map(str::to_owned),
            domain_name: "d".to_owned(),
            path: "/".to_owned(),
            http_method: "GET".to_owned(),
            api_key: None,
            caller: None,
            authorizer: None,
        }
    }

    const ANONYMOUS: &str = r#"{"cognitoIdentityPoolId":null,"accountId":null,"cognitoIdentityId":null,"caller":null,"sourceIp":"198.51.100.7","principalOrgId":null,"accessKey":null,"cognitoAuthenticationType":null,"cognitoAuthenticationProvider":null,"userArn":null,"userAgent":"curl/8.5.0","user":null}"#;

    #[test]
    fn an_anonymous_identity_reads_the_same_written_or_built() {
        let meta = meta(Some("curl/8.5.0"));
        let mut written = Vec::new();
        let mut object = JsonObject::begin(&mut written);
        meta.write_anonymous_identity(&mut object);
        object.end();
        assert_eq!(String::from_utf8(written).unwrap(), ANONYMOUS);
        assert_eq!(serde_json::to_string(&meta.identity()).unwrap(), ANONYMOUS);
    }

    #[test]
    fn a_signer_and_an_api_key_fill_their_fields_in_place() {
        let mut meta = meta(None);
        meta.caller = Some(crate::iam::Caller {
            access_key: "AKIDEXAMPLE".to_owned(),
            account_id: "123456789012".to_owned(),
        });
        meta.api_key = Some(("key-value".to_owned(), "key-id".to_owned()));
        assert_eq!(
            serde_json::to_string(&meta.identity()).unwrap(),
            r#"{"cognitoIdentityPoolId":null,"accountId":"123456789012","cognitoIdentityId":null,"caller":"123456789012","sourceIp":"198.51.100.7","principalOrgId":null,"accessKey":"AKIDEXAMPLE","cognitoAuthenticationType":null,"cognitoAuthenticationProvider":null,"userArn":"arn:aws:iam::123456789012:root","userAgent":null,"user":"123456789012","apiKey":"key-value","apiKeyId":"key-id"}"#
        );
    }
}
