//! The REST API aggregate: one document holding an API's whole definition.

use portico_core::AwsError;
use std::collections::BTreeMap;

use portico_model::apigateway::{
    Authorizer, GatewayResponse, Integration, Method, Model, RequestValidator, Resource, RestApi,
};
use serde::{Deserialize, Serialize};

/// A REST API and its resource tree, as stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct ApiDoc {
    pub api: RestApi,
    /// Every resource, root first, then in creation order. Methods, their integrations and
    /// responses are embedded (`resourceMethods`), as `GetResources?embed=methods` shows them.
    pub resources: Vec<Resource>,
    /// Customised gateway responses by type (the defaults are not stored).
    #[serde(
        rename = "gatewayResponses",
        default,
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub gateway_responses: BTreeMap<String, GatewayResponse>,
    #[serde(
        rename = "requestValidators",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub request_validators: Vec<RequestValidator>,
    /// Models (JSON Schemas) by creation order; documents written before models existed
    /// load with none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<Model>,
    /// Lambda and Cognito authorizers, frozen with the rest at deployment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorizers: Vec<Authorizer>,
}

pub(crate) fn api_not_found(account_id: &str, api_id: &str) -> AwsError {
    AwsError::not_found(format!(
        "Invalid API identifier specified {account_id}:{api_id}"
    ))
}

pub(crate) fn resource_not_found() -> AwsError {
    AwsError::not_found("Invalid Resource identifier specified")
}

pub(crate) fn method_not_found() -> AwsError {
    AwsError::not_found("Invalid Method identifier specified")
}

pub(crate) fn integration_not_found() -> AwsError {
    AwsError::not_found("Invalid Integration identifier specified")
}

pub(crate) fn response_not_found() -> AwsError {
    AwsError::not_found("Invalid Response status code specified")
}

impl ApiDoc {
    pub fn id(&self) -> &str {
        self.api.id.as_deref().unwrap_or_default()
    }

    pub fn resource(&self, id: &str) -> Result<&Resource, AwsError> {
        self.resources
            .iter()
            .find(|r| r.id.as_deref() == Some(id))
            .ok_or_else(resource_not_found)
    }

    pub fn resource_mut(&mut self, id: &str) -> Result<&mut Resource, AwsError> {
        self.resources
            .iter_mut()
            .find(|r| r.id.as_deref() == Some(id))
            .ok_or_else(resource_not_found)
    }

    pub fn method(&self, resource_id: &str, http_method: &str) -> Result<&Method, AwsError> {
        self.resource(resource_id)?
            .resource_methods
            .as_ref()
            .and_then(|m| m.get(http_method))
            .ok_or_else(method_not_found)
    }

    pub fn method_mut(
        &mut self,
        resource_id: &str,
        http_method: &str,
    ) -> Result<&mut Method, AwsError> {
        self.resource_mut(resource_id)?
            .resource_methods
            .as_mut()
            .and_then(|m| m.get_mut(http_method))
            .ok_or_else(method_not_found)
    }

    pub fn integration_mut(
        &mut self,
        resource_id: &str,
        http_method: &str,
    ) -> Result<&mut Integration, AwsError> {
        self.method_mut(resource_id, http_method)?
            .method_integration
            .as_mut()
            .ok_or_else(integration_not_found)
    }

    /// Ids of `id` and every resource below it.
    pub fn subtree(&self, id: &str) -> Vec<String> {
        let mut out = vec![id.to_owned()];
        let mut i = 0;
        while i < out.len() {
            let parent = out[i].clone();
            out.extend(
                self.resources
                    .iter()
                    .filter(|r| r.parent_id.as_deref() == Some(parent.as_str()))
                    .filter_map(|r| r.id.clone()),
            );
            i += 1;
        }
        out
    }

    /// Recomputes every resource's `path` from the tree (after a pathPart or parent change).
    pub fn recompute_paths(&mut self) {
        let snapshot: Vec<(Option<String>, Option<String>, Option<String>)> = self
            .resources
            .iter()
            .map(|r| (r.id.clone(), r.parent_id.clone(), r.path_part.clone()))
            .collect();
        let path_of = |id: &str| -> String {
            let mut parts = Vec::new();
            let mut cursor = Some(id.to_owned());
            let mut guard = 0;
            while let Some(current) = cursor {
                guard += 1;
                if guard > snapshot.len() + 1 {
                    break;
                }
                let Some((_, parent, part)) = snapshot
                    .iter()
                    .find(|(rid, _, _)| rid.as_deref() == Some(&current))
                else {
                    break;
                };
                if let Some(part) = part {
                    parts.push(part.clone());
                }
                cursor = parent.clone();
            }
            parts.reverse();
            format!("/{}", parts.join("/"))
        };
        for resource in &mut self.resources {
            if let Some(id) = resource.id.clone() {
                resource.path = Some(path_of(&id));
            }
        }
    }
}

/// The verbs a method may be put for.
pub(crate) const HTTP_METHODS: &[&str] = &[
    "GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "ANY",
];

pub(crate) fn check_http_method(method: &str) -> Result<(), AwsError> {
    if HTTP_METHODS.contains(&method) {
        Ok(())
    } else {
        Err(AwsError::bad_request(
            "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY",
        ))
    }
}

/// A required member that is absent: AWS's constraint wording.
pub(crate) fn required<T>(value: Option<T>, input: &str, member: &str) -> Result<T, AwsError> {
    value.ok_or_else(|| {
        AwsError::bad_request(format!(
            "1 validation error detected: Value null at '{input}.{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}
