//! Trace retention policies (migration `*_retention_policies.sql`) and the deletions that apply
//! them. A policy is a rule and a schedule; projects name at most one policy, and policy
//! [`DEFAULT_RETENTION_POLICY_ID`] applies to the projects that name none. The schedule and the
//! rules' validation are the retention service's; here are the rows and the deletions.
//!
//! A sweep keeps the hourly rollups of what it deletes, so a project's charts still cover the
//! hours whose spans are gone (an explicit purge rebuilds them instead, see `traces`).

use sea_query::Value;

use crate::engine::backend::{Row, Statement};
use crate::error::{Result, StoreError};
use crate::spans::records::Page;
use crate::Store;
use ember_core::time::now_nanos;

/// The policy of every project that names none (Phoenix's id 0, "Default").
pub const DEFAULT_RETENTION_POLICY_ID: i64 = 0;

const NANOS_PER_DAY: f64 = 86_400.0 * 1e9;

/// Which traces a policy deletes. A limit of 0 deletes nothing of its kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RetentionRule {
    /// Traces that started more than this many days ago.
    MaxDays(f64),
    /// Traces beyond the project's newest this many.
    MaxCount(i64),
    /// Traces either rule deletes.
    MaxDaysOrCount { max_days: f64, max_count: i64 },
}

impl RetentionRule {
    pub fn type_name(&self) -> &'static str {
        match self {
            RetentionRule::MaxDays(_) => "max_days",
            RetentionRule::MaxCount(_) => "max_count",
            RetentionRule::MaxDaysOrCount { .. } => "max_days_or_count",
        }
    }

    pub fn max_days(&self) -> f64 {
        match *self {
            RetentionRule::MaxDays(days) | RetentionRule::MaxDaysOrCount { max_days: days, .. } => days,
            RetentionRule::MaxCount(_) => 0.0,
        }
    }

    pub fn max_count(&self) -> i64 {
        match *self {
            RetentionRule::MaxCount(count) | RetentionRule::MaxDaysOrCount { max_count: count, .. } => count,
            RetentionRule::MaxDays(_) => 0,
        }
    }

    /// Whether the rule can delete anything.
    pub fn deletes_anything(&self) -> bool {
        self.max_days() > 0.0 || self.max_count() > 0
    }

    fn from_columns(type_name: &str, max_days: f64, max_count: i64) -> Result<RetentionRule> {
        match type_name {
            "max_days" => Ok(RetentionRule::MaxDays(max_days)),
            "max_count" => Ok(RetentionRule::MaxCount(max_count)),
            "max_days_or_count" => Ok(RetentionRule::MaxDaysOrCount { max_days, max_count }),
            other => Err(StoreError::Corrupt(format!("unknown retention rule type {other:?}"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RetentionPolicyRecord {
    pub id: i64,
    pub name: String,
    pub cron_expression: String,
    pub rule: RetentionRule,
    /// When the sweeper last applied it (Unix nanoseconds).
    pub last_applied_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Changes to a policy; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct RetentionPolicyChanges {
    pub name: Option<String>,
    pub cron_expression: Option<String>,
    pub rule: Option<RetentionRule>,
}

/// What one deleting transaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepStep {
    /// Traces deleted.
    pub deleted: usize,
    /// How long the transaction held the writer.
    pub held: std::time::Duration,
}

/// A trace's place in a project's time order: traces sort by start time, then rowid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TraceKey {
    pub start_time: i64,
    pub rowid: i64,
}

const POLICY_COLUMNS: &str = "id, name, cron_expression, rule_type, max_days, max_count, last_applied_at, created_at, updated_at";

impl RetentionPolicyRecord {
    fn from_row(row: &Row) -> Result<Self> {
        let rule = RetentionRule::from_columns(&row.get::<String, _>(3)?, row.get(4)?, row.get(5)?)?;
        Ok(RetentionPolicyRecord {
            id: row.get(0)?,
            name: row.get(1)?,
            cron_expression: row.get(2)?,
            rule,
            last_applied_at: row.get(6)?,
            created_at: row.get(7)?,
            updated_at: row.get(8)?,
        })
    }
}

impl Store {
    /// Creates the default policy with this rule if there is none (an existing one is left as
    /// it is, as Phoenix does at startup).
    pub async fn ensure_default_retention_policy(&self, cron_expression: &str, rule: RetentionRule) -> Result<()> {
        let now = now_nanos();
        let sql = "INSERT INTO retention_policies (id, name, cron_expression, rule_type, max_days, max_count, created_at, updated_at) \
                   VALUES ($1, 'Default', $2, $3, $4, $5, $6, $6) ON CONFLICT (id) DO NOTHING";
        let values: [Value; 6] = [
            DEFAULT_RETENTION_POLICY_ID.into(),
            cron_expression.into(),
            rule.type_name().into(),
            rule.max_days().into(),
            rule.max_count().into(),
            now.into(),
        ];
        self.writer.exec().execute(Statement::new(sql, values)).await?;
        Ok(())
    }

    /// Policies by id (the default first); `cursor` is the first id of the page.
    pub async fn list_retention_policies(&self, cursor: Option<i64>, limit: usize) -> Result<Page<RetentionPolicyRecord>> {
        let sql = format!("SELECT {POLICY_COLUMNS} FROM retention_policies WHERE id >= $1 ORDER BY id LIMIT $2");
        let values: [Value; 2] = [cursor.unwrap_or(i64::MIN).into(), (limit as i64 + 1).into()];
        let rows = self.reader.exec().fetch_all(Statement::new(sql, values)).await?;
        let items = rows.iter().map(RetentionPolicyRecord::from_row).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, limit, |policy| policy.id))
    }

    pub async fn get_retention_policy(&self, id: i64) -> Result<Option<RetentionPolicyRecord>> {
        let sql = format!("SELECT {POLICY_COLUMNS} FROM retention_policies WHERE id = $1");
        self.reader.exec().fetch_optional(Statement::new(sql, [id.into()])).await?.as_ref().map(RetentionPolicyRecord::from_row).transpose()
    }

    /// Creates a policy and assigns it to `project_ids` (rowids that exist) in one transaction.
    pub async fn create_retention_policy(
        &self,
        name: &str,
        cron_expression: &str,
        rule: RetentionRule,
        project_ids: &[i64],
    ) -> Result<RetentionPolicyRecord> {
        let now = now_nanos();
        let mut tx = self.writer.begin().await?;
        let sql = format!(
            "INSERT INTO retention_policies (name, cron_expression, rule_type, max_days, max_count, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {POLICY_COLUMNS}"
        );
        let values: [Value; 6] =
            [name.into(), cron_expression.into(), rule.type_name().into(), rule.max_days().into(), rule.max_count().into(), now.into()];
        let policy = RetentionPolicyRecord::from_row(&tx.exec().fetch_one(Statement::new(sql, values)).await?)?;
        assign(&mut tx, policy.id, project_ids).await?;
        tx.commit().await?;
        Ok(policy)
    }

    /// Changes a policy and its projects in one transaction; `None` when there is no such policy.
    /// Projects in `remove_projects` that name the policy go back to the default.
    pub async fn update_retention_policy(
        &self,
        id: i64,
        changes: &RetentionPolicyChanges,
        add_projects: &[i64],
        remove_projects: &[i64],
    ) -> Result<Option<RetentionPolicyRecord>> {
        let mut tx = self.writer.begin().await?;
        let mut sets = vec!["updated_at = $2".to_string()];
        let mut values: Vec<Value> = vec![id.into(), now_nanos().into()];
        let mut set = |column: &str, value: Value| {
            values.push(value);
            sets.push(format!("{column} = ${}", values.len()));
        };
        if let Some(name) = &changes.name {
            set("name", name.as_str().into());
        }
        if let Some(cron) = &changes.cron_expression {
            set("cron_expression", cron.as_str().into());
        }
        if let Some(rule) = changes.rule {
            set("rule_type", rule.type_name().into());
            set("max_days", rule.max_days().into());
            set("max_count", rule.max_count().into());
        }
        let sql = format!("UPDATE retention_policies SET {} WHERE id = $1 RETURNING {POLICY_COLUMNS}", sets.join(", "));
        let Some(row) = tx.exec().fetch_optional(Statement::new(sql, values)).await? else {
            return Ok(None);
        };
        let policy = RetentionPolicyRecord::from_row(&row)?;
        assign(&mut tx, id, add_projects).await?;
        if !remove_projects.is_empty() {
            let sql = format!(
                "UPDATE projects SET retention_policy_id = NULL WHERE retention_policy_id = $1 AND id IN ({})",
                id_list(remove_projects)
            );
            tx.exec().execute(Statement::new(sql, [id.into()])).await?;
        }
        tx.commit().await?;
        Ok(Some(policy))
    }

    /// Deletes a policy; its projects go back to the default. Whether there was one.
    pub async fn delete_retention_policy(&self, id: i64) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        // Said here as well as by the foreign key, which SQLite enforces only with its pragma on.
        tx.exec()
            .execute(Statement::new("UPDATE projects SET retention_policy_id = NULL WHERE retention_policy_id = $1", [id.into()]))
            .await?;
        let deleted = tx.exec().execute(Statement::new("DELETE FROM retention_policies WHERE id = $1", [id.into()])).await? > 0;
        tx.commit().await?;
        Ok(deleted)
    }

    /// The policy a project names (`None`: the default); `Err(NotFound)` without the project.
    pub async fn project_retention_policy(&self, project_id: i64) -> Result<Option<i64>> {
        let row = self
            .reader
            .exec()
            .fetch_optional(Statement::new("SELECT retention_policy_id FROM projects WHERE id = $1", [project_id.into()]))
            .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("project {project_id} not found")))?.get(0)
    }

    /// Makes a project name `policy_id` (`None`: the default policy).
    pub async fn set_project_retention_policy(&self, project_id: i64, policy_id: Option<i64>) -> Result<()> {
        let sql = "UPDATE projects SET retention_policy_id = $2 WHERE id = $1";
        let updated = self.writer.exec().execute(Statement::new(sql, [project_id.into(), policy_id.into()])).await?;
        if updated == 0 {
            return Err(StoreError::NotFound(format!("project {project_id} not found")));
        }
        Ok(())
    }

    /// The rowids of the projects a policy applies to: those naming it, or for the default
    /// policy those naming none.
    pub async fn retention_policy_projects(&self, policy_id: i64) -> Result<Vec<i64>> {
        let sql = if policy_id == DEFAULT_RETENTION_POLICY_ID {
            "SELECT id FROM projects WHERE retention_policy_id IS NULL OR retention_policy_id = $1 ORDER BY id"
        } else {
            "SELECT id FROM projects WHERE retention_policy_id = $1 ORDER BY id"
        };
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [policy_id.into()])).await?;
        rows.iter().map(|row| row.get(0)).collect()
    }

    /// Records that the sweeper applied a policy at `at`.
    pub async fn mark_retention_applied(&self, policy_id: i64, at: i64) -> Result<()> {
        let sql = "UPDATE retention_policies SET last_applied_at = $2 WHERE id = $1";
        self.writer.exec().execute(Statement::new(sql, [policy_id.into(), at.into()])).await?;
        Ok(())
    }

    /// The oldest trace of the project that `rule` keeps at `now`: traces before it go. `None`
    /// when the rule deletes none of the project's traces.
    pub async fn retention_cutoff(&self, project_id: i64, rule: RetentionRule, now: i64) -> Result<Option<TraceKey>> {
        let by_age = (rule.max_days() > 0.0).then(|| {
            let age = (rule.max_days() * NANOS_PER_DAY).min(i64::MAX as f64) as i64;
            TraceKey { start_time: now.saturating_sub(age), rowid: i64::MIN }
        });
        let by_count = match rule.max_count() {
            count if count > 0 => {
                // The newest `count`th trace, read along the (project_id, start_time, id) index.
                let sql = "SELECT start_time, id FROM traces WHERE project_id = $1 ORDER BY start_time DESC, id DESC LIMIT 1 OFFSET $2";
                let row = self.reader.exec().fetch_optional(Statement::new(sql, [project_id.into(), (count - 1).into()])).await?;
                row.map(|row| Ok::<_, StoreError>(TraceKey { start_time: row.get(0)?, rowid: row.get(1)? })).transpose()?
            }
            _ => None,
        };
        Ok(by_age.max(by_count))
    }

    /// Deletes up to `limit` of the project's traces before `cutoff`, oldest first, in one
    /// transaction, with the sessions they leave empty; the hourly rollups keep them. Returns
    /// how many went (fewer than `limit`: none is left) and how long the transaction held the
    /// writer (not counting the wait for it).
    pub async fn sweep_traces_before(&self, project_id: i64, cutoff: TraceKey, limit: usize) -> Result<SweepStep> {
        let mut tx = self.writer.begin().await?;
        let started = std::time::Instant::now();
        let sql = "SELECT id FROM traces WHERE project_id = $1 AND start_time <= $2 AND (start_time < $2 OR id < $3) \
                   ORDER BY start_time, id LIMIT $4";
        let values: [Value; 4] = [project_id.into(), cutoff.start_time.into(), cutoff.rowid.into(), (limit as i64).into()];
        let rows = tx.exec().fetch_all(Statement::new(sql, values)).await?;
        let rowids: Vec<i64> = rows.iter().map(|row| row.get(0)).collect::<Result<_>>()?;
        if !rowids.is_empty() {
            crate::traces::delete_trace_rows(&mut tx, self.dialect, &rowids, crate::traces::Rollups::Keep).await?;
        }
        tx.commit().await?;
        Ok(SweepStep { deleted: rowids.len(), held: started.elapsed() })
    }
}

/// Points the projects at a policy (rowids of projects that do not exist change nothing).
async fn assign(tx: &mut crate::engine::backend::Transaction, policy_id: i64, project_ids: &[i64]) -> Result<()> {
    if project_ids.is_empty() {
        return Ok(());
    }
    let sql = format!("UPDATE projects SET retention_policy_id = $1 WHERE id IN ({})", id_list(project_ids));
    tx.exec().execute(Statement::new(sql, [policy_id.into()])).await?;
    Ok(())
}

fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

impl Store {
    /// Every project's rowid with the policy it names (`None`: the default), by rowid.
    pub async fn project_retention_assignments(&self) -> Result<Vec<(i64, Option<i64>)>> {
        let sql = "SELECT id, retention_policy_id FROM projects ORDER BY id";
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [])).await?;
        rows.iter().map(|row| Ok((row.get(0)?, row.get(1)?))).collect()
    }
}

/// Pages an incremental vacuum step returns to the file system (64 MiB of 16 KiB pages).
const VACUUM_STEP_PAGES: i64 = 4096;

impl Store {
    /// Deletes up to `limit` of the oldest traces of every project in one transaction, with the
    /// sessions they leave empty (the byte budget's deletion); the hourly rollups keep them.
    /// Returns how many went.
    pub async fn sweep_oldest_traces(&self, limit: usize) -> Result<SweepStep> {
        let mut tx = self.writer.begin().await?;
        let started = std::time::Instant::now();
        let sql = "SELECT id FROM traces ORDER BY start_time, id LIMIT $1";
        let rows = tx.exec().fetch_all(Statement::new(sql, [(limit as i64).into()])).await?;
        let rowids: Vec<i64> = rows.iter().map(|row| row.get(0)).collect::<Result<_>>()?;
        if !rowids.is_empty() {
            crate::traces::delete_trace_rows(&mut tx, self.dialect, &rowids, crate::traces::Rollups::Keep).await?;
        }
        tx.commit().await?;
        Ok(SweepStep { deleted: rowids.len(), held: started.elapsed() })
    }

    /// How many traces the database holds, every project together (a scan of `traces`; the byte
    /// budget's estimate of how many to delete).
    pub async fn count_all_traces(&self) -> Result<u64> {
        let row = self.reader.exec().fetch_one(Statement::new("SELECT COUNT(*) FROM traces", [])).await?;
        Ok(row.get::<i64, _>(0)?.max(0) as u64)
    }

    /// The bytes the database's data uses now (SQLite: without its free pages).
    pub async fn database_used_bytes(&self) -> Result<u64> {
        let row = self.reader.exec().fetch_one(Statement::new(self.dialect.used_bytes_query(), [])).await?;
        Ok(row.get::<i64, _>(0)?.max(0) as u64)
    }

    /// SQLite: the size of the database file once the WAL is checkpointed into it (its pages,
    /// free ones included); `None` on PostgreSQL.
    pub async fn database_file_bytes(&self) -> Result<Option<u64>> {
        if self.dialect != crate::engine::dialect::Dialect::Sqlite {
            return Ok(None);
        }
        let sql = "SELECT p.page_count * s.page_size FROM pragma_page_count() AS p, pragma_page_size() AS s";
        let row = self.reader.exec().fetch_one(Statement::new(sql, [])).await?;
        Ok(Some(row.get::<i64, _>(0)?.max(0) as u64))
    }

    /// SQLite: the database file; `None` in memory and on PostgreSQL.
    pub fn database_file(&self) -> Option<&std::path::Path> {
        self.file.as_deref()
    }

    /// SQLite: gives the pages deletions freed back to the file system, a step at a time with
    /// a pause as long as each (databases created before incremental vacuum keep their free
    /// pages for new rows instead). PostgreSQL: nothing; its autovacuum makes the space reusable.
    pub async fn return_free_space(&self) -> Result<u64> {
        if self.dialect != crate::engine::dialect::Dialect::Sqlite {
            return Ok(0);
        }
        // 2: INCREMENTAL; databases created before it keep their free pages for new rows.
        if self.writer.exec().fetch_one(Statement::new("PRAGMA auto_vacuum", [])).await?.get::<i64, _>(0)? != 2 {
            return Ok(0);
        }
        let mut returned = 0;
        loop {
            let free: i64 = self.writer.exec().fetch_one(Statement::new("PRAGMA freelist_count", [])).await?.get(0)?;
            if free == 0 {
                break;
            }
            let started = std::time::Instant::now();
            let step = free.min(VACUUM_STEP_PAGES);
            self.writer.exec().execute(Statement::new(format!("PRAGMA incremental_vacuum({step})"), [])).await?;
            returned += step as u64;
            tokio::time::sleep(started.elapsed()).await;
        }
        Ok(returned)
    }
}

/// Per-project byte budgets: a project's bytes are estimated from the hourly rollups' span
/// content bytes, from the hour of its oldest stored trace on (so the hours a sweep emptied no
/// longer count, while their other rollups stay for the charts).
impl Store {
    /// Sets a project's byte budget (`None`: none).
    pub async fn set_project_max_bytes(&self, project_id: i64, max_bytes: Option<i64>) -> Result<()> {
        let sql = "UPDATE projects SET max_bytes = $2 WHERE id = $1";
        self.writer.exec().execute(Statement::new(sql, [project_id.into(), max_bytes.into()])).await?;
        Ok(())
    }

    pub async fn project_max_bytes(&self, project_id: i64) -> Result<Option<i64>> {
        let row =
            self.reader.exec().fetch_optional(Statement::new("SELECT max_bytes FROM projects WHERE id = $1", [project_id.into()])).await?;
        Ok(row.map(|row| row.get::<Option<i64>, _>(0)).transpose()?.flatten())
    }

    /// The projects that have a byte budget: (project id, budget).
    pub async fn projects_with_byte_budgets(&self) -> Result<Vec<(i64, i64)>> {
        let sql = "SELECT id, max_bytes FROM projects WHERE max_bytes IS NOT NULL ORDER BY id";
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [])).await?;
        rows.iter().map(|row| Ok((row.get(0)?, row.get(1)?))).collect()
    }

    /// The hour of a project's oldest stored trace (`None` without traces).
    async fn oldest_trace_hour(&self, project_id: i64) -> Result<Option<i64>> {
        let sql = "SELECT MIN(start_time) FROM traces WHERE project_id = $1";
        let row = self.reader.exec().fetch_one(Statement::new(sql, [project_id.into()])).await?;
        Ok(row.get::<Option<i64>, _>(0)?.map(crate::write::rollups::hour_of))
    }

    /// A project's stored span bytes, estimated from its hourly rollups (a few rows per hour).
    pub async fn project_bytes(&self, project_id: i64) -> Result<i64> {
        let Some(oldest) = self.oldest_trace_hour(project_id).await? else { return Ok(0) };
        let sql = "SELECT CAST(COALESCE(SUM(span_bytes), 0) AS BIGINT) FROM project_hourly_rollups WHERE project_id = $1 AND hour >= $2";
        let row = self.reader.exec().fetch_one(Statement::new(sql, [project_id.into(), oldest.into()])).await?;
        row.get(0)
    }

    /// Where a project's traces must be cut for it to hold at most `target` bytes: the start of
    /// the earliest hour to keep (traces starting before it go), or `None` when it holds no more
    /// already. The newest hour is always kept.
    pub async fn byte_budget_cutoff(&self, project_id: i64, target: i64) -> Result<Option<TraceKey>> {
        let Some(oldest) = self.oldest_trace_hour(project_id).await? else { return Ok(None) };
        let sql = "SELECT hour, span_bytes FROM project_hourly_rollups WHERE project_id = $1 AND hour >= $2 ORDER BY hour DESC";
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [project_id.into(), oldest.into()])).await?;
        let mut kept = 0_i64;
        let mut keep_from = None;
        for row in &rows {
            let (hour, bytes): (i64, i64) = (row.get(0)?, row.get(1)?);
            kept = kept.saturating_add(bytes);
            if kept > target && keep_from.is_some() {
                return Ok(keep_from.map(|hour| TraceKey { start_time: hour, rowid: i64::MIN }));
            }
            keep_from = Some(hour);
        }
        Ok(None)
    }
}
