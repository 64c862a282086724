//! Matching against a 50-resource REST API tree: a literal hit, a param hit, a deep
//! backtracking hit and a greedy fallback, plus a miss.

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

criterion_group!(benches, bench);
criterion_main!(benches);
