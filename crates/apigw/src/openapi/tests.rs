//! The importer, the apply step and the exporter together, on whole documents.

use portico_model::apigateway::{Resource, RestApi};
use serde_json::{Value, json};

use super::apply::{Mode, apply};
use super::document::{Flavor, parse};
use super::export::{Extensions, Source, document};
use super::import::{BasePath, read};
use crate::deployment::FrozenDeployment;
use crate::doc::ApiDoc;

fn empty_api() -> ApiDoc {
    ApiDoc {
        api: RestApi {
            id: Some("api1".into()),
            name: Some("old".into()),
            root_resource_id: Some("root".into()),
            ..Default::default()
        },
        resources: vec![Resource {
            id: Some("root".into()),
            path: Some("/".into()),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn secured() -> Value {
    json!({
        "swagger": "2.0",
        "info": {"title": "Secured", "version": "1"},
        "securityDefinitions": {
            "tok": {"type": "apiKey", "name": "X-Token", "in": "header",
                    "x-amazon-apigateway-authtype": "custom",
                    "x-amazon-apigateway-authorizer": {
                        "type": "token", "authorizerResultTtlInSeconds": 60,
                        "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations"}},
            "pool": {"type": "apiKey", "name": "Authorization", "in": "header",
                     "x-amazon-apigateway-authtype": "cognito_user_pools",
                     "x-amazon-apigateway-authorizer": {
                         "type": "cognito_user_pools",
                         "providerARNs": ["arn:aws:cognito-idp:us-east-1:123456789012:userpool/p"]}},
            "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}
        },
        "paths": {
            "/a": {"get": {"security": [{"tok": []}, {"api_key": []}],
                           "responses": {"200": {"description": "ok"}},
                           "x-amazon-apigateway-integration": {"type": "mock"}}},
            "/b": {"get": {"security": [{"pool": ["read", "write"]}],
                           "x-amazon-apigateway-integration": {"type": "mock"}}}
        }
    })
}

fn import(doc: &Value, mode: BasePath) -> super::import::Imported {
    let (root, flavor) = parse(doc.to_string().as_bytes()).unwrap();
    read(&root, flavor, mode).unwrap()
}

#[test]
fn security_schemes_become_authorizers_and_method_auth() {
    let imported = import(&secured(), BasePath::Ignore);
    let names: Vec<_> = imported
        .authorizers
        .iter()
        .map(|a| a.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["tok", "pool"]);
    let tok = &imported.authorizers[0];
    assert_eq!(tok.r#type.as_deref(), Some("TOKEN"));
    assert_eq!(
        tok.identity_source.as_deref(),
        Some("method.request.header.X-Token")
    );
    assert_eq!(tok.authorizer_result_ttl_in_seconds, Some(60));
    let mut doc = empty_api();
    apply(&mut doc, imported, Mode::Merge).unwrap();
    let a = doc
        .resources
        .iter()
        .find(|r| r.path.as_deref() == Some("/a"))
        .unwrap();
    let get = &a.resource_methods.as_ref().unwrap()["GET"];
    assert_eq!(get.authorization_type.as_deref(), Some("CUSTOM"));
    assert_eq!(get.authorizer_id, doc.authorizers[0].id);
    assert_eq!(get.api_key_required, Some(true));
    let b = doc
        .resources
        .iter()
        .find(|r| r.path.as_deref() == Some("/b"))
        .unwrap();
    let get = &b.resource_methods.as_ref().unwrap()["GET"];
    assert_eq!(
        get.authorization_type.as_deref(),
        Some("COGNITO_USER_POOLS")
    );
    assert_eq!(
        get.authorization_scopes,
        Some(vec!["read".to_owned(), "write".to_owned()])
    );

    // Exported back, the schemes carry the authorizers when asked.
    let frozen: FrozenDeployment = serde_json::from_value(json!({
        "id": "dep1", "createdDate": 1_700_000_000,
        "api": doc.api, "resources": doc.resources, "authorizers": doc.authorizers
    }))
    .unwrap();
    let source = Source {
        frozen: &frozen,
        models: &[],
        stage: "dev",
        region: "us-east-1",
        flavor: Flavor::Swagger2,
        ext: Extensions {
            integrations: false,
            apigateway: false,
            authorizers: true,
        },
    };
    let out = document(&source);
    assert_eq!(out["host"], "api1.execute-api.us-east-1.amazonaws.com");
    assert_eq!(out["basePath"], "/dev");
    assert_eq!(out["info"]["version"], "1");
    assert_eq!(
        out["paths"]["/a"]["get"]["security"],
        json!([{"tok": []}, {"api_key": []}])
    );
    assert_eq!(
        out["securityDefinitions"]["tok"],
        json!({"type": "apiKey", "name": "X-Token", "in": "header",
               "x-amazon-apigateway-authtype": "custom",
               "x-amazon-apigateway-authorizer": {
                   "type": "token",
                   "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations",
                   "authorizerResultTtlInSeconds": 60}})
    );
    assert_eq!(
        out["paths"]["/b"]["get"]["security"],
        json!([{"pool": ["read", "write"]}])
    );
    assert!(
        out["paths"]["/a"]["get"]
            .get("x-amazon-apigateway-integration")
            .is_none()
    );
}

#[test]
fn merge_keeps_and_overwrite_replaces() {
    let mut doc = empty_api();
    apply(&mut doc, import(&secured(), BasePath::Ignore), Mode::Merge).unwrap();
    let other = json!({"openapi": "3.0.1", "info": {"title": "New"},
        "paths": {"/a/c": {"post": {"x-amazon-apigateway-integration": {"type": "mock"}}}}});
    apply(&mut doc, import(&other, BasePath::Ignore), Mode::Merge).unwrap();
    let paths: Vec<_> = doc
        .resources
        .iter()
        .filter_map(|r| r.path.clone())
        .collect();
    assert_eq!(paths, ["/", "/a", "/b", "/a/c"]);
    assert_eq!(doc.api.name.as_deref(), Some("old"));
    assert_eq!(doc.authorizers.len(), 2);
    apply(&mut doc, import(&other, BasePath::Ignore), Mode::Overwrite).unwrap();
    let paths: Vec<_> = doc
        .resources
        .iter()
        .filter_map(|r| r.path.clone())
        .collect();
    assert_eq!(paths, ["/", "/a", "/a/c"]);
    assert_eq!(doc.api.name.as_deref(), Some("New"));
    assert!(doc.authorizers.is_empty());
    assert!(
        doc.resources
            .iter()
            .find(|r| r.path.as_deref() == Some("/a"))
            .unwrap()
            .resource_methods
            .is_none()
    );
}

#[test]
fn errors_are_collected_and_nothing_half_applies() {
    let bad = json!({"openapi": "3.0.1", "info": {"title": "Bad"},
        "components": {"securitySchemes": {"odd": {"type": "apiKey", "name": "A", "in": "header",
            "x-amazon-apigateway-authorizer": {"type": "saml"}}}},
        "x-amazon-apigateway-gateway-responses": {"NOPE": {"statusCode": 400}},
        "paths": {"/x": {"get": {"x-amazon-apigateway-request-validator": "missing",
                                 "x-amazon-apigateway-integration": {"type": "soap"}}}}});
    let (root, flavor) = parse(bad.to_string().as_bytes()).unwrap();
    let err = read(&root, flavor, BasePath::Ignore).unwrap_err();
    assert_eq!(
        err.message,
        "Errors found during import:\n\tInvalid gateway response type specified: NOPE\n\tUnable to create authorizer 'odd': 1 validation error detected: Value 'SAML' at 'createAuthorizerInput.type' failed to satisfy constraint: Member must satisfy enum value set: [TOKEN, REQUEST, COGNITO_USER_POOLS]\n\tUnable to put integration on 'GET' for resource at path '/x': Invalid integration type specified: SOAP\n\tUnable to put method 'GET' on resource at path '/x': Invalid Request Validator identifier specified"
    );
    let greedy = json!({"openapi": "3.0.1", "info": {"title": "Greedy"},
        "paths": {"/{proxy+}/x": {"get": {}}}});
    let mut doc = empty_api();
    let before = doc.clone();
    let err = apply(&mut doc, import(&greedy, BasePath::Ignore), Mode::Merge).unwrap_err();
    assert!(
        err.message.starts_with(
            "Errors found during import:\n\tUnable to create resource at path '/{proxy+}/x': "
        ),
        "{}",
        err.message
    );
    // The caller writes nothing on error; the in-memory copy is simply dropped.
    assert_eq!(before.resources.len(), 1);
}
