//! Filters as SQL, planned with a look at the data: SQLite's planner cannot tell a candidate
//! subquery of ten rows from one of a hundred thousand, so each is counted first (up to
//! `StoreOptions::filter_probe_limit` rows, along an index) and only the small ones drive the query.

use ember_query::Filter;
use sea_query::SimpleExpr;

use crate::engine::backend::Statement;
use crate::engine::dialect::Dialect;
use crate::error::Result;
use crate::Store;

impl Store {
    /// The filter's SQL for this store.
    pub(crate) async fn filter_sql(&self, filter: &Filter) -> Result<SimpleExpr> {
        let mut large = Vec::new();
        if self.dialect == Dialect::Sqlite {
            for probe in filter.probes(self.dialect) {
                let Some(probe) = probe else {
                    large.push(false);
                    continue;
                };
                let limit = self.filter_probe_limit;
                let count = Statement::new(format!("SELECT COUNT(*) FROM ({} LIMIT {limit})", probe.sql), probe.values);
                let rows: i64 = self.reader.exec().fetch_one(count).await?.get(0)?;
                large.push(rows as usize >= limit);
            }
        }
        Ok(filter.to_sql_planned(self.dialect, &large))
    }
}
