//! Settings: annotation configs, created, edited and deleted through the annotation-config
//! service (the same rules as over REST), the retention policies (see `retention`), the model
//! prices (see `prices`), the providers and secrets and the server's facts (see `providers`).

use axum::extract::{Form, Path, Query, State};
use axum::response::Redirect;
use ember_core::ErrorCode;
use ember_service::annotation_configs::{AnnotationConfigInput, CategoricalValue, OptimizationDirection};
use ember_service::projects::ProjectListQuery;
use ember_service::ServiceError;
use ember_store::AnnotationConfig;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use super::error::UiResult;
use super::layout::{shell, Section};
use super::redirect_with as to;
use crate::authentication::RequestCaller;
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct SettingsQuery {
    notice: Option<String>,
    error: Option<String>,
    /// The model (and provider) whose price to show.
    price_model: Option<String>,
    price_provider: Option<String>,
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

/// The form as a config (the service checks its rules), or what is wrong with its fields.
fn config_input(form: &ConfigForm) -> Result<AnnotationConfigInput, String> {
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
        values.push(CategoricalValue { label: label.to_string(), score });
    }
    let direction = match form.direction.as_str() {
        "MINIMIZE" => OptimizationDirection::Minimize,
        "MAXIMIZE" => OptimizationDirection::Maximize,
        "" | "NONE" => OptimizationDirection::Neither,
        other => return Err(format!("{other:?} is not an optimization direction")),
    };
    let name = form.name.trim().to_string();
    let description = Some(form.description.trim().to_string()).filter(|d| !d.is_empty());
    let (lower_bound, upper_bound) = (number(&form.lower_bound, "the lower bound")?, number(&form.upper_bound, "the upper bound")?);
    Ok(match form.kind.as_str() {
        "CATEGORICAL" => AnnotationConfigInput::Categorical { name, description, optimization_direction: direction, values },
        "CONTINUOUS" => {
            AnnotationConfigInput::Continuous { name, description, optimization_direction: direction, lower_bound, upper_bound }
        }
        "FREEFORM" => AnnotationConfigInput::Freeform {
            name,
            description,
            optimization_direction: Some(direction),
            threshold: None,
            lower_bound,
            upper_bound,
        },
        other => return Err(format!("{other:?} is not a config type")),
    })
}

/// Where the form goes back to after a write: a notice, or the rule the config broke.
fn after_write(result: Result<AnnotationConfig, ServiceError>, name: &str, done: &str) -> UiResult<Redirect> {
    match result {
        Ok(_) => Ok(to("/settings", "notice", &format!("{done} {name}."))),
        Err(error) if matches!(error.code(), ErrorCode::Conflict | ErrorCode::Unprocessable | ErrorCode::BadRequest) => {
            Ok(to("/settings", "error", &error.to_string()))
        }
        Err(error) => Err(error.into()),
    }
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

pub async fn page(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Query(query): Query<SettingsQuery>,
) -> UiResult<Markup> {
    let configs = state.services.annotation_configs().list(&caller, None, 500).await?.items;
    let policies = state.services.retention().list(&caller, None, 500).await?.items;
    let projects = state
        .services
        .projects()
        .list(&caller, &ProjectListQuery { limit: 1000, include_experiment_projects: true, ..Default::default() })
        .await?
        .items;
    let project_name =
        |id: i64| projects.iter().find(|project| project.id == id).map_or_else(|| format!("project {id}"), |project| project.name.clone());
    let costs = state.services.costs();
    let user_prices = costs.list_prices(&caller, Some(ember_core::cost::PriceOrigin::User), None, None, 500).await?.items;
    let lookup_model = query.price_model.as_deref().map(str::trim).filter(|model| !model.is_empty());
    let lookup_provider = query.price_provider.as_deref().unwrap_or("").trim();
    let lookup = match lookup_model {
        Some(model) => Some((model, lookup_provider, costs.price_for(&caller, model, lookup_provider).await?)),
        None => None,
    };
    let prices = super::prices::PricesView { user_prices: &user_prices, built_in_source: costs.built_in_source(), lookup };
    let can_write = caller.require_write().is_ok();
    let providers = state.services.playground().providers(&caller).await;
    let secrets = state.services.secrets().list(&caller, None).await?;
    let storage = state.services.storage();
    let signed_in = caller.user_and_role().is_some();
    let body = html! {
        h1 { "Settings" }
        nav.settings-nav {
            a href="#annotation-configs-section" { "Annotation configs" }
            a href="#retention" { "Retention" }
            a href="#model-prices" { "Model prices" }
            a href="#providers" { "Providers and secrets" }
            a href="#server" { "Server" }
            @if signed_in {
                a href="/account" { "Your account and API keys" }
                @if caller.require_admin().is_ok() { a href="/users" { "Users and system keys" } }
            }
        }
        @if let Some(notice) = &query.notice { p.notice { (notice) } }
        @if let Some(error) = &query.error { p.notice.error { (error) } }
        h2 #annotation-configs-section { "Annotation configs" }
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
                            @if can_write {
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
        }
        @if configs.is_empty() { p.muted { "No annotation configs yet." } }
        @if can_write {
            h3 { "New annotation config" }
            div #new-config { (config_form("/settings/annotation-configs", None, "Create")) }
        }
        (super::retention::section(&caller, &policies, &project_name))
        (super::prices::section(&caller, &prices))
        (super::providers::section(&caller, &providers, &secrets))
        (super::providers::server_section(crate::PHOENIX_COMPATIBLE_VERSION, storage.backend(), &storage.status()))
    };
    Ok(shell("Settings", Section::Settings, &caller, body))
}

pub async fn create(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Form(form): Form<ConfigForm>,
) -> UiResult<Redirect> {
    let input = match config_input(&form) {
        Ok(input) => input,
        Err(message) => return Ok(to("/settings", "error", &message)),
    };
    after_write(state.services.annotation_configs().create(&caller, &input).await, input.name(), "Created")
}

pub async fn update(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<i64>,
    Form(form): Form<ConfigForm>,
) -> UiResult<Redirect> {
    let input = match config_input(&form) {
        Ok(input) => input,
        Err(message) => return Ok(to("/settings", "error", &message)),
    };
    after_write(state.services.annotation_configs().update_by_rowid(&caller, id, &input).await, input.name(), "Saved")
}

pub async fn delete(State(state): State<AppState>, RequestCaller(caller): RequestCaller, Path(id): Path<i64>) -> UiResult<Redirect> {
    let deleted = state.services.annotation_configs().delete_by_rowid(&caller, id).await?;
    Ok(to("/settings", "notice", &format!("Deleted {}.", deleted.name)))
}
