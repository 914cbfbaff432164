//! Cumulative error and token counts across a batch of new spans.
//!
//! A span's cumulative count is its own count plus that of every descendant. New spans arrive
//! in any order: a child may be stored before its parent, or in the same batch. Each new span's
//! *contribution* is its own count plus the cumulative counts of its children already stored.
//! The contribution is added to every ancestor that is new in the batch (in memory) and, where
//! the walk leaves the batch, to the first ancestor outside it (an *entry point*), from which the
//! store propagates it upward in SQL.

use std::collections::HashMap;
use std::ops::AddAssign;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub errors: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
}

impl Counts {
    pub fn is_zero(&self) -> bool {
        *self == Counts::default()
    }

    pub fn negated(self) -> Counts {
        Counts { errors: -self.errors, prompt_tokens: -self.prompt_tokens, completion_tokens: -self.completion_tokens }
    }
}

impl AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.errors += other.errors;
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
    }
}

pub struct NewSpan<'a> {
    pub span_id: &'a str,
    pub parent_id: Option<&'a str>,
    /// Own counts plus the cumulative counts of already-stored children.
    pub contribution: Counts,
}

pub struct Propagation {
    /// Final cumulative counts of the new spans, in input order.
    pub cumulative: Vec<Counts>,
    /// Counts to add to ancestors outside the batch (and their own ancestors), by span id.
    pub entry_points: HashMap<String, Counts>,
}

pub fn propagate(spans: &[NewSpan<'_>]) -> Propagation {
    let index: HashMap<&str, usize> = spans.iter().enumerate().map(|(i, span)| (span.span_id, i)).collect();
    let mut cumulative: Vec<Counts> = spans.iter().map(|span| span.contribution).collect();
    let mut entry_points: HashMap<String, Counts> = HashMap::new();
    for (origin, span) in spans.iter().enumerate() {
        if span.contribution.is_zero() {
            continue;
        }
        let mut parent = span.parent_id;
        // Bounded by the batch size, so a cycle in untrusted parent ids cannot loop forever.
        let mut steps = 0;
        while let Some(parent_id) = parent {
            match index.get(parent_id) {
                Some(&position) if position != origin && steps < spans.len() => {
                    cumulative[position] += span.contribution;
                    parent = spans[position].parent_id;
                    steps += 1;
                }
                Some(_) => break,
                None => {
                    *entry_points.entry(parent_id.to_string()).or_default() += span.contribution;
                    break;
                }
            }
        }
    }
    Propagation { cumulative, entry_points }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(errors: i64, prompt_tokens: i64) -> Counts {
        Counts { errors, prompt_tokens, completion_tokens: 0 }
    }

    #[test]
    fn sums_descendants_regardless_of_order() {
        // leaf -> mid -> root, listed children first.
        let spans = [
            NewSpan { span_id: "leaf", parent_id: Some("mid"), contribution: counts(1, 10) },
            NewSpan { span_id: "mid", parent_id: Some("root"), contribution: counts(0, 5) },
            NewSpan { span_id: "root", parent_id: None, contribution: counts(1, 0) },
        ];
        let result = propagate(&spans);
        assert_eq!(result.cumulative, vec![counts(1, 10), counts(1, 15), counts(2, 15)]);
        assert!(result.entry_points.is_empty());
    }

    #[test]
    fn contributions_leaving_the_batch_become_entry_points() {
        let spans = [
            NewSpan { span_id: "a", parent_id: Some("stored-parent"), contribution: counts(1, 3) },
            NewSpan { span_id: "b", parent_id: Some("a"), contribution: counts(1, 4) },
        ];
        let result = propagate(&spans);
        assert_eq!(result.cumulative, vec![counts(2, 7), counts(1, 4)]);
        assert_eq!(result.entry_points.get("stored-parent"), Some(&counts(2, 7)));
    }

    #[test]
    fn cycles_terminate() {
        let spans = [
            NewSpan { span_id: "a", parent_id: Some("b"), contribution: counts(1, 0) },
            NewSpan { span_id: "b", parent_id: Some("a"), contribution: counts(1, 0) },
        ];
        let result = propagate(&spans);
        assert_eq!(result.cumulative, vec![counts(2, 0), counts(2, 0)]);
    }
}
