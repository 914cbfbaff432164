//! Settings for the playground's providers: whether each can be called (a missing key
//! explained, with the setting that holds it), the stored secrets (keys, and values redacted for
//! admins), and for admins a form to set or delete one through the secrets service. And the
//! server's facts: version, database backend and size, disk space, storage level.

use axum::extract::{Form, Path, State};
use axum::response::Redirect;
use ember_core::ErrorCode;
use ember_service::playground::ProviderStatus;
use ember_service::secrets::{SecretEntry, SecretValue, SecretView};
use ember_service::storage::{StorageLevel, StorageStatus};
use ember_service::Caller;
use maud::{html, Markup};
use serde::Deserialize;

use super::error::UiResult;
use super::format;
use crate::authentication::RequestCaller;
use crate::AppState;

/// Back to this section of Settings with a notice or an error.
fn back(key: &str, message: &str) -> Redirect {
    Redirect::to(&format!("{}#providers", super::with_message("/settings", key, message)))
}

pub(crate) fn section(caller: &Caller, providers: &[ProviderStatus], secrets: &[SecretView]) -> Markup {
    let admin = caller.require_admin().is_ok();
    html! {
        h2 #providers { "Providers and secrets" }
        p.muted { "The playground and LLM evaluators call these providers with the keys set here or in the server's environment; a key set here wins." }
        table.grid #provider-status {
            thead { tr { th { "Provider" } th { "Status" } th { "Key setting" } th { "Address setting" } } }
            tbody {
                @for provider in providers {
                    tr {
                        td { (provider.name) }
                        td {
                            @match &provider.ready {
                                Ok(base_url) => { span.ok-text { "ready" } " " span.muted { (base_url) } },
                                Err(why) => span.error-text { (why) },
                            }
                        }
                        td.mono { (provider.key_name.unwrap_or("–")) }
                        td.mono { (provider.base_url_name) }
                    }
                }
            }
        }
        h3 { "Secrets" }
        @if secrets.is_empty() { p.muted { "No secrets stored." } }
        @else {
            table.grid.compact #secrets {
                thead { tr { th { "Key" } th { "Value" } th { "Updated" } th {} } }
                tbody {
                    @for secret in secrets {
                        tr {
                            td.mono { (secret.key) }
                            td.mono {
                                @match &secret.value {
                                    SecretValue::Redacted(value) => (value),
                                    SecretValue::Unparsable(why) => span.error-text { "cannot be read: " (why) },
                                    SecretValue::Withheld => span.muted { "(admins only)" },
                                }
                            }
                            td { (format::local_time(secret.updated_at)) }
                            td {
                                @if admin {
                                    form.inline method="post" action=(format!("/settings/secrets/{}/delete", secret.key)) data-confirm=(format!("Delete the secret {}?", secret.key)) {
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
            form.toolbar #new-secret method="post" action="/settings/secrets" {
                input type="text" name="key" required placeholder="e.g. OPENAI_API_KEY" aria-label="secret key" list="secret-keys";
                datalist #secret-keys {
                    @for provider in providers {
                        @if let Some(key) = provider.key_name { option value=(key) {} }
                        option value=(provider.base_url_name) {}
                    }
                }
                input type="password" name="value" required placeholder="value" aria-label="secret value" autocomplete="off";
                button.primary type="submit" { "Set secret" }
            }
        }
    }
}

pub(crate) fn server_section(version: &str, backend: &str, storage: &StorageStatus) -> Markup {
    html! {
        h2 #server { "Server" }
        dl.facts #server-info {
            dt { "Version" } dd { "ember " (env!("CARGO_PKG_VERSION")) ", Phoenix " (version) " compatible" }
            dt { "Database" } dd { (backend) }
            dt { "Database size" } dd { (format::bytes(storage.used_bytes as i64)) }
            @if let Some(free) = storage.disk_free_bytes { dt { "Free disk" } dd { (format::bytes(free as i64)) } }
            dt { "Storage" } dd {
                @match &storage.level {
                    StorageLevel::Fine => "within its limits",
                    StorageLevel::Warning(message) => span.error-text { (message) },
                    StorageLevel::Blocked(message) => span.error-text { (message) },
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SecretForm {
    key: String,
    value: String,
}

/// Back to the section with the service's answer: the rule a secret broke is said on the page.
fn answer(result: ember_service::Result<ember_service::secrets::SecretsApplied>, done: String) -> UiResult<Redirect> {
    match result {
        Ok(_) => Ok(back("notice", &done)),
        Err(error) if matches!(error.code(), ErrorCode::Unprocessable | ErrorCode::BadRequest) => Ok(back("error", &error.to_string())),
        Err(error) => Err(error.into()),
    }
}

pub async fn set_secret(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Form(form): Form<SecretForm>,
) -> UiResult<Redirect> {
    let key = form.key.trim().to_string();
    let entry = SecretEntry { key: key.clone(), value: Some(form.value) };
    answer(state.services.secrets().apply(&caller, vec![entry]).await, format!("Set {key}."))
}

pub async fn delete_secret(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(key): Path<String>,
) -> UiResult<Redirect> {
    let entry = SecretEntry { key: key.clone(), value: None };
    answer(state.services.secrets().apply(&caller, vec![entry]).await, format!("Deleted {key}."))
}
