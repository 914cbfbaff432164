//! The ML models pages: every model, and one model's monitoring — volume, performance over
//! time, the feature drift table (most drifted first, each feature's baseline and current
//! distributions), embedding drift and the first records of the window. Every figure comes from
//! the service the REST monitoring API calls.

use axum::extract::{Path, Query, State};
use ember_core::ml::{MlEnvironment, ModelType};
use ember_core::time::now_nanos;
use ember_service::ml_filters;
use ember_service::ml_monitoring::{MlMetrics, MlPerformanceRequest};
use ember_store::{MlColumnRole, MlRecordQuery, MlStoredRecord, StoredLabel};
use maud::{html, Markup};
use serde::Deserialize;

use super::charts;
use super::error::UiResult;
use super::format;
use super::layout::{shell, Section};
use super::window::TimeRange;
use crate::authentication::RequestCaller;
use crate::AppState;

const HOUR: i64 = 3_600_000_000_000;
const RECORDS_SHOWN: usize = 25;

pub async fn list(State(state): State<AppState>, RequestCaller(caller): RequestCaller) -> UiResult<Markup> {
    let models = state.services.ml_models().list(&caller).await?;
    let body = html! {
        h1 { "Models" }
        p.muted { "Classic ML models logged with the Arize ML API (" code { "/v1/log" } ", " code { "ml.log" } ")." }
        table.grid #models {
            thead { tr { th { "Model" } th { "Type" } th { "Created" } th { "Last record" } } }
            tbody {
                @for model in &models {
                    @let href = model_href(&model.name);
                    tr data-href=(href) data-nav-row tabindex="-1" {
                        td { a href=(href) { (model.name) } }
                        td { (type_label(model.model_type)) }
                        td { (format::local_time(model.created_at)) }
                        td { (format::local_time(model.updated_at)) }
                    }
                }
            }
        }
        @if models.is_empty() { p.muted { "No models yet: log records with the arize SDK's ml.log or ml.log_stream." } }
    };
    Ok(shell("Models", Section::Models, &caller, body))
}

#[derive(Debug, Default, Deserialize)]
pub struct ModelQuery {
    range: Option<String>,
    environment: Option<String>,
    /// `training`, `validation`, or `previous` (the production window before this one).
    baseline: Option<String>,
    positive_class: Option<String>,
    filter: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(name): Path<String>,
    Query(query): Query<ModelQuery>,
) -> UiResult<Markup> {
    let models = state.services.ml_models();
    let detail = models.get(&caller, &name).await?;
    let range = TimeRange::preset(query.range.as_deref(), now_nanos());
    let environment = query.environment.as_deref().and_then(MlEnvironment::parse).unwrap_or(MlEnvironment::Production);
    let bin_seconds = if range.end - range.start <= 24 * HOUR { 3600 } else { 86_400 };
    let filter = query.filter.as_deref().map(str::trim).filter(|filter| !filter.is_empty());
    let filters: Vec<String> = filter.map(str::to_string).into_iter().collect();
    let current = MlRecordQuery { start: Some(range.start), end: Some(range.end), ..MlRecordQuery::environment(environment) };
    let baseline_key = query.baseline.as_deref().unwrap_or("training");
    let baseline = match baseline_key {
        "validation" => MlRecordQuery::environment(MlEnvironment::Validation),
        "previous" => MlRecordQuery {
            start: Some(range.start - (range.end - range.start)),
            end: Some(range.start),
            ..MlRecordQuery::environment(MlEnvironment::Production)
        },
        _ => MlRecordQuery::environment(MlEnvironment::Training),
    };

    let volume = models.volume(&caller, &name, environment, range.start, range.end, bin_seconds).await?;
    // A bad filter is the user's to fix: shown under the box, the rest of the page without it.
    let (filters, filter_problem) = match ml_filters::predicates(&detail.columns, &filters) {
        Ok(_) => (filters, None),
        Err(error) => (Vec::new(), Some(error.to_string())),
    };
    let request = MlPerformanceRequest {
        bin_seconds: Some(bin_seconds),
        positive_class: query.positive_class.clone().filter(|class| !class.trim().is_empty()),
        ..Default::default()
    };
    let performance = models.performance(&caller, &name, current.clone(), &filters, request).await?;
    let drift = models.drift(&caller, &name, current.clone(), baseline.clone(), &filters, None).await?;
    let embeddings = models.embedding_drift(&caller, &name, current.clone(), baseline, &filters).await?;
    let (records, more) = models.records(&caller, &name, MlRecordQuery { limit: RECORDS_SHOWN, ..current }, &filters).await?;

    // Every bin of the range, empty ones too, so that the charts share one time axis.
    let bin_nanos = bin_seconds * 1_000_000_000;
    let slots: Vec<i64> = (range.start - range.start.rem_euclid(bin_nanos)..range.end).step_by(bin_nanos as usize).collect();
    let bin_labels: Vec<String> = slots.iter().map(|start| format::timestamp(*start)).collect();
    let volume_by_bin: std::collections::HashMap<i64, i64> = volume.iter().map(|bin| (bin.start, bin.records)).collect();
    let metrics_by_bin: std::collections::HashMap<i64, &MlMetrics> =
        performance.bins.iter().map(|(start, metrics)| (*start, metrics)).collect();
    let series = |pick: fn(&MlMetrics) -> Option<f64>| -> Vec<Option<f64>> {
        slots.iter().map(|start| metrics_by_bin.get(start).and_then(|metrics| pick(metrics))).collect()
    };
    let headline = headline_metrics(detail.model.model_type);
    let features: Vec<&str> = detail.columns.iter().filter(|c| c.role == MlColumnRole::Feature).map(|c| c.name.as_str()).collect();
    let shown_features: Vec<&str> = features.iter().copied().take(6).collect();
    let export = format!(
        "/v1/ml/models/{}/export?environment={}&start_time={}&end_time={}",
        encode(&name),
        environment.name(),
        encode(&ember_core::time::format_nanos(range.start)),
        encode(&ember_core::time::format_nanos(range.end))
    );

    let body = html! {
        div.crumbs { a href="/models" { "Models" } " / " (name) }
        h1 { (name) }
        p.muted {
            (type_label(detail.model.model_type)) " · " (features.len()) " features · "
            (detail.columns.iter().filter(|c| c.role == MlColumnRole::Tag).count()) " tags · "
            (detail.columns.iter().filter(|c| c.role == MlColumnRole::Embedding).count()) " embeddings · versions: "
            (versions(&detail.versions.iter().filter_map(|v| v.version.clone()).collect::<Vec<_>>()))
        }
        form.toolbar #model-form method="get" action=(model_href(&name)) {
            (range.preset_picker())
            label.muted for="environment" { "Environment " }
            select #environment name="environment" {
                @for option in [MlEnvironment::Production, MlEnvironment::Validation, MlEnvironment::Training] {
                    option value=(option.name()) selected[option == environment] { (option.name().to_lowercase()) }
                }
            }
            label.muted for="baseline" { "Baseline " }
            select #baseline name="baseline" {
                @for (key, label) in [("training", "training"), ("validation", "validation"), ("previous", "previous window")] {
                    option value=(key) selected[key == baseline_key] { (label) }
                }
            }
            @if performance.positive_class.is_some() {
                label.muted for="positive_class" { "Positive class " }
                input #positive_class type="text" name="positive_class" value=(performance.positive_class.clone().unwrap_or_default()) size="10";
            }
            input.grow #filter type="text" name="filter" value=(filter.unwrap_or_default()) placeholder="filter: feature == value, amount >= 100" aria-label="Filter";
            button type="submit" { "Apply" }
        }
        @if let Some(problem) = &filter_problem { p.notice.error role="alert" { (problem) } }

        h2 { "Performance" }
        div.cards {
            (card("Records in range", format::count(volume.iter().map(|bin| bin.records).sum())))
            (card(if performance.model_type == ModelType::Ranking { "Scored groups" } else { "Scored records" }, format::count(performance.overall.count)))
            @for (label, pick) in &headline {
                (card(label, metric_text(pick(&performance.overall))))
            }
        }
        div.charts {
            div.chart #volume-chart { div.title { "Records per " (if bin_seconds == 3600 { "hour" } else { "day" }) }
                (charts::bars(&slots.iter().map(|start| volume_by_bin.get(start).copied().unwrap_or(0)).collect::<Vec<_>>(), &bin_labels, "")) }
            @for (label, pick) in headline.iter().take(2) {
                div.chart.performance-chart { div.title { (label) " over time" }
                    (charts::metric_line(&series(*pick), &format!("{label} per {} from {}", if bin_seconds == 3600 { "hour" } else { "day" }, bin_labels.first().cloned().unwrap_or_default()))) }
            }
        }

        h2 { "Drift" }
        p.muted { "Against the " (baseline_key) " baseline: PSI and Jensen–Shannon distance; numbers binned on the baseline's deciles. Grey: baseline, orange: current." }
        table.grid #drift {
            thead { tr { th { "Feature" } th.num { "PSI" } th.num { "JS distance" } th.num { "Baseline" } th.num { "Current" } th { "Distribution" } } }
            tbody {
                @for entry in &drift {
                    tr {
                        td { (entry.name) @if entry.role == "prediction" { " " span.muted { "(prediction)" } } }
                        td.num.error-text[entry.psi.is_some_and(|psi| psi >= 0.25)] { (metric_text(entry.psi)) }
                        td.num { (metric_text(entry.js_distance)) }
                        td.num { (format::count(entry.baseline_count)) }
                        td.num { (format::count(entry.current_count)) }
                        td { div.chart-cell { (charts::distribution(&entry.bins.iter().map(|bin| (bin.label.clone(), bin.baseline, bin.current)).collect::<Vec<_>>())) } }
                    }
                }
            }
        }
        @if drift.is_empty() { p.muted { "No features to compare." } }
        @if !embeddings.is_empty() {
            h3 { "Embedding drift" }
            table.grid #embedding-drift {
                thead { tr { th { "Embedding" } th.num { "Centroid distance" } th.num { "Baseline" } th.num { "Current" } } }
                tbody { @for entry in &embeddings { tr {
                    td { (entry.name) } td.num { (metric_text(entry.distance)) }
                    td.num { (format::count(entry.baseline_records)) } td.num { (format::count(entry.current_records)) }
                } } }
            }
        }

        h2 { "Records" }
        p.muted { "The first " (RECORDS_SHOWN) " of the window. Export: "
            a href=(format!("{export}&format=jsonl")) { "JSON lines" } ", " a href=(format!("{export}&format=csv")) { "CSV" } ", "
            a href=(format!("{export}&format=parquet")) { "Parquet" } "." }
        table.grid #records {
            thead { tr {
                th { "Prediction id" } th { "Time" } th { "Version" } th { "Prediction" } th { "Actual" }
                @for feature in &shown_features { th { (feature) } }
            } }
            tbody { @for record in &records { (record_row(record, &shown_features)) } }
        }
        @if records.is_empty() { p.muted { "No records in this window." } }
        @if more { p.muted { "More records follow; export them, or narrow the filter." } }
    };
    Ok(shell(&name, Section::Models, &caller, body))
}

fn record_row(record: &MlStoredRecord, features: &[&str]) -> Markup {
    html! {
        tr {
            td.mono { (record.prediction_id) }
            td { (format::local_time(record.time)) }
            td { (record.model_version.clone().unwrap_or_default()) }
            td { (label_text(record.prediction.as_ref())) }
            td { (label_text(record.actual.as_ref())) }
            @for feature in features {
                td { (record.features.get(*feature).map(value_text).unwrap_or_default()) }
            }
        }
    }
}

fn value_text(value: &ember_core::ml::MlValue) -> String {
    use ember_core::ml::MlValue;
    match value {
        MlValue::Double(number) => format!("{number}"),
        MlValue::Int(number) => number.to_string(),
        MlValue::String(text) => format::preview(text, 40),
        MlValue::List(items) => format::preview(&items.join(", "), 40),
        MlValue::Dictionary(map) => format::preview(&format!("{map:?}"), 40),
    }
}

fn label_text(label: Option<&StoredLabel>) -> String {
    let Some(label) = label else { return String::new() };
    let mut parts = Vec::new();
    if let Some(group) = &label.group_id {
        parts.push(format!("{group} #{}", label.rank.unwrap_or_default()));
    }
    if let Some(text) = &label.label {
        parts.push(text.clone());
    }
    if let Some(score) = label.score {
        parts.push(format!("{score:.3}"));
    }
    if let Some(value) = label.value {
        parts.push(format!("{value}"));
    }
    parts.join(" · ")
}

/// A metric's label and how to read it.
type MetricPick = (&'static str, fn(&MlMetrics) -> Option<f64>);

/// The metrics a model type is judged by, headline first.
fn headline_metrics(model_type: ModelType) -> Vec<MetricPick> {
    match model_type {
        ModelType::Binary | ModelType::ScoreCategorical | ModelType::Categorical => vec![
            ("Accuracy", |m| m.accuracy),
            ("AUC", |m| m.auc),
            ("Precision", |m| m.precision),
            ("Recall", |m| m.recall),
            ("F1", |m| m.f1),
            ("Log loss", |m| m.log_loss),
        ],
        ModelType::Numeric => vec![("RMSE", |m| m.rmse), ("MAE", |m| m.mae), ("MAPE", |m| m.mape), ("R²", |m| m.r2)],
        ModelType::Ranking => vec![("NDCG@10", |m| m.ndcg)],
        ModelType::ObjectDetection | ModelType::MultiClass => Vec::new(),
    }
}

fn type_label(model_type: ModelType) -> &'static str {
    match model_type {
        ModelType::Binary => "binary classification",
        ModelType::Numeric => "regression",
        ModelType::Categorical => "categorical",
        ModelType::ScoreCategorical => "score categorical",
        ModelType::Ranking => "ranking",
        ModelType::ObjectDetection => "object detection",
        ModelType::MultiClass => "multi-class",
    }
}

fn versions(versions: &[String]) -> String {
    let mut unique: Vec<&String> = versions.iter().collect();
    unique.dedup();
    if unique.is_empty() {
        "none".into()
    } else {
        unique.iter().map(|version| version.as_str()).collect::<Vec<_>>().join(", ")
    }
}

fn metric_text(value: Option<f64>) -> String {
    match value {
        Some(value) if value.abs() >= 1000.0 => format!("{value:.0}"),
        Some(value) => format!("{value:.4}"),
        None => "—".into(),
    }
}

fn card(label: &str, value: String) -> Markup {
    html! { div.card { div.value { (value) } div.label { (label) } } }
}

/// What a path segment or query value keeps as it is.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, UNRESERVED).to_string()
}

fn model_href(name: &str) -> String {
    format!("/models/{}", encode(name))
}
