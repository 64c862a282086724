//! Stage method settings (`UpdateStage` paths `/{resourcePath}/{METHOD}/{group}/{setting}`):
//! throttling, caching, metrics and logging per method or for every method (`*/*`).

use std::collections::BTreeMap;

use portico_core::AwsError;
use portico_model::apigateway::{MethodSetting, Stage};

use crate::restapi::unescape_pointer;

/// The settings AWS reports for a method once any of them is set.
fn defaults() -> MethodSetting {
    MethodSetting {
        metrics_enabled: Some(false),
        logging_level: Some("OFF".to_owned()),
        data_trace_enabled: Some(false),
        throttling_burst_limit: Some(5000),
        throttling_rate_limit: Some(10000.0),
        caching_enabled: Some(false),
        cache_ttl_in_seconds: Some(300),
        cache_data_encrypted: Some(false),
        require_authorization_for_cache_control: Some(true),
        unauthorized_cache_control_header_strategy: Some("SUCCEED_WITH_RESPONSE_HEADER".to_owned()),
    }
}

fn invalid(path: &str) -> AwsError {
    AwsError::bad_request(format!(
        "Invalid method setting path: {path}. Must be one of: [/{{resourcePath}}/{{httpMethod}}/metrics/enabled, /{{resourcePath}}/{{httpMethod}}/logging/dataTrace, /{{resourcePath}}/{{httpMethod}}/logging/loglevel, /{{resourcePath}}/{{httpMethod}}/throttling/burstLimit /{{resourcePath}}/{{httpMethod}}/throttling/rateLimit /{{resourcePath}}/{{httpMethod}}/caching/ttlInSeconds, /{{resourcePath}}/{{httpMethod}}/caching/enabled, /{{resourcePath}}/{{httpMethod}}/caching/dataEncrypted, /{{resourcePath}}/{{httpMethod}}/caching/requireAuthorizationForCacheControl, /{{resourcePath}}/{{httpMethod}}/caching/unauthorizedCacheControlHeaderStrategy, /*/*/metrics/enabled, /*/*/logging/dataTrace, /*/*/logging/loglevel, /*/*/throttling/burstLimit /*/*/throttling/rateLimit /*/*/caching/ttlInSeconds, /*/*/caching/enabled, /*/*/caching/dataEncrypted, /*/*/caching/requireAuthorizationForCacheControl, /*/*/caching/unauthorizedCacheControlHeaderStrategy]"
    ))
}

fn number<T: std::str::FromStr>(value: &str, path: &str) -> Result<T, AwsError> {
    value.parse().map_err(|_| invalid(path))
}

/// The methodSettings key of a patch path: `*/*`, or the resource path without its leading
/// slash and the verb (`pets/{id}/GET`).
fn settings_key(resource: &str, verb: &str) -> String {
    let resource = unescape_pointer(resource);
    format!("{}/{verb}", resource.trim_start_matches('/'))
}

/// Applies one method-setting patch; `Ok(false)` when the path is not a method setting.
pub(crate) fn apply(
    stage: &mut Stage,
    op: &str,
    path: &str,
    value: &str,
) -> Result<bool, AwsError> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let [resource, verb, group, setting] = parts.as_slice() else {
        return Ok(false);
    };
    if !(*resource == "*" || resource.starts_with("~1")) {
        return Ok(false);
    }
    let key = settings_key(resource, verb);
    let settings = stage.method_settings.get_or_insert_with(BTreeMap::new);
    if op == "remove" {
        settings.remove(&key);
        return Ok(true);
    }
    if op != "replace" {
        return Err(AwsError::bad_request(
            "Invalid patch operation specified. Must be one of: [replace]",
        ));
    }
    let entry = settings.entry(key).or_insert_with(defaults);
    match (*group, *setting) {
        ("throttling", "rateLimit") => entry.throttling_rate_limit = Some(number(value, path)?),
        ("throttling", "burstLimit") => entry.throttling_burst_limit = Some(number(value, path)?),
        ("caching", "enabled") => entry.caching_enabled = Some(value == "true"),
        ("caching", "ttlInSeconds") => {
            let ttl: i32 = number(value, path)?;
            if !(0..=3600).contains(&ttl) {
                return Err(AwsError::bad_request(
                    "Cache TTL in seconds must be between 0 and 3600",
                ));
            }
            entry.cache_ttl_in_seconds = Some(ttl);
        }
        ("caching", "dataEncrypted") => entry.cache_data_encrypted = Some(value == "true"),
        ("caching", "requireAuthorizationForCacheControl") => {
            entry.require_authorization_for_cache_control = Some(value == "true")
        }
        ("caching", "unauthorizedCacheControlHeaderStrategy") => {
            entry.unauthorized_cache_control_header_strategy = Some(value.to_owned())
        }
        ("metrics", "enabled") => entry.metrics_enabled = Some(value == "true"),
        ("logging", "loglevel") => entry.logging_level = Some(value.to_owned()),
        ("logging", "dataTrace") => entry.data_trace_enabled = Some(value == "true"),
        _ => return Err(invalid(path)),
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_keys() {
        let mut stage = Stage::default();
        assert!(apply(&mut stage, "replace", "/*/*/throttling/rateLimit", "2").unwrap());
        assert!(
            apply(
                &mut stage,
                "replace",
                "/~1pets~1{id}/GET/throttling/burstLimit",
                "1"
            )
            .unwrap()
        );
        let settings = stage.method_settings.as_ref().unwrap();
        assert_eq!(settings["*/*"].throttling_rate_limit, Some(2.0));
        assert_eq!(settings["*/*"].throttling_burst_limit, Some(5000));
        assert_eq!(settings["pets/{id}/GET"].throttling_burst_limit, Some(1));
        assert!(!apply(&mut stage, "replace", "/description", "x").unwrap());
        assert!(!apply(&mut stage, "replace", "/variables/a", "x").unwrap());
        assert!(apply(&mut stage, "replace", "/*/*/throttling/nope", "1").is_err());
        assert!(apply(&mut stage, "replace", "/*/*/caching/ttlInSeconds", "4000").is_err());
        assert!(
            apply(
                &mut stage,
                "remove",
                "/~1pets~1{id}/GET/throttling/burstLimit",
                ""
            )
            .unwrap()
        );
        assert!(
            !stage
                .method_settings
                .as_ref()
                .unwrap()
                .contains_key("pets/{id}/GET")
        );
    }
}
