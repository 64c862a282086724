//! Customised gateway responses (`PutGatewayResponse`): compiled at deployment, applied to
//! every error the pipeline raises on a stage. A type's own customisation wins, then
//! `DEFAULT_4XX`/`DEFAULT_5XX` by the error's status; without either the built-in answer of
//! [`GatewayResponse`] is sent unchanged.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use portico_core::StageKey;
use portico_model::apigateway::GatewayResponse as GatewayResponseModel;
use portico_vtl::{Params, RenderInput, Template};
use serde_json::{Value, json};

use crate::gateway::GatewayResponse;
use crate::mapping::{Inputs, Source, evaluate};
use crate::params::RequestParts;

/// One customised gateway response.
pub struct CompiledGatewayResponse {
    pub status: Option<u16>,
    /// `gatewayresponse.header.{name}` and where its value comes from.
    pub headers: Vec<(String, Source)>,
    /// Body templates by content type; one that does not parse is dropped at deployment.
    pub templates: Vec<(String, Template)>,
}

/// Compiles an API's customised gateway responses.
pub fn compile(
    responses: &BTreeMap<String, GatewayResponseModel>,
    key: &StageKey,
    variables: &BTreeMap<String, String>,
) -> HashMap<String, CompiledGatewayResponse> {
    let mut out = HashMap::new();
    for (response_type, response) in responses {
        let headers = response
            .response_parameters
            .iter()
            .flatten()
            .filter_map(|(dest, source)| {
                let name = dest.strip_prefix("gatewayresponse.header.")?;
                match Source::parse(source, variables) {
                    Some(parsed) => Some((name.to_owned(), parsed)),
                    None => {
                        tracing::warn!(api = %key.api_id, %response_type, %dest, %source, "gateway response parameter ignored: invalid source");
                        None
                    }
                }
            })
            .collect();
        let templates = response
            .response_templates
            .iter()
            .flatten()
            .filter_map(|(content_type, source)| match Template::parse(source) {
                Ok(t) => Some((content_type.clone(), t)),
                Err(e) => {
                    tracing::warn!(api = %key.api_id, %response_type, error = %e, "gateway response template does not parse");
                    None
                }
            })
            .collect();
        out.insert(
            response_type.clone(),
            CompiledGatewayResponse {
                status: response.status_code.as_deref().and_then(|s| s.parse().ok()),
                headers,
                templates,
            },
        );
    }
    out
}

/// What a customised response may read about the request.
pub(crate) struct ErrorRequest<'a> {
    pub parts: &'a RequestParts,
    pub path_parameters: &'a [(&'a str, &'a str)],
    /// `$context` without `error`.
    pub context: Value,
    pub stage_variables: &'a BTreeMap<String, String>,
}

fn pick<'a>(
    responses: &'a HashMap<String, CompiledGatewayResponse>,
    error: &GatewayResponse,
) -> Option<&'a CompiledGatewayResponse> {
    responses.get(error.response_type).or_else(|| {
        let fallback = match error.status {
            400..=499 => "DEFAULT_4XX",
            500..=599 => "DEFAULT_5XX",
            _ => return None,
        };
        responses.get(fallback)
    })
}

/// The client's answer for a pipeline error on a stage with these customisations.
pub(crate) fn respond(
    responses: &HashMap<String, CompiledGatewayResponse>,
    error: GatewayResponse,
    request_id: &str,
    request: &ErrorRequest<'_>,
) -> Response<Bytes> {
    let Some(custom) = pick(responses, &error) else {
        return error.into_response(request_id);
    };
    let mut context = request.context.clone();
    if let Value::Object(map) = &mut context {
        map.insert(
            "error".into(),
            json!({
                "message": error.message,
                "messageString": Value::String(error.message.clone()).to_string(),
                "responseType": error.response_type,
                "validationErrorString": error.validation_error,
            }),
        );
    }
    let status = custom.status.unwrap_or(error.status);
    let template = custom
        .templates
        .iter()
        .find(|(ct, _)| ct == "application/json")
        .or_else(|| custom.templates.first());
    let params = Params {
        path: request
            .path_parameters
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        querystring: request.parts.single_query(),
        header: request.parts.single_headers(),
    };
    let (content_type, body) = match template {
        Some((content_type, template)) => {
            let input = RenderInput {
                body: "",
                params: &params,
                context: &context,
                stage_variables: request.stage_variables,
            };
            match template.render(&input) {
                Ok(out) => (content_type.as_str(), Bytes::from(out.body)),
                Err(e) => {
                    tracing::warn!(response_type = error.response_type, error = %e, "gateway response template could not be rendered");
                    ("application/json", Bytes::from(error.body.clone()))
                }
            }
        }
        None => ("application/json", Bytes::from(error.body.clone())),
    };
    let mut response = error.clone().into_response(request_id);
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    *response.body_mut() = body;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    let context_fn = || context.clone();
    let inputs = Inputs {
        parts: request.parts,
        path_parameters: request.path_parameters,
        body: b"",
        response_headers: &[],
        context: &context_fn,
    };
    for (name, source) in &custom.headers {
        let values = evaluate(source, &inputs);
        if values.is_empty() {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&values.join(",")),
        ) {
            response.headers_mut().insert(n, v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> StageKey {
        StageKey {
            account_id: "1".into(),
            region: "r".into(),
            api_id: "a".into(),
            stage_name: "s".into(),
        }
    }

    #[test]
    fn type_then_default_then_builtin() {
        let models: BTreeMap<String, GatewayResponseModel> = serde_json::from_value(json!({
            "MISSING_AUTHENTICATION_TOKEN": {
                "statusCode": "404",
                "responseParameters": {
                    "gatewayresponse.header.X-Where": "'custom'",
                    "gatewayresponse.header.X-Stage": "context.stage",
                    "gatewayresponse.header.X-Q": "method.request.querystring.q"
                },
                "responseTemplates": {"application/json": "{\"m\":$context.error.messageString,\"t\":\"$context.error.responseType\",\"v\":\"$stageVariables.v\"}"}
            },
            "DEFAULT_5XX": {
                "responseParameters": {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
                "responseTemplates": {"application/json": "{\"message\":$context.error.messageString}"}
            }
        }))
        .unwrap();
        let variables = BTreeMap::from([("v".to_owned(), "1".to_owned())]);
        let compiled = compile(&models, &key(), &variables);
        let parts = RequestParts {
            query: vec![("q".into(), "x".into())],
            headers: vec![],
        };
        let request = ErrorRequest {
            parts: &parts,
            path_parameters: &[],
            context: json!({"stage": "s"}),
            stage_variables: &variables,
        };
        let r = respond(
            &compiled,
            GatewayResponse::missing_authentication_token(),
            "id",
            &request,
        );
        assert_eq!(r.status(), 404);
        assert_eq!(
            r.body(),
            &Bytes::from(
                r#"{"m":"Missing Authentication Token","t":"MISSING_AUTHENTICATION_TOKEN","v":"1"}"#
            )
        );
        assert_eq!(r.headers()["x-where"], "custom");
        assert_eq!(r.headers()["x-stage"], "s");
        assert_eq!(r.headers()["x-q"], "x");
        assert_eq!(
            r.headers()["x-amzn-errortype"],
            "MissingAuthenticationTokenException"
        );

        let r = respond(
            &compiled,
            GatewayResponse::integration_timeout(),
            "id",
            &request,
        );
        assert_eq!(r.status(), 504);
        assert_eq!(
            r.body(),
            &Bytes::from(r#"{"message":"Endpoint request timed out"}"#)
        );
        assert_eq!(r.headers()["access-control-allow-origin"], "*");

        // No DEFAULT_4XX: the built-in answer.
        let r = respond(
            &compiled,
            GatewayResponse::unsupported_media_type(),
            "id",
            &request,
        );
        assert_eq!(r.status(), 415);
        assert!(!r.headers().contains_key("access-control-allow-origin"));
    }
}
