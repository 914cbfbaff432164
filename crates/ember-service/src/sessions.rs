//! Sessions (the traces that share a `session.id`): lists, lookups and deletion. A session is
//! named by its GlobalID or its `session.id`.

use std::collections::HashMap;

use ember_core::{GlobalId, GlobalType};
use ember_store::{Filter, Page, Project, SessionRecord};

use crate::error::{Result, ServiceError};
use crate::projects::ProjectRef;
use crate::{Caller, Services};

pub struct Sessions<'a> {
    pub(crate) services: &'a Services,
}

impl Sessions<'_> {
    pub async fn list(
        &self,
        caller: &Caller,
        project: ProjectRef<'_>,
        condition: Option<&Filter>,
        cursor: Option<i64>,
        limit: usize,
        ascending: bool,
    ) -> Result<Page<SessionRecord>> {
        let project = self.services.projects().resolve(caller, project).await?;
        Ok(self.services.store.list_sessions(project.id, condition, cursor, limit, ascending).await?)
    }

    /// A session by GlobalID or `session.id` (the oldest of that name the caller may read: a
    /// `session.id` is unique within a project only); 404 when there is none.
    pub async fn resolve(&self, caller: &Caller, identifier: &str) -> Result<SessionRecord> {
        let store = &self.services.store;
        let found = match GlobalId::decode_as(identifier, GlobalType::ProjectSession) {
            Some(rowid) => self.by_rowid(caller, rowid).await?,
            None if self.services.reaches_everything(caller) => store.get_session(None, Some(identifier)).await?,
            None => {
                let mut readable = None;
                for rowid in store.session_rowids_by_session_id(&[identifier]).await? {
                    readable = self.by_rowid(caller, rowid).await?;
                    if readable.is_some() {
                        break;
                    }
                }
                readable
            }
        };
        found.ok_or_else(|| ServiceError::not_found(format!("Session not found: {identifier}")))
    }

    /// A session by rowid.
    pub async fn by_rowid(&self, caller: &Caller, rowid: i64) -> Result<Option<SessionRecord>> {
        let session = self.services.store.get_session(Some(rowid), None).await?;
        self.readable(caller, session).await
    }

    /// `session`, if the caller may read its project.
    async fn readable(&self, caller: &Caller, session: Option<SessionRecord>) -> Result<Option<SessionRecord>> {
        match session {
            Some(session) if self.services.can_read(caller, session.project_id).await? => Ok(Some(session)),
            _ => Ok(None),
        }
    }

    /// A project's session by rowid; 404 when the project has no such session.
    pub async fn in_project(&self, caller: &Caller, project: &Project, rowid: i64) -> Result<SessionRecord> {
        let session = self.services.store.get_session(Some(rowid), None).await?.filter(|session| session.project_id == project.id);
        let session = self.readable(caller, session).await?;
        session.ok_or_else(|| ServiceError::not_found(format!("Project {} has no session {rowid}", project.name)))
    }

    /// Session rowids of GlobalIDs and `session.id`s (every project's session of that name;
    /// unknown ones are left out). The rowids only narrow a filter over a project the caller has
    /// resolved, or are checked by the caller.
    pub async fn rowids(&self, _caller: &Caller, identifiers: &[String]) -> Result<Vec<i64>> {
        let mut rowids = Vec::new();
        let mut by_name = Vec::new();
        for identifier in identifiers {
            match GlobalId::decode_as(identifier, GlobalType::ProjectSession) {
                Some(rowid) => rowids.push(rowid),
                None => by_name.push(identifier.as_str()),
            }
        }
        if !by_name.is_empty() {
            rowids.extend(self.services.store.session_rowids_by_session_id(&by_name).await?);
        }
        Ok(rowids)
    }

    pub async fn delete(&self, caller: &Caller, identifier: &str) -> Result<()> {
        caller.require_write()?;
        let session = self.resolve(caller, identifier).await?;
        self.services.require_project_write(caller, session.project_id).await?;
        self.services.store.delete_sessions(&[session.rowid]).await?;
        Ok(())
    }

    /// Deletes sessions named all by GlobalID or all by `session.id` (not a mix; a name stands
    /// for every project's session of that name); unknown ones, and those the caller may not
    /// change, are skipped.
    pub async fn delete_many(&self, caller: &Caller, identifiers: &[String]) -> Result<()> {
        caller.require_write()?;
        let global: Vec<Option<i64>> =
            identifiers.iter().map(|identifier| GlobalId::decode_as(identifier, GlobalType::ProjectSession)).collect();
        let rowids = if global.iter().all(Option::is_some) {
            global.into_iter().flatten().collect()
        } else if global.iter().all(Option::is_none) {
            self.rowids(caller, identifiers).await?
        } else {
            return Err(ServiceError::invalid("session_identifiers must be all GlobalIDs or all session_id strings, not a mix"));
        };
        if self.services.reaches_everything(caller) {
            self.services.store.delete_sessions(&rowids).await?;
            return Ok(());
        }
        // Sessions the caller may not change are skipped like unknown ones; each project's
        // rights are looked up once.
        let mut writable = Vec::with_capacity(rowids.len());
        let mut rights: HashMap<i64, bool> = HashMap::new();
        for (rowid, project_id) in self.services.store.projects_of_sessions(&rowids).await? {
            let may_write = match rights.get(&project_id) {
                Some(known) => *known,
                None => {
                    let write = self.services.project_rights(caller, project_id).await?.write;
                    rights.insert(project_id, write);
                    write
                }
            };
            if may_write {
                writable.push(rowid);
            }
        }
        self.services.store.delete_sessions(&writable).await?;
        Ok(())
    }
}
