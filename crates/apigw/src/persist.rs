//! Reading and writing API Gateway documents through the `Store`, and publishing stages.

use portico_core::{AwsError, DeployedStage, Scope, StageKey, StageSink};
use portico_model::apigateway::{ApiKey, Stage, UsagePlan};
use portico_store::{Document, NewDocument, Store, StoreError, Write};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Call;
use crate::doc::{ApiDoc, api_not_found};
use crate::keys::{PublishedKey, PublishedPlan};

pub(crate) const KIND_API: &str = "apigw.restapi";
pub(crate) const KIND_DEPLOYMENT: &str = "apigw.deployment";
pub(crate) const KIND_STAGE: &str = "apigw.stage";
pub(crate) const KIND_APIKEY: &str = "apigw.apikey";
pub(crate) const KIND_USAGEPLAN: &str = "apigw.usageplan";
/// Account-level documents have no API; these parents let them be listed.
pub(crate) const KEYS_PARENT: &str = "_apikeys";
pub(crate) const PLANS_PARENT: &str = "_usageplans";

/// A usage plan as stored: the plan and the ids of its API keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredPlan {
    pub plan: UsagePlan,
    pub keys: Vec<String>,
}

/// The member of a published stage that carries the usage plans applying to it.
pub(crate) const USAGE_MEMBER: &str = "porticoUsagePlans";

/// The usage plans (with their keys) that name this stage, as the data plane reads them.
async fn usage_for(
    store: &dyn Store,
    partition: &str,
    api_id: &str,
    stage_name: &str,
) -> Result<Vec<PublishedPlan>, AwsError> {
    let docs = store
        .list(partition, KIND_USAGEPLAN, Some(PLANS_PARENT))
        .await
        .map_err(store_error)?;
    let mut out = Vec::new();
    for doc in docs {
        let stored: StoredPlan = from_body(doc.body)?;
        let Some(api_stage) = stored.plan.api_stages.iter().flatten().find(|s| {
            s.api_id.as_deref() == Some(api_id) && s.stage.as_deref() == Some(stage_name)
        }) else {
            continue;
        };
        let mut keys = Vec::new();
        for key_id in &stored.keys {
            let Some(key) = store
                .get(partition, KIND_APIKEY, key_id)
                .await
                .map_err(store_error)?
            else {
                continue;
            };
            let key: ApiKey = from_body(key.body)?;
            keys.push(PublishedKey {
                id: key_id.clone(),
                value: key.value.unwrap_or_default(),
                enabled: key.enabled == Some(true),
            });
        }
        out.push(PublishedPlan {
            id: stored.plan.id.clone().unwrap_or_default(),
            throttle: stored.plan.throttle.clone(),
            quota: stored.plan.quota.clone(),
            method_throttle: api_stage.throttle.clone().unwrap_or_default(),
            keys,
        });
    }
    Ok(out)
}

/// The stage as published: its public fields plus the usage plans that apply to it.
async fn published_stage(
    store: &dyn Store,
    partition: &str,
    api_id: &str,
    stage: &Stage,
) -> Result<Value, AwsError> {
    let mut body = to_body(stage)?;
    let plans = usage_for(
        store,
        partition,
        api_id,
        stage.stage_name.as_deref().unwrap_or_default(),
    )
    .await?;
    if let (Value::Object(map), false) = (&mut body, plans.is_empty()) {
        map.insert(USAGE_MEMBER.to_owned(), to_body(&plans)?);
    }
    Ok(body)
}

pub(crate) fn store_error(error: StoreError) -> AwsError {
    match error {
        StoreError::VersionConflict { .. } => AwsError::conflict(
            "Unable to complete operation due to concurrent modification. Please try again later.",
        ),
        other => AwsError::internal(format!("The state store failed: {other}")),
    }
}

pub(crate) fn from_body<T: DeserializeOwned>(body: Value) -> Result<T, AwsError> {
    serde_json::from_value(body)
        .map_err(|e| AwsError::internal(format!("A stored document is unreadable: {e}")))
}

pub(crate) fn to_body<T: Serialize>(value: &T) -> Result<Value, AwsError> {
    serde_json::to_value(value)
        .map_err(|e| AwsError::internal(format!("Could not encode a document: {e}")))
}

/// The stage document id: stage names are unique per API only.
pub(crate) fn stage_doc_id(api_id: &str, stage_name: &str) -> String {
    format!("{api_id}/{stage_name}")
}

impl Call<'_> {
    fn store(&self) -> &dyn Store {
        self.service.store.as_ref()
    }

    pub(crate) async fn load_api(&self, api_id: &str) -> Result<(ApiDoc, u64), AwsError> {
        let doc = self
            .store()
            .get(&self.scope.partition(), KIND_API, api_id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| api_not_found(&self.scope.account_id, api_id))?;
        Ok((from_body(doc.body)?, doc.version))
    }

    /// Writes an API document; `expected` is the version read, `None` for a new API.
    pub(crate) async fn save_api(
        &self,
        doc: &ApiDoc,
        expected: Option<u64>,
    ) -> Result<(), AwsError> {
        let body = to_body(doc)?;
        let new = NewDocument::new(self.scope.partition(), KIND_API, doc.id(), body);
        self.store()
            .put_if_version(new, expected.unwrap_or(0))
            .await
            .map_err(store_error)?;
        Ok(())
    }

    pub(crate) async fn list_apis(&self) -> Result<Vec<ApiDoc>, AwsError> {
        let docs = self
            .store()
            .list(&self.scope.partition(), KIND_API, None)
            .await
            .map_err(store_error)?;
        docs.into_iter().map(|d| from_body(d.body)).collect()
    }

    pub(crate) async fn put_child<T: Serialize>(
        &self,
        kind: &str,
        id: &str,
        api_id: &str,
        value: &T,
    ) -> Result<(), AwsError> {
        let body = to_body(value)?;
        let new = NewDocument::new(self.scope.partition(), kind, id, body).with_parent(api_id);
        self.store().put(new).await.map_err(store_error)?;
        Ok(())
    }

    pub(crate) async fn get_child<T: DeserializeOwned>(
        &self,
        kind: &str,
        id: &str,
    ) -> Result<Option<T>, AwsError> {
        match self
            .store()
            .get(&self.scope.partition(), kind, id)
            .await
            .map_err(store_error)?
        {
            Some(doc) => Ok(Some(from_body(doc.body)?)),
            None => Ok(None),
        }
    }

    pub(crate) async fn list_children<T: DeserializeOwned>(
        &self,
        kind: &str,
        api_id: &str,
    ) -> Result<Vec<T>, AwsError> {
        let docs = self
            .store()
            .list(&self.scope.partition(), kind, Some(api_id))
            .await
            .map_err(store_error)?;
        docs.into_iter().map(|d| from_body(d.body)).collect()
    }

    pub(crate) async fn delete_doc(&self, kind: &str, id: &str) -> Result<(), AwsError> {
        match self.store().delete(&self.scope.partition(), kind, id).await {
            Ok(()) | Err(StoreError::NotFound { .. }) => Ok(()),
            Err(other) => Err(store_error(other)),
        }
    }

    /// Deletes an API document with its deployments and stages, atomically.
    pub(crate) async fn delete_api_tree(&self, api_id: &str) -> Result<(), AwsError> {
        let partition = self.scope.partition();
        self.store()
            .transaction(vec![
                Write::DeleteChildren {
                    partition: partition.clone(),
                    parent: api_id.to_owned(),
                },
                Write::Delete {
                    partition,
                    kind: KIND_API.to_owned(),
                    id: api_id.to_owned(),
                    expected_version: None,
                },
            ])
            .await
            .map_err(store_error)?;
        Ok(())
    }

    pub(crate) fn stage_key(&self, api_id: &str, stage_name: &str) -> StageKey {
        StageKey {
            account_id: self.scope.account_id.clone(),
            region: self.scope.region.clone(),
            api_id: api_id.to_owned(),
            stage_name: stage_name.to_owned(),
        }
    }

    /// Publishes a stage to the data plane with the deployment it points at.
    pub(crate) async fn publish_stage(&self, api_id: &str, stage: &Stage) -> Result<(), AwsError> {
        let (Some(stage_name), Some(deployment_id)) = (&stage.stage_name, &stage.deployment_id)
        else {
            return Ok(());
        };
        let deployment: Option<Value> = self
            .get_child(KIND_DEPLOYMENT, &deployment_doc_id(api_id, deployment_id))
            .await?;
        if let Some(deployment) = deployment {
            self.service.sink.publish(
                self.stage_key(api_id, stage_name),
                DeployedStage {
                    stage: published_stage(self.store(), &self.scope.partition(), api_id, stage)
                        .await?,
                    deployment,
                },
            );
        }
        Ok(())
    }

    /// Publishes a stored stage again (its usage plans changed); absent stages are skipped.
    pub(crate) async fn republish_stage(
        &self,
        api_id: &str,
        stage_name: &str,
    ) -> Result<(), AwsError> {
        let stage: Option<Stage> = self
            .get_child(KIND_STAGE, &stage_doc_id(api_id, stage_name))
            .await?;
        match stage {
            Some(stage) => self.publish_stage(api_id, &stage).await,
            None => Ok(()),
        }
    }

    pub(crate) fn sink(&self) -> &dyn StageSink {
        self.service.sink.as_ref()
    }
}

/// Deployment ids are unique per API only.
pub(crate) fn deployment_doc_id(api_id: &str, deployment_id: &str) -> String {
    format!("{api_id}/{deployment_id}")
}

/// Publishes every stored stage: how the data plane learns what to serve after a restart.
pub async fn publish_all_stages(
    store: &dyn Store,
    sink: &dyn StageSink,
) -> Result<usize, AwsError> {
    let stages: Vec<Document> = store.list_all(KIND_STAGE).await.map_err(store_error)?;
    let mut published = 0;
    for doc in stages {
        let Some(scope) = Scope::from_partition(&doc.partition) else {
            continue;
        };
        let Some(api_id) = doc.parent.clone() else {
            continue;
        };
        let stage: Stage = from_body(doc.body)?;
        let (Some(stage_name), Some(deployment_id)) = (&stage.stage_name, &stage.deployment_id)
        else {
            continue;
        };
        let Some(deployment) = store
            .get(
                &doc.partition,
                KIND_DEPLOYMENT,
                &deployment_doc_id(&api_id, deployment_id),
            )
            .await
            .map_err(store_error)?
        else {
            continue;
        };
        sink.publish(
            StageKey {
                account_id: scope.account_id.clone(),
                region: scope.region.clone(),
                api_id: api_id.clone(),
                stage_name: stage_name.clone(),
            },
            DeployedStage {
                stage: published_stage(store, &doc.partition, &api_id, &stage).await?,
                deployment: deployment.body,
            },
        );
        published += 1;
    }
    Ok(published)
}
