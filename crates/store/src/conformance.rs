//! Backend-independent conformance suite for [`Store`] implementations.
//!
//! Every backend runs [`run_all`] against an empty database. The suite panics (it is test
//! support, compiled only for tests or with the `conformance` feature) on the first
//! behaviour that differs from the contract documented on [`Store`].

use crate::{Document, NewDocument, Store, StoreError, Write};
use serde_json::json;
use std::future::Future;
use std::sync::Arc;

/// Runs every check. `open` must return a store over the *same* database on every call
/// (the suite drops the first store and reopens to check persistence); the database must
/// start empty.
pub async fn run_all<F, Fut>(open: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = open().await;
    let s: &dyn Store = &*store;
    get_missing(s).await;
    put_get_and_versions(s).await;
    put_if_version_rules(s).await;
    list_by_parent_in_creation_order(s).await;
    list_all_across_partitions(s).await;
    delete_rules(s).await;
    delete_children_cascade(s).await;
    transaction_applies_in_order(s).await;
    transaction_is_atomic(s).await;
    concurrent_writers_one_winner(Arc::clone(&store)).await;
    persistence_across_reopen(store, &open).await;
}

fn doc(partition: &str, kind: &str, id: &str, body: serde_json::Value) -> NewDocument {
    NewDocument::new(partition, kind, id, body)
}

async fn must_get(s: &dyn Store, partition: &str, kind: &str, id: &str) -> Document {
    match s.get(partition, kind, id).await {
        Ok(Some(d)) => d,
        other => panic!("get {partition} {kind} {id}: {other:?}"),
    }
}

async fn ids(s: &dyn Store, partition: &str, kind: &str, parent: Option<&str>) -> Vec<String> {
    s.list(partition, kind, parent)
        .await
        .expect("list")
        .into_iter()
        .map(|d| d.id)
        .collect()
}

/// `get` of an unknown document is `Ok(None)`.
pub async fn get_missing(s: &dyn Store) {
    assert_eq!(s.get("acct/get-missing", "restapi", "nope").await, Ok(None));
}

/// `put` inserts at version 1, replaces at +1, keeps `created_at`, returns exact bodies.
pub async fn put_get_and_versions(s: &dyn Store) {
    let p = "acct/versions";
    let body =
        json!({"name": "pets", "n": 1, "nested": {"a": [1, 2, {"b": null}]}, "s": "\u{e9}\n"});
    assert_eq!(s.put(doc(p, "restapi", "a1", body.clone())).await, Ok(1));
    let d1 = must_get(s, p, "restapi", "a1").await;
    assert_eq!(
        (
            d1.partition.as_str(),
            d1.kind.as_str(),
            d1.id.as_str(),
            d1.parent.as_deref()
        ),
        (p, "restapi", "a1", None)
    );
    assert_eq!((d1.version, &d1.body), (1, &body));
    assert!(d1.created_at > 0 && d1.created_at <= d1.updated_at);

    let body2 = json!({"name": "pets2"});
    assert_eq!(
        s.put(doc(p, "restapi", "a1", body2.clone()).with_parent("x"))
            .await,
        Ok(2)
    );
    assert_eq!(
        must_get(s, p, "restapi", "a1").await.parent.as_deref(),
        Some("x")
    );
    assert_eq!(s.put(doc(p, "restapi", "a1", body2.clone())).await, Ok(3));
    let d3 = must_get(s, p, "restapi", "a1").await;
    assert_eq!(
        (d3.version, &d3.body, d3.parent.as_deref()),
        (3, &body2, None)
    );
    assert_eq!(d3.created_at, d1.created_at);
    assert!(d3.updated_at >= d1.updated_at);

    // Same id under another kind or partition is a different document.
    assert_eq!(s.put(doc(p, "resource", "a1", json!(1))).await, Ok(1));
    assert_eq!(
        s.put(doc("acct/other", "restapi", "a1", json!(2))).await,
        Ok(1)
    );
    assert_eq!(must_get(s, p, "restapi", "a1").await.version, 3);
}

/// `put_if_version`: 0 creates only, v updates only at v, mismatches report both versions.
pub async fn put_if_version_rules(s: &dyn Store) {
    let p = "acct/conflict";
    assert_eq!(
        s.put_if_version(doc(p, "fn", "f", json!({"v": 1})), 0)
            .await,
        Ok(1)
    );
    assert_eq!(
        s.put_if_version(doc(p, "fn", "f", json!({"v": "dup"})), 0)
            .await,
        Err(StoreError::VersionConflict {
            kind: "fn".into(),
            id: "f".into(),
            expected: 0,
            actual: 1
        })
    );
    assert_eq!(
        s.put_if_version(doc(p, "fn", "f", json!({"v": 2})), 1)
            .await,
        Ok(2)
    );
    assert_eq!(
        s.put_if_version(doc(p, "fn", "f", json!({"v": "stale"})), 1)
            .await,
        Err(StoreError::VersionConflict {
            kind: "fn".into(),
            id: "f".into(),
            expected: 1,
            actual: 2
        })
    );
    assert_eq!(must_get(s, p, "fn", "f").await.body, json!({"v": 2}));
    assert_eq!(
        s.put_if_version(doc(p, "fn", "ghost", json!({})), 4).await,
        Err(StoreError::NotFound {
            partition: p.into(),
            kind: "fn".into(),
            id: "ghost".into()
        })
    );
    assert_eq!(s.get(p, "fn", "ghost").await, Ok(None));
}

/// `list` filters by partition, kind and parent and keeps creation order across replaces.
pub async fn list_by_parent_in_creation_order(s: &dyn Store) {
    let p = "acct/list";
    for (id, parent) in [
        ("r3", "api1"),
        ("r1", "api1"),
        ("x", "api2"),
        ("r2", "api1"),
    ] {
        s.put(doc(p, "resource", id, json!({"id": id})).with_parent(parent))
            .await
            .expect("put");
    }
    s.put(doc(p, "resource", "orphan", json!({})))
        .await
        .expect("put");
    s.put(doc(p, "stage", "prod", json!({})).with_parent("api1"))
        .await
        .expect("put");
    s.put(doc("acct/list-other", "resource", "r9", json!({})).with_parent("api1"))
        .await
        .expect("put");
    // Replacing r3 must not move it to the end.
    s.put(doc(p, "resource", "r3", json!({"id": "r3", "v": 2})).with_parent("api1"))
        .await
        .expect("put");

    assert_eq!(
        ids(s, p, "resource", Some("api1")).await,
        ["r3", "r1", "r2"]
    );
    assert_eq!(ids(s, p, "resource", Some("api2")).await, ["x"]);
    assert_eq!(
        ids(s, p, "resource", None).await,
        ["r3", "r1", "x", "r2", "orphan"]
    );
    assert_eq!(ids(s, p, "stage", Some("api1")).await, ["prod"]);
    assert!(ids(s, p, "resource", Some("nope")).await.is_empty());
    let listed = s.list(p, "resource", Some("api1")).await.expect("list");
    assert_eq!(listed[0].body, json!({"id": "r3", "v": 2}));
    assert_eq!(listed[0].version, 2);
}

/// `list_all` spans partitions, in creation order.
pub async fn list_all_across_partitions(s: &dyn Store) {
    let kind = "conformance-deployment";
    s.put(doc("111/us-east-1", kind, "d1", json!(1)))
        .await
        .expect("put");
    s.put(doc("222/eu-west-1", kind, "d2", json!(2)))
        .await
        .expect("put");
    s.put(doc("111/us-west-2", kind, "d3", json!(3)))
        .await
        .expect("put");
    s.put(doc("111/us-east-1", "other-kind", "d4", json!(4)))
        .await
        .expect("put");
    let all = s.list_all(kind).await.expect("list_all");
    let got: Vec<(&str, &str)> = all
        .iter()
        .map(|d| (d.partition.as_str(), d.id.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("111/us-east-1", "d1"),
            ("222/eu-west-1", "d2"),
            ("111/us-west-2", "d3")
        ]
    );
    assert!(
        s.list_all("no-such-kind")
            .await
            .expect("list_all")
            .is_empty()
    );
}

/// `delete` removes one document and reports a missing one; re-creating starts at 1.
pub async fn delete_rules(s: &dyn Store) {
    let p = "acct/delete";
    s.put(doc(p, "fn", "f", json!({}))).await.expect("put");
    s.put(doc(p, "fn", "f", json!({}))).await.expect("put");
    assert_eq!(s.delete(p, "fn", "f").await, Ok(()));
    assert_eq!(s.get(p, "fn", "f").await, Ok(None));
    assert_eq!(
        s.delete(p, "fn", "f").await,
        Err(StoreError::NotFound {
            partition: p.into(),
            kind: "fn".into(),
            id: "f".into()
        })
    );
    assert_eq!(s.put(doc(p, "fn", "f", json!({}))).await, Ok(1));
}

/// `delete_children` removes one level of children of every kind, only in its partition.
pub async fn delete_children_cascade(s: &dyn Store) {
    let p = "acct/cascade";
    s.put(doc(p, "restapi", "api", json!({})))
        .await
        .expect("put");
    for (kind, id) in [
        ("resource", "r1"),
        ("resource", "r2"),
        ("stage", "prod"),
        ("deployment", "d1"),
    ] {
        s.put(doc(p, kind, id, json!({})).with_parent("api"))
            .await
            .expect("put");
    }
    s.put(doc(p, "resource", "keep", json!({})).with_parent("api-b"))
        .await
        .expect("put");
    s.put(doc("acct/cascade-other", "resource", "r1", json!({})).with_parent("api"))
        .await
        .expect("put");
    assert_eq!(s.delete_children(p, "api").await, Ok(4));
    assert!(ids(s, p, "resource", Some("api")).await.is_empty());
    assert!(ids(s, p, "stage", None).await.is_empty());
    assert_eq!(ids(s, p, "resource", None).await, ["keep"]);
    assert_eq!(must_get(s, p, "restapi", "api").await.version, 1);
    assert_eq!(
        ids(s, "acct/cascade-other", "resource", Some("api")).await,
        ["r1"]
    );
    assert_eq!(s.delete_children(p, "api").await, Ok(0));
}

/// A transaction applies writes in order and reports one number per write.
pub async fn transaction_applies_in_order(s: &dyn Store) {
    let p = "acct/txn";
    s.put(doc(p, "resource", "old", json!({})).with_parent("api"))
        .await
        .expect("put");
    let results = s
        .transaction(vec![
            Write::Put {
                doc: doc(p, "restapi", "api", json!({"name": "a"})),
                expected_version: Some(0),
            },
            Write::Put {
                doc: doc(p, "restapi", "api", json!({"name": "b"})),
                expected_version: Some(1),
            },
            Write::DeleteChildren {
                partition: p.into(),
                parent: "api".into(),
            },
            Write::Put {
                doc: doc(p, "resource", "root", json!({"path": "/"})).with_parent("api"),
                expected_version: None,
            },
            Write::Delete {
                partition: p.into(),
                kind: "restapi".into(),
                id: "api".into(),
                expected_version: Some(2),
            },
        ])
        .await;
    assert_eq!(results, Ok(vec![1, 2, 1, 1, 1]));
    assert_eq!(s.get(p, "restapi", "api").await, Ok(None));
    assert_eq!(ids(s, p, "resource", Some("api")).await, ["root"]);
    assert_eq!(s.transaction(Vec::new()).await, Ok(Vec::new()));
}

/// A failing write rolls back every earlier write of the same transaction.
pub async fn transaction_is_atomic(s: &dyn Store) {
    let p = "acct/atomic";
    s.put(doc(p, "restapi", "existing", json!({"v": 1})))
        .await
        .expect("put");
    let err = s
        .transaction(vec![
            Write::Put {
                doc: doc(p, "restapi", "new", json!({})),
                expected_version: None,
            },
            Write::Put {
                doc: doc(p, "restapi", "existing", json!({"v": 2})),
                expected_version: None,
            },
            Write::DeleteChildren {
                partition: p.into(),
                parent: "whatever".into(),
            },
            Write::Put {
                doc: doc(p, "restapi", "existing", json!({"v": "lost"})),
                expected_version: Some(1),
            },
        ])
        .await;
    assert_eq!(
        err,
        Err(StoreError::VersionConflict {
            kind: "restapi".into(),
            id: "existing".into(),
            expected: 1,
            actual: 2
        })
    );
    assert_eq!(s.get(p, "restapi", "new").await, Ok(None));
    let existing = must_get(s, p, "restapi", "existing").await;
    assert_eq!((existing.version, existing.body), (1, json!({"v": 1})));

    let err = s
        .transaction(vec![
            Write::Put {
                doc: doc(p, "restapi", "new", json!({})),
                expected_version: None,
            },
            Write::Delete {
                partition: p.into(),
                kind: "restapi".into(),
                id: "missing".into(),
                expected_version: None,
            },
        ])
        .await;
    assert!(matches!(err, Err(StoreError::NotFound { .. })), "{err:?}");
    assert_eq!(s.get(p, "restapi", "new").await, Ok(None));
}

/// Concurrent conditional writers at the same version: exactly one wins.
pub async fn concurrent_writers_one_winner(store: Arc<dyn Store>) {
    let p = "acct/race";
    store.put(doc(p, "fn", "f", json!(0))).await.expect("put");
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            s.put_if_version(doc(p, "fn", "f", json!(i)), 1).await
        }));
    }
    let mut wins = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(2) => wins += 1,
            Err(StoreError::VersionConflict {
                expected: 1,
                actual: 2,
                ..
            }) => {}
            other => panic!("unexpected result {other:?}"),
        }
    }
    assert_eq!(wins, 1);
    assert_eq!(must_get(&*store, p, "fn", "f").await.version, 2);
}

/// Everything written survives dropping the store and opening it again, versions and
/// creation order included.
pub async fn persistence_across_reopen<F, Fut>(store: Arc<dyn Store>, open: &F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let p = "acct/persist";
    let before = {
        let s: &dyn Store = &*store;
        s.put(doc(p, "resource", "b", json!({"k": [1, 2]})).with_parent("api"))
            .await
            .expect("put");
        s.put(doc(p, "resource", "a", json!("x")).with_parent("api"))
            .await
            .expect("put");
        s.put(doc(p, "resource", "b", json!({"k": [3]})).with_parent("api"))
            .await
            .expect("put");
        s.put(doc(p, "resource", "gone", json!(null)).with_parent("api"))
            .await
            .expect("put");
        s.delete(p, "resource", "gone").await.expect("delete");
        s.list(p, "resource", Some("api")).await.expect("list")
    };
    drop(store);

    let reopened = open().await;
    let s: &dyn Store = &*reopened;
    let after = s.list(p, "resource", Some("api")).await.expect("list");
    assert_eq!(after, before);
    assert_eq!(
        after
            .iter()
            .map(|d| (d.id.as_str(), d.version))
            .collect::<Vec<_>>(),
        [("b", 2), ("a", 1)]
    );
    assert_eq!(after[0].body, json!({"k": [3]}));
    // Earlier checks' documents are still there too.
    assert_eq!(
        must_get(s, "acct/versions", "restapi", "a1").await.version,
        3
    );
    assert_eq!(must_get(s, "acct/race", "fn", "f").await.version, 2);
    // Versions continue where they were.
    assert_eq!(
        s.put_if_version(doc(p, "resource", "b", json!({})), 2)
            .await,
        Ok(3)
    );
}
