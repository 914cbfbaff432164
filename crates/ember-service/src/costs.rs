//! LLM cost: model prices (the built-in table and user-defined prices) and what spans, traces,
//! sessions and projects cost.
//!
//! Rules: a user price has a name (≤ the name limit), a `name_pattern` that compiles as a
//! regular expression (default: exactly the name), a provider (lower case; empty: any), an
//! optional effective time, and rates in USD per token that are finite, ≥ 0 and ≤ 1 (input and
//! output required). Built-in prices cannot be changed or deleted: a user price overrides them.
//! Prices are administration: anyone signed in reads them (the transports authenticate), only
//! admins change them. Every change
//! re-prices, in the background, the stored spans it can reach: those whose model name matches
//! the old or new pattern and that started at or after the earliest effective time involved.
//! Costs of spans, traces and sessions are read for records their services returned (so already
//! access-checked); a project's cost summary checks the caller may read the project.

use ember_core::cost::{compile_pattern, exact_pattern, PriceBook, PriceOrigin, TokenRates};
use ember_core::{GlobalId, GlobalType};
use ember_store::{
    CostTotals, NewModelPrice, Page, PriceRecord, Project, SessionRecord, SpanCostRecord, SpanOutline, SpanRecord, Store, TraceRecord,
};
use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Result, ServiceError};
use crate::{Caller, ProjectRef, Services};

/// The longest `name_pattern` accepted.
const MAX_PATTERN_CHARS: usize = 1_000;
/// The longest provider name accepted.
const MAX_PROVIDER_CHARS: usize = 100;
/// How often a process looks for price changes made by another one sharing its database.
pub const PRICES_CHECK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// The highest rate accepted, in USD per token: a guard against prices given per million tokens.
const MAX_RATE: f64 = 1.0;

/// A user price as a request gives it.
#[derive(Debug, Clone, Default)]
pub struct PriceInput<'a> {
    pub name: &'a str,
    /// `None`: exactly the name.
    pub name_pattern: Option<&'a str>,
    pub provider: Option<&'a str>,
    /// Unix nanoseconds; `None`: always.
    pub effective_from: Option<i64>,
    pub rates: TokenRates,
}

fn not_found_text(id: i64) -> String {
    format!("Model price with ID {} not found", GlobalId::encode(GlobalType::GenerativeModel, id))
}

fn valid_rate(field: &str, rate: Option<f64>) -> Result<()> {
    match rate {
        Some(rate) if !rate.is_finite() || !(0.0..=MAX_RATE).contains(&rate) => {
            Err(ServiceError::invalid(format!("prices.{field} must be a price in USD per token between 0 and {MAX_RATE}, not {rate}")))
        }
        _ => Ok(()),
    }
}

/// A request's price checked and normalised for the store.
fn valid_price(input: &PriceInput<'_>) -> Result<NewModelPrice> {
    let name = input.name.trim();
    if name.is_empty() {
        return Err(ServiceError::invalid("name cannot be empty"));
    }
    crate::limits::check_name("model price name", "name", name)?;
    let name_pattern = match input.name_pattern.map(str::trim) {
        None | Some("") => exact_pattern(name),
        Some(pattern) if pattern.chars().count() > MAX_PATTERN_CHARS => {
            return Err(ServiceError::invalid(format!("name_pattern is longer than {MAX_PATTERN_CHARS} characters")));
        }
        Some(pattern) => pattern.to_string(),
    };
    compile_pattern(&name_pattern).map_err(ServiceError::invalid)?;
    let provider = input.provider.unwrap_or_default().trim().to_ascii_lowercase();
    if provider.chars().count() > MAX_PROVIDER_CHARS {
        return Err(ServiceError::invalid(format!("provider is longer than {MAX_PROVIDER_CHARS} characters")));
    }
    let rates = input.rates;
    for (field, rate) in [
        ("input", Some(rates.input)),
        ("output", Some(rates.output)),
        ("cache_read", rates.cache_read),
        ("cache_write", rates.cache_write),
        ("prompt_audio", rates.prompt_audio),
        ("prompt_image", rates.prompt_image),
        ("reasoning", rates.reasoning),
        ("completion_audio", rates.completion_audio),
        ("completion_image", rates.completion_image),
    ] {
        valid_rate(field, rate)?;
    }
    Ok(NewModelPrice { name: name.to_string(), name_pattern, provider, effective_from: input.effective_from, rates })
}

/// The earlier of two effective times, `None` (always) winning.
fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    Some(a?.min(b?))
}

pub struct Costs<'a> {
    pub(crate) services: &'a Services,
}

impl Costs<'_> {
    /// Prices by id, user-defined or built-in or both; `model` keeps those whose name contains it.
    pub async fn list_prices(
        &self,
        _caller: &Caller,
        origin: Option<PriceOrigin>,
        model: Option<&str>,
        cursor: Option<i64>,
        limit: usize,
    ) -> Result<Page<PriceRecord>> {
        Ok(self.services.store.list_prices(origin, model, cursor, limit).await?)
    }

    pub async fn get_price(&self, _caller: &Caller, id: i64) -> Result<PriceRecord> {
        self.services.store.get_price(id).await?.ok_or_else(|| ServiceError::not_found(not_found_text(id)))
    }

    /// The price that applies now to a model from a provider, if any.
    pub async fn price_for(&self, _caller: &Caller, model: &str, provider: &str) -> Result<Option<ember_core::cost::ModelPrice>> {
        let book = self.services.store.price_book().await;
        Ok(book.find(model, &provider.trim().to_ascii_lowercase(), ember_core::time::now_nanos()).cloned())
    }

    pub async fn create_price(&self, caller: &Caller, input: &PriceInput<'_>) -> Result<PriceRecord> {
        caller.require_admin()?;
        let price = valid_price(input)?;
        let record = self.services.store.create_price(&price).await?;
        self.reprice(vec![price.name_pattern], price.effective_from);
        Ok(record)
    }

    /// Replaces a user price with `input` (every field; an absent optional field is cleared).
    pub async fn replace_price(&self, caller: &Caller, id: i64, input: &PriceInput<'_>) -> Result<PriceRecord> {
        caller.require_admin()?;
        let price = valid_price(input)?;
        let old = self.user_price(id).await?;
        let record = self.services.store.replace_price(id, &price).await?.ok_or_else(|| ServiceError::not_found(not_found_text(id)))?;
        self.reprice(vec![old.price.name_pattern, price.name_pattern], earliest(old.price.effective_from, price.effective_from));
        Ok(record)
    }

    pub async fn delete_price(&self, caller: &Caller, id: i64) -> Result<()> {
        caller.require_admin()?;
        let old = self.user_price(id).await?;
        if !self.services.store.delete_price(id).await? {
            return Err(ServiceError::not_found(not_found_text(id)));
        }
        self.reprice(vec![old.price.name_pattern], old.price.effective_from);
        Ok(())
    }

    /// A user price by id: 404 when there is none, 400 for a built-in one.
    async fn user_price(&self, id: i64) -> Result<PriceRecord> {
        let record = self.services.store.get_price(id).await?.ok_or_else(|| ServiceError::not_found(not_found_text(id)))?;
        if record.price.origin == PriceOrigin::BuiltIn {
            return Err(ServiceError::invalid(
                "Built-in prices cannot be changed or deleted; add a user-defined price for the model to override it",
            ));
        }
        Ok(record)
    }

    /// Re-prices in the background the stored spans whose model matches one of `patterns` and
    /// that started at or after `since`.
    fn reprice(&self, patterns: Vec<String>, since: Option<i64>) {
        let store = self.services.store.clone();
        let pending = Arc::clone(&self.services.repricing);
        pending.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tokio::spawn(async move {
            match reprice(&store, &patterns, since).await {
                Ok(done) => tracing::info!(examined = done.examined, changed = done.changed, "span costs re-priced after a price change"),
                Err(error) => tracing::error!(%error, "could not re-price span costs after a price change"),
            }
            pending.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        });
    }

    /// Reloads the prices every [`PRICES_CHECK_INTERVAL`] when another ember sharing the
    /// database changed them, until `stopped` resolves.
    pub async fn keep_prices_fresh(&self, stopped: impl std::future::Future<Output = ()>) {
        tokio::pin!(stopped);
        loop {
            tokio::select! {
                _ = tokio::time::sleep(PRICES_CHECK_INTERVAL) => {}
                _ = &mut stopped => return,
            }
            match self.services.store.reload_prices_if_changed().await {
                Ok(true) => tracing::info!("model prices changed by another ember process; reloaded"),
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "could not check the model prices for changes"),
            }
        }
    }

    /// Re-pricings started and not finished.
    pub fn repricing_in_progress(&self) -> usize {
        self.services.repricing.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The prices in effect, for showing which price a span's cost came from.
    pub async fn book(&self) -> Arc<PriceBook> {
        self.services.store.price_book().await
    }

    /// Where the built-in prices come from and when they were taken.
    pub fn built_in_source(&self) -> (String, String) {
        let table = ember_core::cost::built_in_prices();
        (table.source, table.retrieved)
    }

    /// What the spans of these outlines cost (by span rowid).
    pub async fn of_spans(&self, spans: &[SpanOutline]) -> Result<HashMap<i64, SpanCostRecord>> {
        let rowids: Vec<i64> = spans.iter().map(|span| span.rowid).collect();
        Ok(self.services.store.span_costs(&rowids).await?)
    }

    /// What these traces cost (by trace rowid).
    pub async fn of_traces(&self, traces: &[&TraceRecord]) -> Result<HashMap<i64, CostTotals>> {
        let rowids: Vec<i64> = traces.iter().map(|trace| trace.rowid).collect();
        Ok(self.services.store.trace_costs(&rowids).await?)
    }

    /// What the traces of these spans cost (by trace rowid), for lists of root spans.
    pub async fn of_traces_of(&self, spans: &[SpanRecord]) -> Result<HashMap<i64, CostTotals>> {
        let mut rowids: Vec<i64> = spans.iter().map(|span| span.trace_rowid).collect();
        rowids.sort_unstable();
        rowids.dedup();
        Ok(self.services.store.trace_costs(&rowids).await?)
    }

    /// What the traces with these OpenTelemetry ids cost (experiment runs and evaluations name
    /// their traces so); traces the caller may not read are left out.
    pub async fn of_trace_ids(&self, caller: &Caller, trace_ids: &[&str]) -> Result<HashMap<String, CostTotals>> {
        let store = &self.services.store;
        let mut costs = store.trace_costs_by_trace_id(trace_ids).await?;
        if !self.services.reaches_everything(caller) {
            let projects = store.projects_of_targets(ember_core::AnnotationTarget::Trace, trace_ids).await?;
            let project_ids: Vec<i64> = projects.iter().map(|(_, project)| *project).collect();
            let readable = self.services.readable_ids(caller, &project_ids).await?;
            let visible: std::collections::HashSet<&str> =
                projects.iter().filter(|(_, project)| readable.contains(project)).map(|(trace_id, _)| trace_id.as_str()).collect();
            costs.retain(|trace_id, _| visible.contains(trace_id.as_str()));
        }
        Ok(costs)
    }

    /// What these sessions cost (by session rowid).
    pub async fn of_sessions(&self, sessions: &[SessionRecord]) -> Result<HashMap<i64, CostTotals>> {
        let rowids: Vec<i64> = sessions.iter().map(|session| session.rowid).collect();
        Ok(self.services.store.session_costs(&rowids).await?)
    }

    /// A project's tokens and cost over `[start, end)` (Unix nanoseconds; `None`: unbounded).
    pub async fn project_summary(
        &self,
        caller: &Caller,
        project: ProjectRef<'_>,
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<(Project, CostTotals)> {
        let project = self.services.projects().resolve(caller, project).await?;
        let (start, end) = (start.unwrap_or(0), end.unwrap_or(i64::MAX));
        if start > end {
            return Err(ServiceError::invalid("start_time must not be after end_time"));
        }
        let totals = self.services.store.project_cost_summary(project.id, start, end).await?;
        Ok((project, totals))
    }
}

async fn reprice(store: &Store, patterns: &[String], since: Option<i64>) -> Result<ember_store::Recomputed> {
    let patterns: Vec<_> = patterns.iter().filter_map(|pattern| compile_pattern(pattern).ok()).collect();
    let models = store.priced_models(|model, _| patterns.iter().any(|pattern| pattern.is_match(model))).await?;
    Ok(store.recompute_costs(&models, since).await?)
}
