//! ML models (the Arize ML API): logging records — one at a time (`POST /v1/log`,
//! `ml.log_stream`) or a table at a time (`ml.log`) — and reading models and their records.
//!
//! The rules of a record live here: it names a prediction id and carries a prediction, an actual
//! or SHAP values; its time lies in the window its way in allows (a streamed record within the
//! last 90 days, as Arize's REST API documents; an uploaded table within the `arize` SDK's own
//! window of two years back); it carries at most [`MAX_VALUES_PER_RECORD`] named values and
//! [`MAX_EMBEDDINGS_PER_RECORD`] embeddings. The store keeps each model's labels to one kind and
//! each feature and tag to one type; its refusals are bad requests (400) like these.
//!
//! Models sit outside projects: any signed-in user reads them, members and admins write them; a
//! key scoped to a project, or made for ingest only, reaches no model (an ingest-only key may log).

use ember_core::ml::{MlEnvironment, MlRecord, ModelType, MAX_EMBEDDINGS_PER_RECORD, MAX_EMBEDDING_DIMENSIONS, MAX_VALUES_PER_RECORD};
use ember_store::{MlColumnRecord, MlModelRecord, MlRecordQuery, MlStoredRecord, MlVersionRecord, MlVolumeBin, StoreError};

use crate::error::{Result, ServiceError};
use crate::ml_batch::MlBatcher;
use crate::{Caller, Services};

const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;

/// How records arrive, which sets the window their times must lie in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MlOrigin {
    /// One record at a time (`POST /v1/log`).
    Stream,
    /// A table (`ml.log`).
    Upload,
}

impl MlOrigin {
    /// How far back and ahead of now a record's time may be.
    fn window(self) -> (i64, i64) {
        match self {
            MlOrigin::Stream => (90 * NANOS_PER_DAY, 366 * NANOS_PER_DAY),
            MlOrigin::Upload => (2 * 366 * NANOS_PER_DAY, 366 * NANOS_PER_DAY),
        }
    }

    fn out_of_window(self) -> &'static str {
        match self {
            MlOrigin::Stream => "timestamp must range from now back to T-90 days",
            MlOrigin::Upload => "prediction timestamps must be within 2 years in the past and 1 year in the future",
        }
    }
}

/// Records of one model to log.
#[derive(Debug, Clone)]
pub struct MlLog {
    pub model: String,
    /// The type an upload's schema declares; otherwise the first label's kind decides.
    pub model_type: Option<ModelType>,
    pub records: Vec<MlRecord>,
    pub origin: MlOrigin,
}

/// A model with its columns and versions.
#[derive(Debug, Clone)]
pub struct MlModelDetail {
    pub model: MlModelRecord,
    pub columns: Vec<MlColumnRecord>,
    pub versions: Vec<MlVersionRecord>,
}

pub struct MlModels<'a> {
    pub(crate) services: &'a Services,
}

impl MlModels<'_> {
    /// Checks every record, then writes them all in one transaction (answered once committed).
    /// `now` is the receiving time (Unix ns): records without a time take it. A single streamed
    /// record is committed together with others sent at the same time (see `ml_batch`).
    pub async fn log(&self, caller: &Caller, mut log: MlLog, now: i64) -> Result<usize> {
        self.require_writer(caller)?;
        self.services.storage().check_ingest()?;
        self.check(&log.model, &log.records, log.origin, now)?;
        let model_type = log.model_type.or_else(|| log.records.iter().find_map(MlRecord::label_kind).map(ModelType::of_label));
        let model_type = model_type.unwrap_or(ModelType::ScoreCategorical);
        for record in &mut log.records {
            if let Some(prediction) = &mut record.prediction {
                prediction.time.get_or_insert(now);
            }
            if let Some(actual) = &mut record.actual {
                actual.time.get_or_insert(now);
            }
        }
        if log.origin == MlOrigin::Stream && log.records.len() == 1 {
            let record = log.records.pop().expect("one record");
            let batcher = self.services.ml_batcher.get_or_init(|| MlBatcher::start(self.services.store.clone()));
            batcher.write(log.model, model_type, record, now).await.map_err(refusal)?;
            return Ok(1);
        }
        let outcome = self.services.store.write_ml_records(&log.model, model_type, log.records, now).await.map_err(refusal)?;
        Ok(outcome.records)
    }

    /// Checks records as [`MlModels::log`] does before writing them: an upload is checked whole
    /// before its first part is written.
    pub fn check(&self, model: &str, records: &[MlRecord], origin: MlOrigin, now: i64) -> Result<()> {
        let rules = RecordRules::new(origin, now);
        rules.model(model)?;
        records.iter().try_for_each(|record| rules.record(record))
    }

    pub async fn list(&self, caller: &Caller) -> Result<Vec<MlModelRecord>> {
        self.require_reader(caller)?;
        Ok(self.services.store.ml_models().await?)
    }

    pub async fn get(&self, caller: &Caller, name: &str) -> Result<MlModelDetail> {
        self.require_reader(caller)?;
        let model = self.model(name).await?;
        let columns = self.services.store.ml_columns(model.id).await?;
        let versions = self.services.store.ml_versions(model.id).await?;
        Ok(MlModelDetail { model, columns, versions })
    }

    /// The model `name` and `query` with its feature and tag `filters` (see `ml_filters`).
    pub(crate) async fn selection(
        &self,
        caller: &Caller,
        name: &str,
        mut query: MlRecordQuery,
        filters: &[String],
    ) -> Result<(MlModelDetail, MlRecordQuery)> {
        let detail = self.get(caller, name).await?;
        query.predicates = crate::ml_filters::predicates(&detail.columns, filters)?;
        Ok((detail, query))
    }

    /// A page of a model's records (`query.limit`, at most 1000) meeting `filters`, and whether
    /// more follow.
    pub async fn records(
        &self,
        caller: &Caller,
        name: &str,
        query: MlRecordQuery,
        filters: &[String],
    ) -> Result<(Vec<MlStoredRecord>, bool)> {
        let (detail, mut query) = self.selection(caller, name, query, filters).await?;
        let limit = query.limit.clamp(1, 1000);
        query.limit = limit + 1;
        let mut records = self.services.store.ml_records(detail.model.id, &detail.columns, &query).await?;
        let more = records.len() > limit;
        records.truncate(limit);
        Ok((records, more))
    }

    /// An export of the records `query` selects with `filters`: the model, its columns, the
    /// query with the filters resolved, and how many records.
    pub async fn plan_export(
        &self,
        caller: &Caller,
        name: &str,
        query: MlRecordQuery,
        filters: &[String],
    ) -> Result<(MlModelDetail, MlRecordQuery, i64)> {
        let (detail, query) = self.selection(caller, name, query, filters).await?;
        let total = self.services.store.ml_count(detail.model.id, &query).await?;
        Ok((detail, query, total))
    }

    /// A model's record by environment and prediction id.
    pub async fn record(&self, caller: &Caller, name: &str, environment: MlEnvironment, prediction_id: &str) -> Result<MlStoredRecord> {
        let detail = self.get(caller, name).await?;
        self.services
            .store
            .ml_record(detail.model.id, &detail.columns, environment, prediction_id)
            .await?
            .ok_or_else(|| ServiceError::not_found(format!("model {name:?} has no {} record {prediction_id:?}", environment.name())))
    }

    /// Records per time bin of `bin_seconds` between `start` and `end` (Unix ns).
    pub async fn volume(
        &self,
        caller: &Caller,
        name: &str,
        environment: MlEnvironment,
        start: i64,
        end: i64,
        bin_seconds: i64,
    ) -> Result<Vec<MlVolumeBin>> {
        self.require_reader(caller)?;
        if bin_seconds < 60 || end <= start || (end - start) / (bin_seconds * 1_000_000_000) > 10_000 {
            return Err(ServiceError::bad_request("the volume needs start < end and bins of at least 60 seconds, 10000 at most"));
        }
        let model = self.model(name).await?;
        Ok(self.services.store.ml_volume(model.id, environment, start, end, bin_seconds * 1_000_000_000).await?)
    }

    async fn model(&self, name: &str) -> Result<MlModelRecord> {
        self.services.store.ml_model(name).await?.ok_or_else(|| ServiceError::not_found(format!("no model is named {name:?}")))
    }

    fn require_writer(&self, caller: &Caller) -> Result<()> {
        caller.require_write()?;
        if caller.scope().project_id.is_some() {
            return Err(ServiceError::forbidden("an API key scoped to a project cannot log ML models"));
        }
        Ok(())
    }

    fn require_reader(&self, caller: &Caller) -> Result<()> {
        let scope = caller.scope();
        if scope.project_id.is_some() || scope.ingest_only {
            return Err(ServiceError::forbidden("this API key cannot read ML models"));
        }
        Ok(())
    }
}

/// The store refuses records that do not fit the model (label kind, value types, column count):
/// for the ML API that is a bad request, as Arize answers "invalid feature type".
fn refusal(error: StoreError) -> ServiceError {
    match error {
        StoreError::Invalid(message) => ServiceError::bad_request(message),
        other => other.into(),
    }
}

/// The rules of one record (see the module documentation), each on its own so that an upload's
/// table can be checked column by column, and together for a decoded record.
#[derive(Debug, Clone, Copy)]
pub struct RecordRules {
    origin: MlOrigin,
    earliest: i64,
    latest: i64,
}

fn bad(message: String) -> ServiceError {
    ServiceError::bad_request(message)
}

impl RecordRules {
    /// The rules of records arriving by `origin` at `now` (Unix ns).
    pub fn new(origin: MlOrigin, now: i64) -> RecordRules {
        let (back, ahead) = origin.window();
        RecordRules { origin, earliest: now - back, latest: now + ahead }
    }

    pub fn model(&self, model: &str) -> Result<()> {
        if model.trim().is_empty() {
            return Err(bad("model_id is required: name the model the records belong to".into()));
        }
        ember_core::limits::name_problem("model name", model).map_or(Ok(()), |problem| Err(bad(problem)))
    }

    pub fn prediction_id(&self, id: &str) -> Result<()> {
        if id.is_empty() {
            return Err(bad("prediction_id is required".into()));
        }
        ember_core::limits::name_problem("prediction id", id).map_or(Ok(()), |problem| Err(bad(problem)))
    }

    /// A record carries a prediction, an actual or SHAP values (`present`).
    pub fn content(&self, present: bool) -> Result<()> {
        if present {
            Ok(())
        } else {
            Err(bad("log must include prediction or actual".into()))
        }
    }

    pub fn time(&self, id: &str, time: i64) -> Result<()> {
        if time < self.earliest || time > self.latest {
            return Err(bad(format!("{} (record {id:?})", self.origin.out_of_window())));
        }
        Ok(())
    }

    /// How many features, tags, SHAP values and embeddings a record carries.
    pub fn value_count(&self, id: &str, count: usize) -> Result<()> {
        if count > MAX_VALUES_PER_RECORD {
            return Err(bad(format!(
                "the record {id:?} carries {count} features, tags, SHAP values and embeddings; at most {MAX_VALUES_PER_RECORD} are allowed"
            )));
        }
        Ok(())
    }

    /// A feature's, tag's, SHAP value's or embedding's name.
    pub fn name(&self, id: &str, name: &str) -> Result<()> {
        if name.is_empty() {
            return Err(bad(format!("the record {id:?} has a feature or tag with an empty name")));
        }
        ember_core::limits::name_problem("feature or tag name", name).map_or(Ok(()), |problem| Err(bad(problem)))
    }

    pub fn embedding_count(&self, id: &str, count: usize) -> Result<()> {
        if count > MAX_EMBEDDINGS_PER_RECORD {
            return Err(bad(format!("the record {id:?} has {count} embeddings; at most {MAX_EMBEDDINGS_PER_RECORD} are allowed")));
        }
        Ok(())
    }

    pub fn embedding(&self, id: &str, name: &str, vector: &[f64]) -> Result<()> {
        let dimensions = vector.len();
        if dimensions == 0 || dimensions > MAX_EMBEDDING_DIMENSIONS {
            return Err(bad(format!(
                "the embedding {name:?} of record {id:?} has {dimensions} dimensions; it needs 1 to {MAX_EMBEDDING_DIMENSIONS}"
            )));
        }
        if vector.iter().any(|value| !value.is_finite()) {
            return Err(bad(format!("the embedding {name:?} of record {id:?} holds a value that is not a finite number")));
        }
        Ok(())
    }

    /// Every rule, on a decoded record.
    pub fn record(&self, record: &MlRecord) -> Result<()> {
        let id = record.prediction_id.as_str();
        self.prediction_id(id)?;
        self.content(record.prediction.is_some() || record.actual.is_some() || !record.shap.is_empty())?;
        let times = [record.prediction.as_ref().and_then(|p| p.time), record.actual.as_ref().and_then(|a| a.time)];
        times.into_iter().flatten().try_for_each(|time| self.time(id, time))?;
        self.value_count(id, record.value_count())?;
        let names = record
            .prediction
            .iter()
            .flat_map(|p| p.features.keys().chain(p.tags.keys()).chain(p.embeddings.keys()))
            .chain(record.actual.iter().flat_map(|a| a.tags.keys()))
            .chain(record.shap.keys());
        for name in names {
            self.name(id, name)?;
        }
        if let Some(prediction) = &record.prediction {
            self.embedding_count(id, prediction.embeddings.len())?;
            for (name, embedding) in &prediction.embeddings {
                self.embedding(id, name, &embedding.vector)?;
            }
        }
        Ok(())
    }
}
