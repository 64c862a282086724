//! Where the verifier finds the secret for an access key id.

use std::collections::HashMap;

/// What a signature is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningSecret {
    pub secret_access_key: String,
    /// When set, requests must present exactly this `X-Amz-Security-Token`; when unset, any
    /// presented token is accepted (it still has to be signed as sent).
    pub session_token: Option<String>,
}

/// Access key id → secret. Implementations answer from memory: the verifier is on the request
/// path and never waits.
pub trait CredentialsProvider: Send + Sync {
    fn secret(&self, access_key_id: &str) -> Option<&SigningSecret>;
}

/// A fixed set of credentials (Portico's `--credentials` flags and its own environment).
#[derive(Debug, Clone, Default)]
pub struct StaticCredentials {
    keys: HashMap<String, SigningSecret>,
}

impl StaticCredentials {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a key pair that accepts any session token.
    pub fn insert(&mut self, access_key_id: impl Into<String>, secret: impl Into<String>) {
        self.keys.insert(
            access_key_id.into(),
            SigningSecret {
                secret_access_key: secret.into(),
                session_token: None,
            },
        );
    }

    /// Adds a temporary key pair that is only valid with `session_token`.
    pub fn insert_temporary(
        &mut self,
        access_key_id: impl Into<String>,
        secret: impl Into<String>,
        session_token: impl Into<String>,
    ) {
        self.keys.insert(
            access_key_id.into(),
            SigningSecret {
                secret_access_key: secret.into(),
                session_token: Some(session_token.into()),
            },
        );
    }

    /// Parses `AKID:SECRET` (the secret may itself contain `:`).
    pub fn parse_pair(pair: &str) -> Result<(String, String), String> {
        match pair.split_once(':') {
            Some((id, secret)) if !id.is_empty() && !secret.is_empty() => {
                Ok((id.to_owned(), secret.to_owned()))
            }
            _ => Err(format!(
                "expected ACCESS_KEY_ID:SECRET_ACCESS_KEY, got '{pair}'"
            )),
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The access key ids, for logging which keys are configured (never the secrets).
    pub fn access_key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }
}

impl CredentialsProvider for StaticCredentials {
    fn secret(&self, access_key_id: &str) -> Option<&SigningSecret> {
        self.keys.get(access_key_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs() {
        assert_eq!(
            StaticCredentials::parse_pair("AKID:se:cret").unwrap(),
            ("AKID".to_owned(), "se:cret".to_owned())
        );
        assert_eq!(
            StaticCredentials::parse_pair("AKID").unwrap_err(),
            "expected ACCESS_KEY_ID:SECRET_ACCESS_KEY, got 'AKID'"
        );
        assert!(StaticCredentials::parse_pair(":x").is_err());
        assert!(StaticCredentials::parse_pair("x:").is_err());
    }

    #[test]
    fn lookup() {
        let mut c = StaticCredentials::new();
        c.insert("A", "s");
        c.insert_temporary("B", "t", "tok");
        assert_eq!(c.secret("A").unwrap().secret_access_key, "s");
        assert_eq!(c.secret("B").unwrap().session_token.as_deref(), Some("tok"));
        assert!(c.secret("C").is_none());
        assert_eq!(c.len(), 2);
    }
}
