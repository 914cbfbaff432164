//! Where a benchmark run keeps its data: an SQLite file in a temporary directory, or a fresh
//! schema in a PostgreSQL database.

use std::path::{Path, PathBuf};

use ember_store::{DatabaseUrl, Store, StoreOptions};

pub enum Database {
    Sqlite { dir: Directory, file: &'static str },
    Postgres { url: String, schema: String },
}

/// A temporary directory, or one the user asked to keep.
pub enum Directory {
    Temporary(tempfile::TempDir),
    Kept(PathBuf),
}

impl Directory {
    fn path(&self) -> &Path {
        match self {
            Directory::Temporary(dir) => dir.path(),
            Directory::Kept(path) => path,
        }
    }
}

impl Database {
    pub fn new(postgres_url: Option<&str>, name: &'static str, keep: Option<&Path>) -> anyhow::Result<Self> {
        Ok(match postgres_url {
            Some(url) => {
                let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos();
                Database::Postgres { url: url.to_string(), schema: format!("bench_{}_{nanos}", name.replace('.', "_")) }
            }
            None => {
                let dir = match keep {
                    Some(path) => {
                        std::fs::create_dir_all(path)?;
                        anyhow::ensure!(!path.join(name).exists(), "{} already holds {name}", path.display());
                        Directory::Kept(path.to_path_buf())
                    }
                    None => Directory::Temporary(tempfile::tempdir()?),
                };
                Database::Sqlite { dir, file: name }
            }
        })
    }

    pub fn working_dir(&self) -> Option<&Path> {
        match self {
            Database::Sqlite { dir, .. } => Some(dir.path()),
            Database::Postgres { .. } => None,
        }
    }

    /// Environment for `ember serve`.
    pub fn serve_env(&self) -> Vec<(&'static str, String)> {
        match self {
            Database::Sqlite { dir, file } => vec![("PHOENIX_SQL_DATABASE_URL", format!("sqlite:///{}", dir.path().join(file).display()))],
            Database::Postgres { url, schema } => {
                vec![("PHOENIX_SQL_DATABASE_URL", url.clone()), ("PHOENIX_SQL_DATABASE_SCHEMA", schema.clone())]
            }
        }
    }

    pub fn options(&self) -> anyhow::Result<StoreOptions> {
        Ok(match self {
            Database::Sqlite { dir, file } => StoreOptions::new(DatabaseUrl::SqliteFile(dir.path().join(file))),
            Database::Postgres { url, schema } => {
                let mut options = StoreOptions::new(DatabaseUrl::parse(url)?);
                options.schema = Some(schema.clone());
                options
            }
        })
    }

    pub async fn open(&self) -> anyhow::Result<Store> {
        Ok(Store::open(&self.options()?).await?)
    }

    /// Bytes on disk: the SQLite file and its WAL, or every table, index and TOAST of the schema.
    pub async fn size_bytes(&self) -> anyhow::Result<u64> {
        match self {
            Database::Sqlite { dir, file } => Ok([file.to_string(), format!("{file}-wal")]
                .iter()
                .filter_map(|f| std::fs::metadata(dir.path().join(f)).ok())
                .map(|m| m.len())
                .sum()),
            Database::Postgres { url, schema } => {
                use sqlx::Connection;
                let mut connection = sqlx::PgConnection::connect(url).await?;
                let bytes: i64 = sqlx::query_scalar(
                    "SELECT CAST(COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS BIGINT) FROM pg_class c \
                     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'",
                )
                .bind(schema)
                .fetch_one(&mut connection)
                .await?;
                Ok(bytes as u64)
            }
        }
    }
}
