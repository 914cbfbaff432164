//! Database URLs in the forms Phoenix accepts (`PHOENIX_SQL_DATABASE_URL`).

use std::path::{Path, PathBuf};

use crate::error::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite database file.
    SqliteFile(PathBuf),
    /// A private in-memory SQLite database (`sqlite:///:memory:`), gone when the process exits.
    SqliteMemory,
    /// A PostgreSQL database, as a `postgresql://user:password@host:port/database` url.
    Postgres(String),
}

impl DatabaseUrl {
    /// The default database: `<working_dir>/ember.db`.
    pub fn default_for(working_dir: &Path) -> Self {
        DatabaseUrl::SqliteFile(working_dir.join("ember.db"))
    }

    /// Parses SQLAlchemy-style `sqlite:///relative.db`, `sqlite:////absolute.db`,
    /// `sqlite:///:memory:`, sqlx-style `sqlite://path` / `sqlite:path`, and
    /// `postgresql://...` / `postgres://...` (a SQLAlchemy driver suffix such as
    /// `postgresql+asyncpg://` is ignored).
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let url = url.trim();
        if let Some((scheme, rest)) = url.split_once("://") {
            let base_scheme = scheme.split('+').next().unwrap_or_default();
            if base_scheme == "postgresql" || base_scheme == "postgres" {
                return Ok(DatabaseUrl::Postgres(format!("postgresql://{rest}")));
            }
        }
        let Some(rest) = url.strip_prefix("sqlite:") else {
            return Err(StoreError::Config(format!("{url:?} is neither a sqlite:/// nor a postgresql:// url")));
        };
        let path = rest.strip_prefix("///").or_else(|| rest.strip_prefix("//")).unwrap_or(rest);
        let path = path.split('?').next().unwrap_or_default();
        match path {
            "" => Err(StoreError::Config(format!("{url:?} names no database file"))),
            ":memory:" => Ok(DatabaseUrl::SqliteMemory),
            path => Ok(DatabaseUrl::SqliteFile(PathBuf::from(path))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_phoenix_and_sqlx_forms() {
        assert_eq!(DatabaseUrl::parse("sqlite:////tmp/x.db").unwrap(), DatabaseUrl::SqliteFile("/tmp/x.db".into()));
        assert_eq!(DatabaseUrl::parse("sqlite:///x.db").unwrap(), DatabaseUrl::SqliteFile("x.db".into()));
        assert_eq!(DatabaseUrl::parse("sqlite:///:memory:").unwrap(), DatabaseUrl::SqliteMemory);
        assert_eq!(DatabaseUrl::parse("sqlite://data/x.db").unwrap(), DatabaseUrl::SqliteFile("data/x.db".into()));
        assert_eq!(DatabaseUrl::parse("postgresql://u:p@h:5433/db").unwrap(), DatabaseUrl::Postgres("postgresql://u:p@h:5433/db".into()));
        assert_eq!(DatabaseUrl::parse("postgres://u@h/db").unwrap(), DatabaseUrl::Postgres("postgresql://u@h/db".into()));
        assert_eq!(DatabaseUrl::parse("postgresql+asyncpg://u@h/db").unwrap(), DatabaseUrl::Postgres("postgresql://u@h/db".into()));
        assert!(DatabaseUrl::parse("mysql://h").is_err());
    }
}
