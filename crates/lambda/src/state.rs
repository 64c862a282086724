//! A function as stored: one aggregate document per function holding `$LATEST`, its published
//! versions, aliases, resource policies, reserved concurrency and tags. Every control-plane
//! write of a function is one versioned write of this document, so a version, the alias that
//! points at it and the policy that names it can never disagree after a crash.

use std::collections::BTreeMap;

use portico_model::lambda::{AliasConfiguration, FunctionConfiguration, FunctionUrlConfig};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The store kind of function documents.
pub(crate) const KIND_FUNCTION: &str = "lambda.function";

/// A function as stored.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct StoredFunction {
    /// `$LATEST`.
    pub configuration: FunctionConfiguration,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Published versions, oldest first; each an immutable snapshot of `$LATEST`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<FunctionConfiguration>,
    /// The highest version number ever published: Lambda never reuses a number, even after
    /// the version is deleted.
    #[serde(default)]
    pub last_version: u64,
    /// Aliases by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub aliases: BTreeMap<String, AliasConfiguration>,
    /// Resource policies by qualifier (`""` for the unqualified function).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub policies: BTreeMap<String, Policy>,
    /// Function URLs by qualifier (`""` for the unqualified function, else an alias).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub urls: BTreeMap<String, FunctionUrlConfig>,
    /// `PutFunctionConcurrency`'s value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_concurrency: Option<i32>,
}

/// One resource policy: its statements as Lambda renders them, in the order they were added.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Policy {
    pub statements: Vec<Value>,
}

impl StoredFunction {
    /// A published version by its number.
    pub fn version(&self, number: &str) -> Option<&FunctionConfiguration> {
        self.versions
            .iter()
            .find(|v| v.version.as_deref() == Some(number))
    }

    /// The `RevisionId` a policy on `qualifier` reports and checks: the function's, the
    /// version's or the alias's own.
    pub fn revision_of(&self, qualifier: &str) -> Option<String> {
        match qualifier {
            "" | "$LATEST" => self.configuration.revision_id.clone(),
            q if is_version_number(q) => self.version(q).and_then(|v| v.revision_id.clone()),
            q => self.aliases.get(q).and_then(|a| a.revision_id.clone()),
        }
    }

    /// Gives the target of a policy change a new `RevisionId`, as Lambda does.
    pub fn bump_revision(&mut self, qualifier: &str) {
        let fresh = Some(portico_core::ids::request_id());
        match qualifier {
            "" | "$LATEST" => self.configuration.revision_id = fresh,
            q if is_version_number(q) => {
                if let Some(v) = self
                    .versions
                    .iter_mut()
                    .find(|v| v.version.as_deref() == Some(q))
                {
                    v.revision_id = fresh;
                }
            }
            q => {
                if let Some(a) = self.aliases.get_mut(q) {
                    a.revision_id = fresh;
                }
            }
        }
    }

    /// Sum of the code sizes of `$LATEST` and every version (`GetAccountSettings`).
    pub fn code_size(&self) -> i64 {
        self.versions
            .iter()
            .chain(std::iter::once(&self.configuration))
            .filter_map(|c| c.code_size)
            .sum()
    }
}

/// `1`, `2`, …: a published version rather than an alias.
pub(crate) fn is_version_number(q: &str) -> bool {
    !q.is_empty() && q.bytes().all(|b| b.is_ascii_digit())
}

/// What makes two configurations publish as the same version: everything but the fields
/// Lambda sets itself on each write or publish.
pub(crate) fn same_content(a: &FunctionConfiguration, b: &FunctionConfiguration) -> bool {
    let strip = |c: &FunctionConfiguration| FunctionConfiguration {
        function_arn: None,
        version: None,
        revision_id: None,
        last_modified: None,
        state: None,
        state_reason: None,
        state_reason_code: None,
        last_update_status: None,
        last_update_status_reason: None,
        last_update_status_reason_code: None,
        description: None,
        runtime_version_config: None,
        ..c.clone()
    };
    strip(a) == strip(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ignores_what_lambda_sets() {
        let a = FunctionConfiguration {
            code_sha256: Some("abc".into()),
            revision_id: Some("r1".into()),
            version: Some("$LATEST".into()),
            ..Default::default()
        };
        let mut b = a.clone();
        b.revision_id = Some("r2".into());
        b.version = Some("1".into());
        assert!(same_content(&a, &b));
        b.timeout = Some(5);
        assert!(!same_content(&a, &b));
    }

    #[test]
    fn revisions_per_qualifier() {
        let mut f = StoredFunction::default();
        f.configuration.revision_id = Some("r".into());
        f.versions.push(FunctionConfiguration {
            version: Some("1".into()),
            revision_id: Some("v1".into()),
            ..Default::default()
        });
        assert_eq!(f.revision_of("").as_deref(), Some("r"));
        assert_eq!(f.revision_of("1").as_deref(), Some("v1"));
        assert_eq!(f.revision_of("live"), None);
        f.bump_revision("1");
        assert_ne!(f.revision_of("1").as_deref(), Some("v1"));
        assert!(is_version_number("12") && !is_version_number("v1") && !is_version_number(""));
    }
}
