//! Opening a PostgreSQL store: a pool on the primary, optionally one on a read replica, and
//! migrations that several replicas may start at once.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection};

use crate::engine::backend::Pool;
use crate::engine::dialect::Dialect;
use crate::error::{Result, StoreError};
use crate::{Store, StoreOptions};

/// Held while creating the schema and migrating, so replicas starting together take turns.
const MIGRATION_LOCK: i64 = 0x656d_6265_725f_6d67; // "ember_mg"

pub(crate) async fn open(url: &str, options: &StoreOptions) -> Result<Store> {
    let schema = options.schema.as_deref().map(validate_schema).transpose()?;
    let primary = connect_options(url, schema)?;
    let writer = pool(primary.clone(), options.pool_size).await?;
    migrate(&primary, &writer, schema).await?;
    let reader = match &options.read_replica_url {
        Some(replica) => pool(connect_options(replica, schema)?, options.pool_size).await?,
        None => writer.clone(),
    };
    Ok(Store {
        dialect: Dialect::Postgres,
        writer: Pool::Postgres(writer),
        reader: Pool::Postgres(reader),
        group_commit: None,
        checkpointer: None,
        codec: None,
        query_budget: options.query_budget,
        filter_probe_limit: options.filter_probe_limit,
        max_read_json_bytes: options.max_read_json_bytes,
        ml_written_at: Default::default(),
        ml_summaries: true,
        prices: Default::default(),
        prices_loaded: Default::default(),
        cost_recomputation: Default::default(),
        cost_tracking: options.cost_tracking,
        file: None,
    })
}

fn connect_options(url: &str, schema: Option<&str>) -> Result<PgConnectOptions> {
    let options = PgConnectOptions::from_str(url).map_err(|error| StoreError::Config(format!("bad PostgreSQL url: {error}")))?;
    let options = options.application_name("ember");
    Ok(match schema {
        Some(schema) => options.options([("search_path", schema)]),
        None => options,
    })
}

async fn pool(options: PgConnectOptions, size: u32) -> Result<sqlx::PgPool> {
    Ok(PgPoolOptions::new().max_connections(size.max(2)).acquire_timeout(Duration::from_secs(30)).connect_with(options).await?)
}

async fn migrate(options: &PgConnectOptions, pool: &sqlx::PgPool, schema: Option<&str>) -> Result<()> {
    // The lock lives on a connection of its own; it excludes other processes whichever
    // connection runs the migrations.
    let mut connection = PgConnection::connect_with(options).await?;
    sqlx::query("SELECT pg_advisory_lock($1)").bind(MIGRATION_LOCK).execute(&mut connection).await?;
    let migrated = async {
        if let Some(schema) = schema {
            sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"")).execute(&mut connection).await?;
        }
        sqlx::migrate!("./migrations/postgres").run(pool).await?;
        Ok::<_, StoreError>(())
    }
    .await;
    // Closing the connection releases the lock even if unlocking fails.
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)").bind(MIGRATION_LOCK).execute(&mut connection).await;
    let _ = connection.close().await;
    migrated
}

/// Schema names become identifiers in SQL and in the connection's `search_path`, so only plain
/// lowercase identifiers are accepted.
fn validate_schema(schema: &str) -> Result<&str> {
    let valid = !schema.is_empty()
        && schema.len() <= 63
        && schema.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && schema.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(schema)
    } else {
        Err(StoreError::Config(format!(
            "schema {schema:?} is not a plain lowercase identifier (letters, digits and _, at most 63 characters)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(validate_schema("ember_team_a").is_ok());
        for bad in ["", "Team", "a-b", "1abc", "x\"; DROP", &"a".repeat(64)] {
            assert!(validate_schema(bad).is_err(), "{bad:?}");
        }
    }
}
