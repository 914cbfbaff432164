//! Secrets: named values (provider API keys, base URLs) that the playground reads before the
//! environment. Written in batches; a value is only ever read by the server itself.

use ember_core::time::now_nanos;

use crate::engine::backend::Statement;
use crate::error::Result;
use crate::Store;

/// One change of a batch: a value to set, or `None` to delete the key.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretChange {
    pub key: String,
    pub value: Option<String>,
}

/// A stored secret and when it was last set (ns since the epoch).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSecret {
    pub value: String,
    pub updated_at: i64,
}

impl Store {
    /// Applies the changes in one transaction, in order.
    pub async fn apply_secret_changes(&self, changes: &[SecretChange]) -> Result<()> {
        let now = now_nanos();
        let mut tx = self.writer.begin().await?;
        for change in changes {
            let statement = match &change.value {
                Some(value) => Statement::new(
                    "INSERT INTO secrets (key, value, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                    [change.key.as_str().into(), value.as_str().into(), now.into()],
                ),
                None => Statement::new("DELETE FROM secrets WHERE key = $1", [change.key.as_str().into()]),
            };
            tx.exec().execute(statement).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The value of a secret, if it is set.
    pub async fn secret(&self, key: &str) -> Result<Option<String>> {
        Ok(self.stored_secret(key).await?.map(|stored| stored.value))
    }

    /// Secrets by key (`(key, stored value)`), only those named when `keys` is given.
    pub async fn list_secrets(&self, keys: Option<&[String]>) -> Result<Vec<(String, StoredSecret)>> {
        let statement = match keys {
            None => Statement::new("SELECT key, value, updated_at FROM secrets ORDER BY key", Vec::<sea_query::Value>::new()),
            Some([]) => return Ok(Vec::new()),
            Some(keys) => Statement::new(
                format!(
                    "SELECT key, value, updated_at FROM secrets WHERE key IN ({}) ORDER BY key",
                    self.dialect.placeholders(1, keys.len())
                ),
                keys.iter().map(|key| key.as_str().into()),
            ),
        };
        let rows = self.reader.exec().fetch_all(statement).await?;
        rows.iter().map(|row| Ok((row.get(0)?, StoredSecret { value: row.get(1)?, updated_at: row.get(2)? }))).collect()
    }

    /// A secret with the time it was last set, if it is set.
    pub async fn stored_secret(&self, key: &str) -> Result<Option<StoredSecret>> {
        let statement = Statement::new("SELECT value, updated_at FROM secrets WHERE key = $1", [key.into()]);
        let Some(row) = self.reader.exec().fetch_optional(statement).await? else { return Ok(None) };
        Ok(Some(StoredSecret { value: row.get(0)?, updated_at: row.get(1)? }))
    }
}
