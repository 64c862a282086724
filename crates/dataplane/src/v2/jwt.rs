//! JWT authorizers: the token from the identity source (a `Bearer ` prefix is allowed), an
//! RSA signature (RS256/384/512) checked against the issuer's JWKS (found through
//! `{issuer}/.well-known/openid-configuration`, fetched once and again on an unknown `kid`),
//! then `iss`, `aud`/`client_id`, `exp`, `nbf`, `iat` and the route's scopes.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::{BigUint, Pkcs1v15Sign, RsaPublicKey};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::authorizer::{Refusal, identity_value};
use super::event::{AuthorizerContext, RequestFacts};
use crate::backend::{self, HttpClient, Outgoing};

/// AWS gives the JWKS endpoint 1500 ms.
const JWKS_TIMEOUT: Duration = Duration::from_millis(1500);

pub(crate) struct JwtAuthorizer {
    pub issuer: String,
    pub audience: Vec<String>,
    pub identity_source: String,
    /// Keys by `kid`, fetched on first use; per authorizer, never on the unauthenticated path.
    keys: tokio::sync::RwLock<HashMap<String, RsaPublicKey>>,
}

fn decode_json(part: &str) -> Option<Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?).ok()
}

async fn get_json(client: &HttpClient, uri: &str) -> Option<Value> {
    let outgoing = Outgoing {
        method: "GET".to_owned(),
        uri: uri.to_owned(),
        headers: vec![("accept".to_owned(), "application/json".to_owned())],
        body: bytes::Bytes::new(),
        // An issuer's keys are only worth what its certificate proves.
        skip_ca_verification: false,
    };
    let answer = backend::call(client, &outgoing, JWKS_TIMEOUT).await.ok()?;
    (answer.status == 200)
        .then(|| serde_json::from_slice(&answer.body).ok())
        .flatten()
}

/// A claim as HTTP API events carry it: a string, arrays as `[a b]`.
fn claim_text(value: &Value) -> Value {
    match value {
        Value::String(_) => value.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            Value::String(format!("[{}]", parts.join(" ")))
        }
        other => Value::String(other.to_string()),
    }
}

fn now_seconds() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn number(claims: &Map<String, Value>, name: &str) -> Option<i64> {
    claims
        .get(name)
        .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
}

fn listed(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => s
            .split(' ')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

impl JwtAuthorizer {
    pub fn new(issuer: String, audience: Vec<String>, identity_source: String) -> Self {
        Self {
            issuer,
            audience,
            identity_source,
            keys: tokio::sync::RwLock::new(HashMap::new()),
        }
    }

    async fn fetch_keys(&self, client: &HttpClient) -> HashMap<String, RsaPublicKey> {
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        );
        let Some(jwks_uri) = get_json(client, &discovery)
            .await
            .and_then(|d| d.get("jwks_uri")?.as_str().map(str::to_owned))
        else {
            tracing::warn!(issuer = %self.issuer, "JWT authorizer: no OpenID configuration");
            return HashMap::new();
        };
        let Some(jwks) = get_json(client, &jwks_uri).await else {
            tracing::warn!(%jwks_uri, "JWT authorizer: JWKS unreadable");
            return HashMap::new();
        };
        let mut keys = HashMap::new();
        for key in jwks
            .get("keys")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let field = |name: &str| {
                key.get(name)
                    .and_then(Value::as_str)
                    .and_then(|v| URL_SAFE_NO_PAD.decode(v.trim_end_matches('=')).ok())
            };
            if key.get("kty").and_then(Value::as_str) != Some("RSA") {
                continue;
            }
            let (Some(kid), Some(n), Some(e)) = (
                key.get("kid").and_then(Value::as_str),
                field("n"),
                field("e"),
            ) else {
                continue;
            };
            if let Ok(public) =
                RsaPublicKey::new(BigUint::from_bytes_be(&n), BigUint::from_bytes_be(&e))
            {
                keys.insert(kid.to_owned(), public);
            }
        }
        keys
    }

    async fn key(&self, client: &HttpClient, kid: &str) -> Option<RsaPublicKey> {
        if let Some(key) = self.keys.read().await.get(kid) {
            return Some(key.clone());
        }
        let fresh = self.fetch_keys(client).await;
        let found = fresh.get(kid).cloned();
        if !fresh.is_empty() {
            *self.keys.write().await = fresh;
        }
        found
    }

    pub async fn authorize(
        &self,
        client: &HttpClient,
        facts: &RequestFacts<'_>,
        scopes: &[String],
    ) -> Result<AuthorizerContext, Refusal> {
        let raw = identity_value(&self.identity_source, facts).ok_or(Refusal::Unauthorized)?;
        let token = raw
            .get(..7)
            .filter(|p| p.eq_ignore_ascii_case("bearer "))
            .map(|_| raw[7..].trim())
            .unwrap_or(raw.trim());
        let mut parts = token.split('.');
        let (Some(head), Some(body), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Refusal::Unauthorized);
        };
        let header = decode_json(head).ok_or(Refusal::Unauthorized)?;
        let Some(Value::Object(claims)) = decode_json(body) else {
            return Err(Refusal::Unauthorized);
        };
        let signature = URL_SAFE_NO_PAD
            .decode(signature.trim_end_matches('='))
            .map_err(|_| Refusal::Unauthorized)?;
        let kid = header
            .get("kid")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let key = self.key(client, kid).await.ok_or(Refusal::Unauthorized)?;
        let signed = &token.as_bytes()[..head.len() + 1 + body.len()];
        let verified = match header.get("alg").and_then(Value::as_str) {
            Some("RS256") => key.verify(
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(signed),
                &signature,
            ),
            Some("RS384") => key.verify(
                Pkcs1v15Sign::new::<Sha384>(),
                &Sha384::digest(signed),
                &signature,
            ),
            Some("RS512") => key.verify(
                Pkcs1v15Sign::new::<Sha512>(),
                &Sha512::digest(signed),
                &signature,
            ),
            _ => return Err(Refusal::Unauthorized),
        };
        if verified.is_err() {
            return Err(Refusal::Unauthorized);
        }
        let now = now_seconds();
        let issuer_ok = claims.get("iss").and_then(Value::as_str) == Some(self.issuer.as_str());
        let audiences = listed(claims.get("aud"));
        let audience_ok = audiences.iter().any(|a| self.audience.contains(a))
            || claims
                .get("client_id")
                .and_then(Value::as_str)
                .is_some_and(|c| self.audience.iter().any(|a| a == c));
        let time_ok = number(&claims, "exp").is_some_and(|exp| exp > now)
            && number(&claims, "nbf").is_none_or(|nbf| nbf <= now)
            && number(&claims, "iat").is_none_or(|iat| iat <= now);
        if !(issuer_ok && audience_ok && time_ok) {
            return Err(Refusal::Unauthorized);
        }
        let granted = {
            let mut all = listed(claims.get("scope"));
            all.extend(listed(claims.get("scp")));
            all
        };
        if !scopes.is_empty() && !scopes.iter().any(|s| granted.contains(s)) {
            return Err(Refusal::Forbidden);
        }
        let claims: Map<String, Value> = claims
            .iter()
            .map(|(k, v)| (k.clone(), claim_text(v)))
            .collect();
        let scopes_value = if granted.is_empty() {
            Value::Null
        } else {
            json!(granted)
        };
        Ok(AuthorizerContext {
            v2: json!({"jwt": {"claims": claims, "scopes": scopes_value}}),
            v1: json!({"claims": claims, "scopes": scopes_value}),
            iam_caller: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_strings() {
        assert_eq!(claim_text(&json!("a")), json!("a"));
        assert_eq!(claim_text(&json!(5)), json!("5"));
        assert_eq!(claim_text(&json!(["x", "y"])), json!("[x y]"));
        assert_eq!(listed(Some(&json!("read write"))), vec!["read", "write"]);
    }
}
