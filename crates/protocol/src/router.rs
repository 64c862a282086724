//! Picks the operation a request is for, from a service's generated binding table.

use std::borrow::Cow;

use portico_core::AwsError;
use portico_model::binding::Operation;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment {
    Literal(&'static str),
    Label(&'static str),
    Greedy(&'static str),
}

#[derive(Debug)]
struct CompiledOperation {
    operation: &'static Operation,
    segments: Vec<Segment>,
    /// Literal segments plus required query literals: the more, the more specific.
    specificity: usize,
}

/// An operation matched by a request, with its decoded path labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutedOperation {
    pub operation: &'static Operation,
    /// `(label, percent-decoded value)` pairs.
    pub labels: Vec<(&'static str, String)>,
}

/// The operations of one service, ready to match requests.
#[derive(Debug)]
pub struct OperationRouter {
    operations: Vec<CompiledOperation>,
}

fn compile(uri: &'static str) -> Vec<Segment> {
    uri.trim_start_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(label) => match label.strip_suffix('+') {
                    Some(greedy) => Segment::Greedy(greedy),
                    None => Segment::Label(label),
                },
                None => Segment::Literal(s),
            },
        )
        .collect()
}

fn percent_decode(raw: &str) -> String {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(Cow::into_owned)
        .unwrap_or_else(|_| raw.to_owned())
}

fn match_segments(segments: &[Segment], path: &[&str]) -> Option<Vec<(&'static str, String)>> {
    let mut labels = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        match *segment {
            Segment::Literal(lit) => {
                if path.get(i) != Some(&lit) {
                    return None;
                }
            }
            Segment::Label(name) => {
                let value = path.get(i)?;
                if value.is_empty() {
                    return None;
                }
                labels.push((name, percent_decode(value)));
            }
            Segment::Greedy(name) => {
                if i >= path.len() {
                    return None;
                }
                labels.push((name, percent_decode(&path[i..].join("/"))));
                return Some(labels);
            }
        }
    }
    (segments.len() == path.len()).then_some(labels)
}

impl OperationRouter {
    pub fn new(operations: &'static [Operation]) -> Self {
        let operations = operations
            .iter()
            .map(|operation| {
                let segments = compile(operation.uri);
                let literals = segments
                    .iter()
                    .filter(|s| matches!(s, Segment::Literal(_)))
                    .count();
                CompiledOperation {
                    operation,
                    specificity: literals * 4 + operation.query_literals.len(),
                    segments,
                }
            })
            .collect();
        Self { operations }
    }

    /// Finds the operation for `method` and the raw (still percent-encoded) `path`, given the
    /// decoded query pairs. The most specific match wins (`POST /restapis?mode=import` over
    /// `POST /restapis`; literal segments over labels).
    pub fn route(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
    ) -> Result<RoutedOperation, AwsError> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let parts: &[&str] = if parts.len() == 1 && parts[0].is_empty() {
            &[]
        } else if parts.last() == Some(&"") {
            &parts[..parts.len() - 1]
        } else {
            &parts
        };
        let mut best: Option<(usize, RoutedOperation)> = None;
        let mut path_matched = false;
        for compiled in &self.operations {
            let Some(labels) = match_segments(&compiled.segments, parts) else {
                continue;
            };
            path_matched = true;
            if compiled.operation.method != method {
                continue;
            }
            let literals_present = compiled.operation.query_literals.iter().all(|(k, v)| {
                query
                    .iter()
                    .any(|(qk, qv)| qk == k && (v.is_empty() || qv == v))
            });
            if !literals_present {
                continue;
            }
            if best
                .as_ref()
                .is_none_or(|(score, _)| compiled.specificity > *score)
            {
                best = Some((
                    compiled.specificity,
                    RoutedOperation {
                        operation: compiled.operation,
                        labels,
                    },
                ));
            }
        }
        match best {
            Some((_, routed)) => Ok(routed),
            None if path_matched => Err(AwsError::new(
                "MethodNotAllowedException",
                405,
                format!("The method {method} is not allowed for the requested resource"),
            )),
            None => Err(AwsError::unknown_operation(format!(
                "No operation matches {method} {path}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portico_model::binding::{Binding, Location, ValueKind};

    const BIND: &[Binding] = &[];
    static OPS: &[Operation] = &[
        op("CreateRestApi", "POST", "/restapis", &[]),
        op("ImportRestApi", "POST", "/restapis", &[("mode", "import")]),
        op(
            "GetResource",
            "GET",
            "/restapis/{restapi_id}/resources/{resource_id}",
            &[],
        ),
        op(
            "GetResources",
            "GET",
            "/restapis/{restapi_id}/resources",
            &[],
        ),
        op("GetTags", "GET", "/tags/{resource_arn+}", &[]),
    ];

    const fn op(
        name: &'static str,
        method: &'static str,
        uri: &'static str,
        query_literals: &'static [(&'static str, &'static str)],
    ) -> Operation {
        Operation {
            name,
            method,
            uri,
            query_literals,
            success_code: 200,
            input: None,
            output: None,
            bindings: BIND,
            payload: None,
            output_bindings: BIND,
            output_payload: None,
        }
    }

    #[test]
    fn routes_by_method_path_and_query_literals() {
        let _ = (Location::Uri, ValueKind::String);
        let router = OperationRouter::new(OPS);
        let r = router.route("POST", "/restapis", &[]).unwrap();
        assert_eq!(r.operation.name, "CreateRestApi");
        let q = vec![("mode".to_owned(), "import".to_owned())];
        assert_eq!(
            router
                .route("POST", "/restapis", &q)
                .unwrap()
                .operation
                .name,
            "ImportRestApi"
        );
        let r = router
            .route("GET", "/restapis/abc/resources/x%2Fy", &[])
            .unwrap();
        assert_eq!(r.operation.name, "GetResource");
        assert_eq!(
            r.labels,
            vec![
                ("restapi_id", "abc".to_owned()),
                ("resource_id", "x/y".to_owned())
            ]
        );
        let r = router
            .route("GET", "/restapis/abc/resources/", &[])
            .unwrap();
        assert_eq!(r.operation.name, "GetResources");
        let r = router
            .route(
                "GET",
                "/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A/restapis/abc",
                &[],
            )
            .unwrap();
        assert_eq!(r.labels[0].1, "arn:aws:apigateway:us-east-1::/restapis/abc");
        let err = router.route("DELETE", "/restapis", &[]).unwrap_err();
        assert_eq!(err.status, 405);
        let err = router.route("GET", "/nothing/here", &[]).unwrap_err();
        assert_eq!(err.code, "UnknownOperationException");
    }
}
