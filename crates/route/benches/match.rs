//! Matching against a 50-resource REST API tree (a literal hit, a param hit, a deep
//! backtracking hit and a greedy fallback, plus a miss), and against a 10,000-route API
//! (hits at depths 1 to 6, a greedy hit, and misses by path and by method).

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use portico_route::{Router, RouterBuilder};

/// 50 resources shaped like a real API: collections, items, sub-collections, a greedy
/// catch-all per top-level area.
fn tree() -> Router<usize> {
    let mut b = RouterBuilder::new();
    let mut resources = std::collections::BTreeSet::new();
    let mut n = 0usize;
    let mut add = |b: &mut RouterBuilder<usize>, path: &str, method: &str| {
        b.insert(path, method, n).expect("bench tree is valid");
        resources.insert(path.to_owned());
        n += 1;
    };
    add(&mut b, "/", "GET");
    for area in ["pets", "users", "orders", "stores", "files"] {
        add(&mut b, &format!("/{area}"), "GET");
        add(&mut b, &format!("/{area}"), "POST");
        add(&mut b, &format!("/{area}/search"), "GET");
        add(&mut b, &format!("/{area}/search/advanced"), "POST");
        add(&mut b, &format!("/{area}/{{id}}"), "GET");
        add(&mut b, &format!("/{area}/{{id}}"), "PUT");
        add(&mut b, &format!("/{area}/{{id}}"), "DELETE");
        add(&mut b, &format!("/{area}/{{id}}/owner"), "GET");
        add(&mut b, &format!("/{area}/{{id}}/history"), "GET");
        add(&mut b, &format!("/{area}/{{id}}/tags"), "GET");
        add(&mut b, &format!("/{area}/{{id}}/tags/{{tag}}"), "ANY");
        add(&mut b, &format!("/{area}/{{id}}/tags/latest"), "GET");
    }
    add(&mut b, "/{proxy+}", "ANY");
    for extra in ["health", "version", "metrics"] {
        add(&mut b, &format!("/{extra}"), "GET");
    }
    assert_eq!(resources.len(), 50);
    b.build()
}

fn bench(c: &mut Criterion) {
    let r = tree();
    let cases = [
        ("literal", "/orders/search", "GET"),
        ("param", "/users/u-123", "PUT"),
        ("deep", "/stores/s1/tags/latest", "GET"),
        ("backtrack", "/files/search/history", "GET"),
        ("greedy", "/static/css/site.css", "GET"),
        ("miss", "/", "POST"),
    ];
    for (name, path, method) in cases {
        c.bench_function(&format!("match_{name}"), |b| {
            b.iter(|| black_box(r.at(black_box(path), black_box(method))).is_some())
        });
    }
}

/// 10,000 routes (resource + method) in 100 top-level areas of 100 routes each, shaped like
/// a large generated API: collections, items, many sub-collections of items, a deep history
/// resource, a greedy file tree and literals beside parameters.
fn big_tree() -> Router<usize> {
    let mut b = RouterBuilder::new();
    let mut n = 0usize;
    let mut add = |path: &str, methods: &[&str]| {
        for method in methods {
            b.insert(path, method, n).expect("bench tree is valid");
            n += 1;
        }
    };
    for area in 0..100 {
        let a = format!("/a{area}");
        add(&a, &["GET", "POST"]);
        add(&format!("{a}/search"), &["GET"]);
        add(&format!("{a}/static"), &["GET"]);
        add(&format!("{a}/files/{{proxy+}}"), &["ANY"]);
        add(&format!("{a}/{{id}}"), &["GET", "PUT", "DELETE", "PATCH"]);
        for sub in 0..30 {
            add(&format!("{a}/{{id}}/s{sub}"), &["GET"]);
            add(&format!("{a}/{{id}}/s{sub}/{{subId}}"), &["GET", "PUT"]);
        }
        add(
            &format!("{a}/{{id}}/s0/{{subId}}/history/{{version}}"),
            &["GET"],
        );
    }
    assert_eq!(n, 10_000);
    b.build()
}

fn bench_big(c: &mut Criterion) {
    let r = big_tree();
    let cases = [
        ("10k_depth1_literal", "/a57", "POST"),
        ("10k_depth2_literal", "/a57/search", "GET"),
        ("10k_depth2_param", "/a57/i-123", "PATCH"),
        ("10k_depth3", "/a57/i-123/s17", "GET"),
        ("10k_depth4", "/a57/i-123/s29/x-9", "PUT"),
        ("10k_depth6", "/a57/i-123/s0/x-9/history/3", "GET"),
        ("10k_greedy", "/a57/files/css/site/main.css", "GET"),
        ("10k_miss_path", "/a57/i-123/s99", "GET"),
        ("10k_miss_method", "/a57/i-123/s3", "POST"),
        ("10k_miss_top", "/nothing/here", "GET"),
    ];
    for (name, path, method) in cases {
        let hit = r.at(path, method).is_some();
        assert_eq!(hit, !name.contains("miss"), "{name}");
        c.bench_function(&format!("match_{name}"), |b| {
            b.iter(|| black_box(r.at(black_box(path), black_box(method))).is_some())
        });
    }
}

criterion_group!(benches, bench, bench_big);
criterion_main!(benches);
