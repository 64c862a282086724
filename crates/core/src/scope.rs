//! The namespace every control-plane object lives in: one account, one region.

use std::fmt;

/// An account and region pair. Every region is its own namespace, as on AWS.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    pub account_id: String,
    pub region: String,
}

impl Scope {
    pub fn new(account_id: impl Into<String>, region: impl Into<String>) -> Self {
        Self {
            account_id: account_id.into(),
            region: region.into(),
        }
    }

    /// The store partition key for this scope: `{account}/{region}`.
    pub fn partition(&self) -> String {
        format!("{}/{}", self.account_id, self.region)
    }

    /// Inverse of [`Scope::partition`].
    pub fn from_partition(partition: &str) -> Option<Self> {
        let (account, region) = partition.split_once('/')?;
        Some(Self::new(account, region))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.account_id, self.region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_round_trips() {
        let scope = Scope::new("123456789012", "us-west-2");
        assert_eq!(scope.partition(), "123456789012/us-west-2");
        assert_eq!(Scope::from_partition("123456789012/us-west-2"), Some(scope));
        assert_eq!(Scope::from_partition("nope"), None);
    }
}
