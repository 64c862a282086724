//! The parts of a request that mapping templates and proxy events read.

use http::HeaderMap;

/// Headers API Gateway never hands to an integration.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "content-length",
    "transfer-encoding",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
];

/// The request as the integration phase sees it.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestParts {
    /// Query parameters, decoded, in order (repeats kept).
    pub query: Vec<(String, String)>,
    /// Headers in arrival order, names as the client wrote them (see [`header_name`]).
    pub headers: Vec<(String, String)>,
}

/// HTTP/1 header names arrive lower-cased from the parser; AWS hands integrations the
/// client's spelling. Clients overwhelmingly send the canonical Title-Case form
/// (`User-Agent`, `Content-Type`), which is what this restores.
pub(crate) fn header_name(lower: &str) -> String {
    let mut out = String::with_capacity(lower.len());
    let mut upper = true;
    for c in lower.chars() {
        if upper {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        upper = c == '-';
    }
    out
}

/// Decodes a query string as API Gateway does: `+` is a space, `%XX` is decoded.
pub(crate) fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

impl RequestParts {
    pub fn new(query: Option<&str>, headers: &HeaderMap) -> Self {
        let headers = headers
            .iter()
            .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
            .filter_map(|(name, value)| {
                Some((header_name(name.as_str()), value.to_str().ok()?.to_owned()))
            })
            .collect();
        Self {
            query: parse_query(query),
            headers,
        }
    }

    /// The last value of each query parameter, in first-seen order.
    pub fn single_query(&self) -> Vec<(String, String)> {
        owned(last_values(&self.query, false))
    }

    /// The last value of each header (names compared case-insensitively).
    pub fn single_headers(&self) -> Vec<(String, String)> {
        owned(last_values(&self.headers, true))
    }

    /// A header's last value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Whether two parameter names are the same: headers compare case-insensitively, query
/// parameters exactly.
fn same_name(a: &str, b: &str, ignore_case: bool) -> bool {
    if ignore_case {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

/// The last value of each name, in first-seen order (borrowed from `pairs`).
pub(crate) fn last_values(pairs: &[(String, String)], ignore_case: bool) -> Vec<(&str, &str)> {
    let mut out: Vec<(&str, &str)> = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        match out
            .iter_mut()
            .find(|(existing, _)| same_name(existing, k, ignore_case))
        {
            Some(slot) => slot.1 = v,
            None => out.push((k, v)),
        }
    }
    out
}

/// Groups values per name, in first-seen order (borrowed from `pairs`).
pub(crate) fn multi_values(
    pairs: &[(String, String)],
    ignore_case: bool,
) -> Vec<(&str, Vec<&str>)> {
    let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
    for (k, v) in pairs {
        match out
            .iter_mut()
            .find(|(existing, _)| same_name(existing, k, ignore_case))
        {
            Some(slot) => slot.1.push(v),
            None => out.push((k, vec![v])),
        }
    }
    out
}

fn owned(pairs: Vec<(&str, &str)>) -> Vec<(String, String)> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding_and_last_value_wins() {
        let q = parse_query(Some("greeter=me&a=1&a=2&b=x%2By+z"));
        assert_eq!(q[3], ("b".to_owned(), "x+y z".to_owned()));
        let parts = RequestParts {
            query: q,
            headers: vec![],
        };
        assert_eq!(
            parts.single_query(),
            vec![
                ("greeter".into(), "me".into()),
                ("a".into(), "2".into()),
                ("b".into(), "x+y z".into())
            ]
        );
        assert_eq!(multi_values(&parts.query, false)[1], ("a", vec!["1", "2"]));
    }

    #[test]
    fn header_names_are_title_cased() {
        let mut h = HeaderMap::new();
        h.insert("user-agent", "curl/8".parse().unwrap());
        h.insert("x-amzn-trace-id", "t".parse().unwrap());
        h.insert("content-length", "0".parse().unwrap());
        let parts = RequestParts::new(None, &h);
        assert_eq!(
            parts.headers,
            vec![
                ("User-Agent".into(), "curl/8".into()),
                ("X-Amzn-Trace-Id".into(), "t".into())
            ]
        );
        assert_eq!(parts.header("USER-AGENT"), Some("curl/8"));
    }
}
