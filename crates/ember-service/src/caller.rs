//! Who is asking, and the role rules every service applies to it. Every service operation takes
//! the caller: reads need a signed-in caller, writes a caller who is not a VIEWER, and
//! administration an ADMIN (or the system). With authentication off every caller is anonymous and
//! may do everything, as in Phoenix. Transports establish the caller (`Auth::authenticate`) and
//! never decide what it may do.

use ember_store::KeyScope;

use crate::error::{Result, ServiceError};

/// Phoenix's roles, most powerful first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    System,
    Admin,
    Member,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "SYSTEM",
            Role::Admin => "ADMIN",
            Role::Member => "MEMBER",
            Role::Viewer => "VIEWER",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        [Role::System, Role::Admin, Role::Member, Role::Viewer].into_iter().find(|role| role.as_str() == text)
    }
}

/// How a signed-in caller proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A web session's access token (`/auth/login`).
    Session { token_id: i64 },
    /// An API key.
    ApiKey { token_id: i64 },
    /// `PHOENIX_ADMIN_SECRET`, which acts as the SYSTEM user.
    AdminSecret,
}

/// The identity behind a request, established by the transport that received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    identity: Identity,
    /// The user must choose a new password before using the web UI (the default admin's first
    /// sign-in, a user an admin created).
    password_reset_due: bool,
    /// An API key's scope (one project, maybe for ingestion only); unscoped otherwise.
    scope: KeyScope,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Identity {
    /// Nobody in particular: ember runs without authentication.
    Anonymous,
    /// A user, by the credential they presented and their role when they presented it.
    User { user_id: i64, role: Role, credential: Credential },
}

/// Phoenix's words for a VIEWER's write.
pub const VIEWERS_CANNOT_WRITE: &str = "Viewers cannot perform this action.";
/// Phoenix's words for a non-admin's administration.
pub const ADMINS_ONLY: &str = "Only admin or system users can perform this action.";

impl Caller {
    pub fn anonymous() -> Caller {
        Caller { identity: Identity::Anonymous, password_reset_due: false, scope: KeyScope::default() }
    }

    pub fn user(user_id: i64, role: Role, credential: Credential) -> Caller {
        Caller { identity: Identity::User { user_id, role, credential }, password_reset_due: false, scope: KeyScope::default() }
    }

    /// The same caller, who must (or need not) choose a new password first.
    pub fn with_password_reset_due(mut self, due: bool) -> Caller {
        self.password_reset_due = due;
        self
    }

    /// The same caller limited to what an API key's scope allows.
    pub fn with_scope(mut self, scope: KeyScope) -> Caller {
        self.scope = scope;
        self
    }

    pub fn scope(&self) -> KeyScope {
        self.scope
    }

    pub fn password_reset_due(&self) -> bool {
        self.password_reset_due
    }

    pub fn is_anonymous(&self) -> bool {
        matches!(self.identity, Identity::Anonymous)
    }

    /// The signed-in user's id and role.
    pub fn user_and_role(&self) -> Option<(i64, Role)> {
        match self.identity {
            Identity::User { user_id, role, .. } => Some((user_id, role)),
            Identity::Anonymous => None,
        }
    }

    /// The signed-in user's id: who authors what this caller writes, and who acts in the audit
    /// log. `None` without authentication.
    pub fn user_id(&self) -> Option<i64> {
        self.user_and_role().map(|(user_id, _)| user_id)
    }

    pub fn credential(&self) -> Option<Credential> {
        match self.identity {
            Identity::User { credential, .. } => Some(credential),
            Identity::Anonymous => None,
        }
    }

    fn role(&self) -> Option<Role> {
        self.user_and_role().map(|(_, role)| role)
    }

    /// Writes (creating, changing, deleting, ingesting) are refused to VIEWERs.
    pub fn require_write(&self) -> Result<()> {
        match self.role() {
            Some(Role::Viewer) => Err(ServiceError::forbidden(VIEWERS_CANNOT_WRITE)),
            _ => Ok(()),
        }
    }

    /// Administration (users, system keys, project settings, secrets) is for ADMINs and the
    /// admin secret. A system API key acts as the SYSTEM user but is no admin (as in Phoenix):
    /// it reads and ingests, and a leaked one cannot manage users or mint keys. Nor is a key
    /// scoped to a project.
    pub fn require_admin(&self) -> Result<()> {
        if self.scope.project_id.is_some() {
            return Err(ServiceError::forbidden(ADMINS_ONLY));
        }
        match self.identity {
            Identity::Anonymous => Ok(()),
            Identity::User { role: Role::Admin, .. } => Ok(()),
            Identity::User { role: Role::System, credential, .. } if !matches!(credential, Credential::ApiKey { .. }) => Ok(()),
            Identity::User { .. } => Err(ServiceError::forbidden(ADMINS_ONLY)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_authentication_every_caller_is_anonymous_and_may_do_everything() {
        let anonymous = Caller::anonymous();
        assert!(anonymous.is_anonymous());
        assert!(anonymous.require_write().is_ok() && anonymous.require_admin().is_ok());
    }

    #[test]
    fn roles_decide_writes_and_administration() {
        let session = Credential::Session { token_id: 1 };
        let allowed = |role| {
            let caller = Caller::user(5, role, session);
            (caller.require_write().is_ok(), caller.require_admin().is_ok())
        };
        assert_eq!(allowed(Role::System), (true, true));
        assert_eq!(allowed(Role::Admin), (true, true));
        assert_eq!(allowed(Role::Member), (true, false));
        assert_eq!(allowed(Role::Viewer), (false, false));
        let viewer = Caller::user(5, Role::Viewer, session);
        assert_eq!(viewer.require_write().unwrap_err().to_string(), VIEWERS_CANNOT_WRITE);
        assert_eq!(Caller::user(5, Role::Member, session).require_admin().unwrap_err().to_string(), ADMINS_ONLY);
    }
}
