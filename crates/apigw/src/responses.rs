//! Gateway responses (Put/Get/GetAll/Update/Delete) and request validators
//! (Create/Get/GetAll/Update/Delete). Both live in the API document and are frozen with it at
//! deployment, so the data plane serves what was deployed.

use std::collections::BTreeMap;

use portico_core::{AwsError, ids};
use portico_model::apigateway::{
    CreateRequestValidatorRequest, DeleteGatewayResponseRequest, DeleteRequestValidatorRequest,
    GatewayResponse, GatewayResponses, GetGatewayResponseRequest, GetGatewayResponsesRequest,
    GetRequestValidatorRequest, GetRequestValidatorsRequest, PutGatewayResponseRequest,
    RequestValidator, RequestValidators, UpdateGatewayResponseRequest,
    UpdateRequestValidatorRequest,
};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::Call;
use crate::doc::required;
use crate::restapi::unescape_pointer;

/// Every gateway response type with the status `GetGatewayResponse` reports for it.
pub(crate) const TYPES: &[(&str, Option<&str>)] = &[
    ("ACCESS_DENIED", Some("403")),
    ("API_CONFIGURATION_ERROR", Some("500")),
    ("AUTHORIZER_CONFIGURATION_ERROR", Some("500")),
    ("AUTHORIZER_FAILURE", Some("500")),
    ("BAD_REQUEST_BODY", Some("400")),
    ("BAD_REQUEST_PARAMETERS", Some("400")),
    ("DEFAULT_4XX", None),
    ("DEFAULT_5XX", None),
    ("EXPIRED_TOKEN", Some("403")),
    ("INTEGRATION_FAILURE", Some("504")),
    ("INTEGRATION_TIMEOUT", Some("504")),
    ("INVALID_API_KEY", Some("403")),
    ("INVALID_SIGNATURE", Some("403")),
    ("MISSING_AUTHENTICATION_TOKEN", Some("403")),
    ("QUOTA_EXCEEDED", Some("429")),
    ("REQUEST_TOO_LARGE", Some("413")),
    ("RESOURCE_NOT_FOUND", Some("404")),
    ("THROTTLED", Some("429")),
    ("UNAUTHORIZED", Some("401")),
    ("UNSUPPORTED_MEDIA_TYPE", Some("415")),
    ("WAF_FILTERED", Some("403")),
];

/// The template every gateway response has by default.
pub(crate) const DEFAULT_TEMPLATE: &str = "{\"message\":$context.error.messageString}";

fn default_templates() -> BTreeMap<String, String> {
    BTreeMap::from([("application/json".to_owned(), DEFAULT_TEMPLATE.to_owned())])
}

fn check_type(response_type: &str, input: &str) -> Result<(), AwsError> {
    if TYPES.iter().any(|(t, _)| *t == response_type) {
        return Ok(());
    }
    let all: Vec<&str> = TYPES.iter().map(|(t, _)| *t).collect();
    Err(AwsError::validation(format!(
        "1 validation error detected: Value '{response_type}' at '{input}.responseType' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
        all.join(", ")
    )))
}

/// The response AWS reports for a type nobody customised.
fn default_response(response_type: &str) -> GatewayResponse {
    GatewayResponse {
        response_type: Some(response_type.to_owned()),
        status_code: TYPES
            .iter()
            .find(|(t, _)| *t == response_type)
            .and_then(|(_, s)| s.map(str::to_owned)),
        response_parameters: Some(BTreeMap::new()),
        response_templates: Some(default_templates()),
        default_response: Some(true),
    }
}

fn check_status(status: Option<&str>) -> Result<(), AwsError> {
    match status {
        None => Ok(()),
        Some(s) if s.len() == 3 && s.parse::<u16>().is_ok_and(|n| (100..=599).contains(&n)) => {
            Ok(())
        }
        Some(_) => Err(AwsError::bad_request("Invalid status code specified")),
    }
}

pub(crate) async fn put_gateway_response(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: PutGatewayResponseRequest = decode(input)?;
    let input_name = "putGatewayResponseInput";
    let api_id = required(req.rest_api_id, input_name, "restApiId")?;
    let response_type = required(req.response_type, input_name, "responseType")?;
    check_type(&response_type, input_name)?;
    check_status(req.status_code.as_deref())?;
    let response = GatewayResponse {
        response_type: Some(response_type.clone()),
        status_code: req.status_code,
        response_parameters: Some(req.response_parameters.unwrap_or_default()),
        response_templates: Some(req.response_templates.unwrap_or_else(default_templates)),
        default_response: Some(false),
    };
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    doc.gateway_responses
        .insert(response_type, response.clone());
    call.save_api(&doc, Some(version)).await?;
    OperationOutput::json(op, &response)
}

pub(crate) async fn get_gateway_response(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetGatewayResponseRequest = decode(input)?;
    let input_name = "getGatewayResponseInput";
    let api_id = required(req.rest_api_id, input_name, "restApiId")?;
    let response_type = required(req.response_type, input_name, "responseType")?;
    check_type(&response_type, input_name)?;
    let (doc, _) = call.load_api(&api_id).await?;
    let response = doc
        .gateway_responses
        .get(&response_type)
        .cloned()
        .unwrap_or_else(|| default_response(&response_type));
    OperationOutput::json(op, &response)
}

pub(crate) async fn get_gateway_responses(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetGatewayResponsesRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "getGatewayResponsesInput", "restApiId")?;
    let (doc, _) = call.load_api(&api_id).await?;
    let items = TYPES
        .iter()
        .map(|(t, _)| {
            doc.gateway_responses
                .get(*t)
                .cloned()
                .unwrap_or_else(|| default_response(t))
        })
        .collect();
    OperationOutput::json(
        op,
        &GatewayResponses {
            position: None,
            items: Some(items),
        },
    )
}

pub(crate) async fn update_gateway_response(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UpdateGatewayResponseRequest = decode(input)?;
    let input_name = "updateGatewayResponseInput";
    let api_id = required(req.rest_api_id, input_name, "restApiId")?;
    let response_type = required(req.response_type, input_name, "responseType")?;
    check_type(&response_type, input_name)?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    let mut response = doc
        .gateway_responses
        .get(&response_type)
        .cloned()
        .unwrap_or_else(|| default_response(&response_type));
    for patch in req.patch_operations.unwrap_or_default() {
        let op_name = patch.op.as_deref().unwrap_or("");
        let path = patch.path.as_deref().unwrap_or("");
        let value = patch.value.clone();
        let (map, key) = if let Some(k) = path.strip_prefix("/responseParameters/") {
            (&mut response.response_parameters, k)
        } else if let Some(k) = path.strip_prefix("/responseTemplates/") {
            (&mut response.response_templates, k)
        } else {
            match (op_name, path) {
                ("replace", "/statusCode") => {
                    check_status(value.as_deref())?;
                    response.status_code = value;
                    continue;
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
        };
        let key = unescape_pointer(key);
        let map = map.get_or_insert_with(BTreeMap::new);
        match op_name {
            "add" | "replace" => {
                map.insert(key, value.unwrap_or_default());
            }
            "remove" => {
                map.remove(&key);
            }
            _ => {
                return Err(AwsError::bad_request(
                    "Invalid patch operation specified. Must be 'add'|'remove'|'replace'",
                ));
            }
        }
    }
    response.default_response = Some(false);
    doc.gateway_responses
        .insert(response_type, response.clone());
    call.save_api(&doc, Some(version)).await?;
    OperationOutput::json(op, &response)
}

pub(crate) async fn delete_gateway_response(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteGatewayResponseRequest = decode(input)?;
    let input_name = "deleteGatewayResponseInput";
    let api_id = required(req.rest_api_id, input_name, "restApiId")?;
    let response_type = required(req.response_type, input_name, "responseType")?;
    check_type(&response_type, input_name)?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    if doc.gateway_responses.remove(&response_type).is_none() {
        return Err(AwsError::not_found(
            "Gateway response type not defined on api",
        ));
    }
    call.save_api(&doc, Some(version)).await?;
    Ok(OperationOutput::empty(op))
}

fn validator_not_found() -> AwsError {
    AwsError::not_found("Invalid Request Validator identifier specified")
}

pub(crate) async fn create_request_validator(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: CreateRequestValidatorRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "createRequestValidatorInput", "restApiId")?;
    let validator = RequestValidator {
        id: Some(ids::short_id()),
        name: req.name,
        validate_request_body: Some(req.validate_request_body.unwrap_or(false)),
        validate_request_parameters: Some(req.validate_request_parameters.unwrap_or(false)),
    };
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    doc.request_validators.push(validator.clone());
    call.save_api(&doc, Some(version)).await?;
    OperationOutput::json(op, &validator)
}

pub(crate) async fn get_request_validator(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetRequestValidatorRequest = decode(input)?;
    let input_name = "getRequestValidatorInput";
    let api_id = required(req.rest_api_id, input_name, "restApiId")?;
    let id = required(req.request_validator_id, input_name, "requestValidatorId")?;
    let (doc, _) = call.load_api(&api_id).await?;
    let validator = doc
        .request_validators
        .iter()
        .find(|v| v.id.as_deref() == Some(id.as_str()))
        .ok_or_else(validator_not_found)?;
    OperationOutput::json(op, validator)
}

pub(crate) async fn get_request_validators(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetRequestValidatorsRequest = decode(input)?;
    let api_id = required(req.rest_api_id, "getRequestValidatorsInput", "restApiId")?;
    let (doc, _) = call.load_api(&api_id).await?;
    OperationOutput::json(
        op,
        &RequestValidators {
            position: None,
            items: Some(doc.request_validators),
        },
    )
}

pub(crate) async fn update_request_validator(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: UpdateRequestValidatorRequest = decode(input)?;
    let input_name = "updateRequestValidatorInput";
    let api_id = required(req.rest_api_id, input_name, "restApiId")?;
    let id = required(req.request_validator_id, input_name, "requestValidatorId")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    let validator = doc
        .request_validators
        .iter_mut()
        .find(|v| v.id.as_deref() == Some(id.as_str()))
        .ok_or_else(validator_not_found)?;
    for patch in req.patch_operations.unwrap_or_default() {
        let value = patch.value.unwrap_or_default();
        match (
            patch.op.as_deref().unwrap_or(""),
            patch.path.as_deref().unwrap_or(""),
        ) {
            ("replace", "/name") => validator.name = Some(value),
            ("replace", "/validateRequestBody") => {
                validator.validate_request_body = Some(value == "true")
            }
            ("replace", "/validateRequestParameters") => {
                validator.validate_request_parameters = Some(value == "true")
            }
            (op_name, path) => {
                return Err(AwsError::bad_request(format!(
                    "Invalid patch path  '{path}' specified for op '{op_name}'. Must be one of: [/name, /validateRequestParameters, /validateRequestBody]"
                )));
            }
        }
    }
    let out = validator.clone();
    call.save_api(&doc, Some(version)).await?;
    OperationOutput::json(op, &out)
}

pub(crate) async fn delete_request_validator(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: DeleteRequestValidatorRequest = decode(input)?;
    let input_name = "deleteRequestValidatorInput";
    let api_id = required(req.rest_api_id, input_name, "restApiId")?;
    let id = required(req.request_validator_id, input_name, "requestValidatorId")?;
    let _guard = call.service.writes.lock().await;
    let (mut doc, version) = call.load_api(&api_id).await?;
    let before = doc.request_validators.len();
    doc.request_validators
        .retain(|v| v.id.as_deref() != Some(id.as_str()));
    if doc.request_validators.len() == before {
        return Err(validator_not_found());
    }
    call.save_api(&doc, Some(version)).await?;
    Ok(OperationOutput::empty(op))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_type_checks() {
        let r = default_response("MISSING_AUTHENTICATION_TOKEN");
        assert_eq!(r.status_code.as_deref(), Some("403"));
        assert_eq!(r.default_response, Some(true));
        assert_eq!(
            r.response_templates.unwrap()["application/json"],
            DEFAULT_TEMPLATE
        );
        assert_eq!(default_response("DEFAULT_4XX").status_code, None);
        assert_eq!(TYPES.len(), 21);
        let e = check_type("NOPE", "putGatewayResponseInput").unwrap_err();
        assert!(e.message.starts_with("1 validation error detected: Value 'NOPE' at 'putGatewayResponseInput.responseType' failed to satisfy constraint: Member must satisfy enum value set: [ACCESS_DENIED, API_CONFIGURATION_ERROR,"));
        assert!(check_status(Some("4xx")).is_err());
        assert!(check_status(Some("418")).is_ok());
    }
}
