//! Per-project access: whether a project is restricted, the grants that open it to users and
//! roles, and the audit log of credential and access changes. A grant is looked up by
//! `(project_id, user_id)` or `(project_id, role)` (unique indexes); a user's projects by
//! `user_id`.

use ember_core::time::now_nanos;

use crate::engine::backend::{Row, Statement};
use crate::error::{Result, StoreError};
use crate::{Page, Store};

/// Who a grant is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantSubject {
    User(i64),
    /// `MEMBER` or `VIEWER`: everyone with that role.
    Role(String),
}

/// A grant of a restricted project: its subject may reach the project at `level` (`MEMBER` reads
/// and writes, `VIEWER` reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectGrant {
    pub subject: GrantSubject,
    pub level: String,
}

/// A project's access settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProjectAccessRecord {
    pub restricted: bool,
    pub grants: Vec<ProjectGrant>,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor_user_id: Option<i64>,
    pub action: String,
    /// JSON text.
    pub detail: String,
}

/// Which projects a list may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectVisibility {
    All,
    /// One project (an API key scoped to it).
    Only(i64),
    /// None (an ingest-only key).
    Nothing,
    /// Unrestricted projects and those granted to the user or to their role.
    GrantedTo {
        user_id: i64,
        role: GrantableRole,
    },
}

/// The roles a grant can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantableRole {
    Member,
    Viewer,
}

impl GrantableRole {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantableRole::Member => "MEMBER",
            GrantableRole::Viewer => "VIEWER",
        }
    }
}

impl ProjectVisibility {
    /// The SQL condition on `projects` (values are numbers and fixed words, so inlined).
    pub(crate) fn condition(self) -> Option<String> {
        match self {
            ProjectVisibility::All => None,
            ProjectVisibility::Only(id) => Some(format!("projects.id = {id}")),
            ProjectVisibility::Nothing => Some("1 = 0".into()),
            ProjectVisibility::GrantedTo { user_id, role } => Some(format!(
                "(projects.restricted = 0 OR EXISTS (SELECT 1 FROM project_grants AS g WHERE g.project_id = projects.id \
                 AND (g.user_id = {user_id} OR g.role = '{}')))",
                role.as_str()
            )),
        }
    }
}

impl Store {
    /// A project's access settings; `NotFound` for no such project.
    pub async fn project_access(&self, project_id: i64) -> Result<ProjectAccessRecord> {
        let flag = Statement::new("SELECT restricted FROM projects WHERE id = $1", [project_id.into()]);
        let Some(row) = self.current_reader().exec().fetch_optional(flag).await? else {
            return Err(StoreError::NotFound(format!("no project with id {project_id}")));
        };
        let restricted = row.get::<i64, _>(0)? != 0;
        let sql = "SELECT user_id, role, level FROM project_grants WHERE project_id = $1 ORDER BY id";
        let rows = self.current_reader().exec().fetch_all(Statement::new(sql, [project_id.into()])).await?;
        let grants = rows
            .iter()
            .map(|row| {
                let subject = match (row.get::<Option<i64>, _>(0)?, row.get::<Option<String>, _>(1)?) {
                    (Some(user_id), _) => GrantSubject::User(user_id),
                    (None, Some(role)) => GrantSubject::Role(role),
                    (None, None) => return Err(StoreError::Corrupt("a project grant names nobody".into())),
                };
                Ok(ProjectGrant { subject, level: row.get(2)? })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ProjectAccessRecord { restricted, grants })
    }

    /// Replaces a project's access settings (all at once, in one transaction).
    pub async fn set_project_access(&self, project_id: i64, access: &ProjectAccessRecord) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let flag =
            Statement::new("UPDATE projects SET restricted = $1 WHERE id = $2", [i64::from(access.restricted).into(), project_id.into()]);
        if tx.exec().execute(flag).await? == 0 {
            return Err(StoreError::NotFound(format!("no project with id {project_id}")));
        }
        tx.exec().execute(Statement::new("DELETE FROM project_grants WHERE project_id = $1", [project_id.into()])).await?;
        for grant in &access.grants {
            let (user_id, role) = match &grant.subject {
                GrantSubject::User(user_id) => (Some(*user_id), None),
                GrantSubject::Role(role) => (None, Some(role.clone())),
            };
            let sql = "INSERT INTO project_grants (project_id, user_id, role, level) VALUES ($1, $2, $3, $4)";
            tx.exec().execute(Statement::new(sql, [project_id.into(), user_id.into(), role.into(), grant.level.clone().into()])).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Whether a project is restricted and the best level granted to the user `user_id` or the
    /// role `role` on it (`MEMBER` over `VIEWER`); `None` for no such project. Read from the
    /// primary, so a change of access holds on the very next request.
    pub async fn project_grant_for(&self, project_id: i64, user_id: i64, role: &str) -> Result<Option<(bool, Option<String>)>> {
        let sql =
            "SELECT p.restricted, (SELECT CAST(MAX(CASE g.level WHEN 'MEMBER' THEN 2 ELSE 1 END) AS BIGINT) FROM project_grants AS g \
                   WHERE g.project_id = p.id AND (g.user_id = $2 OR g.role = $3)) FROM projects AS p WHERE p.id = $1";
        let statement = Statement::new(sql, [project_id.into(), user_id.into(), role.into()]);
        let Some(row) = self.current_reader().exec().fetch_optional(statement).await? else {
            return Ok(None);
        };
        let level = match row.get::<Option<i64>, _>(1)? {
            Some(2) => Some("MEMBER".to_string()),
            Some(_) => Some("VIEWER".to_string()),
            None => None,
        };
        Ok(Some((row.get::<i64, _>(0)? != 0, level)))
    }

    /// Appends to the audit log.
    pub async fn append_audit(&self, actor_user_id: Option<i64>, action: &str, detail: &str) -> Result<()> {
        let sql = "INSERT INTO audit_log (at, actor_user_id, action, detail) VALUES ($1, $2, $3, $4)";
        self.writer.exec().execute(Statement::new(sql, [now_nanos().into(), actor_user_id.into(), action.into(), detail.into()])).await?;
        Ok(())
    }

    /// The audit log, newest first, a page from the entry `from_id` down.
    pub async fn audit_log(&self, from_id: Option<i64>, limit: usize) -> Result<Page<AuditEntry>> {
        let sql = "SELECT id, at, actor_user_id, action, detail FROM audit_log WHERE id <= $1 ORDER BY id DESC LIMIT $2";
        let values = [from_id.unwrap_or(i64::MAX).into(), (limit as i64 + 1).into()];
        let rows = self.reader.exec().fetch_all(Statement::new(sql, values)).await?;
        let entries = rows.iter().map(audit_entry).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(entries, limit, |entry| entry.id))
    }
}

fn audit_entry(row: &Row) -> Result<AuditEntry> {
    Ok(AuditEntry { id: row.get(0)?, at: row.get(1)?, actor_user_id: row.get(2)?, action: row.get(3)?, detail: row.get(4)? })
}
