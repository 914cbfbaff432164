//! Read-only SQL over ember's documented views (MCP's `run_sql`): the views hold the projects the
//! caller may read and nothing else; the query is checked, capped and timed by the store.

use std::time::Duration;

use ember_store::SqlAnswer;

use crate::error::Result;
use crate::{Caller, Services};

pub struct AgentSql<'a> {
    pub(crate) services: &'a Services,
}

impl AgentSql<'_> {
    /// Runs `sql` as `caller` sees the data: at most `max_rows` rows, cancelled past `budget`.
    pub async fn query(&self, caller: &Caller, sql: &str, max_rows: usize, budget: Duration) -> Result<SqlAnswer> {
        let visibility = self.services.project_visibility(caller).await?;
        Ok(self.services.store.agent_sql(sql, visibility, max_rows, budget).await?)
    }

    /// The views, their columns and the query rules, in Markdown.
    pub fn reference(&self) -> String {
        self.services.store.agent_sql_reference()
    }
}
