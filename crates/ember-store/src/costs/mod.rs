//! LLM cost tracking in the store: the stored prices and the price book built from them
//! (`prices`), each LLM span's cost written with its batch and read back by span, trace,
//! session and time window (`span_costs`), and re-pricing after a price change (`recompute`).
//! What a price is and which applies to a span is ember-core's `cost` module.
//!
//! Costs are kept in `span_costs` (one row per LLM span naming a model) and summed into the
//! hourly rollups' `prompt_cost` and `completion_cost`, which outlive swept spans.

pub(crate) mod prices;
pub(crate) mod recompute;
pub(crate) mod span_costs;

pub use prices::{NewModelPrice, PriceRecord};
pub use recompute::Recomputed;
pub use span_costs::{CostTotals, SpanCostRecord};
