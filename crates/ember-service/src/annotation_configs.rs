//! Annotation configs (what people and judges may annotate with) and their assignment to
//! projects. The rules of a config live here: a non-empty name other than `note`, at least one
//! categorical value with distinct labels, a lower bound below the upper bound; and what an
//! annotation made in the app under a config's name must be (`AnnotationConfigInput::conform`).

use ember_core::{GlobalId, GlobalType};
use ember_store::{AnnotationConfig, Page};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::annotations::NOTE_NAME;
use crate::error::{Result, ServiceError};
use crate::projects::ProjectRef;
use crate::{Caller, Services};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum OptimizationDirection {
    Minimize,
    Maximize,
    #[serde(rename = "NONE")]
    Neither,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct CategoricalValue {
    pub label: String,
    #[serde(default)]
    pub score: Option<f64>,
}

/// A config as it is created or replaced, discriminated by `type` (the REST body's shape).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "UPPERCASE")]
pub enum AnnotationConfigInput {
    Categorical {
        name: String,
        description: Option<String>,
        optimization_direction: OptimizationDirection,
        values: Vec<CategoricalValue>,
    },
    Continuous {
        name: String,
        description: Option<String>,
        optimization_direction: OptimizationDirection,
        lower_bound: Option<f64>,
        upper_bound: Option<f64>,
    },
    Freeform {
        name: String,
        description: Option<String>,
        optimization_direction: Option<OptimizationDirection>,
        threshold: Option<f64>,
        lower_bound: Option<f64>,
        upper_bound: Option<f64>,
    },
}

impl AnnotationConfigInput {
    pub fn name(&self) -> &str {
        match self {
            AnnotationConfigInput::Categorical { name, .. }
            | AnnotationConfigInput::Continuous { name, .. }
            | AnnotationConfigInput::Freeform { name, .. } => name,
        }
    }

    /// The config as stored (its body, `type` and all, and its name), read back in its input
    /// shape; `None` for a body this version cannot read.
    pub fn of_stored(config: &AnnotationConfig) -> Option<Self> {
        let mut body = config.config.clone();
        body.as_object_mut()?.insert("name".into(), Value::String(config.name.clone()));
        serde_json::from_value(body).ok()
    }

    /// The score an annotation under this config's name stores, or why it does not follow the
    /// config: a categorical config takes one of its labels (and that label's score, filled in
    /// when not given), a continuous one a score within its bounds and no label; freeform takes
    /// anything. Phoenix's annotation panel holds people to the same.
    pub fn conform(&self, label: Option<&str>, score: Option<f64>) -> Result<Option<f64>> {
        let name = self.name();
        match self {
            AnnotationConfigInput::Categorical { values, .. } => {
                let labels = || values.iter().map(|value| format!("{:?}", value.label)).collect::<Vec<_>>().join(", ");
                let Some(label) = label else {
                    return Err(ServiceError::invalid(format!("{name} takes one of the labels {}", labels())));
                };
                let Some(value) = values.iter().find(|value| value.label == label) else {
                    return Err(ServiceError::invalid(format!("the label {label:?} is not one of {name}'s labels: {}", labels())));
                };
                match (score, value.score) {
                    (Some(given), Some(own)) if given != own => {
                        Err(ServiceError::invalid(format!("the score {given} is not the score of {name}'s label {label:?} ({own})")))
                    }
                    (given, own) => Ok(given.or(own)),
                }
            }
            AnnotationConfigInput::Continuous { lower_bound, upper_bound, .. } => {
                if label.is_some() {
                    return Err(ServiceError::invalid(format!("{name} takes a score, not a label")));
                }
                let Some(score) = score else {
                    return Err(ServiceError::invalid(format!("{name} takes a score")));
                };
                let below = lower_bound.is_some_and(|lower| score < lower);
                let above = upper_bound.is_some_and(|upper| score > upper);
                if below || above {
                    let bound = |b: &Option<f64>, none: &str| b.map_or_else(|| none.to_string(), |b| b.to_string());
                    return Err(ServiceError::invalid(format!(
                        "the score {score} is outside {name}'s range {} to {}",
                        bound(lower_bound, "-∞"),
                        bound(upper_bound, "∞")
                    )));
                }
                Ok(Some(score))
            }
            AnnotationConfigInput::Freeform { .. } => Ok(score),
        }
    }

    /// The name and the stored body (everything but the name), or the rule it breaks.
    fn validated(&self) -> Result<(String, Value)> {
        let name = self.name();
        if name.trim().is_empty() {
            return Err(ServiceError::invalid("the annotation config name must not be empty"));
        }
        crate::limits::check_name("annotation config name", "name", name)?;
        if name == NOTE_NAME {
            return Err(ServiceError::conflict(format!("the name '{NOTE_NAME}' is reserved for notes")));
        }
        match self {
            AnnotationConfigInput::Categorical { values, .. } => {
                if values.is_empty() {
                    return Err(ServiceError::invalid("a categorical annotation config needs at least one value"));
                }
                let mut labels: Vec<&str> = values.iter().map(|v| v.label.as_str()).collect();
                labels.sort_unstable();
                if let Some(pair) = labels.windows(2).find(|pair| pair[0] == pair[1]) {
                    return Err(ServiceError::invalid(format!("the label {:?} appears more than once", pair[0])));
                }
            }
            AnnotationConfigInput::Continuous { lower_bound, upper_bound, .. }
            | AnnotationConfigInput::Freeform { lower_bound, upper_bound, .. } => {
                if let (Some(lower), Some(upper)) = (lower_bound, upper_bound) {
                    if lower >= upper {
                        return Err(ServiceError::invalid(format!(
                            "lower_bound ({lower}) must be strictly less than upper_bound ({upper})"
                        )));
                    }
                }
            }
        }
        let mut body = serde_json::to_value(self).map_err(ServiceError::internal)?;
        if let Value::Object(map) = &mut body {
            map.remove("name");
        }
        Ok((name.to_string(), body))
    }
}

/// How a request names a config: by GlobalID or by name.
pub struct ConfigRef<'a>(pub &'a str);

pub struct AnnotationConfigs<'a> {
    pub(crate) services: &'a Services,
}

/// Update and delete take the config's GlobalID only.
fn config_rowid(identifier: &str) -> Result<i64> {
    GlobalId::decode_as(identifier, GlobalType::AnnotationConfig)
        .ok_or_else(|| ServiceError::invalid(format!("Invalid annotation config id: {identifier:?}")))
}

impl AnnotationConfigs<'_> {
    /// The config a GlobalID or name names, if any.
    async fn find(&self, _caller: &Caller, identifier: &str) -> Result<Option<AnnotationConfig>> {
        let store = &self.services.store;
        Ok(match GlobalId::decode_as(identifier, GlobalType::AnnotationConfig) {
            Some(id) => store.get_annotation_config(Some(id), None).await?,
            None => store.get_annotation_config(None, Some(identifier)).await?,
        })
    }

    /// The config a GlobalID or name names; 404 when there is none.
    pub async fn resolve(&self, caller: &Caller, identifier: &str) -> Result<AnnotationConfig> {
        let found = self.find(caller, identifier).await?;
        found.ok_or_else(|| ServiceError::not_found(format!("Annotation config not found: {identifier}")))
    }

    pub async fn list(&self, _caller: &Caller, cursor: Option<i64>, limit: usize) -> Result<Page<AnnotationConfig>> {
        Ok(self.services.store.list_annotation_configs(cursor, limit).await?)
    }

    pub async fn create(&self, caller: &Caller, input: &AnnotationConfigInput) -> Result<AnnotationConfig> {
        caller.require_write()?;
        let (name, body) = input.validated()?;
        Ok(self.services.store.create_annotation_config(&name, &body).await?)
    }

    /// Replaces a config; `id` is its GlobalID.
    pub async fn update(&self, caller: &Caller, id: &str, input: &AnnotationConfigInput) -> Result<AnnotationConfig> {
        caller.require_write()?;
        self.update_by_rowid(caller, config_rowid(id)?, input).await
    }

    /// Replaces the config with this rowid (the web UI's forms).
    pub async fn update_by_rowid(&self, caller: &Caller, rowid: i64, input: &AnnotationConfigInput) -> Result<AnnotationConfig> {
        caller.require_write()?;
        let (name, body) = input.validated()?;
        Ok(self.services.store.update_annotation_config(rowid, &name, &body).await?)
    }

    /// Deletes a config by GlobalID; returns it.
    pub async fn delete(&self, caller: &Caller, id: &str) -> Result<AnnotationConfig> {
        caller.require_write()?;
        self.delete_by_rowid(caller, config_rowid(id)?).await
    }

    pub async fn delete_by_rowid(&self, caller: &Caller, rowid: i64) -> Result<AnnotationConfig> {
        caller.require_write()?;
        Ok(self.services.store.delete_annotation_config(rowid).await?)
    }

    pub async fn list_for_project(
        &self,
        caller: &Caller,
        project: ProjectRef<'_>,
        cursor: Option<i64>,
        limit: usize,
    ) -> Result<Page<AnnotationConfig>> {
        let project = self.services.projects().resolve(caller, project).await?;
        Ok(self.services.store.list_project_annotation_configs(project.id, cursor, limit).await?)
    }

    /// The configs a project's annotation forms offer: those assigned to it, or every config
    /// when none is.
    pub async fn offered(&self, caller: &Caller, project: ProjectRef<'_>, limit: usize) -> Result<Vec<AnnotationConfig>> {
        let assigned = self.list_for_project(caller, project, None, limit).await?.items;
        if !assigned.is_empty() {
            return Ok(assigned);
        }
        Ok(self.list(caller, None, limit).await?.items)
    }

    /// Replaces the project's set; every identifier must name a config (a 422 in Phoenix's words
    /// otherwise, nothing changed: the list is a body, not a path). Returns the new set.
    pub async fn set_for_project(&self, caller: &Caller, project: ProjectRef<'_>, identifiers: &[String]) -> Result<Vec<AnnotationConfig>> {
        let project = self.services.projects().resolve_writable(caller, project).await?;
        let mut ids = Vec::with_capacity(identifiers.len());
        for identifier in identifiers {
            let found = self.find(caller, identifier).await?;
            let config = found.ok_or_else(|| ServiceError::invalid(format!("Invalid annotation configuration ID: {identifier}")))?;
            ids.push(config.id);
        }
        ids.sort_unstable();
        ids.dedup();
        let store = &self.services.store;
        store.set_project_annotation_configs(project.id, &ids).await?;
        Ok(store.list_project_annotation_configs(project.id, None, ids.len().max(1)).await?.items)
    }

    /// Offers a config on a project; returns the config.
    pub async fn assign(&self, caller: &Caller, project: ProjectRef<'_>, config: &str) -> Result<AnnotationConfig> {
        let project = self.services.projects().resolve_writable(caller, project).await?;
        let config = self.resolve(caller, config).await?;
        self.services.store.assign_annotation_config(project.id, config.id).await?;
        Ok(config)
    }

    /// Stops offering a config on a project; a config that was not offered is already so (as
    /// Phoenix 20.26 answers, observed).
    pub async fn unassign(&self, caller: &Caller, project: ProjectRef<'_>, config: &str) -> Result<()> {
        let project = self.services.projects().resolve_writable(caller, project).await?;
        let config = self.resolve(caller, config).await?;
        self.services.store.unassign_annotation_config(project.id, config.id).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn categorical(name: &str, labels: &[&str]) -> AnnotationConfigInput {
        AnnotationConfigInput::Categorical {
            name: name.into(),
            description: None,
            optimization_direction: OptimizationDirection::Maximize,
            values: labels.iter().map(|label| CategoricalValue { label: label.to_string(), score: None }).collect(),
        }
    }

    #[test]
    fn annotations_made_in_the_app_follow_their_config() {
        let mut correctness = categorical("correctness", &["correct", "incorrect"]);
        if let AnnotationConfigInput::Categorical { values, .. } = &mut correctness {
            values[0].score = Some(1.0);
        }
        assert_eq!(correctness.conform(Some("correct"), None).unwrap(), Some(1.0), "the label's score is filled in");
        assert_eq!(correctness.conform(Some("incorrect"), Some(0.5)).unwrap(), Some(0.5), "a label without a score takes any");
        let outside = correctness.conform(Some("maybe"), Some(7.0)).unwrap_err().to_string();
        assert!(outside.contains("\"maybe\" is not one of correctness's labels: \"correct\", \"incorrect\""), "{outside}");
        assert!(correctness.conform(Some("correct"), Some(7.0)).unwrap_err().to_string().contains("not the score"));
        assert!(correctness.conform(None, Some(1.0)).unwrap_err().to_string().contains("takes one of the labels"));

        let relevance = AnnotationConfigInput::Continuous {
            name: "relevance".into(),
            description: None,
            optimization_direction: OptimizationDirection::Maximize,
            lower_bound: Some(0.0),
            upper_bound: Some(1.0),
        };
        assert_eq!(relevance.conform(None, Some(0.25)).unwrap(), Some(0.25));
        assert!(relevance.conform(None, Some(7.0)).unwrap_err().to_string().contains("outside relevance's range 0 to 1"));
        assert!(relevance.conform(None, None).unwrap_err().to_string().contains("takes a score"));
        assert!(relevance.conform(Some("high"), Some(0.5)).unwrap_err().to_string().contains("not a label"));

        let stored = AnnotationConfig { id: 1, name: "correctness".into(), config: correctness.validated().unwrap().1 };
        assert_eq!(AnnotationConfigInput::of_stored(&stored), Some(correctness), "a stored config reads back whole");
    }

    #[test]
    fn configs_follow_the_rules() {
        let (name, body) = categorical("correctness", &["correct", "incorrect"]).validated().unwrap();
        assert_eq!(name, "correctness");
        assert_eq!(body["type"], "CATEGORICAL");
        assert!(body.get("name").is_none(), "the name is stored apart");
        assert_eq!(categorical("note", &["a"]).validated().unwrap_err().code(), ember_core::ErrorCode::Conflict);
        assert_eq!(categorical(" ", &["a"]).validated().unwrap_err().code(), ember_core::ErrorCode::Unprocessable);
        assert!(categorical("c", &["a", "a"]).validated().unwrap_err().to_string().contains("more than once"));
        assert!(categorical("c", &[]).validated().is_err());
        let bounds = AnnotationConfigInput::Continuous {
            name: "c".into(),
            description: None,
            optimization_direction: OptimizationDirection::Neither,
            lower_bound: Some(1.0),
            upper_bound: Some(1.0),
        };
        assert!(bounds.validated().unwrap_err().to_string().contains("strictly less"));
    }
}
