//! Database URLs in the forms Phoenix accepts (`PHOENIX_SQL_DATABASE_URL`).

use std::path::{Path, PathBuf};

use crate::error::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite database file.
    SqliteFile(PathBuf),
    /// A private in-memory SQLite database (`sqlite:///:memory:`), gone when the process exits.
    SqliteMemory,
}

impl DatabaseUrl {
    /// The default database: `<working_dir>/ember.db`.
    pub fn default_for(working_dir: &Path) -> Self {
        DatabaseUrl::SqliteFile(working_dir.join("ember.db"))
    }

    /// Parses SQLAlchemy-style `sqlite:///relative.db`, `sqlite:////absolute.db`,
    /// `sqlite:///:memory:`, and sqlx-style `sqlite://path` / `sqlite:path`.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let url = url.trim();
        let Some(rest) = url.strip_prefix("sqlite:") else {
            if url.starts_with("postgres") {
                return Err(StoreError::UnsupportedUrl(
                    "PostgreSQL is not supported by this build of ember yet; use a sqlite:/// url".into(),
                ));
            }
            return Err(StoreError::UnsupportedUrl(format!("{url:?} is not a sqlite:/// url")));
        };
        let path = rest.strip_prefix("///").or_else(|| rest.strip_prefix("//")).unwrap_or(rest);
        let path = path.split('?').next().unwrap_or_default();
        match path {
            "" => Err(StoreError::UnsupportedUrl(format!("{url:?} names no database file"))),
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
        assert!(DatabaseUrl::parse("postgresql://u@h/db").is_err());
        assert!(DatabaseUrl::parse("mysql://h").is_err());
    }
}
