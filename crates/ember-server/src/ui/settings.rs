//! Settings: annotation configs, created, edited and deleted with the REST API's rules.

use axum::extract::{Form, Path, Query, State};
use axum::response::Redirect;
use ember_store::{AnnotationConfig, StoreError};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::UiResult;
use super::layout::{shell, Section};
use crate::routes::annotation_configs::ConfigData;
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct SettingsQuery {
    notice: Option<String>,
    error: Option<String>,
}

/// The config form's fields; `values` holds one `label` or `label=score` per line.
#[derive(Debug, Deserialize)]
pub struct ConfigForm {
    name: String,
    kind: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    values: String,
    #[serde(default)]
    lower_bound: String,
    #[serde(default)]
    upper_bound: String,
}

fn to(path: &str, key: &str, message: &str) -> Redirect {
    Redirect::to(&format!("{path}?{key}={}", percent_encoding::utf8_percent_encode(message, percent_encoding::NON_ALPHANUMERIC)))
}

/// The form as the REST API's config body, validated as the API validates it.
fn validated(form: &ConfigForm) -> Result<(String, Value), String> {
    let number = |text: &str, field: &str| -> Result<Option<f64>, String> {
        match text.trim() {
            "" => Ok(None),
            t => t.parse::<f64>().map(Some).map_err(|_| format!("{field} {t:?} is not a number")),
        }
    };
    let mut values = Vec::new();
    for line in form.values.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (label, score) = match line.split_once('=') {
            Some((label, score)) => (label.trim(), number(score, "the score")?),
            None => (line, None),
        };
        values.push(json!({"label": label, "score": score}));
    }
    let direction = match form.direction.as_str() {
        "" => "NONE",
        other => other,
    };
    let body = json!({
        "type": form.kind, "name": form.name.trim(), "description": Some(form.description.trim()).filter(|d| !d.is_empty()),
        "optimization_direction": direction, "values": values,
        "lower_bound": number(&form.lower_bound, "the lower bound")?, "upper_bound": number(&form.upper_bound, "the upper bound")?,
    });
    let data: ConfigData = serde_json::from_value(body).map_err(|e| format!("the config is not valid: {e}"))?;
    data.validated().map_err(|e| e.message().unwrap_or("the config is not valid").to_string())
}

fn config_form(action: &str, config: Option<&AnnotationConfig>, submit: &str) -> Markup {
    let body = config.map(|c| &c.config);
    let text = |key: &str| {
        body.and_then(|b| b.get(key)).map(|v| match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        })
    };
    let kind = text("type").unwrap_or_else(|| "CATEGORICAL".into());
    let direction = text("optimization_direction").unwrap_or_else(|| "MAXIMIZE".into());
    let values: Vec<String> = body
        .and_then(|b| b.get("values"))
        .and_then(Value::as_array)
        .map(|values| {
            values
                .iter()
                .map(|v| {
                    let label = v.get("label").and_then(Value::as_str).unwrap_or("");
                    match v.get("score").and_then(Value::as_f64) {
                        Some(score) => format!("{label}={score}"),
                        None => label.to_string(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    html! {
        form.annotation-form.config-form method="post" action=(action) {
            label { "Name" } input type="text" name="name" required value=[config.map(|c| c.name.as_str())];
            label { "Type" }
            select name="kind" {
                @for option in ["CATEGORICAL", "CONTINUOUS", "FREEFORM"] { option value=(option) selected[option == kind] { (option.to_lowercase()) } }
            }
            label { "Description" } input type="text" name="description" value=[text("description")];
            label { "Optimize" }
            select name="direction" {
                @for (value, label) in [("MAXIMIZE", "higher is better"), ("MINIMIZE", "lower is better"), ("NONE", "neither")] {
                    option value=(value) selected[value == direction] { (label) }
                }
            }
            label { "Labels (categorical)" } textarea name="values" rows="3" placeholder="one per line: label=score" { (values.join("\n")) }
            label { "Bounds (continuous)" }
            span { input type="number" step="any" name="lower_bound" placeholder="lower" value=[text("lower_bound")]; " – "
                input type="number" step="any" name="upper_bound" placeholder="upper" value=[text("upper_bound")]; }
            span {} div { button.primary type="submit" { (submit) } }
        }
    }
}

pub async fn page(State(state): State<AppState>, Query(query): Query<SettingsQuery>) -> UiResult<Markup> {
    let configs = state.store.list_annotation_configs(None, 500).await?.items;
    let body = html! {
        h1 { "Settings" }
        @if let Some(notice) = &query.notice { p.notice { (notice) } }
        @if let Some(error) = &query.error { p.notice.error { (error) } }
        h2 { "Annotation configs" }
        p.muted { "What people and judges may annotate with: the trace page's form offers these names and labels." }
        table.grid #annotation-configs {
            thead { tr { th { "Name" } th { "Type" } th { "Values" } th { "Optimize" } th { "Description" } th {} } }
            tbody {
                @for config in &configs {
                    @let body = &config.config;
                    tr {
                        td { (config.name) }
                        td.kind { (body.get("type").and_then(Value::as_str).unwrap_or("")) }
                        td {
                            @if let Some(values) = body.get("values").and_then(Value::as_array) {
                                (values.iter().filter_map(|v| v.get("label").and_then(Value::as_str)).collect::<Vec<_>>().join(", "))
                            } @else {
                                (body.get("lower_bound").map(Value::to_string).unwrap_or_default()) " – " (body.get("upper_bound").map(Value::to_string).unwrap_or_default())
                            }
                        }
                        td { (body.get("optimization_direction").and_then(Value::as_str).unwrap_or("")) }
                        td { (body.get("description").and_then(Value::as_str).unwrap_or("")) }
                        td {
                            details { summary { "Edit" } (config_form(&format!("/settings/annotation-configs/{}", config.id), Some(config), "Save")) }
                            form.inline method="post" action=(format!("/settings/annotation-configs/{}/delete", config.id))
                                data-confirm=(format!("Delete the annotation config {}?", config.name)) {
                                button.small.danger type="submit" { "Delete" }
                            }
                        }
                    }
                }
            }
        }
        @if configs.is_empty() { p.muted { "No annotation configs yet." } }
        h3 { "New annotation config" }
        div #new-config { (config_form("/settings/annotation-configs", None, "Create")) }
    };
    Ok(shell("Settings", Section::Settings, body))
}

pub async fn create(State(state): State<AppState>, Form(form): Form<ConfigForm>) -> UiResult<Redirect> {
    let (name, body) = match validated(&form) {
        Ok(valid) => valid,
        Err(message) => return Ok(to("/settings", "error", &message)),
    };
    match state.store.create_annotation_config(&name, &body).await {
        Ok(_) => Ok(to("/settings", "notice", &format!("Created {name}."))),
        Err(StoreError::Conflict(_)) => Ok(to("/settings", "error", &format!("An annotation config named {name} already exists."))),
        Err(error) => Err(error.into()),
    }
}

pub async fn update(State(state): State<AppState>, Path(id): Path<i64>, Form(form): Form<ConfigForm>) -> UiResult<Redirect> {
    let (name, body) = match validated(&form) {
        Ok(valid) => valid,
        Err(message) => return Ok(to("/settings", "error", &message)),
    };
    match state.store.update_annotation_config(id, &name, &body).await {
        Ok(_) => Ok(to("/settings", "notice", &format!("Saved {name}."))),
        Err(StoreError::Conflict(_)) => Ok(to("/settings", "error", &format!("An annotation config named {name} already exists."))),
        Err(error) => Err(error.into()),
    }
}

pub async fn delete(State(state): State<AppState>, Path(id): Path<i64>) -> UiResult<Redirect> {
    let deleted = state.store.delete_annotation_config(id).await?;
    Ok(to("/settings", "notice", &format!("Deleted {}.", deleted.name)))
}
