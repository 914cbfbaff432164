//! Per-project access (beyond Phoenix): what a caller may do in one project, and which projects
//! a list may show them. The one place these rules live; every service that reaches a project,
//! directly or through a span, trace, session or annotation id, asks here.
//!
//! - With authentication off everyone may do everything.
//! - Admins and the admin secret reach every project; their role decides (a system API key
//!   reads and writes).
//! - A project nobody restricted is open to every user as their role allows.
//! - A restricted project is open only to the users and roles granted it, at the granted level
//!   (`VIEWER` reads, `MEMBER` reads and writes), never above the user's own role.
//! - An API key scoped to a project reaches that project only; an ingest-only key may only send
//!   spans to it. A scope never adds to what its owner may do.
//!
//! A project the caller may not read is reported as not found, so its existence does not leak.

use ember_store::{GrantSubject, GrantableRole, Project, ProjectAccessRecord, ProjectGrant, ProjectVisibility, SYSTEM_USER_ID};

use crate::audit::AuditEvent;
use crate::projects::ProjectRef;

use crate::caller::Role;
use crate::error::{Result, ServiceError};
use crate::{Caller, Services};

/// What a caller may do in one project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProjectRights {
    pub read: bool,
    /// Change anything in it: spans, annotations, sessions, settings.
    pub write: bool,
    /// Send spans to it (every writer may; an ingest-only key may only this).
    pub ingest: bool,
}

impl ProjectRights {
    pub const NONE: ProjectRights = ProjectRights { read: false, write: false, ingest: false };
    pub const READ: ProjectRights = ProjectRights { read: true, write: false, ingest: false };
    pub const ALL: ProjectRights = ProjectRights { read: true, write: true, ingest: true };
    pub const INGEST: ProjectRights = ProjectRights { read: false, write: false, ingest: true };

    fn of_level(level: &str) -> ProjectRights {
        if level == "MEMBER" {
            ProjectRights::ALL
        } else {
            ProjectRights::READ
        }
    }

    fn and(self, other: ProjectRights) -> ProjectRights {
        ProjectRights { read: self.read && other.read, write: self.write && other.write, ingest: self.ingest && other.ingest }
    }
}

/// The caller's role rights and, for members and viewers, the role that grants name.
fn role_rights(caller: &Caller) -> (ProjectRights, Option<(i64, GrantableRole)>) {
    match caller.user_and_role() {
        None => (ProjectRights::ALL, None),
        Some((_, Role::System | Role::Admin)) => (ProjectRights::ALL, None),
        Some((user_id, Role::Member)) => (ProjectRights::ALL, Some((user_id, GrantableRole::Member))),
        Some((user_id, Role::Viewer)) => (ProjectRights::READ, Some((user_id, GrantableRole::Viewer))),
    }
}

pub(crate) const NOT_WRITABLE: &str = "You may read this project but not change it.";

impl Services {
    /// What `caller` may do in the project `project_id` (nothing when there is no such project).
    pub async fn project_rights(&self, caller: &Caller, project_id: i64) -> Result<ProjectRights> {
        let scope = caller.scope();
        if scope.project_id.is_some_and(|scoped| scoped != project_id) {
            return Ok(ProjectRights::NONE);
        }
        let scope_rights = if scope.ingest_only { ProjectRights::INGEST } else { ProjectRights::ALL };
        let (rights, granted_to) = role_rights(caller);
        let Some((user_id, role)) = granted_to else {
            return Ok(rights.and(scope_rights));
        };
        let rights = match self.store.project_grant_for(project_id, user_id, role.as_str()).await? {
            None => ProjectRights::NONE,
            Some((false, _)) => rights,
            Some((true, Some(level))) => rights.and(ProjectRights::of_level(&level)),
            Some((true, None)) => ProjectRights::NONE,
        };
        Ok(rights.and(scope_rights))
    }

    /// `project`, if the caller may read it.
    pub(crate) async fn readable(&self, caller: &Caller, project: Option<Project>) -> Result<Option<Project>> {
        match project {
            Some(project) if self.project_rights(caller, project.id).await?.read => Ok(Some(project)),
            _ => Ok(None),
        }
    }

    /// Whether the caller may read the project `project_id`.
    pub(crate) async fn can_read(&self, caller: &Caller, project_id: i64) -> Result<bool> {
        Ok(self.project_rights(caller, project_id).await?.read)
    }

    /// Whether the caller reaches every project as their role allows (no grant or scope to
    /// check): anonymous callers, admins and the system without a scoped key.
    pub(crate) fn reaches_everything(&self, caller: &Caller) -> bool {
        caller.scope() == ember_store::KeyScope::default() && role_rights(caller).1.is_none()
    }

    /// The ids among `project_ids` of projects the caller may read.
    pub(crate) async fn readable_ids(&self, caller: &Caller, project_ids: &[i64]) -> Result<Vec<i64>> {
        if self.reaches_everything(caller) {
            return Ok(project_ids.to_vec());
        }
        let mut readable = Vec::with_capacity(project_ids.len());
        for &project_id in project_ids {
            if self.can_read(caller, project_id).await? {
                readable.push(project_id);
            }
        }
        Ok(readable)
    }

    /// 403 unless the caller may change the project `project_id` (which they can read: the
    /// caller resolved it).
    pub(crate) async fn require_project_write(&self, caller: &Caller, project_id: i64) -> Result<()> {
        caller.require_write()?;
        if self.project_rights(caller, project_id).await?.write {
            Ok(())
        } else {
            Err(ServiceError::forbidden(NOT_WRITABLE))
        }
    }

    /// Which projects a list shown to the caller may hold.
    pub(crate) async fn project_visibility(&self, caller: &Caller) -> Result<ProjectVisibility> {
        if caller.scope().ingest_only {
            return Ok(ProjectVisibility::Nothing);
        }
        if let Some(project_id) = caller.scope().project_id {
            let readable = self.project_rights(caller, project_id).await?.read;
            return Ok(if readable { ProjectVisibility::Only(project_id) } else { ProjectVisibility::Nothing });
        }
        Ok(match role_rights(caller).1 {
            None => ProjectVisibility::All,
            Some((user_id, role)) => ProjectVisibility::GrantedTo { user_id, role },
        })
    }
}

/// The most grants one project may have (each user grant is checked against its user).
const MAX_GRANTS: usize = 1000;

/// Managing who may reach a project (admins).
pub struct ProjectAccess<'a> {
    pub(crate) services: &'a Services,
}

impl ProjectAccess<'_> {
    /// A project's access settings.
    pub async fn get(&self, caller: &Caller, project: ProjectRef<'_>) -> Result<ProjectAccessRecord> {
        caller.require_admin()?;
        let project = self.services.projects().resolve(caller, project).await?;
        Ok(self.services.store.project_access(project.id).await?)
    }

    /// Replaces a project's access settings: each grant names an existing user who is a MEMBER
    /// or VIEWER (admins reach every project anyway), or the role MEMBER or VIEWER, once, at the
    /// level MEMBER or VIEWER.
    pub async fn set(&self, caller: &Caller, project: ProjectRef<'_>, access: ProjectAccessRecord) -> Result<ProjectAccessRecord> {
        caller.require_admin()?;
        let project = self.services.projects().resolve(caller, project).await?;
        if access.grants.len() > MAX_GRANTS {
            return Err(ServiceError::invalid(format!("a project may have at most {MAX_GRANTS} grants; grant a role instead")));
        }
        let mut seen: Vec<&GrantSubject> = Vec::new();
        for ProjectGrant { subject, level } in &access.grants {
            if !matches!(level.as_str(), "MEMBER" | "VIEWER") {
                return Err(ServiceError::invalid(format!("level must be MEMBER or VIEWER, not {level:?}")));
            }
            match subject {
                GrantSubject::Role(role) if !matches!(role.as_str(), "MEMBER" | "VIEWER") => {
                    return Err(ServiceError::invalid(format!("a grant's role must be MEMBER or VIEWER, not {role:?}")));
                }
                GrantSubject::User(user_id) => {
                    let user = self.services.store.get_user(*user_id).await?.filter(|user| user.id != SYSTEM_USER_ID);
                    let Some(user) = user else {
                        return Err(ServiceError::not_found(format!("User not found: {user_id}")));
                    };
                    if !matches!(user.role.as_str(), "MEMBER" | "VIEWER") {
                        return Err(ServiceError::invalid(format!("{} is an admin and reaches every project", user.email)));
                    }
                }
                GrantSubject::Role(_) => {}
            }
            if seen.contains(&subject) {
                return Err(ServiceError::invalid("each user and role may be granted a project once"));
            }
            seen.push(subject);
        }
        self.services.store.set_project_access(project.id, &access).await?;
        let event = AuditEvent::ProjectAccessChanged { project_id: project.id, restricted: access.restricted, grants: access.grants.len() };
        self.services.audit().record(caller.user_id(), event).await;
        Ok(access)
    }

    /// Restricts a project or opens it, keeping its grants.
    pub async fn set_restricted(&self, caller: &Caller, project: ProjectRef<'_>, restricted: bool) -> Result<ProjectAccessRecord> {
        let access = ProjectAccessRecord { restricted, ..self.get(caller, project).await? };
        self.set(caller, project, access).await
    }

    /// Grants a project to `subject` (a user's email, or the role `MEMBER` or `VIEWER`) at
    /// `level`, replacing the subject's earlier grant.
    pub async fn grant(&self, caller: &Caller, project: ProjectRef<'_>, subject: &str, level: &str) -> Result<ProjectAccessRecord> {
        let mut access = self.get(caller, project).await?;
        let subject = match subject.trim() {
            role @ ("MEMBER" | "VIEWER") => GrantSubject::Role(role.to_string()),
            email => match self.services.store.user_by_email(email).await? {
                Some((user, _)) => GrantSubject::User(user.id),
                None => return Err(ServiceError::not_found(format!("No user has the email {email:?}"))),
            },
        };
        access.grants.retain(|grant| grant.subject != subject);
        access.grants.push(ProjectGrant { subject, level: level.to_string() });
        self.set(caller, project, access).await
    }

    /// Removes the grant at `index` (in the order `get` lists them).
    pub async fn revoke(&self, caller: &Caller, project: ProjectRef<'_>, index: usize) -> Result<ProjectAccessRecord> {
        let mut access = self.get(caller, project).await?;
        if index >= access.grants.len() {
            return Err(ServiceError::not_found(format!("The project has no grant number {index}")));
        }
        access.grants.remove(index);
        self.set(caller, project, access).await
    }
}
