//! Property test: the trie agrees with a naive O(routes × segments) matcher.
//!
//! The reference scores every route that matches the path and accepts the method by its
//! per-segment kind sequence (literal 0 < param 1 < greedy 2) and keeps the lexicographically
//! smallest, which is what "literal > param > greedy per level, with backtracking" means.
//! Param names are fixed per depth (`p0`, `p1`, ...) so that a kind sequence plus the path
//! identifies one route pattern, as it does in a REST API tree.

use portico_route::{Flavor, RouterBuilder};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Part {
    Lit(&'static str),
    Param,
    Greedy,
}

#[derive(Debug, Clone)]
struct Route {
    parts: Vec<Part>,
    method: &'static str,
}

fn pattern_string(parts: &[Part]) -> String {
    if parts.is_empty() {
        return "/".to_owned();
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| match p {
            Part::Lit(s) => format!("/{s}"),
            Part::Param => format!("/{{p{i}}}"),
            Part::Greedy => "/{g+}".to_owned(),
        })
        .collect()
}

/// The reference's answer: (resource path, matched method key, params).
type Answer = (String, String, Vec<(String, String)>);

fn reference(routes: &[Route], path: &str, method: &str) -> Option<Answer> {
    let trimmed = path.trim_end_matches('/');
    let segs: Vec<&str> = if trimmed.is_empty() {
        Vec::new()
    } else {
        trimmed
            .strip_prefix('/')
            .unwrap_or(trimmed)
            .split('/')
            .collect()
    };
    let mut best: Option<(Vec<u8>, u8, Answer)> = None;
    for route in routes {
        let method_rank = if route.method == method {
            0
        } else if route.method == "ANY" {
            1
        } else {
            continue;
        };
        let Some((kinds, params)) = match_route(&route.parts, &segs) else {
            continue;
        };
        let answer = (
            pattern_string(&route.parts),
            route.method.to_owned(),
            params,
        );
        let better = match &best {
            None => true,
            Some((k, r, _)) => (&kinds, method_rank) < (k, *r),
        };
        if better {
            best = Some((kinds, method_rank, answer));
        }
    }
    best.map(|(_, _, a)| a)
}

/// Kind sequence and params of a route that matches `segs`.
type RouteHit = (Vec<u8>, Vec<(String, String)>);

fn match_route(parts: &[Part], segs: &[&str]) -> Option<RouteHit> {
    let mut kinds = Vec::new();
    let mut params = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        match part {
            Part::Lit(s) => {
                if segs.get(i) != Some(s) {
                    return None;
                }
                kinds.push(0);
            }
            Part::Param => {
                let seg = segs.get(i).filter(|s| !s.is_empty())?;
                params.push((format!("p{i}"), (*seg).to_owned()));
                kinds.push(1);
            }
            Part::Greedy => {
                if segs.len() <= i {
                    return None;
                }
                params.push(("g".to_owned(), segs[i..].join("/")));
                kinds.push(2);
                return Some((kinds, params));
            }
        }
    }
    (parts.len() == segs.len()).then_some((kinds, params))
}

fn part() -> impl Strategy<Value = Part> {
    prop_oneof![
        3 => prop_oneof![Just("a"), Just("b"), Just("c")].prop_map(Part::Lit),
        2 => Just(Part::Param),
        1 => Just(Part::Greedy),
    ]
}

fn route() -> impl Strategy<Value = Route> {
    (
        prop::collection::vec(part(), 0..4),
        prop_oneof![Just("GET"), Just("POST"), Just("ANY")],
    )
        .prop_map(|(mut parts, method)| {
            // Greedy may only be last: cut the pattern after the first greedy part.
            if let Some(i) = parts.iter().position(|p| matches!(p, Part::Greedy)) {
                parts.truncate(i + 1);
            }
            Route { parts, method }
        })
}

fn request_path() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(
            prop_oneof![Just("a"), Just("b"), Just("c"), Just("d"), Just("")],
            0..6,
        ),
        any::<bool>(),
    )
        .prop_map(|(segs, trailing)| {
            let mut s: String = segs.iter().map(|s| format!("/{s}")).collect();
            if s.is_empty() || trailing {
                s.push('/');
            }
            s
        })
}

fn check(flavor: Flavor, routes: Vec<Route>, paths: Vec<String>) -> Result<(), TestCaseError> {
    let mut builder = RouterBuilder::with_flavor(flavor);
    let mut accepted = Vec::new();
    for r in routes {
        // Routes the builder refuses (duplicates, REST variable siblings) are left out of
        // the reference too.
        if builder
            .insert(&pattern_string(&r.parts), r.method, ())
            .is_ok()
        {
            accepted.push(r);
        }
    }
    let router = builder.build();
    for path in &paths {
        for method in ["GET", "POST", "PUT"] {
            let got = router.at(path, method).map(|m| {
                let params = m
                    .params
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect::<Vec<_>>();
                (m.resource_path.to_owned(), m.method.to_owned(), params)
            });
            let want = reference(&accepted, path, method);
            prop_assert_eq!(
                got,
                want,
                "path {:?} method {} routes {:?}",
                path,
                method,
                accepted
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn http_api_trie_matches_reference(
        routes in prop::collection::vec(route(), 0..14),
        paths in prop::collection::vec(request_path(), 1..10),
    ) {
        check(Flavor::HttpApi, routes, paths)?;
    }

    #[test]
    fn rest_trie_matches_reference(
        routes in prop::collection::vec(route(), 0..14),
        paths in prop::collection::vec(request_path(), 1..10),
    ) {
        check(Flavor::RestApi, routes, paths)?;
    }
}
