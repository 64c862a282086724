//! Writing an imported definition into an API document: a new API, a merge (add and update)
//! or an overwrite (the document becomes the whole definition).

use std::collections::BTreeMap;

use portico_core::{AwsError, ids};
use portico_model::apigateway::{Method, Resource};
use portico_route::check_new_resource;
use serde_json::Value;

use super::document::import_errors;
use super::import::Imported;
use crate::doc::ApiDoc;

/// PutRestApi's `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Merge,
    Overwrite,
}

/// Where model `$ref`s point inside API Gateway.
fn model_url(api_id: &str, name: &str) -> String {
    format!("https://apigateway.amazonaws.com/restapis/{api_id}/models/{name}")
}

/// Rewrites document-local schema references (`#/definitions/X`, `#/components/schemas/X`)
/// to the model URLs API Gateway stores.
fn rewrite_refs(node: &mut Value, api_id: &str) {
    match node {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if key == "$ref"
                    && let Value::String(reference) = value
                    && let Some(name) = reference
                        .strip_prefix("#/definitions/")
                        .or_else(|| reference.strip_prefix("#/components/schemas/"))
                {
                    *reference = model_url(api_id, name);
                } else {
                    rewrite_refs(value, api_id);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rewrite_refs(i, api_id)),
        _ => {}
    }
}

/// The resource at `path`, created (with its missing ancestors) when absent.
fn ensure_path(doc: &mut ApiDoc, path: &str) -> Result<String, String> {
    let mut current = doc
        .api
        .root_resource_id
        .clone()
        .ok_or_else(|| "The API has no root resource".to_owned())?;
    for part in path.split('/').filter(|p| !p.is_empty()) {
        let existing = doc
            .resources
            .iter()
            .find(|r| {
                r.parent_id.as_deref() == Some(current.as_str())
                    && r.path_part.as_deref() == Some(part)
            })
            .and_then(|r| r.id.clone());
        current = match existing {
            Some(id) => id,
            None => {
                let parent = doc.resource(&current).map_err(|e| e.message)?;
                let parent_part = parent.path_part.clone();
                let parent_path = parent.path.clone().unwrap_or_else(|| "/".to_owned());
                let siblings: Vec<String> = doc
                    .resources
                    .iter()
                    .filter(|r| r.parent_id.as_deref() == Some(current.as_str()))
                    .filter_map(|r| r.path_part.clone())
                    .collect();
                check_new_resource(
                    parent_part.as_deref(),
                    siblings.iter().map(String::as_str),
                    part,
                )
                .map_err(|e| e.message)?;
                let id = ids::short_id();
                doc.resources.push(Resource {
                    id: Some(id.clone()),
                    parent_id: Some(current.clone()),
                    path_part: Some(part.to_owned()),
                    path: Some(if parent_path == "/" {
                        format!("/{part}")
                    } else {
                        format!("{parent_path}/{part}")
                    }),
                    resource_methods: None,
                });
                id
            }
        };
    }
    Ok(current)
}

/// Applies `imported` to `doc`. Nothing is written by the caller unless this succeeds, so a
/// failed import leaves the API as it was (AWS discards the new definition on error).
pub(crate) fn apply(doc: &mut ApiDoc, imported: Imported, mode: Mode) -> Result<(), AwsError> {
    let api_id = doc.id().to_owned();
    let api = &mut doc.api;
    if mode == Mode::Overwrite {
        if let Some(title) = imported.title.clone() {
            api.name = Some(title);
        }
        api.description = imported.description.clone();
        api.version = imported.version.clone();
        api.binary_media_types =
            (!imported.binary_media_types.is_empty()).then(|| imported.binary_media_types.clone());
        let root = api.root_resource_id.clone();
        doc.resources.retain(|r| r.id == root);
        for resource in &mut doc.resources {
            resource.resource_methods = None;
        }
        doc.request_validators.clear();
        doc.gateway_responses.clear();
        doc.models.clear();
        doc.authorizers.clear();
    } else {
        if imported.description.is_some() {
            api.description = imported.description.clone();
        }
        if imported.version.is_some() {
            api.version = imported.version.clone();
        }
        for media in &imported.binary_media_types {
            let list = api.binary_media_types.get_or_insert_with(Vec::new);
            if !list.contains(media) {
                list.push(media.clone());
            }
        }
    }
    let api = &mut doc.api;
    if imported.api_key_source.is_some() {
        api.api_key_source = imported.api_key_source.clone();
    }
    if imported.policy.is_some() {
        api.policy = imported.policy.clone();
    }
    if imported.minimum_compression_size.is_some() {
        api.minimum_compression_size = imported.minimum_compression_size;
    }
    if let Some(disable) = imported.disable_execute_api_endpoint {
        api.disable_execute_api_endpoint = Some(disable);
    }
    if let Some(vpc) = imported.vpc_endpoint_ids.clone()
        && let Some(config) = api.endpoint_configuration.as_mut()
    {
        config.vpc_endpoint_ids = Some(vpc);
    }

    let mut validator_ids = BTreeMap::new();
    for validator in imported.validators {
        let name = validator.name.clone().unwrap_or_default();
        let id = match doc
            .request_validators
            .iter_mut()
            .find(|v| v.name.as_deref() == Some(name.as_str()))
        {
            Some(existing) => {
                existing.validate_request_body = validator.validate_request_body;
                existing.validate_request_parameters = validator.validate_request_parameters;
                existing.id.clone().unwrap_or_default()
            }
            None => {
                let id = ids::short_id();
                doc.request_validators
                    .push(portico_model::apigateway::RequestValidator {
                        id: Some(id.clone()),
                        ..validator
                    });
                id
            }
        };
        validator_ids.insert(name, id);
    }
    doc.gateway_responses.extend(imported.gateway_responses);

    for mut model in imported.models {
        if let Some(schema) = model.schema.as_deref()
            && let Ok(mut value) = serde_json::from_str::<Value>(schema)
        {
            rewrite_refs(&mut value, &api_id);
            model.schema = serde_json::to_string_pretty(&value).ok();
        }
        match doc.models.iter_mut().find(|m| m.name == model.name) {
            Some(existing) => {
                existing.schema = model.schema;
                existing.content_type = model.content_type;
            }
            None => doc.models.push(portico_model::apigateway::Model {
                id: Some(ids::short_id()),
                ..model
            }),
        }
    }

    let mut authorizer_ids = BTreeMap::new();
    for authorizer in imported.authorizers {
        let name = authorizer.name.clone().unwrap_or_default();
        let id = match doc
            .authorizers
            .iter_mut()
            .find(|a| a.name == authorizer.name)
        {
            Some(existing) => {
                let id = existing.id.clone();
                *existing = portico_model::apigateway::Authorizer {
                    id: id.clone(),
                    ..authorizer
                };
                id.unwrap_or_default()
            }
            None => {
                let id = ids::short_id();
                doc.authorizers.push(portico_model::apigateway::Authorizer {
                    id: Some(id.clone()),
                    ..authorizer
                });
                id
            }
        };
        authorizer_ids.insert(name, id);
    }

    let mut errors = Vec::new();
    for (path, methods) in imported.paths {
        let resource_id = match ensure_path(doc, &path) {
            Ok(id) => id,
            Err(reason) => {
                errors.push(format!(
                    "Unable to create resource at path '{path}': {reason}"
                ));
                continue;
            }
        };
        for (verb, mut method) in methods {
            if let Some(name) = method.request_validator_id.take() {
                method.request_validator_id = validator_ids.get(&name).cloned().or_else(|| {
                    doc.request_validators
                        .iter()
                        .find(|v| v.name.as_deref() == Some(name.as_str()))
                        .and_then(|v| v.id.clone())
                });
            }
            if let Some(name) = method.authorizer_id.take() {
                match authorizer_ids.get(&name) {
                    Some(id) => method.authorizer_id = Some(id.clone()),
                    None => errors.push(format!(
                        "Unable to put method '{verb}' on resource at path '{path}': Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer."
                    )),
                }
            }
            if let Some(integration) = method.method_integration.as_mut()
                && integration.cache_namespace.is_none()
            {
                integration.cache_namespace = Some(resource_id.clone());
            }
            let resource = doc.resource_mut(&resource_id)?;
            resource
                .resource_methods
                .get_or_insert_with(BTreeMap::<String, Method>::new)
                .insert(verb, method);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(import_errors(&errors))
    }
}
