//! The naming, typing and binding conventions other crates code against, proved on real shapes.

use portico_model::{Binding, Location, Payload, ValueKind, apigateway, apigatewayv2, lambda};
use serde_json::json;

#[test]
fn body_members_use_the_wire_name_and_skip_absent_fields() {
    let api = apigateway::RestApi {
        id: Some("te6si5ach7".into()),
        created_date: Some(1508461860),
        ..Default::default()
    };
    let v = serde_json::to_value(&api).expect("RestApi serializes");
    assert_eq!(v, json!({"id": "te6si5ach7", "createdDate": 1508461860}));
    let back: apigateway::RestApi = serde_json::from_value(v).expect("RestApi deserializes");
    assert_eq!(back, api);
}

#[test]
fn v1_collections_serialize_items_under_item() {
    let apis = apigateway::RestApis {
        position: Some("next".into()),
        items: Some(vec![apigateway::RestApi {
            name: Some("pets".into()),
            ..Default::default()
        }]),
    };
    assert_eq!(
        serde_json::to_value(&apis).expect("RestApis serializes"),
        json!({"position": "next", "item": [{"name": "pets"}]})
    );
}

#[test]
fn lambda_members_keep_pascal_case_on_the_wire() {
    let req: lambda::CreateFunctionRequest =
        serde_json::from_value(json!({"FunctionName": "f", "Code": {"ZipFile": "UEsD"}}))
            .expect("CreateFunctionRequest deserializes");
    assert_eq!(req.function_name.as_deref(), Some("f"));
    let code = req.code.expect("Code present");
    assert_eq!(code.zip_file.as_deref(), Some("UEsD"));
    assert_eq!(code.s3_bucket, None);
    assert_eq!(req.runtime, None);
}

#[test]
fn unknown_members_are_ignored_and_missing_ones_are_none() {
    let f: lambda::FunctionConfiguration =
        serde_json::from_value(json!({"FunctionName": "f", "Surprise": 1, "Timeout": 3}))
            .expect("FunctionConfiguration deserializes");
    assert_eq!(f.function_name.as_deref(), Some("f"));
    assert_eq!(f.timeout, Some(3));
    assert_eq!(f.memory_size, None);
}

#[test]
fn v2_members_are_camel_case_on_the_wire_via_location_name() {
    let api = apigatewayv2::Api {
        api_id: Some("a1b2c3".into()),
        name: Some("http".into()),
        protocol_type: Some("HTTP".into()),
        created_date: Some("2024-01-02T03:04:05Z".into()),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&api).expect("Api serializes"),
        json!({
            "apiId": "a1b2c3",
            "name": "http",
            "protocolType": "HTTP",
            "createdDate": "2024-01-02T03:04:05Z"
        })
    );
}

#[test]
fn keyword_members_are_raw_identifiers() {
    let integration = apigateway::Integration {
        r#type: Some("AWS_PROXY".into()),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&integration).expect("Integration serializes"),
        json!({"type": "AWS_PROXY"})
    );
}

#[test]
fn maps_are_ordered_maps_of_the_value_type() {
    let method: apigateway::Method = serde_json::from_value(json!({
        "httpMethod": "GET",
        "requestParameters": {"method.request.path.id": true},
        "methodResponses": {"200": {"statusCode": "200"}}
    }))
    .expect("Method deserializes");
    let params = method
        .request_parameters
        .expect("requestParameters present");
    assert_eq!(params.get("method.request.path.id"), Some(&true));
    let responses = method.method_responses.expect("methodResponses present");
    assert_eq!(responses["200"].status_code.as_deref(), Some("200"));
}

#[test]
fn bound_members_are_fields_named_after_the_member() {
    // `restApiId` travels in the path as `{restapi_id}`; in the struct it is the member name.
    let req: apigateway::CreateResourceRequest = serde_json::from_value(json!({
        "restApiId": "abc", "parentId": "root", "pathPart": "pets"
    }))
    .expect("CreateResourceRequest deserializes");
    assert_eq!(req.rest_api_id.as_deref(), Some("abc"));
    assert_eq!(req.parent_id.as_deref(), Some("root"));
    assert_eq!(req.path_part.as_deref(), Some("pets"));
}

#[test]
fn create_resource_is_bound_to_its_path_labels() {
    let op = apigateway::operation("CreateResource").expect("CreateResource exists");
    assert_eq!(op.method, "POST");
    assert_eq!(op.uri, "/restapis/{restapi_id}/resources/{parent_id}");
    assert_eq!(op.success_code, 201);
    assert_eq!(op.input, Some("CreateResourceRequest"));
    assert_eq!(op.output, Some("Resource"));
    assert_eq!(
        op.bindings,
        &[
            Binding {
                member: "restApiId",
                location: Location::Uri,
                location_name: "restapi_id",
                kind: ValueKind::String,
            },
            Binding {
                member: "parentId",
                location: Location::Uri,
                location_name: "parent_id",
                kind: ValueKind::String,
            },
        ]
    );
    assert_eq!(op.payload, None);
    assert!(op.query_literals.is_empty());
}

#[test]
fn import_operations_carry_their_query_literal_and_raw_body() {
    let op = apigateway::operation("ImportRestApi").expect("ImportRestApi exists");
    assert_eq!((op.method, op.uri), ("POST", "/restapis"));
    assert_eq!(op.query_literals, &[("mode", "import")]);
    assert_eq!(
        op.payload,
        Some(Payload {
            member: "body",
            kind: ValueKind::Blob,
            shape: "Blob"
        })
    );
    let by_arn = lambda::operation("GetLayerVersionByArn").expect("GetLayerVersionByArn exists");
    assert_eq!(by_arn.uri, "/2018-10-31/layers");
    assert_eq!(by_arn.query_literals, &[("find", "LayerVersion")]);
}

#[test]
fn invoke_binds_its_payload_headers_and_status_code() {
    let op = lambda::operation("Invoke").expect("Invoke exists");
    assert_eq!(op.uri, "/2015-03-31/functions/{FunctionName}/invocations");
    assert_eq!(op.success_code, 200);
    assert_eq!(
        op.payload.map(|p| (p.member, p.kind)),
        Some(("Payload", ValueKind::Blob))
    );
    assert_eq!(
        op.output_payload.map(|p| (p.member, p.kind)),
        Some(("Payload", ValueKind::Blob))
    );
    let out: Vec<(&str, Location, &str)> = op
        .output_bindings
        .iter()
        .map(|b| (b.member, b.location, b.location_name))
        .collect();
    assert_eq!(
        out,
        vec![
            ("StatusCode", Location::StatusCode, ""),
            ("FunctionError", Location::Header, "X-Amz-Function-Error"),
            ("LogResult", Location::Header, "X-Amz-Log-Result"),
            (
                "ExecutedVersion",
                Location::Header,
                "X-Amz-Executed-Version"
            ),
            (
                "DurableExecutionArn",
                Location::Header,
                "X-Amz-Durable-Execution-Arn"
            ),
        ]
    );
    let input: Vec<(&str, Location)> = op.bindings.iter().map(|b| (b.member, b.location)).collect();
    assert!(input.contains(&("FunctionName", Location::Uri)));
    assert!(input.contains(&("InvocationType", Location::Header)));
    assert!(input.contains(&("Qualifier", Location::Query)));
}

#[test]
fn query_bindings_carry_their_value_kind() {
    let op = apigateway::operation("GetRestApis").expect("GetRestApis exists");
    let kinds: Vec<(&str, Location, &str, ValueKind)> = op
        .bindings
        .iter()
        .map(|b| (b.member, b.location, b.location_name, b.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("position", Location::Query, "position", ValueKind::String),
            ("limit", Location::Query, "limit", ValueKind::Integer),
        ]
    );
}

#[test]
fn operation_tables_are_sorted_and_complete() {
    for (ops, count) in [
        (apigateway::OPERATIONS, 124),
        (apigatewayv2::OPERATIONS, 103),
        (lambda::OPERATIONS, 85),
    ] {
        assert_eq!(ops.len(), count);
        assert!(ops.windows(2).all(|w| w[0].name < w[1].name));
    }
    assert!(apigateway::operation("NoSuchOperation").is_none());
}

#[test]
fn errors_carry_their_status() {
    assert_eq!(
        apigateway::error("NotFoundException").map(|e| e.status),
        Some(404)
    );
    assert_eq!(
        apigateway::error("ConflictException").map(|e| e.status),
        Some(409)
    );
    assert_eq!(
        apigatewayv2::error("BadRequestException").map(|e| e.status),
        Some(400)
    );
    assert_eq!(
        lambda::error("ResourceNotFoundException").map(|e| e.status),
        Some(404)
    );
    assert_eq!(
        lambda::error("ServiceException").map(|e| e.status),
        Some(500)
    );
    assert_eq!(apigateway::ERRORS.len(), 7);
    assert!(lambda::error("NotAnError").is_none());
    let e = apigateway::NotFoundException {
        message: Some("Invalid API identifier specified".into()),
    };
    assert_eq!(
        serde_json::to_value(&e).expect("error serializes"),
        json!({"message": "Invalid API identifier specified"})
    );
    let l: lambda::ResourceNotFoundException =
        serde_json::from_value(json!({"Type": "User", "Message": "Function not found"}))
            .expect("lambda error deserializes");
    assert_eq!(l.r#type.as_deref(), Some("User"));
    assert_eq!(l.message.as_deref(), Some("Function not found"));
}

#[test]
fn prelude_clashing_shape_names_get_an_underscore() {
    let none = apigatewayv2::None_ {};
    assert_eq!(
        serde_json::to_value(&none).expect("None_ serializes"),
        json!({})
    );
}

#[test]
fn a_bound_member_whose_name_a_body_member_uses_is_keyed_by_location() {
    // PutIntegration: the path label is member `httpMethod`, and the body's
    // `integrationHttpMethod` travels as `httpMethod`.
    let op = apigateway::operation("PutIntegration").expect("PutIntegration exists");
    let http_method = op
        .bindings
        .iter()
        .find(|b| b.location_name == "http_method")
        .expect("http_method label bound");
    assert_eq!(http_method.member, "uri:httpMethod");
    let req: apigateway::PutIntegrationRequest = serde_json::from_value(json!({
        "uri:httpMethod": "GET", "httpMethod": "POST", "type": "AWS_PROXY"
    }))
    .expect("PutIntegrationRequest deserializes");
    assert_eq!(req.http_method.as_deref(), Some("GET"));
    assert_eq!(req.integration_http_method.as_deref(), Some("POST"));
}

#[test]
fn output_payloads_and_header_bindings() {
    let op = apigateway::operation("GetExport").expect("GetExport exists");
    assert_eq!(op.output, Some("ExportResponse"));
    assert_eq!(
        op.output_payload,
        Some(Payload {
            member: "body",
            kind: ValueKind::Blob,
            shape: "Blob"
        })
    );
    let headers: Vec<(&str, &str)> = op
        .output_bindings
        .iter()
        .map(|b| (b.member, b.location_name))
        .collect();
    assert_eq!(
        headers,
        vec![
            ("contentType", "Content-Type"),
            ("contentDisposition", "Content-Disposition")
        ]
    );
    let accepts = op
        .bindings
        .iter()
        .find(|b| b.member == "accepts")
        .expect("accepts bound");
    assert_eq!(
        (accepts.location, accepts.location_name),
        (Location::Header, "Accept")
    );
    let params = op
        .bindings
        .iter()
        .find(|b| b.member == "parameters")
        .expect("parameters bound");
    assert_eq!(params.kind, ValueKind::StringMap);
}

#[test]
fn lambda_timestamps_and_numbers_follow_the_type_mapping() {
    let cfg = lambda::FunctionConfiguration {
        last_modified: Some("2024-01-02T03:04:05.000+0000".into()),
        memory_size: Some(128),
        code_size: Some(262_144_i64),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&cfg).expect("FunctionConfiguration serializes"),
        json!({
            "CodeSize": 262144,
            "MemorySize": 128,
            "LastModified": "2024-01-02T03:04:05.000+0000"
        })
    );
}

#[test]
fn v2_requests_mix_bound_member_names_and_camel_case_body_names() {
    let op = apigatewayv2::operation("CreateRoute").expect("CreateRoute exists");
    assert_eq!(
        (op.method, op.uri, op.success_code),
        ("POST", "/v2/apis/{apiId}/routes", 201)
    );
    assert_eq!(
        op.bindings,
        &[Binding {
            member: "ApiId",
            location: Location::Uri,
            location_name: "apiId",
            kind: ValueKind::String,
        }]
    );
    let req: apigatewayv2::CreateRouteRequest = serde_json::from_value(json!({
        "ApiId": "a1b2c3", "routeKey": "GET /pets", "authorizationType": "NONE"
    }))
    .expect("CreateRouteRequest deserializes");
    assert_eq!(req.api_id.as_deref(), Some("a1b2c3"));
    assert_eq!(req.route_key.as_deref(), Some("GET /pets"));
    assert_eq!(req.authorization_type.as_deref(), Some("NONE"));
}
