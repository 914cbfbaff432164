//! Stored records as the REST API's wire shapes (`ember_wire`): the one place that knows both.
//! GlobalIDs are minted here, times formatted as Phoenix formats them, and the bodies lists
//! return by the thousand borrow from the records.

use std::borrow::Cow;

use ember_core::time::format_nanos;
use ember_core::{semconv, AnnotationTarget, GlobalId, GlobalType};
use ember_store::{
    AnnotationConfig, AnnotationRecord, DatasetLabelRecord, DatasetRecord, DatasetSplitRecord, DatasetVersionRecord, ExampleRecord,
    ExperimentEvaluationRecord, ExperimentRecord, ExperimentRunRecord, ExperimentTagRecord, ExportedRun, Project, PromptRecord,
    PromptVersionRecord, PromptVersionTagRecord, SessionRecord, SpanRecord, TraceRecord, UserRecord,
};
use ember_wire as w;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{Map, Value};

/// A page of a list, its cursor a GlobalID of `global_type`.
pub fn page<T>(data: Vec<T>, next_cursor: Option<i64>, global_type: GlobalType) -> w::Page<T> {
    w::Page { data, next_cursor: next_cursor.map(|rowid| GlobalId::encode(global_type, rowid)) }
}

pub fn id(global_type: GlobalType, rowid: i64) -> w::Id {
    w::Id { id: GlobalId::encode(global_type, rowid) }
}

pub fn project(project: &Project) -> w::Project {
    w::Project {
        name: project.name.clone(),
        description: project.description.clone(),
        id: GlobalId::encode(GlobalType::Project, project.id),
    }
}

/// Nested attributes written as dotted keys (see `ember_otlp::attributes::flatten`), without
/// `openinference.span.kind`, which a span shows as `span_kind`.
#[derive(Debug)]
pub struct FlatAttributes<'a>(&'a Map<String, Value>);

impl Serialize for FlatAttributes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        ember_otlp::attributes::try_for_each_flat(self.0, |key, value| {
            if key == semconv::SPAN_KIND {
                return Ok(());
            }
            map.serialize_entry(key, value)
        })?;
        map.end()
    }
}

/// A span as `GET /v1/projects/{p}/spans` returns it, written straight from the record.
pub fn span(record: &SpanRecord) -> w::Span<'_, FlatAttributes<'_>> {
    let span = &record.span;
    w::Span {
        id: GlobalId::encode(GlobalType::Span, record.rowid),
        name: Cow::Borrowed(&span.name),
        context: w::SpanContext { trace_id: Cow::Borrowed(&span.trace_id), span_id: Cow::Borrowed(&span.span_id) },
        span_kind: Cow::Borrowed(span.span_kind.as_str()),
        parent_id: span.parent_id.as_deref().map(Cow::Borrowed),
        start_time: format_nanos(span.start_time),
        end_time: format_nanos(span.end_time),
        status_code: Cow::Borrowed(span.status_code.as_str()),
        status_message: Cow::Borrowed(&span.status_message),
        attributes: FlatAttributes(&span.attributes),
        events: span
            .events
            .iter()
            .map(|event| w::SpanEvent {
                name: Cow::Borrowed(&event.name),
                timestamp: format_nanos(event.timestamp),
                attributes: Cow::Borrowed(&event.attributes),
            })
            .collect(),
    }
}

pub fn trace(trace: &TraceRecord, spans: Option<Vec<w::TraceSpan>>) -> w::Trace {
    w::Trace {
        id: GlobalId::encode(GlobalType::Trace, trace.rowid),
        trace_id: trace.trace_id.clone(),
        project_id: GlobalId::encode(GlobalType::Project, trace.project_id),
        start_time: format_nanos(trace.start_time),
        end_time: format_nanos(trace.end_time),
        token_count_prompt: trace.token_count_prompt,
        token_count_completion: trace.token_count_completion,
        token_count_total: trace.token_count_prompt + trace.token_count_completion,
        spans,
    }
}

/// The span summary inside a trace (`TraceSpanData`).
pub fn trace_span(record: &SpanRecord) -> w::TraceSpan {
    let span = &record.span;
    w::TraceSpan {
        id: GlobalId::encode(GlobalType::Span, record.rowid),
        span_id: span.span_id.clone(),
        parent_id: span.parent_id.clone(),
        name: span.name.clone(),
        span_kind: span.span_kind.as_str().to_string(),
        status_code: span.status_code.as_str().to_string(),
        start_time: format_nanos(span.start_time),
        end_time: format_nanos(span.end_time),
    }
}

pub fn session(session: &SessionRecord) -> w::Session {
    w::Session {
        id: GlobalId::encode(GlobalType::ProjectSession, session.rowid),
        session_id: session.session_id.clone(),
        project_id: GlobalId::encode(GlobalType::Project, session.project_id),
        start_time: format_nanos(session.start_time),
        end_time: format_nanos(session.end_time),
        traces: session
            .traces
            .iter()
            .map(|trace| w::SessionTrace {
                id: GlobalId::encode(GlobalType::Trace, trace.rowid),
                trace_id: trace.trace_id.clone(),
                start_time: format_nanos(trace.start_time),
                end_time: format_nanos(trace.end_time),
            })
            .collect(),
        token_count_prompt: session.token_count_prompt,
        token_count_completion: session.token_count_completion,
        token_count_total: session.token_count_prompt + session.token_count_completion,
    }
}

/// An annotation of a span, trace or session, written straight from the record.
pub fn annotation(target: AnnotationTarget, record: &AnnotationRecord) -> w::Annotation<'_> {
    let target_id = Cow::Borrowed(record.target_id.as_str());
    w::Annotation {
        id: GlobalId::encode(target.annotation_type(), record.rowid),
        created_at: format_nanos(record.created_at),
        updated_at: format_nanos(record.updated_at),
        source: Cow::Borrowed(record.source.as_str()),
        user_id: record.user_id.map(|id| GlobalId::encode(GlobalType::User, id)),
        name: Cow::Borrowed(&record.name),
        annotator_kind: Cow::Borrowed(record.annotator_kind.as_str()),
        result: w::AnnotationResult {
            label: record.label.as_deref().map(Cow::Borrowed),
            score: record.score,
            explanation: record.explanation.as_deref().map(Cow::Borrowed),
        },
        metadata: Cow::Borrowed(&record.metadata),
        identifier: Cow::Borrowed(&record.identifier),
        target: match target {
            AnnotationTarget::Span | AnnotationTarget::Document => w::AnnotationTargetId::Span(target_id),
            AnnotationTarget::Trace => w::AnnotationTargetId::Trace(target_id),
            AnnotationTarget::Session => w::AnnotationTargetId::Session(target_id),
        },
    }
}

pub fn annotation_config(config: &AnnotationConfig) -> w::AnnotationConfig {
    w::AnnotationConfig {
        config: config.config.as_object().cloned().unwrap_or_default(),
        name: config.name.clone(),
        id: GlobalId::encode(GlobalType::AnnotationConfig, config.id),
    }
}

pub fn dataset(dataset: &DatasetRecord) -> w::Dataset {
    w::Dataset {
        id: GlobalId::encode(GlobalType::Dataset, dataset.id),
        name: dataset.name.clone(),
        description: dataset.description.clone(),
        metadata: dataset.metadata.clone(),
        created_at: format_nanos(dataset.created_at),
        updated_at: format_nanos(dataset.updated_at),
        example_count: dataset.example_count,
    }
}

pub fn dataset_version(version: &DatasetVersionRecord) -> w::DatasetVersion {
    w::DatasetVersion {
        version_id: GlobalId::encode(GlobalType::DatasetVersion, version.id),
        description: version.description.clone(),
        metadata: version.metadata.clone(),
        created_at: format_nanos(version.created_at),
    }
}

/// An example, written straight from the record (a large dataset's examples are not copied).
pub fn example(example: &ExampleRecord) -> w::Example<'_> {
    let node_id = GlobalId::encode(GlobalType::DatasetExample, example.id);
    w::Example {
        id: match &example.external_id {
            Some(external) => Cow::Borrowed(external.as_str()),
            None => Cow::Owned(node_id.clone()),
        },
        node_id,
        input: Cow::Borrowed(&example.input),
        output: Cow::Borrowed(&example.output),
        metadata: Cow::Borrowed(&example.metadata),
        updated_at: format_nanos(example.updated_at),
        source: example.span.as_ref().map(|(span_rowid, span_id)| w::ExampleSource {
            span_id: Cow::Borrowed(span_id.as_str()),
            span_node_id: GlobalId::encode(GlobalType::Span, *span_rowid),
        }),
    }
}

pub fn dataset_label(label: &DatasetLabelRecord) -> w::DatasetLabel {
    w::DatasetLabel {
        id: GlobalId::encode(GlobalType::DatasetLabel, label.id),
        name: label.name.clone(),
        description: label.description.clone(),
        color: label.color.clone(),
    }
}

pub fn dataset_split(split: &DatasetSplitRecord) -> w::DatasetSplit {
    w::DatasetSplit {
        id: GlobalId::encode(GlobalType::DatasetSplit, split.id),
        name: split.name.clone(),
        description: split.description.clone(),
        color: split.color.clone(),
        metadata: split.metadata.clone(),
        example_count: split.example_count,
        created_at: format_nanos(split.created_at),
        updated_at: format_nanos(split.updated_at),
    }
}

pub fn experiment(experiment: ExperimentRecord) -> w::Experiment {
    w::Experiment {
        id: GlobalId::encode(GlobalType::Experiment, experiment.id),
        dataset_id: GlobalId::encode(GlobalType::Dataset, experiment.dataset_id),
        dataset_version_id: GlobalId::encode(GlobalType::DatasetVersion, experiment.dataset_version_id),
        missing_run_count: experiment.missing_run_count(),
        name: experiment.name,
        description: experiment.description,
        repetitions: experiment.repetitions,
        metadata: experiment.metadata,
        project_name: experiment.project_name,
        created_at: format_nanos(experiment.created_at),
        updated_at: format_nanos(experiment.updated_at),
        example_count: experiment.example_count,
        successful_run_count: experiment.successful_run_count,
        failed_run_count: experiment.failed_run_count,
    }
}

pub fn experiment_run(run: &ExperimentRunRecord) -> w::ExperimentRun<'_> {
    w::ExperimentRun {
        id: GlobalId::encode(GlobalType::ExperimentRun, run.id),
        experiment_id: GlobalId::encode(GlobalType::Experiment, run.experiment_id),
        dataset_example_id: GlobalId::encode(GlobalType::DatasetExample, run.dataset_example_id),
        repetition_number: run.repetition_number,
        output: Cow::Borrowed(&run.output),
        start_time: format_nanos(run.start_time),
        end_time: format_nanos(run.end_time),
        trace_id: run.trace_id.as_deref().map(Cow::Borrowed),
        error: run.error.as_deref().map(Cow::Borrowed),
    }
}

pub fn experiment_tag(tag: &ExperimentTagRecord) -> w::ExperimentTag {
    w::ExperimentTag {
        id: GlobalId::encode(GlobalType::ExperimentTag, tag.id),
        name: tag.name.clone(),
        description: tag.description.clone(),
    }
}

/// A run of an experiment's download, with its example and evaluations.
pub fn downloaded_run(exported: &ExportedRun) -> w::DownloadedRun<'_> {
    let run = &exported.run;
    w::DownloadedRun {
        example_id: GlobalId::encode(GlobalType::DatasetExample, run.dataset_example_id),
        repetition_number: run.repetition_number,
        input: Cow::Borrowed(&exported.input),
        reference_output: Cow::Borrowed(&exported.reference_output),
        output: Cow::Borrowed(&run.output),
        metadata: Cow::Borrowed(&exported.example_metadata),
        error: run.error.as_deref().map(Cow::Borrowed),
        latency_ms: (run.end_time - run.start_time) as f64 / 1e6,
        start_time: format_nanos(run.start_time),
        end_time: format_nanos(run.end_time),
        trace_id: run.trace_id.as_deref().map(Cow::Borrowed),
        prompt_token_count: run.prompt_token_count,
        completion_token_count: run.completion_token_count,
        annotations: exported.evaluations.iter().map(downloaded_evaluation).collect(),
    }
}

fn downloaded_evaluation(evaluation: &ExperimentEvaluationRecord) -> w::DownloadedEvaluation<'_> {
    w::DownloadedEvaluation {
        name: Cow::Borrowed(&evaluation.name),
        annotator_kind: Cow::Borrowed(evaluation.annotator_kind.as_str()),
        label: evaluation.label.as_deref().map(Cow::Borrowed),
        score: evaluation.score,
        explanation: evaluation.explanation.as_deref().map(Cow::Borrowed),
        trace_id: evaluation.trace_id.as_deref().map(Cow::Borrowed),
        error: evaluation.error.as_deref().map(Cow::Borrowed),
        metadata: Cow::Borrowed(&evaluation.metadata),
        start_time: format_nanos(evaluation.start_time),
        end_time: format_nanos(evaluation.end_time),
    }
}

pub fn prompt(prompt: &PromptRecord) -> w::Prompt {
    w::Prompt {
        name: prompt.name.clone(),
        description: prompt.description.clone(),
        source_prompt_id: prompt.source_prompt_id.map(|id| GlobalId::encode(GlobalType::Prompt, id)),
        metadata: prompt.metadata.as_object().cloned(),
        id: GlobalId::encode(GlobalType::Prompt, prompt.id),
    }
}

/// A version as Phoenix shows it: fields never set are left out, a missing description is `""`.
pub fn prompt_version(version: &PromptVersionRecord) -> w::PromptVersion {
    let content = &version.content;
    w::PromptVersion {
        description: content.description.clone().unwrap_or_default(),
        model_provider: content.model_provider.clone(),
        model_name: content.model_name.clone(),
        template: content.template.clone(),
        template_type: content.template_type.clone(),
        template_format: content.template_format.clone(),
        invocation_parameters: content.invocation_parameters.clone(),
        tools: content.tools.clone(),
        response_format: content.response_format.clone(),
        id: GlobalId::encode(GlobalType::PromptVersion, version.id),
    }
}

pub fn prompt_version_tag(tag: &PromptVersionTagRecord) -> w::PromptVersionTag {
    w::PromptVersionTag {
        name: tag.name.clone(),
        description: tag.description.clone(),
        id: GlobalId::encode(GlobalType::PromptVersionTag, tag.id),
    }
}

pub fn api_key(key: &ember_store::ApiKeyRecord, global_type: GlobalType) -> w::ApiKey {
    w::ApiKey {
        id: GlobalId::encode(global_type, key.id),
        name: key.name.clone(),
        description: key.description.clone(),
        created_at: format_nanos(key.created_at),
        expires_at: key.expires_at.map(format_nanos),
        project_id: key.scope.project_id.map(|project_id| GlobalId::encode(GlobalType::Project, project_id)),
        ingest_only: key.scope.ingest_only,
    }
}

pub fn user(user: &UserRecord) -> w::User {
    w::User {
        id: GlobalId::encode(GlobalType::User, user.id),
        created_at: format_nanos(user.created_at),
        updated_at: format_nanos(user.updated_at),
        email: user.email.clone(),
        username: user.username.clone(),
        role: user.role.clone(),
        auth_method: user.auth_method.clone(),
        password_needs_reset: (user.auth_method == "LOCAL").then_some(user.password_needs_reset),
        oauth2_client_id: user.oauth2_client_id.clone(),
        oauth2_user_id: user.oauth2_user_id.clone(),
    }
}

pub fn retention_policy(policy: &ember_service::retention::RetentionPolicy) -> w::RetentionPolicy {
    use ember_service::retention::{next_run_after, parse_schedule};
    let record = &policy.record;
    let rule = match record.rule {
        ember_store::RetentionRule::MaxDays(max_days) => w::RetentionRule::MaxDays { max_days },
        ember_store::RetentionRule::MaxCount(max_count) => w::RetentionRule::MaxCount { max_count },
        ember_store::RetentionRule::MaxDaysOrCount { max_days, max_count } => w::RetentionRule::MaxDaysOrCount { max_days, max_count },
    };
    let next_run = parse_schedule(&record.cron_expression)
        .ok()
        .and_then(|schedule| next_run_after(&schedule, record.last_applied_at.unwrap_or(record.created_at)));
    w::RetentionPolicy {
        id: GlobalId::encode(GlobalType::ProjectTraceRetentionPolicy, record.id),
        name: record.name.clone(),
        cron_expression: record.cron_expression.clone(),
        rule,
        project_ids: policy.project_ids.iter().map(|id| GlobalId::encode(GlobalType::Project, *id)).collect(),
        last_applied_at: record.last_applied_at.map(format_nanos),
        next_run_at: next_run.map(format_nanos),
    }
}

pub fn store_retention_rule(rule: w::RetentionRule) -> ember_store::RetentionRule {
    match rule {
        w::RetentionRule::MaxDays { max_days } => ember_store::RetentionRule::MaxDays(max_days),
        w::RetentionRule::MaxCount { max_count } => ember_store::RetentionRule::MaxCount(max_count),
        w::RetentionRule::MaxDaysOrCount { max_days, max_count } => ember_store::RetentionRule::MaxDaysOrCount { max_days, max_count },
    }
}

pub fn token_prices(rates: &ember_core::cost::TokenRates) -> w::TokenPrices {
    w::TokenPrices {
        input: rates.input,
        output: rates.output,
        cache_read: rates.cache_read,
        cache_write: rates.cache_write,
        prompt_audio: rates.prompt_audio,
        prompt_image: rates.prompt_image,
        reasoning: rates.reasoning,
        completion_audio: rates.completion_audio,
        completion_image: rates.completion_image,
    }
}

pub fn token_rates(prices: &w::TokenPrices) -> ember_core::cost::TokenRates {
    ember_core::cost::TokenRates {
        input: prices.input,
        output: prices.output,
        cache_read: prices.cache_read,
        cache_write: prices.cache_write,
        prompt_audio: prices.prompt_audio,
        prompt_image: prices.prompt_image,
        reasoning: prices.reasoning,
        completion_audio: prices.completion_audio,
        completion_image: prices.completion_image,
    }
}

pub fn model_price(record: &ember_store::PriceRecord) -> w::ModelPrice {
    let price = &record.price;
    w::ModelPrice {
        id: GlobalId::encode(GlobalType::GenerativeModel, price.id),
        name: price.name.clone(),
        name_pattern: price.name_pattern.clone(),
        provider: Some(price.provider.clone()).filter(|provider| !provider.is_empty()),
        source: price.origin.as_str().to_string(),
        effective_from: price.effective_from.map(format_nanos),
        prices: token_prices(&price.rates),
        created_at: format_nanos(record.created_at),
        updated_at: format_nanos(record.updated_at),
    }
}

pub fn cost_summary(totals: &ember_store::CostTotals) -> w::CostSummary {
    let breakdown = |tokens: i64, cost: f64| w::CostBreakdown { tokens, cost };
    w::CostSummary {
        prompt: breakdown(totals.prompt_tokens, totals.prompt_cost),
        completion: breakdown(totals.completion_tokens, totals.completion_cost),
        total: breakdown(totals.prompt_tokens + totals.completion_tokens, totals.total_cost()),
    }
}
