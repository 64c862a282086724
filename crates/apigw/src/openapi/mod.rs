//! ImportRestApi, PutRestApi and GetExport: REST APIs to and from OpenAPI 3 / Swagger 2
//! documents with API Gateway's `x-amazon-apigateway-*` extensions.
//!
//! An import reads the whole document first ([`import::read`]), applies it to an API document
//! in memory ([`apply::apply`]) and writes it once, so a failing document changes nothing. An
//! export reads a stage's deployment, the definition as it was frozen, never the draft.

mod apply;
mod document;
mod export;
mod import;
mod integration;
mod jackson;
#[cfg(test)]
mod tests;

use portico_core::{AwsError, ids};
use portico_model::apigateway::{
    EndpointConfiguration, ImportRestApiRequest, PutRestApiRequest, Resource, RestApi,
};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::doc::{ApiDoc, required};
use crate::{Call, now_epoch_seconds};
use apply::Mode;
use document::import_warnings;
use import::{BasePath, Imported};

pub(crate) use export::get_export;

/// The import parameters AWS reads from the query string.
fn base_path_mode(
    parameters: &std::collections::BTreeMap<String, String>,
) -> Result<BasePath, AwsError> {
    match parameters.get("basepath").map(String::as_str) {
        None | Some("ignore") => Ok(BasePath::Ignore),
        Some("prepend") => Ok(BasePath::Prepend),
        Some("split") => Ok(BasePath::Split),
        Some(other) => Err(AwsError::bad_request(format!(
            "Invalid basepath parameter value: {other}. Valid values are: ignore, prepend, split"
        ))),
    }
}

fn read_body(
    body: &[u8],
    parameters: &std::collections::BTreeMap<String, String>,
    fail_on_warnings: bool,
) -> Result<Imported, AwsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(document::invalid_input());
    }
    let (root, flavor) = document::parse(body)?;
    let imported = import::read(&root, flavor, base_path_mode(parameters)?)?;
    if fail_on_warnings && !imported.warnings.is_empty() {
        return Err(import_warnings(&imported.warnings));
    }
    Ok(imported)
}

/// The endpoint type: the `endpointConfigurationTypes` parameter wins over the document's
/// `x-amazon-apigateway-endpoint-configuration`; EDGE when neither says.
fn endpoint_configuration(
    parameter: Option<&String>,
    imported: &Imported,
) -> Result<EndpointConfiguration, AwsError> {
    let kind = parameter
        .cloned()
        .or_else(|| {
            imported
                .endpoint_types
                .as_ref()
                .and_then(|t| t.first().cloned())
        })
        .unwrap_or_else(|| "EDGE".to_owned())
        .to_ascii_uppercase();
    if !matches!(kind.as_str(), "EDGE" | "REGIONAL" | "PRIVATE") {
        return Err(AwsError::bad_request(format!(
            "Invalid endpoint configuration type specified: {kind}. Valid values are: EDGE, REGIONAL, PRIVATE"
        )));
    }
    Ok(EndpointConfiguration {
        ip_address_type: Some(
            if kind == "PRIVATE" {
                "dualstack"
            } else {
                "ipv4"
            }
            .to_owned(),
        ),
        types: Some(vec![kind]),
        vpc_endpoint_ids: imported.vpc_endpoint_ids.clone(),
    })
}

/// The RestApi as ImportRestApi and PutRestApi answer it: with the import's warnings.
fn answer(
    op: &'static Operation,
    api: &RestApi,
    warnings: Vec<String>,
) -> Result<OperationOutput, AwsError> {
    let mut shown = api.clone();
    if !warnings.is_empty() {
        shown.warnings = Some(warnings);
    }
    OperationOutput::json(op, &shown)
}

pub(crate) async fn import_rest_api(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
    body: &[u8],
) -> Result<OperationOutput, AwsError> {
    let req: ImportRestApiRequest = decode(input)?;
    let parameters = req.parameters.unwrap_or_default();
    let imported = read_body(body, &parameters, req.fail_on_warnings.unwrap_or(false))?;
    let name = imported
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| AwsError::bad_request("Invalid API name specified"))?;
    let endpoint = endpoint_configuration(parameters.get("endpointConfigurationTypes"), &imported)?;
    let root_id = ids::api_id();
    let mut doc = ApiDoc {
        api: RestApi {
            id: Some(ids::api_id()),
            name: Some(name),
            created_date: Some(now_epoch_seconds()),
            api_key_source: Some("HEADER".to_owned()),
            endpoint_configuration: Some(endpoint),
            disable_execute_api_endpoint: Some(false),
            root_resource_id: Some(root_id.clone()),
            ..Default::default()
        },
        resources: vec![Resource {
            id: Some(root_id),
            path: Some("/".to_owned()),
            ..Default::default()
        }],
        models: crate::model::default_models(),
        ..Default::default()
    };
    let warnings = imported.warnings.clone();
    // A fresh API: merging adds the document to the defaults every new API has.
    apply::apply(&mut doc, imported, Mode::Merge)?;
    let _guard = call.service.writes.lock().await;
    call.save_api(&doc, None).await?;
    answer(op, &doc.api, warnings)
}

pub(crate) async fn put_rest_api(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
    body: &[u8],
) -> Result<OperationOutput, AwsError> {
    let req: PutRestApiRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "putRestApiInput", "restApiId")?;
    let mode = match req.mode.as_deref() {
        None | Some("merge") => Mode::Merge,
        Some("overwrite") => Mode::Overwrite,
        Some(other) => {
            return Err(AwsError::validation(format!(
                "1 validation error detected: Value '{other}' at 'putRestApiInput.mode' failed to satisfy constraint: Member must satisfy enum value set: [merge, overwrite]"
            )));
        }
    };
    let parameters = req.parameters.unwrap_or_default();
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    let imported = read_body(body, &parameters, req.fail_on_warnings.unwrap_or(false))?;
    let warnings = imported.warnings.clone();
    apply::apply(&mut doc, imported, mode)?;
    call.save_api(&doc, Some(version)).await?;
    answer(op, &doc.api, warnings)
}
