//! One test per matching and insertion rule in aws-behaviour §2.2 and §5.2.

use portico_route::{ErrorKind, Flavor, RouteError, Router, RouterBuilder};

/// Builds a REST router whose value is `"{METHOD} {path}"`.
fn rest(routes: &[(&str, &str)]) -> Router<String> {
    let mut b = RouterBuilder::new();
    for (path, method) in routes {
        b.insert(path, method, format!("{method} {path}")).unwrap();
    }
    b.build()
}

/// `(value, params)` of a match, for compact assertions.
fn hit(r: &Router<String>, path: &str, method: &str) -> Option<(String, Vec<(String, String)>)> {
    r.at(path, method).map(|m| {
        let params = m
            .params
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        (m.value.clone(), params)
    })
}

fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn literal_beats_param_beats_greedy() {
    let r = rest(&[
        ("/pets/dog", "GET"),
        ("/pets/{id}", "GET"),
        ("/{proxy+}", "GET"),
    ]);
    assert_eq!(
        hit(&r, "/pets/dog", "GET"),
        Some(("GET /pets/dog".into(), vec![]))
    );
    assert_eq!(
        hit(&r, "/pets/cat", "GET"),
        Some(("GET /pets/{id}".into(), p(&[("id", "cat")])))
    );
    assert_eq!(
        hit(&r, "/pets/cat/toys", "GET"),
        Some(("GET /{proxy+}".into(), p(&[("proxy", "pets/cat/toys")])))
    );
}

#[test]
fn backtracks_out_of_a_literal_branch() {
    let r = rest(&[("/x/b/d", "GET"), ("/x/{x}/c", "GET"), ("/{proxy+}", "GET")]);
    assert_eq!(
        hit(&r, "/x/b/c", "GET"),
        Some(("GET /x/{x}/c".into(), p(&[("x", "b")])))
    );
    assert_eq!(
        hit(&r, "/x/b/d", "GET"),
        Some(("GET /x/b/d".into(), vec![]))
    );
    // Params pushed in a failed branch are discarded.
    assert_eq!(
        hit(&r, "/x/q/z", "GET"),
        Some(("GET /{proxy+}".into(), p(&[("proxy", "x/q/z")])))
    );
}

#[test]
fn greedy_does_not_match_root() {
    let r = rest(&[("/{proxy+}", "ANY")]);
    assert_eq!(hit(&r, "/", "GET"), None);
    assert_eq!(hit(&r, "", "GET"), None);
    let r = rest(&[("/{proxy+}", "ANY"), ("/", "GET")]);
    assert_eq!(hit(&r, "/", "GET"), Some(("GET /".into(), vec![])));
}

#[test]
fn greedy_keeps_empty_middle_segments() {
    let r = rest(&[("/{proxy+}", "ANY")]);
    assert_eq!(
        hit(&r, "/proxy-value//double-slash", "GET"),
        Some((
            "ANY /{proxy+}".into(),
            p(&[("proxy", "proxy-value//double-slash")])
        ))
    );
    assert_eq!(
        hit(&r, "/a", "GET"),
        Some(("ANY /{proxy+}".into(), p(&[("proxy", "a")])))
    );
}

#[test]
fn trailing_slash_ignored_and_not_in_greedy_value() {
    let r = rest(&[("/pets", "GET"), ("/files/{proxy+}", "GET")]);
    assert_eq!(hit(&r, "/pets/", "GET"), Some(("GET /pets".into(), vec![])));
    assert_eq!(
        hit(&r, "/files/a/b/", "GET"),
        Some(("GET /files/{proxy+}".into(), p(&[("proxy", "a/b")])))
    );
    // `/files/` is `/files`, which has no method; the greedy child needs a segment.
    assert_eq!(hit(&r, "/files/", "GET"), None);
}

#[test]
fn param_needs_a_non_empty_segment() {
    let r = rest(&[("/a/{id}/b", "GET")]);
    assert_eq!(hit(&r, "/a//b", "GET"), None);
    assert_eq!(
        hit(&r, "/a/1/b", "GET"),
        Some(("GET /a/{id}/b".into(), p(&[("id", "1")])))
    );
}

#[test]
fn values_are_raw() {
    let r = rest(&[("/users/{email}", "GET"), ("/f/{proxy+}", "GET")]);
    assert_eq!(
        hit(&r, "/users/test%2Balias@gmail.com", "GET"),
        Some((
            "GET /users/{email}".into(),
            p(&[("email", "test%2Balias@gmail.com")])
        ))
    );
    assert_eq!(
        hit(&r, "/users/a%2Fb+c", "GET"),
        Some(("GET /users/{email}".into(), p(&[("email", "a%2Fb+c")])))
    );
    assert_eq!(
        hit(&r, "/f/x%20y/z", "GET"),
        Some(("GET /f/{proxy+}".into(), p(&[("proxy", "x%20y/z")])))
    );
}

#[test]
fn exact_method_beats_any_and_head_is_not_get() {
    let r = rest(&[("/pets", "ANY"), ("/pets", "GET")]);
    let m = r.at("/pets", "GET").unwrap();
    assert_eq!((m.value.as_str(), m.method), ("GET /pets", "GET"));
    let m = r.at("/pets", "POST").unwrap();
    assert_eq!((m.value.as_str(), m.method), ("ANY /pets", "ANY"));
    let r = rest(&[("/pets", "GET")]);
    assert_eq!(hit(&r, "/pets", "HEAD"), None);
    assert_eq!(hit(&r, "/pets", "get"), None);
}

#[test]
fn method_miss_backtracks_to_a_less_specific_resource() {
    let r = rest(&[("/pets", "GET"), ("/{proxy+}", "ANY")]);
    assert_eq!(
        hit(&r, "/pets", "POST"),
        Some(("ANY /{proxy+}".into(), p(&[("proxy", "pets")])))
    );
    // Intermediate resources without methods do not match at all.
    let r = rest(&[("/a/b", "GET")]);
    assert_eq!(hit(&r, "/a", "GET"), None);
}

#[test]
fn literals_are_case_sensitive_and_exact() {
    let r = rest(&[("/Pets", "GET")]);
    assert_eq!(hit(&r, "/pets", "GET"), None);
    assert_eq!(hit(&r, "/Pets", "GET"), Some(("GET /Pets".into(), vec![])));
}

#[test]
fn match_reports_resource_path_and_params_accessors() {
    let r = rest(&[("/a/{x}/b/{y}", "GET")]);
    let m = r.at("/a/1/b/2/", "GET").unwrap();
    assert_eq!(m.resource_path, "/a/{x}/b/{y}");
    assert_eq!(m.params.as_slice(), &[("x", "1"), ("y", "2")]);
    assert_eq!(m.params.get("y"), Some("2"));
    assert_eq!(m.params.get("z"), None);
    assert_eq!(m.params.len(), 2);
    assert!(!m.is_default);
}

#[test]
fn rest_refuses_second_variable_sibling() {
    let mut b = RouterBuilder::new();
    b.insert("/a/{proxy+}", "ANY", 1).unwrap();
    let err = b.insert("/a/{id}", "GET", 2).unwrap_err();
    let RouteError::Invalid(e) = err else {
        panic!("expected Invalid, got {err:?}")
    };
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert_eq!(
        e.message,
        "A sibling ({proxy+}) of this resource already has a variable path part -- only one is allowed"
    );
    let mut b = RouterBuilder::new();
    b.insert("/a/{id}", "GET", 1).unwrap();
    let err = b.insert("/a/{name}/x", "GET", 2).unwrap_err();
    assert_eq!(
        err.to_string(),
        "A sibling ({id}) of this resource already has a variable path part -- only one is allowed"
    );
    // The same variable again is the same resource.
    b.insert("/a/{id}/x", "GET", 3).unwrap();
}

#[test]
fn rest_refuses_child_of_greedy() {
    let mut b: RouterBuilder<u8> = RouterBuilder::new();
    let err = b.insert("/{proxy+}/x", "GET", 1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot create a child of a resource with a greedy path variable: {proxy+}"
    );
}

#[test]
fn rest_refuses_invalid_path_parts() {
    let mut b: RouterBuilder<u8> = RouterBuilder::new();
    for bad in [
        "/img/img-{id}.png",
        "pets",
        "/pets/",
        "/a//b",
        "/{}",
        "/a b",
    ] {
        let err = b.insert(bad, "GET", 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace.",
            "{bad}"
        );
    }
}

#[test]
fn duplicate_method_is_refused() {
    let mut b = RouterBuilder::new();
    b.insert("/pets", "GET", 1).unwrap();
    assert_eq!(
        b.insert("/pets", "GET", 2),
        Err(RouteError::Duplicate {
            path: "/pets".into(),
            method: "GET".into()
        })
    );
    b.insert("/pets", "POST", 3).unwrap();
}

#[test]
fn http_api_param_next_to_greedy_and_priority() {
    let mut b = RouterBuilder::http_api();
    for key in [
        "GET /pets/dog/1",
        "GET /pets/dog/{id}",
        "GET /pets/{proxy+}",
        "ANY /{proxy+}",
        "GET /a/{id}",
        "ANY /a/{proxy+}",
    ] {
        b.insert_route_key(key, key.to_owned()).unwrap();
    }
    b.insert_route_key("$default", "$default".to_owned())
        .unwrap();
    let r = b.build();
    assert_eq!(r.flavor(), Flavor::HttpApi);
    let v = |path: &str, method: &str| r.at(path, method).map(|m| m.value.clone());
    assert_eq!(v("/pets/dog/1", "GET").as_deref(), Some("GET /pets/dog/1"));
    assert_eq!(
        v("/pets/dog/2", "GET").as_deref(),
        Some("GET /pets/dog/{id}")
    );
    assert_eq!(
        v("/pets/cat/2", "GET").as_deref(),
        Some("GET /pets/{proxy+}")
    );
    assert_eq!(v("/pets/cat/2", "POST").as_deref(), Some("ANY /{proxy+}"));
    assert_eq!(v("/a/1", "GET").as_deref(), Some("GET /a/{id}"));
    assert_eq!(v("/a/1", "PUT").as_deref(), Some("ANY /a/{proxy+}"));
    assert_eq!(v("/a/1/2", "GET").as_deref(), Some("ANY /a/{proxy+}"));
    let m = r.at("/", "GET").unwrap();
    assert!(m.is_default);
    assert_eq!(
        (m.value.as_str(), m.resource_path, m.method),
        ("$default", "$default", "ANY")
    );
    assert!(m.params.is_empty());
}

#[test]
fn http_api_two_param_names_at_one_level() {
    let mut b = RouterBuilder::http_api();
    b.insert_route_key("GET /u/{id}", 1).unwrap();
    b.insert_route_key("GET /u/{name}/posts", 2).unwrap();
    let r = b.build();
    let m = r.at("/u/7/posts", "GET").unwrap();
    assert_eq!((*m.value, m.params.as_slice()), (2, &[("name", "7")][..]));
    let m = r.at("/u/7", "GET").unwrap();
    assert_eq!((*m.value, m.params.as_slice()), (1, &[("id", "7")][..]));
}

#[test]
fn http_api_no_match_without_default() {
    let mut b = RouterBuilder::http_api();
    b.insert_route_key("GET /pets", 1).unwrap();
    let r = b.build();
    assert!(r.at("/cats", "GET").is_none());
    assert!(r.at("/pets", "POST").is_none());
}

#[test]
fn http_api_key_errors() {
    let mut b: RouterBuilder<u8> = RouterBuilder::http_api();
    let err = b.insert_route_key("GET /{proxy+}/x", 1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "A greedy path variable must be the last part of the route path"
    );
    let err = b.insert_route_key("GET /img-{id}.png", 1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "One or more path parts appear to be invalid. Parts are validated against this regular expression: ^(\\{[\\w.:-]+\\+?\\}|[a-zA-Z0-9.:_-]+)$"
    );
    b.insert_default(1).unwrap();
    assert_eq!(
        b.insert_route_key("$default", 2),
        Err(RouteError::Duplicate {
            path: "$default".into(),
            method: "ANY".into()
        })
    );
    let mut rest_builder: RouterBuilder<u8> = RouterBuilder::new();
    assert!(rest_builder.insert_default(1).is_err());
}

#[test]
fn router_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Router<String>>();
    assert_send_sync::<RouterBuilder<String>>();
}
