//! A project's metrics over a window for its metrics page: the hourly activity, LLM usage by
//! model, errored spans by kind and mean annotation scores, each in the same bins. Read access
//! to the project is checked once, by resolving it.

use ember_store::{ActivityWindow, BinnedSeries, ModelUsage, ProjectActivity};

use crate::error::Result;
use crate::projects::{ProjectRef, Projects};
use crate::Caller;

/// Everything the metrics page draws.
#[derive(Debug, Clone, Default)]
pub struct ProjectMetrics {
    pub activity: ProjectActivity,
    pub models: Vec<ModelUsage>,
    pub errors_by_kind: Vec<BinnedSeries<i64>>,
    pub annotation_scores: Vec<BinnedSeries<Option<f64>>>,
}

impl Projects<'_> {
    pub async fn metrics(&self, caller: &Caller, project: ProjectRef<'_>, window: ActivityWindow) -> Result<ProjectMetrics> {
        let project = self.resolve(caller, project).await?;
        let store = &self.services.store;
        let activity = store.project_activity(&[project.id], window).await?.remove(&project.id).unwrap_or_default();
        Ok(ProjectMetrics {
            activity,
            models: store.project_model_usage(project.id, window).await?,
            errors_by_kind: store.project_errors_by_kind(project.id, window).await?,
            annotation_scores: store.project_annotation_score_trends(project.id, window).await?,
        })
    }
}
