//! Retention policies in Settings: the list (schedule, rule, projects, last and next run), and
//! admins' forms to create, change, delete and apply one now. Every rule is the retention
//! service's; these forms turn fields into its inputs and show its answers.

use axum::extract::{Form, State};
use axum::response::{IntoResponse, Redirect, Response};
use ember_service::retention::{next_run_after, parse_schedule, NewRetentionPolicy, RetentionPolicy, RetentionPolicyUpdate};
use ember_service::Caller;
use ember_store::{RetentionRule, DEFAULT_RETENTION_POLICY_ID};
use maud::{html, Markup};
use serde::Deserialize;

use super::account::shown;
use super::error::UiResult;
use super::format;
use super::ids::UiPath;
use crate::authentication::RequestCaller;
use crate::AppState;

/// Back to the retention section of Settings with a notice or an error.
fn back(key: &str, message: &str) -> Redirect {
    Redirect::to(&format!("{}#retention", super::with_message("/settings", key, message)))
}

/// A rule in words: "traces older than 30 days", "all but the newest 1 000 traces", or both.
pub(crate) fn describe_rule(rule: RetentionRule) -> String {
    let days = |days: f64| format!("traces older than {days} day{}", if days == 1.0 { "" } else { "s" });
    let count = |count: i64| format!("all but the newest {} traces", format::count(count));
    match rule {
        rule if !rule.deletes_anything() => "keeps every trace".to_string(),
        RetentionRule::MaxDays(max_days) => format!("deletes {}", days(max_days)),
        RetentionRule::MaxCount(max_count) => format!("deletes {}", count(max_count)),
        RetentionRule::MaxDaysOrCount { max_days, max_count } => match (max_days > 0.0, max_count > 0) {
            (true, true) => format!("deletes {} and {}", days(max_days), count(max_count)),
            (true, false) => format!("deletes {}", days(max_days)),
            _ => format!("deletes {}", count(max_count)),
        },
    }
}

/// The policy's schedule in words, with its next run.
fn schedule(policy: &RetentionPolicy) -> Markup {
    let record = &policy.record;
    let parsed = parse_schedule(&record.cron_expression).ok();
    let next = parsed.as_ref().and_then(|cron| next_run_after(cron, record.last_applied_at.unwrap_or(record.created_at)));
    html! {
        code { (record.cron_expression) }
        @if let Some(cron) = &parsed { div.muted { (cron.describe()) " (UTC)" } }
        @if let Some(next) = next { div.muted { "next: " (format::local_time(next)) } }
    }
}

/// The fields of a policy form.
fn policy_fields(policy: Option<&RetentionPolicy>) -> Markup {
    let rule = policy.map(|policy| policy.record.rule);
    let number = |value: f64| if value > 0.0 { value.to_string() } else { String::new() };
    html! {
        label { "Name" }
        input type="text" name="name" required value=[policy.map(|policy| policy.record.name.as_str())]
            readonly[policy.is_some_and(|policy| policy.record.id == DEFAULT_RETENTION_POLICY_ID)];
        label { "Schedule (cron, UTC)" }
        input type="text" name="cron_expression" required placeholder="0 0 * * 0"
            value=(policy.map_or("0 0 * * 0", |policy| policy.record.cron_expression.as_str()));
        label { "Delete traces older than (days)" }
        input type="number" name="max_days" min="0" step="any" placeholder="no limit" value=[rule.map(|rule| number(rule.max_days()))];
        label { "Keep at most (traces per project)" }
        input type="number" name="max_count" min="0" step="1" placeholder="no limit"
            value=[rule.map(|rule| number(rule.max_count() as f64))];
    }
}

pub(crate) fn section(caller: &Caller, policies: &[RetentionPolicy], project_names: &dyn Fn(i64) -> String) -> Markup {
    let admin = caller.require_admin().is_ok();
    html! {
        h2 #retention { "Retention policies" }
        p.muted {
            "Each project follows one policy; projects that name none follow Default. The sweeper deletes a project's oldest traces "
            "when the schedule comes round, a little at a time; the project charts keep counting them."
        }
        table.grid #retention-policies {
            thead { tr { th { "Name" } th { "Schedule" } th { "Rule" } th { "Projects" } th { "Last applied" } th {} } }
            tbody {
                @for policy in policies {
                    tr {
                        td { (policy.record.name) }
                        td { (schedule(policy)) }
                        td { (describe_rule(policy.record.rule)) }
                        td {
                            @if policy.record.id == DEFAULT_RETENTION_POLICY_ID { span.muted { "every project that names no policy" } br; }
                            (policy.project_ids.iter().map(|id| project_names(*id)).collect::<Vec<_>>().join(", "))
                        }
                        td { (policy.record.last_applied_at.map_or_else(|| "never".to_string(), |at| format!("{} UTC", format::timestamp(at)))) }
                        td {
                            @if admin {
                                details { summary { "Edit" }
                                    form.annotation-form method="post" action=(format!("/settings/retention-policies/{}", policy.record.id)) {
                                        (policy_fields(Some(policy)))
                                        span {} div { button.primary type="submit" { "Save" } }
                                    }
                                }
                                form.inline method="post" action=(format!("/settings/retention-policies/{}/apply", policy.record.id))
                                    data-confirm=(format!("Apply {} now? It {}.", policy.record.name, describe_rule(policy.record.rule))) {
                                    button.small type="submit" { "Apply now" }
                                }
                                @if policy.record.id != DEFAULT_RETENTION_POLICY_ID {
                                    form.inline method="post" action=(format!("/settings/retention-policies/{}/delete", policy.record.id))
                                        data-confirm=(format!("Delete the retention policy {}? Its projects follow Default.", policy.record.name)) {
                                        button.small.danger type="submit" { "Delete" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if admin {
            h3 { "New retention policy" }
            form.annotation-form #new-retention-policy method="post" action="/settings/retention-policies" {
                (policy_fields(None))
                span {} div { button.primary type="submit" { "Create" } }
            }
        }
    }
}

/// A policy form's fields: both limits empty or 0 keeps everything.
#[derive(Debug, Deserialize)]
pub struct PolicyForm {
    name: String,
    cron_expression: String,
    #[serde(default)]
    max_days: String,
    #[serde(default)]
    max_count: String,
}

impl PolicyForm {
    /// The form's rule, or what is wrong with its numbers.
    fn rule(&self) -> Result<RetentionRule, String> {
        let max_days = match self.max_days.trim() {
            "" => 0.0,
            text => text.parse::<f64>().map_err(|_| format!("{text:?} is not a number of days"))?,
        };
        let max_count = match self.max_count.trim() {
            "" => 0,
            text => text.parse::<i64>().map_err(|_| format!("{text:?} is not a number of traces"))?,
        };
        Ok(match (max_days > 0.0, max_count > 0) {
            (true, true) => RetentionRule::MaxDaysOrCount { max_days, max_count },
            (false, true) => RetentionRule::MaxCount(max_count),
            _ => RetentionRule::MaxDays(max_days),
        })
    }
}

fn finish(outcome: Result<String, String>) -> Response {
    match outcome {
        Ok(notice) => back("notice", &notice).into_response(),
        Err(error) => back("error", &error).into_response(),
    }
}

pub async fn create(State(state): State<AppState>, RequestCaller(caller): RequestCaller, Form(form): Form<PolicyForm>) -> Response {
    let rule = match form.rule() {
        Ok(rule) => rule,
        Err(message) => return finish(Err(message)),
    };
    let policy = NewRetentionPolicy { name: &form.name, cron_expression: &form.cron_expression, rule, projects: vec![] };
    let outcome = state.services.retention().create(&caller, policy).await;
    finish(outcome.map(|policy| format!("Created {}.", policy.record.name)).map_err(|error| shown(&error)))
}

pub async fn update(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath(id): UiPath<i64>,
    Form(form): Form<PolicyForm>,
) -> Response {
    let rule = match form.rule() {
        Ok(rule) => rule,
        Err(message) => return finish(Err(message)),
    };
    let update = RetentionPolicyUpdate {
        name: Some(&form.name),
        cron_expression: Some(&form.cron_expression),
        rule: Some(rule),
        ..Default::default()
    };
    let outcome = state.services.retention().update(&caller, id, update).await;
    finish(outcome.map(|policy| format!("Saved {}.", policy.record.name)).map_err(|error| shown(&error)))
}

pub async fn delete(State(state): State<AppState>, RequestCaller(caller): RequestCaller, UiPath(id): UiPath<i64>) -> UiResult<Redirect> {
    let policy = state.services.retention().get(&caller, id).await?;
    Ok(match state.services.retention().delete(&caller, id).await {
        Ok(()) => back("notice", &format!("Deleted {}; its projects follow Default.", policy.record.name)),
        Err(error) => back("error", &shown(&error)),
    })
}

pub async fn apply(State(state): State<AppState>, RequestCaller(caller): RequestCaller, UiPath(id): UiPath<i64>) -> UiResult<Redirect> {
    let policy = state.services.retention().apply_now(&caller, id).await?;
    Ok(back("notice", &format!("{} is being applied; old traces go a little at a time.", policy.record.name)))
}
