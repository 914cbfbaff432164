//! Filters as SQL, planned with a look at the data: SQLite's planner cannot tell a candidate
//! subquery of ten rows from one of a hundred thousand, so each is counted first (along an index,
//! up to `ember_query::probe_limit` rows, which grows with the project) and only the small ones
//! drive the query.

use ember_query::{Filter, PlannedFilter};
use sea_query::SimpleExpr;

use crate::engine::backend::Statement;
use crate::engine::dialect::Dialect;
use crate::error::Result;
use crate::Store;

impl Store {
    /// The filter's SQL for this store, over the spans (traces, sessions) of `project_id`.
    pub(crate) async fn filter_sql(&self, project_id: i64, filter: &Filter) -> Result<SimpleExpr> {
        Ok(self.filter_plan(project_id, filter).await?.expr)
    }

    /// As [`Store::filter_sql`], saying also whether a few candidates drive it by span rowid.
    pub(crate) async fn filter_plan(&self, project_id: i64, filter: &Filter) -> Result<PlannedFilter> {
        let mut large = Vec::new();
        if self.dialect == Dialect::Sqlite {
            let mut limit = None;
            for probe in filter.probes(self.dialect) {
                let Some(probe) = probe else {
                    large.push(false);
                    continue;
                };
                let limit = match limit {
                    Some(limit) => limit,
                    None => *limit.insert(ember_query::probe_limit(self.filter_probe_limit, self.project_span_count(project_id).await?)),
                };
                let count = Statement::new(format!("SELECT COUNT(*) FROM ({} LIMIT {limit})", probe.sql), probe.values);
                let rows: i64 = self.reader.exec().fetch_one(count).await?.get(0)?;
                large.push(rows as usize >= limit);
            }
        }
        Ok(filter.plan(self.dialect, &large))
    }

    /// The spans a project holds, from its hourly rollups (one row per hour, not per span).
    async fn project_span_count(&self, project_id: i64) -> Result<u64> {
        let count =
            Statement::new("SELECT COALESCE(SUM(span_count), 0) FROM project_hourly_rollups WHERE project_id = $1", [project_id.into()]);
        let spans: i64 = self.reader.exec().fetch_one(count).await?.get(0)?;
        Ok(spans.max(0) as u64)
    }
}
