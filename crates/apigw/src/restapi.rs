//! CreateRestApi, GetRestApi(s), UpdateRestApi, DeleteRestApi.

use portico_core::{AwsError, ids};
use portico_model::apigateway::{
    CreateRestApiRequest, DeleteRestApiRequest, EndpointConfiguration, GetRestApiRequest,
    GetRestApisRequest, Resource, RestApi, RestApis, UpdateRestApiRequest,
};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::doc::{ApiDoc, required};
use crate::page::paginate;
use crate::{Call, now_epoch_seconds};

fn endpoint_configuration(
    given: Option<EndpointConfiguration>,
) -> Result<EndpointConfiguration, AwsError> {
    let mut config = given.unwrap_or_default();
    let types = config.types.get_or_insert_with(|| vec!["EDGE".to_owned()]);
    match types.len() {
        0 => types.push("EDGE".to_owned()),
        1 => {}
        _ => {
            return Err(AwsError::bad_request(
                "Cannot create an api with multiple Endpoint Types.",
            ));
        }
    }
    let kind = types[0].clone();
    if !matches!(kind.as_str(), "EDGE" | "REGIONAL" | "PRIVATE") {
        return Err(AwsError::validation(format!(
            "1 validation error detected: Value '[{kind}]' at 'createRestApiInput.endpointConfiguration.types' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [PRIVATE, EDGE, REGIONAL]]"
        )));
    }
    if config.ip_address_type.is_none() {
        config.ip_address_type = Some(
            if kind == "PRIVATE" {
                "dualstack"
            } else {
                "ipv4"
            }
            .to_owned(),
        );
    }
    Ok(config)
}

pub(crate) async fn create(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: CreateRestApiRequest = decode(input)?;
    let name = required(req.name, "createRestApiInput", "name")?;
    if name.trim().is_empty() {
        return Err(AwsError::bad_request("Invalid API name specified"));
    }
    if let Some(size) = req.minimum_compression_size
        && !(0..=10_485_760).contains(&size)
    {
        return Err(AwsError::bad_request(
            "Invalid minimum compression size, must be between 0 and 10485760",
        ));
    }
    let api_key_source = req.api_key_source.unwrap_or_else(|| "HEADER".to_owned());
    if !matches!(api_key_source.as_str(), "HEADER" | "AUTHORIZER") {
        return Err(AwsError::bad_request(format!(
            "Invalid API Key source specified: {api_key_source}"
        )));
    }
    let root_id = ids::api_id();
    let api = RestApi {
        id: Some(ids::api_id()),
        name: Some(name),
        description: req.description,
        created_date: Some(now_epoch_seconds()),
        version: req.version,
        binary_media_types: req.binary_media_types,
        minimum_compression_size: req.minimum_compression_size,
        api_key_source: Some(api_key_source),
        endpoint_configuration: Some(endpoint_configuration(req.endpoint_configuration)?),
        policy: req.policy,
        tags: req.tags,
        disable_execute_api_endpoint: Some(req.disable_execute_api_endpoint.unwrap_or(false)),
        root_resource_id: Some(root_id.clone()),
        ..Default::default()
    };
    let doc = ApiDoc {
        api,
        resources: vec![Resource {
            id: Some(root_id),
            path: Some("/".to_owned()),
            ..Default::default()
        }],
        models: crate::model::default_models(),
        ..Default::default()
    };
    let _guard = call.service.writes.lock().await;
    call.save_api(&doc, None).await?;
    OperationOutput::json(op, &doc.api)
}

pub(crate) async fn get(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetRestApiRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "getRestApiInput", "restApiId")?;
    let (doc, _) = call.load_api(&api_id).await?;
    OperationOutput::json(op, &doc.api)
}

pub(crate) async fn list(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetRestApisRequest = decode(input)?;
    let apis: Vec<RestApi> = call.list_apis().await?.into_iter().map(|d| d.api).collect();
    let (items, position) = paginate(
        apis,
        |a| a.id.as_deref(),
        req.position.as_deref(),
        req.limit,
    )?;
    OperationOutput::json(
        op,
        &RestApis {
            items: Some(items),
            position,
        },
    )
}

pub(crate) async fn delete(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteRestApiRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "deleteRestApiInput", "restApiId")?;
    let _guard = call.service.writes.lock().await;
    call.load_api(&api_id).await?;
    call.delete_api_tree(&api_id).await?;
    call.sink()
        .remove_api(&call.scope.account_id, &call.scope.region, &api_id);
    Ok(OperationOutput::empty(op))
}

pub(crate) async fn update(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UpdateRestApiRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "updateRestApiInput", "restApiId")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    for patch in req.patch_operations.unwrap_or_default() {
        let op_name = patch.op.as_deref().unwrap_or("");
        let path = patch.path.as_deref().unwrap_or("");
        let value = patch.value.clone();
        let api = &mut doc.api;
        match (op_name, path) {
            ("replace", "/name") => {
                api.name = Some(
                    value
                        .filter(|v| !v.is_empty())
                        .ok_or_else(|| AwsError::bad_request("Invalid API name specified"))?,
                )
            }
            ("replace", "/description") => api.description = value,
            ("replace", "/version") => api.version = value,
            ("replace", "/policy") => api.policy = value,
            ("replace", "/apiKeySource") => api.api_key_source = value,
            ("replace", "/disableExecuteApiEndpoint") => {
                api.disable_execute_api_endpoint = Some(value.as_deref() == Some("true"))
            }
            ("replace", "/minimumCompressionSize") => api.minimum_compression_size = match value
                .as_deref()
            {
                None | Some("") => None,
                Some(v) => Some(
                    v.parse()
                        .ok()
                        .filter(|n| (0..=10_485_760).contains(n))
                        .ok_or_else(|| {
                            AwsError::bad_request(
                                "Invalid minimum compression size, must be between 0 and 10485760",
                            )
                        })?,
                ),
            },
            ("add", p) if p.starts_with("/binaryMediaTypes/") => {
                let media = unescape_pointer(&p["/binaryMediaTypes/".len()..]);
                let list = api.binary_media_types.get_or_insert_with(Vec::new);
                if !list.contains(&media) {
                    list.push(media);
                }
            }
            ("remove", p) if p.starts_with("/binaryMediaTypes/") => {
                let media = unescape_pointer(&p["/binaryMediaTypes/".len()..]);
                if let Some(list) = api.binary_media_types.as_mut() {
                    list.retain(|m| *m != media);
                }
            }
            ("add" | "remove" | "replace" | "move" | "copy" | "test", _) => {
                return Err(AwsError::bad_request(format!("Invalid patch path {path}")));
            }
            _ => {
                return Err(AwsError::bad_request(
                    "Invalid patch operation specified. Must be 'add'|'remove'|'replace'",
                ));
            }
        }
    }
    call.save_api(&doc, Some(version)).await?;
    OperationOutput::json(op, &doc.api)
}

/// JSON Pointer unescaping (`~1` is `/`, `~0` is `~`).
pub(crate) fn unescape_pointer(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}
