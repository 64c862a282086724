//! Compiling a deployed stage into the snapshot requests read (`snapshot::compile`): the seed
//! API (one Lambda custom integration with its request template), and a 200-resource API
//! with 400 methods of every integration kind, mapping templates, selection patterns and
//! parameter mappings. This is the work done once per deployment, off the request path.

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use portico_core::{DeployedStage, StageKey};
use portico_dataplane::snapshot::compile;
use serde_json::{Value, json};

const LAMBDA_URI: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:HelloWorld/invocations";

fn key() -> StageKey {
    StageKey {
        account_id: "123456789012".into(),
        region: "us-east-1".into(),
        api_id: "abcdef1234".into(),
        stage_name: "prod".into(),
    }
}

fn stage() -> Value {
    json!({"stageName": "prod", "deploymentId": "dep123", "variables": {"fn": "HelloWorld"},
           "methodSettings": {"*/*": {"throttlingRateLimit": 1000.0, "throttlingBurstLimit": 500}}})
}

/// The seed walkthrough: `GET /greeting?greeter=` through a Lambda custom integration.
fn seed() -> DeployedStage {
    DeployedStage {
        stage: stage(),
        deployment: json!({
            "id": "dep123",
            "api": {"id": "abcdef1234", "name": "LambdaCustomIntegration"},
            "resources": [
                {"id": "root00", "path": "/"},
                {"id": "grt001", "path": "/greeting", "resourceMethods": {"GET": {
                    "httpMethod": "GET", "authorizationType": "NONE",
                    "requestParameters": {"method.request.querystring.greeter": false},
                    "methodIntegration": {
                        "type": "AWS", "httpMethod": "POST", "uri": LAMBDA_URI,
                        "passthroughBehavior": "WHEN_NO_TEMPLATES",
                        "requestTemplates": {"application/json": "{\"greeter\":\"$input.params('greeter')\"}"},
                        "integrationResponses": {"200": {"statusCode": "200"}}
                    }
                }}}
            ]
        }),
    }
}

fn mock_method(i: usize) -> Value {
    json!({
        "httpMethod": "GET", "authorizationType": "NONE",
        "methodIntegration": {
            "type": "MOCK",
            "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
            "integrationResponses": {"200": {
                "statusCode": "200",
                "responseParameters": {"method.response.header.X-Item": "'item'"},
                "responseTemplates": {"application/json": format!(
                    "{{\"id\": \"$input.params('id')\", \"n\": {i}, \"request\": \"$context.requestId\", \"items\": [#foreach($x in [1..3])$x#if($foreach.hasNext),#end#end]}}"
                )}
            }}
        }
    })
}

fn lambda_method(verb: &str) -> Value {
    json!({
        "httpMethod": verb, "authorizationType": "NONE",
        "requestParameters": {"method.request.path.id": true, "method.request.header.X-Trace": false},
        "methodIntegration": {
            "type": "AWS", "httpMethod": "POST", "uri": LAMBDA_URI,
            "requestTemplates": {"application/json": "#set($body = $input.path('$'))\n{\"id\": \"$input.params('id')\", \"name\": \"$util.escapeJavaScript($body.name)\", \"headers\": {#foreach($h in $input.params().header.keySet())\"$h\": \"$util.escapeJavaScript($input.params().header.get($h))\"#if($foreach.hasNext),#end#end}}"},
            "integrationResponses": {
                "200": {"statusCode": "200", "responseTemplates": {"application/json": "$input.json('$.body')"}},
                "400": {"statusCode": "400", "selectionPattern": ".*(Invalid|Missing).*",
                        "responseTemplates": {"application/json": "{\"message\": \"$input.path('$.errorMessage')\"}"}},
                "404": {"statusCode": "404", "selectionPattern": "Not found: .*"},
                "500": {"statusCode": "500", "selectionPattern": "(\\n|.)+"}
            }
        }
    })
}

fn proxy_method() -> Value {
    json!({"httpMethod": "ANY", "authorizationType": "NONE",
           "methodIntegration": {"type": "AWS_PROXY", "httpMethod": "POST", "uri": LAMBDA_URI}})
}

fn http_method(i: usize) -> Value {
    json!({
        "httpMethod": "GET", "authorizationType": "NONE",
        "methodIntegration": {
            "type": "HTTP", "httpMethod": "GET",
            "uri": format!("http://backend.internal:8080/v1/items/{{id}}?page={i}"),
            "requestParameters": {"integration.request.path.id": "method.request.path.id",
                                  "integration.request.header.X-Api": "'portico'"},
            "integrationResponses": {"200": {"statusCode": "200"},
                                     "5xx": {"statusCode": "502", "selectionPattern": "5\\d{2}"}}
        }
    })
}

/// 200 resources in 20 areas: `/aN`, `/aN/{id}` and 8 sub-resources each, with GET/POST/PUT/
/// DELETE methods spread over MOCK, AWS (Lambda), AWS_PROXY and HTTP integrations.
fn large() -> DeployedStage {
    let mut resources = vec![json!({"id": "root00", "path": "/"})];
    let mut methods = 0;
    for area in 0..20 {
        let base = format!("/a{area}");
        let mut add = |path: String, verbs: Vec<(&str, Value)>| {
            let mut map = serde_json::Map::new();
            for (verb, method) in verbs {
                map.insert(verb.to_owned(), method);
                methods += 1;
            }
            resources.push(json!({"id": format!("r{}", resources.len()), "path": path,
                                  "resourceMethods": map}));
        };
        add(
            base.clone(),
            vec![("GET", mock_method(area)), ("POST", lambda_method("POST"))],
        );
        add(
            format!("{base}/{{id}}"),
            vec![
                ("GET", lambda_method("GET")),
                ("PUT", lambda_method("PUT")),
                ("DELETE", mock_method(area)),
            ],
        );
        for sub in 0..7 {
            let verbs = match sub % 3 {
                0 => vec![("GET", http_method(sub)), ("POST", lambda_method("POST"))],
                1 => vec![
                    ("GET", mock_method(sub)),
                    ("PUT", lambda_method("PUT")),
                    ("DELETE", mock_method(sub)),
                ],
                _ => vec![("ANY", proxy_method())],
            };
            add(format!("{base}/{{id}}/s{sub}"), verbs);
        }
        add(
            format!("{base}/files/{{proxy+}}"),
            vec![("ANY", proxy_method())],
        );
    }
    assert_eq!(resources.len(), 201);
    assert_eq!(methods, 400);
    DeployedStage {
        stage: stage(),
        deployment: json!({"id": "dep123", "api": {"id": "abcdef1234", "name": "large"},
                           "resources": resources}),
    }
}

fn bench(c: &mut Criterion) {
    let key = key();
    let seed = seed();
    let large = large();
    assert!(compile(&key, &seed).router.at("/greeting", "GET").is_some());
    assert!(
        compile(&key, &large)
            .router
            .at("/a7/x/s4", "DELETE")
            .is_some()
    );
    c.bench_function("compile_seed_api", |b| {
        b.iter(|| compile(black_box(&key), black_box(&seed)))
    });
    c.bench_function("compile_200_resources", |b| {
        b.iter(|| compile(black_box(&key), black_box(&large)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
