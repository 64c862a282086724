//! The in-memory map of functions that invocations read.
//!
//! Reads are lock-free (an `ArcSwap` of an immutable map); writes, which only the control
//! plane makes, copy the map. Invocations therefore never contend with each other here. Each
//! entry is an immutable snapshot of one function — `$LATEST`, its versions with their warm
//! pools, aliases, policies — replaced whole by every control-plane write; pools whose code
//! and configuration did not change carry over into the new snapshot and stay warm.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use portico_model::lambda::FunctionConfiguration;

use crate::concurrency::Gate;
use crate::pool::Pool;
use crate::state::{StoredFunction, is_version_number};

/// Identifies a function across accounts and regions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FunctionKey {
    pub account_id: String,
    pub region: String,
    pub name: String,
}

/// A function key seen as three borrowed parts, so the invoke path can look a function up
/// without allocating an owned key per call.
trait KeyParts {
    fn parts(&self) -> (&str, &str, &str);
}

impl KeyParts for FunctionKey {
    fn parts(&self) -> (&str, &str, &str) {
        (&self.account_id, &self.region, &self.name)
    }
}

impl KeyParts for (&str, &str, &str) {
    fn parts(&self) -> (&str, &str, &str) {
        *self
    }
}

impl Hash for dyn KeyParts + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parts().hash(state);
    }
}

impl PartialEq for dyn KeyParts + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn KeyParts + '_ {}

// The owned key hashes exactly as its borrowed parts do, which `Borrow` requires.
impl Hash for FunctionKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parts().hash(state);
    }
}

impl<'a> Borrow<dyn KeyParts + 'a> for FunctionKey {
    fn borrow(&self) -> &(dyn KeyParts + 'a) {
        self
    }
}

/// `$LATEST` or one published version, with its environments.
pub(crate) struct Version {
    pub configuration: FunctionConfiguration,
    pub pool: Arc<Pool>,
}

impl Version {
    /// `$LATEST` or the version number (`X-Amz-Executed-Version`).
    pub fn name(&self) -> &str {
        self.configuration.version.as_deref().unwrap_or("$LATEST")
    }
}

/// A function as the invoke path sees it.
pub(crate) struct Function {
    pub stored: StoredFunction,
    /// The store version of `stored`, for the next conditional write.
    pub store_version: u64,
    /// The directory holding the function's code packages.
    pub dir: PathBuf,
    pub latest: Arc<Version>,
    /// Published versions by number.
    pub versions: BTreeMap<String, Arc<Version>>,
    pub gate: Arc<Gate>,
}

/// What a qualifier named.
pub(crate) struct Resolved {
    pub version: Arc<Version>,
    /// The policy that governs this invocation: `""` for the unqualified function, else the
    /// qualifier as given.
    pub policy_key: String,
}

impl Function {
    /// Resolves `None`, `$LATEST`, a version number or an alias (choosing between its two
    /// versions by weight) to the version that runs.
    pub fn resolve(&self, qualifier: Option<&str>) -> Option<Resolved> {
        let (version, policy_key) = match qualifier {
            None => (self.latest.clone(), String::new()),
            Some("$LATEST") => (self.latest.clone(), "$LATEST".to_owned()),
            Some(q) if is_version_number(q) => (self.versions.get(q)?.clone(), q.to_owned()),
            Some(alias) => {
                let config = self.stored.aliases.get(alias)?;
                let mut target = config.function_version.as_deref()?;
                if let Some(weights) = config
                    .routing_config
                    .as_ref()
                    .and_then(|r| r.additional_version_weights.as_ref())
                {
                    let roll: f64 = rand::random();
                    let mut acc = 0.0;
                    for (other, weight) in weights {
                        acc += weight;
                        if roll < acc {
                            target = other;
                            break;
                        }
                    }
                }
                let version = match target {
                    "$LATEST" => self.latest.clone(),
                    n => self.versions.get(n)?.clone(),
                };
                (version, alias.to_owned())
            }
        };
        Some(Resolved {
            version,
            policy_key,
        })
    }

    /// Every pool of this snapshot.
    pub fn pools(&self) -> impl Iterator<Item = &Arc<Version>> {
        std::iter::once(&self.latest).chain(self.versions.values())
    }
}

/// Where a function URL id leads: the function and the alias (`""`: none) it invokes.
pub(crate) type UrlTarget = (FunctionKey, String);

#[derive(Default)]
pub(crate) struct Registry {
    functions: ArcSwap<HashMap<FunctionKey, Arc<Function>>>,
    /// Function URL ids (the host's first label), kept in step with `functions`.
    urls: ArcSwap<HashMap<String, UrlTarget>>,
}

/// The id of a function URL: the first label of its host.
pub(crate) fn url_id(url: &str) -> Option<&str> {
    url.strip_prefix("https://")?.split('.').next()
}

impl Registry {
    pub fn get(&self, account_id: &str, region: &str, name: &str) -> Option<Arc<Function>> {
        let key = (account_id, region, name);
        self.functions.load().get(&key as &dyn KeyParts).cloned()
    }

    /// The function URL with this id.
    pub fn url(&self, id: &str) -> Option<UrlTarget> {
        self.urls.load().get(id).cloned()
    }

    /// Re-indexes one function's URLs (`None`: the function is gone).
    fn index_urls(&self, key: &FunctionKey, function: Option<&Function>) {
        self.urls.rcu(|current| {
            let mut next: HashMap<String, UrlTarget> = current
                .iter()
                .filter(|(_, (k, _))| k != key)
                .map(|(id, target)| (id.clone(), target.clone()))
                .collect();
            for (qualifier, config) in function.map(|f| &f.stored.urls).into_iter().flatten() {
                if let Some(id) = config.function_url.as_deref().and_then(url_id) {
                    next.insert(id.to_owned(), (key.clone(), qualifier.clone()));
                }
            }
            next
        });
    }

    pub fn insert(&self, key: FunctionKey, function: Arc<Function>) -> Option<Arc<Function>> {
        self.index_urls(&key, Some(&function));
        let mut previous = None;
        self.functions.rcu(|current| {
            let mut next = HashMap::clone(current);
            previous = next.insert(key.clone(), function.clone());
            next
        });
        previous
    }

    pub fn remove(&self, key: &FunctionKey) -> Option<Arc<Function>> {
        self.index_urls(key, None);
        let mut removed = None;
        self.functions.rcu(|current| {
            let mut next = HashMap::clone(current);
            removed = next.remove(key);
            next
        });
        removed
    }

    /// Every function, in no order.
    pub fn all(&self) -> Vec<Arc<Function>> {
        self.functions.load().values().cloned().collect()
    }

    /// Every function of one account and region, sorted by name.
    pub fn list(&self, account_id: &str, region: &str) -> Vec<Arc<Function>> {
        let map = self.functions.load();
        let mut out: Vec<(String, Arc<Function>)> = map
            .iter()
            .filter(|(k, _)| k.account_id == account_id && k.region == region)
            .map(|(k, f)| (k.name.clone(), f.clone()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out.into_iter().map(|(_, f)| f).collect()
    }

    pub async fn shutdown_all(&self) {
        let map = self.functions.load_full();
        for function in map.values() {
            for version in function.pools() {
                version.pool.shutdown().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_parts_find_owned_keys() {
        let key = |a: &str, r: &str, n: &str| FunctionKey {
            account_id: a.into(),
            region: r.into(),
            name: n.into(),
        };
        let mut map = HashMap::new();
        map.insert(key("123456789012", "us-east-1", "HelloWorld"), 1);
        map.insert(key("123456789012", "us-west-2", "HelloWorld"), 2);
        let find = |a, r, n| map.get(&(a, r, n) as &dyn KeyParts).copied();
        assert_eq!(find("123456789012", "us-east-1", "HelloWorld"), Some(1));
        assert_eq!(find("123456789012", "us-west-2", "HelloWorld"), Some(2));
        assert_eq!(find("123456789012", "eu-west-1", "HelloWorld"), None);
        // The parts are hashed as separate strings: shifting a boundary is another key.
        assert_eq!(find("123456789012", "us-east-1Hello", "World"), None);
    }
}
