//! Which service a control-plane request is for, and in which region.
//!
//! Real clients sign every request; the SigV4 credential scope
//! (`Credential=AKID/20240101/us-west-2/apigateway/aws4_request`) names both the region and the
//! service. apigatewayv2 signs with `apigateway` too and is told apart by its `/v2/` paths.
//! Unsigned requests (curl) fall back to the path and the default region; awsJson services
//! (CloudWatch Logs) all `POST /` and are told by their `X-Amz-Target` prefix instead. Any
//! credentials are accepted: Portico does not verify control-plane signatures.

use http::HeaderMap;

/// A control-plane service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    ApiGateway,
    ApiGatewayV2,
    Lambda,
    /// CloudWatch Logs (awsJson1.1).
    Logs,
}

impl Service {
    /// The botocore service name.
    pub fn name(self) -> &'static str {
        match self {
            Service::ApiGateway => "apigateway",
            Service::ApiGatewayV2 => "apigatewayv2",
            Service::Lambda => "lambda",
            Service::Logs => "logs",
        }
    }
}

/// The credential scope of a SigV4 `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigV4Scope<'a> {
    pub access_key: &'a str,
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

/// Parses the credential scope out of `Authorization: AWS4-HMAC-SHA256 Credential=…`.
pub fn sigv4_scope(headers: &HeaderMap) -> Option<SigV4Scope<'_>> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let rest = value.strip_prefix("AWS4-HMAC-SHA256")?;
    let credential = rest
        .split(',')
        .map(str::trim)
        .find_map(|part| part.strip_prefix("Credential="))?;
    let mut parts = credential.split('/');
    let scope = SigV4Scope {
        access_key: parts.next()?,
        date: parts.next()?,
        region: parts.next()?,
        service: parts.next()?,
    };
    (parts.next() == Some("aws4_request")).then_some(scope)
}

fn service_by_path(path: &str) -> Option<Service> {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    match first {
        "v2" => Some(Service::ApiGatewayV2),
        "restapis" | "apikeys" | "usageplans" | "domainnames" | "account"
        | "clientcertificates" | "vpclinks" | "tags" | "sdktypes" => Some(Service::ApiGateway),
        f if f.len() == 10 && f.starts_with("20") && f.as_bytes()[4] == b'-' => {
            Some(Service::Lambda)
        }
        _ => None,
    }
}

/// Tells the service and region of a control-plane request; `None` when it is not one.
pub fn detect<'a>(
    headers: &'a HeaderMap,
    path: &str,
    default_region: &'a str,
) -> Option<(Service, &'a str)> {
    match sigv4_scope(headers) {
        Some(scope) => {
            let service = match scope.service {
                "lambda" => Service::Lambda,
                "logs" => Service::Logs,
                "apigateway" if path.starts_with("/v2/") => Service::ApiGatewayV2,
                "apigateway" => Service::ApiGateway,
                _ => return None,
            };
            Some((service, scope.region))
        }
        None => service_by_target(headers)
            .or_else(|| service_by_path(path))
            .map(|s| (s, default_region)),
    }
}

/// The awsJson service an unsigned request's `X-Amz-Target` names.
fn service_by_target(headers: &HeaderMap) -> Option<Service> {
    let target = headers.get("x-amz-target")?.to_str().ok()?;
    let (prefix, _) = target.split_once('.')?;
    (prefix == crate::json::LOGS_TARGET_PREFIX).then_some(Service::Logs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::AUTHORIZATION, auth.parse().unwrap());
        h
    }

    #[test]
    fn reads_region_and_service_from_the_scope() {
        let h = headers(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20171020/us-west-2/apigateway/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
        );
        let scope = sigv4_scope(&h).unwrap();
        assert_eq!(scope.region, "us-west-2");
        assert_eq!(scope.service, "apigateway");
        assert_eq!(
            detect(&h, "/restapis", "us-east-1"),
            Some((Service::ApiGateway, "us-west-2"))
        );
        assert_eq!(
            detect(&h, "/v2/apis", "us-east-1"),
            Some((Service::ApiGatewayV2, "us-west-2"))
        );
        let h = headers(
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/lambda/aws4_request, SignedHeaders=host, Signature=00",
        );
        assert_eq!(
            detect(&h, "/2015-03-31/functions", "us-east-1"),
            Some((Service::Lambda, "eu-west-1"))
        );
        let h = headers(
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/s3/aws4_request, SignedHeaders=host, Signature=00",
        );
        assert_eq!(detect(&h, "/bucket", "us-east-1"), None);
        let h = headers(
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/ap-south-1/logs/aws4_request, SignedHeaders=host, Signature=00",
        );
        assert_eq!(
            detect(&h, "/", "us-east-1"),
            Some((Service::Logs, "ap-south-1"))
        );
    }

    #[test]
    fn unsigned_requests_are_told_by_path() {
        let h = HeaderMap::new();
        assert_eq!(
            detect(&h, "/2015-03-31/functions/f/invocations", "us-east-1"),
            Some((Service::Lambda, "us-east-1"))
        );
        assert_eq!(
            detect(&h, "/restapis/abc/resources", "us-east-1"),
            Some((Service::ApiGateway, "us-east-1"))
        );
        assert_eq!(detect(&h, "/favicon.ico", "us-east-1"), None);
        let mut h = HeaderMap::new();
        h.insert(
            "x-amz-target",
            "Logs_20140328.GetLogEvents".parse().unwrap(),
        );
        assert_eq!(
            detect(&h, "/", "us-east-1"),
            Some((Service::Logs, "us-east-1"))
        );
        h.insert("x-amz-target", "DynamoDB_20120810.GetItem".parse().unwrap());
        assert_eq!(detect(&h, "/", "us-east-1"), None);
        assert_eq!(sigv4_scope(&headers("Bearer x")), None);
    }
}
