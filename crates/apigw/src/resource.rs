//! GetResources, GetResource, CreateResource, UpdateResource, DeleteResource.

use std::collections::BTreeMap;

use portico_core::{AwsError, ids};
use portico_model::apigateway::{
    CreateResourceRequest, DeleteResourceRequest, GetResourceRequest, GetResourcesRequest, Method,
    Resource, Resources, UpdateResourceRequest,
};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use portico_route::{ErrorKind, ValidationError, check_new_resource};
use serde_json::{Map, Value};

use crate::Call;
use crate::doc::{ApiDoc, required};

pub(crate) fn validation_error(error: ValidationError) -> AwsError {
    match error.kind {
        ErrorKind::BadRequest => AwsError::bad_request(error.message),
        ErrorKind::Conflict => AwsError::conflict(error.message),
    }
}

/// A resource as the read operations show it: with `embed=methods` every method whole, else
/// each method as an empty object (AWS lists the verbs without their configuration).
fn presented(resource: &Resource, embed_methods: bool) -> Resource {
    let mut out = resource.clone();
    if !embed_methods {
        out.resource_methods = resource.resource_methods.as_ref().map(|methods| {
            methods
                .keys()
                .map(|k| (k.clone(), Method::default()))
                .collect::<BTreeMap<_, _>>()
        });
    }
    if out
        .resource_methods
        .as_ref()
        .is_some_and(BTreeMap::is_empty)
    {
        out.resource_methods = None;
    }
    out
}

fn wants_methods(embed: &Option<Vec<String>>) -> bool {
    embed
        .iter()
        .flatten()
        .any(|e| e.split(',').any(|part| part.trim() == "methods"))
}

pub(crate) async fn list(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetResourcesRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "getResourcesInput", "restApiId")?;
    let (doc, _) = call.load_api(&api_id).await?;
    let embed = wants_methods(&req.embed);
    let all: Vec<Resource> = doc.resources.iter().map(|r| presented(r, embed)).collect();
    let (items, position) =
        crate::page::paginate(all, |r| r.id.as_deref(), req.position.as_deref(), req.limit)?;
    OperationOutput::json(
        op,
        &Resources {
            items: Some(items),
            position,
        },
    )
}

pub(crate) async fn get(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetResourceRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "getResourceInput", "restApiId")?;
    let resource_id = required(req.resource_id, "getResourceInput", "resourceId")?;
    let (doc, _) = call.load_api(&api_id).await?;
    let resource = doc.resource(&resource_id)?;
    OperationOutput::json(op, &presented(resource, wants_methods(&req.embed)))
}

fn check_resource(
    doc: &ApiDoc,
    parent_id: &str,
    path_part: &str,
    exclude: Option<&str>,
) -> Result<(), AwsError> {
    let parent = doc.resource(parent_id)?;
    let siblings = doc
        .resources
        .iter()
        .filter(|r| r.parent_id.as_deref() == Some(parent_id) && r.id.as_deref() != exclude)
        .filter_map(|r| r.path_part.as_deref());
    check_new_resource(parent.path_part.as_deref(), siblings, path_part).map_err(validation_error)
}

pub(crate) async fn create(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: CreateResourceRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "createResourceInput", "restApiId")?;
    let parent_id = required(req.parent_id, "createResourceInput", "parentId")?;
    let path_part = required(req.path_part, "createResourceInput", "pathPart")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    check_resource(&doc, &parent_id, &path_part, None)?;
    let parent_path = doc.resource(&parent_id)?.path.clone().unwrap_or_default();
    let path = if parent_path == "/" {
        format!("/{path_part}")
    } else {
        format!("{parent_path}/{path_part}")
    };
    let resource = Resource {
        id: Some(ids::short_id()),
        parent_id: Some(parent_id),
        path_part: Some(path_part),
        path: Some(path),
        resource_methods: None,
    };
    doc.resources.push(resource.clone());
    call.save_api(&doc, Some(version)).await?;
    OperationOutput::json(op, &resource)
}

pub(crate) async fn update(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UpdateResourceRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "updateResourceInput", "restApiId")?;
    let resource_id = required(req.resource_id, "updateResourceInput", "resourceId")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    let is_root = doc.api.root_resource_id.as_deref() == Some(resource_id.as_str());
    doc.resource(&resource_id)?;
    for patch in req.patch_operations.unwrap_or_default() {
        let value = patch.value.unwrap_or_default();
        match (
            patch.op.as_deref().unwrap_or(""),
            patch.path.as_deref().unwrap_or(""),
        ) {
            ("replace", "/pathPart") => {
                if is_root {
                    return Err(AwsError::bad_request(
                        "Root resource cannot update its pathPart.",
                    ));
                }
                let parent = doc
                    .resource(&resource_id)?
                    .parent_id
                    .clone()
                    .unwrap_or_default();
                check_resource(&doc, &parent, &value, Some(&resource_id))?;
                doc.resource_mut(&resource_id)?.path_part = Some(value);
            }
            ("replace", "/parentId") => {
                if is_root {
                    return Err(AwsError::bad_request(
                        "Root resource cannot update its parentId.",
                    ));
                }
                if doc.subtree(&resource_id).contains(&value) {
                    return Err(AwsError::bad_request(
                        "Resource cannot be its own descendant",
                    ));
                }
                let part = doc
                    .resource(&resource_id)?
                    .path_part
                    .clone()
                    .unwrap_or_default();
                check_resource(&doc, &value, &part, Some(&resource_id))?;
                doc.resource_mut(&resource_id)?.parent_id = Some(value);
            }
            ("replace", path) => {
                return Err(AwsError::bad_request(format!("Invalid patch path {path}")));
            }
            _ => {
                return Err(AwsError::bad_request(
                    "Invalid patch operation specified. Must be one of: [replace]",
                ));
            }
        }
    }
    doc.recompute_paths();
    call.save_api(&doc, Some(version)).await?;
    OperationOutput::json(op, &presented(doc.resource(&resource_id)?, false))
}

pub(crate) async fn delete(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteResourceRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "deleteResourceInput", "restApiId")?;
    let resource_id = required(req.resource_id, "deleteResourceInput", "resourceId")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    doc.resource(&resource_id)?;
    if doc.api.root_resource_id.as_deref() == Some(resource_id.as_str()) {
        return Err(AwsError::bad_request("Cannot delete root resource"));
    }
    let doomed = doc.subtree(&resource_id);
    doc.resources
        .retain(|r| !r.id.as_ref().is_some_and(|id| doomed.contains(id)));
    call.save_api(&doc, Some(version)).await?;
    Ok(OperationOutput::empty(op))
}
