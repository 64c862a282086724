//! Operations end to end over a real SQLite store, with a sink that records what the data
//! plane would receive.

use std::sync::{Arc, Mutex};

use portico_core::{DeployedStage, Scope, StageKey, StageSink};
use portico_protocol::{OperationInput, OperationOutput};
use portico_store::SqliteStore;
use serde_json::{Value, json};

use crate::ApiGatewayV2;

#[derive(Default)]
struct Recorder {
    published: Mutex<Vec<(StageKey, DeployedStage)>>,
    removed: Mutex<Vec<String>>,
}

impl StageSink for Recorder {
    fn publish(&self, key: StageKey, deployed: DeployedStage) {
        self.published.lock().unwrap().push((key, deployed));
    }
    fn remove(&self, key: &StageKey) {
        self.removed.lock().unwrap().push(key.stage_name.clone());
    }
    fn remove_api(&self, _: &str, _: &str, api_id: &str) {
        self.removed.lock().unwrap().push(api_id.to_owned());
    }
}

struct Harness {
    service: ApiGatewayV2,
    sink: Arc<Recorder>,
    scope: Scope,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn harness() -> Harness {
    let dir = std::env::temp_dir().join(format!(
        "portico-apigwv2-test-{}",
        portico_core::ids::request_id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(SqliteStore::open(&dir).unwrap());
    let sink = Arc::new(Recorder::default());
    Harness {
        service: ApiGatewayV2::new(store, sink.clone(), 4566),
        sink,
        scope: Scope::new("123456789012", "us-east-1"),
        _dir: TempDir(dir),
    }
}

impl Harness {
    async fn call(
        &self,
        name: &str,
        input: Value,
    ) -> Result<OperationOutput, portico_core::AwsError> {
        let operation = portico_model::apigatewayv2::OPERATIONS
            .iter()
            .find(|op| op.name == name)
            .unwrap();
        let Value::Object(input) = input else {
            panic!("input must be an object")
        };
        self.service
            .handle(
                &self.scope,
                OperationInput {
                    operation,
                    input,
                    payload: bytes::Bytes::new(),
                },
            )
            .await
    }

    async fn ok(&self, name: &str, input: Value) -> (u16, Value) {
        let out = self.call(name, input).await.unwrap();
        let body = if out.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&out.body).unwrap()
        };
        (out.status, body)
    }
}

const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:hello";

#[tokio::test]
async fn quick_create_makes_route_integration_and_auto_deployed_default_stage() {
    let h = harness();
    let (status, api) = h
        .ok(
            "CreateApi",
            json!({"name": "q", "protocolType": "HTTP", "target": FUNCTION}),
        )
        .await;
    assert_eq!(status, 201);
    let api_id = api["apiId"].as_str().unwrap().to_owned();
    assert_eq!(api_id.len(), 10);
    assert_eq!(
        api["apiEndpoint"],
        format!("http://{api_id}.execute-api.localhost:4566")
    );
    assert_eq!(
        api["routeSelectionExpression"],
        "${request.method} ${request.path}"
    );
    assert_eq!(
        api["apiKeySelectionExpression"],
        "$request.header.x-api-key"
    );
    assert_eq!(api["disableExecuteApiEndpoint"], false);

    let (_, routes) = h.ok("GetRoutes", json!({"ApiId": api_id})).await;
    let route = &routes["items"][0];
    assert_eq!(route["routeKey"], "$default");
    assert_eq!(route["apiGatewayManaged"], true);
    assert_eq!(route["authorizationType"], "NONE");
    assert_eq!(route["routeId"].as_str().unwrap().len(), 7);
    let (_, integrations) = h.ok("GetIntegrations", json!({"ApiId": api_id})).await;
    let integration = &integrations["items"][0];
    assert_eq!(
        route["target"],
        format!(
            "integrations/{}",
            integration["integrationId"].as_str().unwrap()
        )
    );
    assert_eq!(integration["integrationType"], "AWS_PROXY");
    assert_eq!(integration["integrationMethod"], "POST");
    assert_eq!(integration["payloadFormatVersion"], "2.0");
    assert_eq!(integration["timeoutInMillis"], 30000);
    assert_eq!(integration["integrationUri"], FUNCTION);

    let (_, stage) = h
        .ok(
            "GetStage",
            json!({"ApiId": api_id, "StageName": "$default"}),
        )
        .await;
    assert_eq!(stage["autoDeploy"], true);
    assert_eq!(stage["apiGatewayManaged"], true);
    let deployment_id = stage["deploymentId"].as_str().unwrap();
    assert_eq!(
        stage["lastDeploymentStatusMessage"],
        format!("Successfully deployed stage with deployment ID '{deployment_id}'")
    );
    let published = h.sink.published.lock().unwrap();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].0.stage_name, "$default");
    assert_eq!(
        published[0].1.deployment["routes"][0]["routeKey"],
        "$default"
    );
}

#[tokio::test]
async fn auto_deploy_publishes_every_change_and_manual_stages_wait() {
    let h = harness();
    let (_, api) = h
        .ok("CreateApi", json!({"name": "a", "protocolType": "HTTP"}))
        .await;
    let api_id = api["apiId"].as_str().unwrap().to_owned();
    h.ok(
        "CreateStage",
        json!({"ApiId": api_id, "stageName": "live", "autoDeploy": true}),
    )
    .await;
    h.ok(
        "CreateStage",
        json!({"ApiId": api_id, "stageName": "manual"}),
    )
    .await;
    assert_eq!(h.sink.published.lock().unwrap().len(), 1);
    let (status, integration) = h
        .ok(
            "CreateIntegration",
            json!({"ApiId": api_id, "integrationType": "AWS_PROXY", "integrationUri": FUNCTION, "payloadFormatVersion": "2.0"}),
        )
        .await;
    assert_eq!(status, 201);
    let target = format!(
        "integrations/{}",
        integration["integrationId"].as_str().unwrap()
    );
    h.ok(
        "CreateRoute",
        json!({"ApiId": api_id, "routeKey": "GET /pets/{id}", "target": target}),
    )
    .await;
    let published = h.sink.published.lock().unwrap().clone();
    assert_eq!(published.len(), 3);
    assert!(published.iter().all(|(k, _)| k.stage_name == "live"));
    assert_eq!(
        published[2].1.deployment["routes"][0]["routeKey"],
        "GET /pets/{id}"
    );
    let (_, deployment) = h
        .ok(
            "CreateDeployment",
            json!({"ApiId": api_id, "stageName": "manual", "description": "d"}),
        )
        .await;
    assert_eq!(deployment["autoDeployed"], false);
    assert_eq!(deployment["deploymentStatus"], "DEPLOYED");
    let published = h.sink.published.lock().unwrap().clone();
    assert_eq!(published.last().unwrap().0.stage_name, "manual");
    let (_, deployments) = h.ok("GetDeployments", json!({"ApiId": api_id})).await;
    assert_eq!(deployments["items"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn errors_have_aws_wording() {
    let h = harness();
    let err = h
        .call("GetApi", json!({"ApiId": "nope"}))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code, err.status, err.message.as_str()),
        (
            "NotFoundException",
            404,
            "Invalid API identifier specified 123456789012:nope"
        )
    );
    let (_, api) = h
        .ok("CreateApi", json!({"name": "a", "protocolType": "HTTP"}))
        .await;
    let api_id = api["apiId"].as_str().unwrap();
    let err = h
        .call("GetRoute", json!({"ApiId": api_id, "RouteId": "abc"}))
        .await
        .unwrap_err();
    assert_eq!(err.message, "Invalid Route identifier specified abc");
    let err = h
        .call(
            "CreateRoute",
            json!({"ApiId": api_id, "routeKey": "GET /a/{b+}/c"}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, "BadRequestException");
    h.ok(
        "CreateRoute",
        json!({"ApiId": api_id, "routeKey": "GET /a"}),
    )
    .await;
    let err = h
        .call(
            "CreateRoute",
            json!({"ApiId": api_id, "routeKey": "GET /a"}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, "ConflictException");
    let err = h
        .call("CreateApi", json!({"name": "w", "protocolType": "SOAP"}))
        .await
        .unwrap_err();
    assert_eq!(
        err.message,
        "Invalid protocol specified. Must be one of [HTTP, WEBSOCKET]"
    );
    let err = h
        .call(
            "CreateIntegration",
            json!({"ApiId": api_id, "integrationType": "HTTP_PROXY", "integrationUri": "http://x", "integrationMethod": "GET", "payloadFormatVersion": "2.0"}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, "BadRequestException");
}

#[tokio::test]
async fn delete_api_removes_it_from_the_data_plane() {
    let h = harness();
    let (_, api) = h
        .ok(
            "CreateApi",
            json!({"name": "q", "protocolType": "HTTP", "target": FUNCTION}),
        )
        .await;
    let api_id = api["apiId"].as_str().unwrap();
    let (status, _) = h.ok("DeleteApi", json!({"ApiId": api_id})).await;
    assert_eq!(status, 204);
    assert_eq!(
        h.sink.removed.lock().unwrap().as_slice(),
        [api_id.to_owned()]
    );
    assert!(h.call("GetApi", json!({"ApiId": api_id})).await.is_err());
}
