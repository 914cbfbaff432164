//! Price rows: the built-in table seeded at startup, user-defined prices, and the in-memory
//! [`PriceBook`] the span writer prices with.
//!
//! The book sits behind an async lock that every span batch holds (shared) for its whole
//! transaction; swapping it takes the lock exclusively, so once [`Store::reload_prices`]
//! returns, every batch still to commit prices with the new book and every batch priced with
//! the old one is committed. A recomputation started after that sees all of them. Other ember
//! processes on the same PostgreSQL database notice a change at their next
//! [`Store::reload_prices_if_changed`].

use std::collections::HashMap;
use std::sync::Arc;

use ember_core::cost::{exact_pattern, BuiltInTable, ModelPrice, PriceBook, PriceOrigin, TokenRates};
use ember_core::time::now_nanos;
use sea_query::Value;

use crate::engine::backend::{Row, Statement};
use crate::engine::dialect::Dialect;
use crate::error::Result;
use crate::Store;

/// The columns of a price row, in [`price_from_row`]'s order.
const PRICE_COLUMNS: &str = "id, name, name_pattern, provider, is_built_in, effective_from, input_rate, output_rate, \
    cache_read_rate, cache_write_rate, prompt_audio_rate, prompt_image_rate, reasoning_rate, completion_audio_rate, \
    completion_image_rate";

/// The rate columns, in [`rate_values`]'s order.
const RATE_COLUMNS: [&str; 9] = [
    "input_rate",
    "output_rate",
    "cache_read_rate",
    "cache_write_rate",
    "prompt_audio_rate",
    "prompt_image_rate",
    "reasoning_rate",
    "completion_audio_rate",
    "completion_image_rate",
];

/// Built-in rows per multi-row insert.
const SEED_CHUNK: usize = 100;

/// A user-defined price to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewModelPrice {
    pub name: String,
    pub name_pattern: String,
    /// Lower case; empty for any provider.
    pub provider: String,
    pub effective_from: Option<i64>,
    pub rates: TokenRates,
}

/// A stored price with its bookkeeping times.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceRecord {
    pub price: ModelPrice,
    pub created_at: i64,
    pub updated_at: i64,
}

fn price_from_row(row: &Row) -> Result<ModelPrice> {
    Ok(ModelPrice {
        id: row.get(0)?,
        name: row.get(1)?,
        name_pattern: row.get(2)?,
        provider: row.get(3)?,
        origin: if row.get::<bool, _>(4)? { PriceOrigin::BuiltIn } else { PriceOrigin::User },
        effective_from: row.get(5)?,
        rates: TokenRates {
            input: row.get(6)?,
            output: row.get(7)?,
            cache_read: row.get(8)?,
            cache_write: row.get(9)?,
            prompt_audio: row.get(10)?,
            prompt_image: row.get(11)?,
            reasoning: row.get(12)?,
            completion_audio: row.get(13)?,
            completion_image: row.get(14)?,
        },
    })
}

fn record_from_row(row: &Row) -> Result<PriceRecord> {
    Ok(PriceRecord { price: price_from_row(row)?, created_at: row.get(15)?, updated_at: row.get(16)? })
}

fn rate_values(rates: &TokenRates) -> [Value; 9] {
    [
        rates.input.into(),
        rates.output.into(),
        rates.cache_read.into(),
        rates.cache_write.into(),
        rates.prompt_audio.into(),
        rates.prompt_image.into(),
        rates.reasoning.into(),
        rates.completion_audio.into(),
        rates.completion_image.into(),
    ]
}

impl Store {
    /// Brings the stored built-in prices in line with `table`: a model new to the table gets a
    /// price applying always; a model whose rates changed gets a new price effective from now,
    /// the old one staying for the spans before. Then loads the price book.
    pub async fn seed_built_in_prices(&self, table: &BuiltInTable) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        if self.dialect == Dialect::Postgres {
            // Replicas starting together seed once: the second waits, then finds the rows.
            tx.exec().execute(Statement::new("LOCK TABLE model_prices IN SHARE ROW EXCLUSIVE MODE", [])).await?;
        }
        let sql = format!("SELECT {PRICE_COLUMNS} FROM model_prices WHERE is_built_in = $1");
        let stored = tx.exec().fetch_all(Statement::new(sql, [true.into()])).await?;
        // (name, provider) → the rates of its latest price.
        let mut current: HashMap<(String, String), (Option<i64>, TokenRates)> = HashMap::new();
        for row in &stored {
            let price = price_from_row(row)?;
            let entry = current.entry((price.name, price.provider)).or_insert((price.effective_from, price.rates));
            if price.effective_from >= entry.0 {
                *entry = (price.effective_from, price.rates);
            }
        }
        let now = now_nanos();
        let changes: Vec<(&str, &str, Option<i64>, &TokenRates)> = table
            .models
            .iter()
            .filter_map(|model| match current.get(&(model.name.clone(), model.provider.clone())) {
                None => Some((model.name.as_str(), model.provider.as_str(), None, &model.rates)),
                Some((_, rates)) if *rates != model.rates => Some((model.name.as_str(), model.provider.as_str(), Some(now), &model.rates)),
                Some(_) => None,
            })
            .collect();
        if !changes.is_empty() {
            for chunk in changes.chunks(SEED_CHUNK) {
                let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 16);
                for (name, provider, effective_from, rates) in chunk {
                    values.extend([(*name).into(), exact_pattern(name).into(), (*provider).into(), true.into(), (*effective_from).into()]);
                    values.extend(rate_values(rates));
                    values.extend([now.into(), now.into()]);
                }
                let sql = format!(
                    "INSERT INTO model_prices (name, name_pattern, provider, is_built_in, effective_from, {}, created_at, updated_at) VALUES {}",
                    RATE_COLUMNS.join(", "),
                    self.dialect.values_list(chunk.len(), 16)
                );
                tx.exec().execute(Statement::new(sql, values)).await?;
            }
            tracing::info!(prices = changes.len(), "built-in model prices added or changed");
        }
        tx.commit().await?;
        self.reload_prices().await
    }

    /// Reloads the price book from the stored prices (see the module documentation for when
    /// the new book takes effect).
    pub async fn reload_prices(&self) -> Result<()> {
        let fingerprint = self.prices_fingerprint().await?;
        let sql = format!("SELECT {PRICE_COLUMNS} FROM model_prices ORDER BY id");
        let rows = self.writer.exec().fetch_all(Statement::new(sql, [])).await?;
        let prices = rows.iter().map(price_from_row).collect::<Result<Vec<_>>>()?;
        let book = Arc::new(PriceBook::new(prices));
        let mut current = self.prices.write().await;
        *current = book;
        *self.prices_loaded.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(fingerprint);
        Ok(())
    }

    /// Reloads the price book if the stored prices changed since it was loaded (another ember
    /// sharing the PostgreSQL database changed one); `true` when it did.
    pub async fn reload_prices_if_changed(&self) -> Result<bool> {
        let fingerprint = self.prices_fingerprint().await?;
        if *self.prices_loaded.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) == Some(fingerprint) {
            return Ok(false);
        }
        self.reload_prices().await?;
        Ok(true)
    }

    /// What changes whenever a price is added, changed or deleted: (count, largest id, latest update).
    async fn prices_fingerprint(&self) -> Result<(i64, i64, i64)> {
        let sql = "SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(MAX(updated_at), 0) FROM model_prices";
        let row = self.writer.exec().fetch_one(Statement::new(sql, [])).await?;
        Ok((row.get(0)?, row.get(1)?, row.get(2)?))
    }

    /// The price book in effect.
    pub async fn price_book(&self) -> Arc<PriceBook> {
        Arc::clone(&*self.prices.read().await)
    }

    /// Stored prices of one origin, by id from `cursor`; `model` keeps those whose name
    /// contains it (case-insensitive).
    pub async fn list_prices(
        &self,
        origin: Option<PriceOrigin>,
        model: Option<&str>,
        cursor: Option<i64>,
        limit: usize,
    ) -> Result<crate::Page<PriceRecord>> {
        let mut values: Vec<Value> = vec![cursor.unwrap_or(i64::MIN).into(), (limit as i64 + 1).into()];
        let mut conditions = vec!["id >= $1".to_string()];
        if let Some(origin) = origin {
            values.push((origin == PriceOrigin::BuiltIn).into());
            conditions.push(format!("is_built_in = ${}", values.len()));
        }
        if let Some(model) = model.filter(|model| !model.is_empty()) {
            values.push(format!("%{}%", like_escaped(&model.to_lowercase())).into());
            conditions.push(format!("LOWER(name) LIKE ${} ESCAPE '\\'", values.len()));
        }
        let sql = format!(
            "SELECT {PRICE_COLUMNS}, created_at, updated_at FROM model_prices WHERE {} ORDER BY id LIMIT $2",
            conditions.join(" AND ")
        );
        let rows = self.reader.exec().fetch_all(Statement::new(sql, values)).await?;
        let items = rows.iter().map(record_from_row).collect::<Result<Vec<_>>>()?;
        Ok(crate::Page::from_overfetch(items, limit, |record| record.price.id))
    }

    pub async fn get_price(&self, id: i64) -> Result<Option<PriceRecord>> {
        let sql = format!("SELECT {PRICE_COLUMNS}, created_at, updated_at FROM model_prices WHERE id = $1");
        self.reader.exec().fetch_optional(Statement::new(sql, [id.into()])).await?.as_ref().map(record_from_row).transpose()
    }

    /// Stores a user-defined price and reloads the book.
    pub async fn create_price(&self, price: &NewModelPrice) -> Result<PriceRecord> {
        let now = now_nanos();
        let sql = format!(
            "INSERT INTO model_prices (name, name_pattern, provider, is_built_in, effective_from, {}, created_at, updated_at) \
             VALUES ({}) RETURNING {PRICE_COLUMNS}, created_at, updated_at",
            RATE_COLUMNS.join(", "),
            self.dialect.placeholders(1, 16)
        );
        let mut values: Vec<Value> = vec![
            price.name.as_str().into(),
            price.name_pattern.as_str().into(),
            price.provider.as_str().into(),
            false.into(),
            price.effective_from.into(),
        ];
        values.extend(rate_values(&price.rates));
        values.extend([now.into(), now.into()]);
        let record = record_from_row(&self.writer.exec().fetch_one(Statement::new(sql, values)).await?)?;
        self.reload_prices().await?;
        Ok(record)
    }

    /// Replaces a user-defined price and reloads the book; `None` when there is no such user price.
    pub async fn replace_price(&self, id: i64, price: &NewModelPrice) -> Result<Option<PriceRecord>> {
        let mut sets: Vec<String> =
            ["name", "name_pattern", "provider", "effective_from"].iter().chain(RATE_COLUMNS.iter()).map(|c| c.to_string()).collect();
        sets.push("updated_at".into());
        let assignments: Vec<String> = sets.iter().enumerate().map(|(i, column)| format!("{column} = ${}", i + 2)).collect();
        let sql = format!(
            "UPDATE model_prices SET {} WHERE id = $1 AND is_built_in = $16 RETURNING {PRICE_COLUMNS}, created_at, updated_at",
            assignments.join(", ")
        );
        let mut values: Vec<Value> = vec![
            id.into(),
            price.name.as_str().into(),
            price.name_pattern.as_str().into(),
            price.provider.as_str().into(),
            price.effective_from.into(),
        ];
        values.extend(rate_values(&price.rates));
        values.extend([now_nanos().into(), false.into()]);
        let record = self.writer.exec().fetch_optional(Statement::new(sql, values)).await?.as_ref().map(record_from_row).transpose()?;
        if record.is_some() {
            self.reload_prices().await?;
        }
        Ok(record)
    }

    /// Deletes a user-defined price and reloads the book; `false` when there is no such user price.
    pub async fn delete_price(&self, id: i64) -> Result<bool> {
        let sql = "DELETE FROM model_prices WHERE id = $1 AND is_built_in = $2";
        let deleted = self.writer.exec().execute(Statement::new(sql, [id.into(), false.into()])).await? > 0;
        if deleted {
            self.reload_prices().await?;
        }
        Ok(deleted)
    }
}

/// `text` with LIKE's wildcards and escape character escaped by `\`.
fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
