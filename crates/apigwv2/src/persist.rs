//! Reading and writing v2 documents through the `Store`, deployments, auto-deploy, and
//! publishing stages to the data plane.

use portico_core::{AwsError, DeployedStage, Scope, StageKey, StageSink, ids};
use portico_model::apigatewayv2::{Deployment, Stage};
use portico_store::{Document, NewDocument, Store, StoreError, Write};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Call;
use crate::doc::{ApiDoc, api_not_found, now_iso};

pub(crate) const KIND_API: &str = "apigwv2.api";
pub(crate) const KIND_DEPLOYMENT: &str = "apigwv2.deployment";
pub(crate) const KIND_STAGE: &str = "apigwv2.stage";

/// A deployment as stored: its public fields plus the frozen API. This JSON is also the
/// `deployment` of the [`DeployedStage`] the data plane receives:
/// `{"deploymentId", "createdDate", "autoDeployed", "description"?, "api": Api,
///   "routes": [Route], "integrations": [Integration]}` in the v2 wire shapes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FrozenDeployment {
    #[serde(rename = "deploymentId")]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "createdDate")]
    pub created_date: String,
    #[serde(rename = "autoDeployed", default)]
    pub auto_deployed: bool,
    #[serde(flatten)]
    pub doc: ApiDoc,
}

impl FrozenDeployment {
    pub fn public(&self) -> Deployment {
        Deployment {
            auto_deployed: Some(self.auto_deployed),
            created_date: Some(self.created_date.clone()),
            deployment_id: Some(self.id.clone()),
            deployment_status: Some("DEPLOYED".to_owned()),
            description: self.description.clone(),
            ..Default::default()
        }
    }
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

/// Stage names and deployment ids are unique per API only.
pub(crate) fn child_doc_id(api_id: &str, id: &str) -> String {
    format!("{api_id}/{id}")
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
        let new = NewDocument::new(self.scope.partition(), KIND_API, doc.id(), to_body(doc)?);
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
        api_id: &str,
        id: &str,
        value: &T,
    ) -> Result<(), AwsError> {
        let new = NewDocument::new(
            self.scope.partition(),
            kind,
            child_doc_id(api_id, id),
            to_body(value)?,
        )
        .with_parent(api_id);
        self.store().put(new).await.map_err(store_error)?;
        Ok(())
    }

    pub(crate) async fn get_child<T: DeserializeOwned>(
        &self,
        kind: &str,
        api_id: &str,
        id: &str,
    ) -> Result<Option<T>, AwsError> {
        match self
            .store()
            .get(&self.scope.partition(), kind, &child_doc_id(api_id, id))
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

    pub(crate) async fn delete_child(
        &self,
        kind: &str,
        api_id: &str,
        id: &str,
    ) -> Result<(), AwsError> {
        match self
            .store()
            .delete(&self.scope.partition(), kind, &child_doc_id(api_id, id))
            .await
        {
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

    pub(crate) fn sink(&self) -> &dyn StageSink {
        self.service.sink.as_ref()
    }

    /// Freezes the API as it is now into a new deployment.
    pub(crate) async fn deploy(
        &self,
        doc: &ApiDoc,
        description: Option<String>,
        auto_deployed: bool,
    ) -> Result<FrozenDeployment, AwsError> {
        let frozen = FrozenDeployment {
            id: ids::short_id(),
            description,
            created_date: now_iso(),
            auto_deployed,
            doc: doc.clone(),
        };
        self.put_child(KIND_DEPLOYMENT, doc.id(), &frozen.id, &frozen)
            .await?;
        Ok(frozen)
    }

    /// Points `stage` at `frozen`, stores it and publishes it.
    pub(crate) async fn activate(
        &self,
        api_id: &str,
        stage: &mut Stage,
        frozen: &FrozenDeployment,
    ) -> Result<(), AwsError> {
        stage.deployment_id = Some(frozen.id.clone());
        stage.last_deployment_status_message = auto_deploy_message(stage, frozen);
        stage.last_updated_date = Some(now_iso());
        let name = stage.stage_name.clone().unwrap_or_default();
        self.put_child(KIND_STAGE, api_id, &name, stage).await?;
        self.publish(api_id, stage, frozen)
    }

    pub(crate) fn publish(
        &self,
        api_id: &str,
        stage: &Stage,
        frozen: &FrozenDeployment,
    ) -> Result<(), AwsError> {
        let name = stage.stage_name.clone().unwrap_or_default();
        self.sink().publish(
            self.stage_key(api_id, &name),
            DeployedStage {
                stage: to_body(stage)?,
                deployment: to_body(frozen)?,
            },
        );
        Ok(())
    }

    /// Publishes a stage with the deployment it points at (after a stage-only change).
    pub(crate) async fn republish(&self, api_id: &str, stage: &Stage) -> Result<(), AwsError> {
        let Some(deployment_id) = stage.deployment_id.as_deref() else {
            return Ok(());
        };
        let frozen: Option<FrozenDeployment> = self
            .get_child(KIND_DEPLOYMENT, api_id, deployment_id)
            .await?;
        match frozen {
            Some(frozen) => self.publish(api_id, stage, &frozen),
            None => Ok(()),
        }
    }

    /// After any change to the API: every auto-deploying stage gets a fresh deployment, so
    /// the change is live at once there (and only there).
    pub(crate) async fn auto_deploy(&self, doc: &ApiDoc) -> Result<(), AwsError> {
        let stages: Vec<Stage> = self.list_children(KIND_STAGE, doc.id()).await?;
        for mut stage in stages {
            if stage.auto_deploy == Some(true) {
                let frozen = self.deploy(doc, None, true).await?;
                self.activate(doc.id(), &mut stage, &frozen).await?;
            }
        }
        Ok(())
    }
}

/// AWS reports the outcome of the last automatic deployment on the stage.
fn auto_deploy_message(stage: &Stage, frozen: &FrozenDeployment) -> Option<String> {
    (stage.auto_deploy == Some(true) && frozen.auto_deployed).then(|| {
        format!(
            "Successfully deployed stage with deployment ID '{}'",
            frozen.id
        )
    })
}

/// Publishes every stored v2 stage: how the data plane learns what to serve after a restart.
pub async fn publish_all_stages(
    store: &dyn Store,
    sink: &dyn StageSink,
) -> Result<usize, AwsError> {
    let stages: Vec<Document> = store.list_all(KIND_STAGE).await.map_err(store_error)?;
    let mut published = 0;
    for doc in stages {
        let (Some(scope), Some(api_id)) = (Scope::from_partition(&doc.partition), doc.parent)
        else {
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
                &child_doc_id(&api_id, deployment_id),
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
                stage: to_body(&stage)?,
                deployment: deployment.body,
            },
        );
        published += 1;
    }
    Ok(published)
}
