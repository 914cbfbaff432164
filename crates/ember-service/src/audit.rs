//! The audit log: who signed in and out, and who changed credentials, users and project access.
//! Each event is logged (target `ember::audit`) and stored; admins read it back newest first.
//! Nothing secret goes in (no password, token or key). An unauthenticated caller can add an
//! entry only by failing to sign in as an existing user, which the brute-force throttle bounds.

use ember_store::{AuditEntry, Page};
use serde::Serialize;

use crate::error::Result;
use crate::{Caller, Services};

/// One audited event, stored as JSON (`{"action": ..., fields}`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum AuditEvent {
    SignedIn {
        user_id: i64,
    },
    SignInFailed {
        user_id: i64,
    },
    SignedOut {
        user_id: i64,
    },
    PasswordChanged {
        user_id: i64,
    },
    /// A password set with a mailed one-time link.
    PasswordReset {
        user_id: i64,
    },
    UserCreated {
        user_id: i64,
        role: String,
    },
    UserChanged {
        user_id: i64,
        role: Option<String>,
        username: Option<String>,
        password_reset: bool,
    },
    UsersDeleted {
        user_ids: Vec<i64>,
    },
    ApiKeyCreated {
        key_id: i64,
        owner_id: i64,
        project_id: Option<i64>,
        ingest_only: bool,
    },
    ApiKeyDeleted {
        key_id: i64,
    },
    ProjectAccessChanged {
        project_id: i64,
        restricted: bool,
        grants: usize,
    },
}

impl AuditEvent {
    fn action(&self) -> &'static str {
        match self {
            AuditEvent::SignedIn { .. } => "signed_in",
            AuditEvent::SignInFailed { .. } => "sign_in_failed",
            AuditEvent::SignedOut { .. } => "signed_out",
            AuditEvent::PasswordChanged { .. } => "password_changed",
            AuditEvent::PasswordReset { .. } => "password_reset",
            AuditEvent::UserCreated { .. } => "user_created",
            AuditEvent::UserChanged { .. } => "user_changed",
            AuditEvent::UsersDeleted { .. } => "users_deleted",
            AuditEvent::ApiKeyCreated { .. } => "api_key_created",
            AuditEvent::ApiKeyDeleted { .. } => "api_key_deleted",
            AuditEvent::ProjectAccessChanged { .. } => "project_access_changed",
        }
    }
}

pub struct Audit<'a> {
    pub(crate) services: &'a Services,
}

impl Audit<'_> {
    /// Records an event done by `actor` (a user id; `None` for nobody signed in). The change it
    /// records has happened, so a failure to store it is logged, not returned.
    pub async fn record(&self, actor: Option<i64>, event: AuditEvent) {
        let detail = serde_json::to_string(&event).unwrap_or_default();
        tracing::info!(target: "ember::audit", actor, %detail, "{}", event.action());
        if let Err(error) = self.services.store.append_audit(actor, event.action(), &detail).await {
            tracing::error!(%error, action = event.action(), "could not store an audit log entry");
        }
    }

    /// Records an event without waiting for it: a failed sign-in must take as long for an
    /// existing user as for an unknown email.
    pub fn record_in_background(&self, actor: Option<i64>, event: AuditEvent) {
        let services = self.services.clone();
        tokio::spawn(async move { services.audit().record(actor, event).await });
    }

    /// The log, newest first, a page from the entry `cursor` down (admins).
    pub async fn list(&self, caller: &Caller, cursor: Option<i64>, limit: usize) -> Result<Page<AuditEntry>> {
        caller.require_admin()?;
        Ok(self.services.store.audit_log(cursor, limit).await?)
    }
}
