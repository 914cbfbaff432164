//! Relay connections over ember's reads. Every store list is a newest-first keyset page whose
//! cursor is a row id, so an edge's cursor is its row id and `after` resumes below it; lists read
//! whole (a trace's spans, a session's traces) are paged by position. Every connection of a node
//! type is `Connection<String, Node>`, so each type name (`SpanConnection`) has one definition.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{OutputType, Result};
use ember_core::ErrorCode;
use ember_store::Page;

use super::bad_input;

/// The most edges one connection answers.
pub const MAX_FIRST: usize = 10_000;

/// How many edges to read: `first`, 50 when absent, capped.
pub fn edges_wanted(first: Option<i32>) -> Result<usize> {
    match first {
        None => Ok(50),
        Some(first) if first < 0 => Err(bad_input(ErrorCode::Unprocessable, "first must not be negative")),
        Some(first) => Ok((first as usize).min(MAX_FIRST)),
    }
}

fn cursor_value(after: &str) -> Result<i64> {
    after.parse::<i64>().map_err(|_| bad_input(ErrorCode::Unprocessable, format!("{after:?} is not a cursor of this connection")))
}

/// The keyset cursor that resumes after the edge `after` names.
pub fn resume_after(after: Option<&str>) -> Result<Option<i64>> {
    after.map(|after| cursor_value(after).map(|rowid| rowid - 1)).transpose()
}

/// A connection of one keyset page.
pub fn keyset<T, N: OutputType>(page: Page<T>, rowid: impl Fn(&T) -> i64, mut node: impl FnMut(T) -> N) -> Connection<String, N> {
    let mut connection = Connection::new(false, page.next_cursor.is_some());
    connection.edges.extend(page.items.into_iter().map(|item| Edge::new(rowid(&item).to_string(), node(item))));
    connection
}

/// A connection of a list held whole: `first` items after the position `after` names.
pub fn positional<N: OutputType>(items: Vec<N>, first: usize, after: Option<&str>) -> Result<Connection<String, N>> {
    let start = match after {
        Some(after) => usize::try_from(cursor_value(after)?).map_err(|_| bad_input(ErrorCode::Unprocessable, "a negative cursor"))? + 1,
        None => 0,
    };
    let total = items.len();
    let mut connection = Connection::new(start > 0, start.saturating_add(first) < total);
    connection
        .edges
        .extend(items.into_iter().enumerate().skip(start).take(first).map(|(position, item)| Edge::new(position.to_string(), item)));
    Ok(connection)
}
