//! The stage cache: integration responses kept per stage for a method's TTL, keyed by the
//! integration's `cacheNamespace`, the verb and the values of its `cacheKeyParameters`.
//! Entries live in shards, each behind its own lock, so requests for different keys rarely
//! meet; the cache is dropped with its compiled stage (a redeployment or `FlushStageCache`).

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use crate::mapping::Source;

/// Largest response the cache keeps (API Gateway's limit).
pub const MAX_ENTRY: usize = 1_048_576;
const SHARDS: usize = 16;
/// Entries per shard before expired ones are swept on insert.
const SWEEP_AT: usize = 4096;

/// A cached response, without the per-request ids.
#[derive(Clone)]
pub struct Entry {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    expires: Instant,
}

/// One stage's cache.
pub struct StageCache {
    shards: Vec<Mutex<HashMap<String, Entry>>>,
}

impl Default for StageCache {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }
}

impl StageCache {
    fn shard(&self, key: &str) -> &Mutex<HashMap<String, Entry>> {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        &self.shards[(hasher.finish() as usize) % SHARDS]
    }

    /// A live entry for `key` at `now`.
    pub fn get(&self, key: &str, now: Instant) -> Option<Entry> {
        let shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        shard.get(key).filter(|e| e.expires > now).cloned()
    }

    /// Keeps a response for `ttl`.
    pub fn put(
        &self,
        key: String,
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
        ttl: Duration,
        now: Instant,
    ) {
        if body.len() > MAX_ENTRY {
            return;
        }
        let mut shard = self.shard(&key).lock().unwrap_or_else(|e| e.into_inner());
        if shard.len() >= SWEEP_AT {
            shard.retain(|_, e| e.expires > now);
        }
        shard.insert(
            key,
            Entry {
                status,
                headers,
                body,
                expires: now + ttl,
            },
        );
    }
}

/// How a method uses the stage cache.
pub struct MethodCache {
    pub ttl: Duration,
    /// `cacheNamespace` (the resource id unless set).
    pub namespace: String,
    /// `cacheKeyParameters`, as sources.
    pub key_parameters: Vec<Source>,
    /// `requireAuthorizationForCacheControl`: only callers allowed `execute-api:InvalidateCache`
    /// may bypass the cache; this gateway authenticates no caller, so none may.
    pub require_authorization: bool,
    /// `unauthorizedCacheControlHeaderStrategy == FAIL_WITH_403`.
    pub fail_unauthorized: bool,
}

/// Whether the request asks for a fresh response (`Cache-Control: max-age=0`).
pub fn wants_invalidation(cache_control: Option<&str>) -> bool {
    cache_control.is_some_and(|v| {
        v.split(',')
            .any(|d| d.trim().eq_ignore_ascii_case("max-age=0"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_large_ones_are_not_kept() {
        let cache = StageCache::default();
        let t0 = Instant::now();
        cache.put(
            "k".into(),
            StatusCode::OK,
            HeaderMap::new(),
            Bytes::from("a"),
            Duration::from_secs(10),
            t0,
        );
        assert_eq!(cache.get("k", t0).unwrap().body, Bytes::from("a"));
        assert!(cache.get("k", t0 + Duration::from_secs(10)).is_none());
        cache.put(
            "big".into(),
            StatusCode::OK,
            HeaderMap::new(),
            Bytes::from(vec![0u8; MAX_ENTRY + 1]),
            Duration::from_secs(10),
            t0,
        );
        assert!(cache.get("big", t0).is_none());
    }

    #[test]
    fn invalidation_header() {
        assert!(wants_invalidation(Some("max-age=0")));
        assert!(wants_invalidation(Some("no-store, Max-Age=0")));
        assert!(!wants_invalidation(Some("max-age=10")));
        assert!(!wants_invalidation(None));
    }
}
