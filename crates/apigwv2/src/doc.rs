//! The API aggregate (one document per API), AWS's v2 error wording, dates, ids and paging.

use portico_core::{AwsError, ids};
use portico_model::apigatewayv2::{Api, Authorizer, Integration, Route};
use serde::{Deserialize, Serialize};

/// An API with its routes and integrations, as stored (and as frozen in a deployment).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct ApiDoc {
    pub api: Api,
    #[serde(default)]
    pub routes: Vec<Route>,
    #[serde(default)]
    pub integrations: Vec<Integration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorizers: Vec<Authorizer>,
    #[serde(
        rename = "routeResponses",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub route_responses: Vec<crate::route_response::StoredRouteResponse>,
}

impl ApiDoc {
    pub fn id(&self) -> &str {
        self.api.api_id.as_deref().unwrap_or_default()
    }

    pub fn is_websocket(&self) -> bool {
        self.api.protocol_type.as_deref() == Some("WEBSOCKET")
    }

    pub fn route_mut(&mut self, id: &str) -> Result<&mut Route, AwsError> {
        self.routes
            .iter_mut()
            .find(|r| r.route_id.as_deref() == Some(id))
            .ok_or_else(|| route_not_found(id))
    }

    pub fn integration_mut(&mut self, id: &str) -> Result<&mut Integration, AwsError> {
        self.integrations
            .iter_mut()
            .find(|i| i.integration_id.as_deref() == Some(id))
            .ok_or_else(|| integration_not_found(id))
    }
}

// AWS names the account in the API message only (recorded from AWS: "Invalid API identifier
// specified 665192190199:bwop0s66op"); child objects are named by id alone.

pub(crate) fn api_not_found(account_id: &str, api_id: &str) -> AwsError {
    AwsError::not_found(format!(
        "Invalid API identifier specified {account_id}:{api_id}"
    ))
}

pub(crate) fn route_not_found(id: &str) -> AwsError {
    AwsError::not_found(format!("Invalid Route identifier specified {id}"))
}

pub(crate) fn integration_not_found(id: &str) -> AwsError {
    AwsError::not_found(format!("Invalid Integration identifier specified {id}"))
}

pub(crate) fn stage_not_found(name: &str) -> AwsError {
    AwsError::not_found(format!("Invalid stage identifier specified {name}"))
}

pub(crate) fn deployment_not_found(id: &str) -> AwsError {
    AwsError::not_found(format!("Invalid Deployment identifier specified {id}"))
}

/// A required member that is absent (botocore checks these first; raw HTTP callers get this).
pub(crate) fn required<T>(value: Option<T>, member: &str) -> Result<T, AwsError> {
    value.ok_or_else(|| AwsError::bad_request(format!("{member} is required")))
}

/// Route and integration ids: 7 characters (`0abcdef` in AWS's examples).
pub(crate) fn child_id() -> String {
    ids::alphanumeric_id(7)
}

/// Now, as v2 timestamps are written on the wire: ISO-8601 UTC with seconds.
pub(crate) fn now_iso() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// `maxResults`/`nextToken` paging: the token is the id the next page starts at.
pub(crate) fn paginate<T>(
    items: Vec<T>,
    id_of: impl Fn(&T) -> Option<&str>,
    next_token: Option<&str>,
    max_results: Option<&str>,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    let limit = match max_results {
        None => usize::MAX,
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| AwsError::bad_request(format!("Invalid value for maxResults: {raw}")))?,
    };
    let start = match next_token {
        None => 0,
        Some(token) => items
            .iter()
            .position(|item| id_of(item) == Some(token))
            .ok_or_else(|| AwsError::bad_request("Invalid nextToken"))?,
    };
    let mut rest: Vec<T> = items.into_iter().skip(start).collect();
    let next = if rest.len() > limit {
        id_of(&rest[limit]).map(str::to_owned)
    } else {
        None
    };
    rest.truncate(limit);
    Ok((rest, next))
}
