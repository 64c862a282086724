//! The in-memory map of functions that invocations read.
//!
//! Reads are lock-free (an `ArcSwap` of an immutable map); writes, which only the control
//! plane makes, copy the map. Invocations therefore never contend with each other here.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use portico_model::lambda::FunctionConfiguration;

use crate::pool::Pool;

/// Identifies a function across accounts and regions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct FunctionKey {
    pub account_id: String,
    pub region: String,
    pub name: String,
}

/// A function as the invoke path sees it.
pub(crate) struct Function {
    pub configuration: FunctionConfiguration,
    pub tags: Option<std::collections::BTreeMap<String, String>>,
    /// The directory holding `code.zip` and its extraction `task/`.
    pub dir: PathBuf,
    pub pool: Pool,
}

impl Function {
    pub fn zip_path(&self) -> PathBuf {
        self.dir.join("code.zip")
    }
}

#[derive(Default)]
pub(crate) struct Registry {
    functions: ArcSwap<HashMap<FunctionKey, Arc<Function>>>,
}

impl Registry {
    pub fn get(&self, account_id: &str, region: &str, name: &str) -> Option<Arc<Function>> {
        let key = FunctionKey {
            account_id: account_id.to_owned(),
            region: region.to_owned(),
            name: name.to_owned(),
        };
        self.functions.load().get(&key).cloned()
    }

    pub fn insert(&self, key: FunctionKey, function: Arc<Function>) -> Option<Arc<Function>> {
        let mut previous = None;
        self.functions.rcu(|current| {
            let mut next = HashMap::clone(current);
            previous = next.insert(key.clone(), function.clone());
            next
        });
        previous
    }

    pub fn remove(&self, key: &FunctionKey) -> Option<Arc<Function>> {
        let mut removed = None;
        self.functions.rcu(|current| {
            let mut next = HashMap::clone(current);
            removed = next.remove(key);
            next
        });
        removed
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
            function.pool.shutdown().await;
        }
    }
}
