//! Which deployed API and stage an invoke URL names.
//!
//! Host style: `http://{api-id}.execute-api.{anything}/{stage}/{path}`. Path style:
//! `http://{host}/restapis/{api-id}/{stage}/_user_request_/{path}`.

/// The API, stage and resource path of an invoke URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeTarget {
    pub api_id: String,
    pub stage: String,
    /// The request path below the stage, raw (still percent-encoded), starting with `/`.
    pub path: String,
    /// The host the client used (`$context.domainName`).
    pub domain_name: String,
}

fn split_first(path: &str) -> (&str, &str) {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    match trimmed.find('/') {
        Some(i) => (&trimmed[..i], &trimmed[i..]),
        None => (trimmed, ""),
    }
}

/// Parses an invoke URL from the `Host` header and the raw path; `None` when the request is
/// not addressed to a deployed API.
pub fn parse_invoke_target(host: &str, path: &str) -> Option<InvokeTarget> {
    let hostname = host.split(':').next().unwrap_or(host);
    if let Some((api_id, _)) = hostname.split_once(".execute-api.")
        && !api_id.is_empty()
    {
        let (stage, rest) = split_first(path);
        return Some(InvokeTarget {
            api_id: api_id.to_owned(),
            stage: stage.to_owned(),
            path: if rest.is_empty() {
                "/".to_owned()
            } else {
                rest.to_owned()
            },
            domain_name: hostname.to_owned(),
        });
    }
    let rest = path.strip_prefix("/restapis/")?;
    let (api_id, rest) = split_first(rest);
    let (stage, rest) = split_first(rest);
    let (marker, rest) = split_first(rest);
    if marker != "_user_request_" || api_id.is_empty() {
        return None;
    }
    Some(InvokeTarget {
        api_id: api_id.to_owned(),
        stage: stage.to_owned(),
        path: if rest.is_empty() {
            "/".to_owned()
        } else {
            rest.to_owned()
        },
        domain_name: hostname.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_style() {
        let t =
            parse_invoke_target("te6si5ach7.execute-api.localhost:4566", "/test/greeting").unwrap();
        assert_eq!(
            (t.api_id.as_str(), t.stage.as_str(), t.path.as_str()),
            ("te6si5ach7", "test", "/greeting")
        );
        assert_eq!(t.domain_name, "te6si5ach7.execute-api.localhost");
        let t = parse_invoke_target("abc.execute-api.us-east-1.amazonaws.com", "/prod").unwrap();
        assert_eq!(t.path, "/");
    }

    #[test]
    fn path_style() {
        let t = parse_invoke_target(
            "127.0.0.1:4566",
            "/restapis/te6si5ach7/test/_user_request_/greeting",
        )
        .unwrap();
        assert_eq!(
            (t.api_id.as_str(), t.stage.as_str(), t.path.as_str()),
            ("te6si5ach7", "test", "/greeting")
        );
        let t = parse_invoke_target("localhost", "/restapis/abc/test/_user_request_").unwrap();
        assert_eq!(t.path, "/");
        assert!(parse_invoke_target("localhost", "/restapis/abc/resources").is_none());
        assert!(parse_invoke_target("localhost", "/restapis/abc/stages/x/y").is_none());
    }
}
