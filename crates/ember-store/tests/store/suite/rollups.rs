//! Project activity read from the hourly rollups, kept right by ingest, deletions and transfers.

use ember_store::{ActivityWindow, Store};

use super::{llm, project_id, routed, span, write};

const HOUR: i64 = 3_600_000_000_000;
const BASE: i64 = 472_222 * HOUR;

fn timed(mut s: ember_core::Span, start: i64, millis: i64) -> ember_core::Span {
    s.start_time = start;
    s.end_time = start + millis * 1_000_000;
    s
}

fn window(bins: usize) -> ActivityWindow {
    ActivityWindow { start: BASE, end: BASE + 3 * HOUR, bins, latency_per_bin: true }
}

fn near(value: Option<f64>, expected: f64) -> bool {
    value.is_some_and(|v| (v - expected).abs() / expected < 0.15)
}

pub async fn project_activity_follows_ingest_deletion_and_transfer(store: Store) {
    // Trace 1 in the first hour: a 2 s root and an erroring LLM child; trace 2 in the third hour, 50 ms.
    write(
        &store,
        vec![
            routed("p", timed(span(1, 1, None), BASE + 60, 2_000)),
            routed("p", timed(llm(span(1, 2, Some(1)), 10, 5, true), BASE + 100, 1_500)),
        ],
    )
    .await;
    write(&store, vec![routed("p", timed(span(2, 10, None), BASE + 2 * HOUR + 7, 50))]).await;
    let p = project_id(&store, "p").await;

    let activity = store.project_activity(&[p], window(3)).await.unwrap().remove(&p).unwrap();
    assert_eq!((activity.spans, activity.errors, activity.traces), (3, 1, 2));
    assert_eq!((activity.prompt_tokens, activity.completion_tokens), (10, 5));
    assert!(near(activity.latency_p50_ms, 50.0), "{:?}", activity.latency_p50_ms);
    assert!(near(activity.latency_p99_ms, 2_000.0), "{:?}", activity.latency_p99_ms);
    let traces: Vec<i64> = activity.bins.iter().map(|bin| bin.traces).collect();
    assert_eq!(traces, [1, 0, 1]);
    assert_eq!(activity.bins[0].tokens, 15);
    assert!(near(activity.bins[2].latency_p50_ms, 50.0));
    assert_eq!(activity.bins[1].latency_p50_ms, None);

    // Outside the window nothing is counted; a window of two bins halves three hours into 2 + 1.
    let earlier = ActivityWindow { start: BASE - 5 * HOUR, end: BASE, bins: 5, latency_per_bin: false };
    assert_eq!(store.project_activity(&[p], earlier).await.unwrap()[&p].spans, 0);
    let two = store.project_activity(&[p], window(2)).await.unwrap().remove(&p).unwrap();
    assert_eq!(two.bins.iter().map(|bin| bin.traces).collect::<Vec<_>>(), [1, 1]);
    assert_eq!(two.bins[1].start, BASE + 2 * HOUR);
    // Five hours asked for in four bins: three bins of two hours, none past the window's end.
    let five = ActivityWindow { start: BASE, end: BASE + 5 * HOUR, bins: 4, latency_per_bin: false };
    let five = store.project_activity(&[p], five).await.unwrap().remove(&p).unwrap();
    assert_eq!(five.bins.iter().map(|bin| bin.start).collect::<Vec<_>>(), [BASE, BASE + 2 * HOUR, BASE + 4 * HOUR]);
    let whole = ActivityWindow { latency_per_bin: false, ..window(3) };
    let whole = store.project_activity(&[p], whole).await.unwrap().remove(&p).unwrap();
    assert_eq!((whole.latency_p50_ms, whole.latency_p99_ms), (activity.latency_p50_ms, activity.latency_p99_ms));
    assert_eq!(whole.bins[2].latency_p50_ms, None, "bins get no percentiles of their own");

    // The first hour with spans, for an "all time" window.
    assert_eq!(store.first_activity_hour(&[p]).await.unwrap(), Some(BASE));
    assert_eq!(store.first_activity_hour(&[]).await.unwrap(), None);

    // Last activity: the newest trace's start.
    assert_eq!(store.last_trace_starts(&[p]).await.unwrap()[&p], BASE + 2 * HOUR + 7);

    // Deleting a trace takes its hour's counts with it.
    let trace_2 = store.get_trace(None, Some(&format!("{:032x}", 2))).await.unwrap().unwrap();
    assert!(store.delete_trace(trace_2.rowid).await.unwrap());
    let activity = store.project_activity(&[p], window(3)).await.unwrap().remove(&p).unwrap();
    assert_eq!((activity.spans, activity.traces), (2, 1));
    assert!(near(activity.latency_p99_ms, 2_000.0));

    // Moving trace 1 moves its counts to the other project.
    let q = store.create_project("q", None).await.unwrap().id;
    let trace_1 = store.get_trace(None, Some(&format!("{:032x}", 1))).await.unwrap().unwrap();
    store.transfer_traces(&[trace_1.rowid], q).await.unwrap();
    let both = store.project_activity(&[p, q], window(1)).await.unwrap();
    assert_eq!((both[&p].spans, both[&p].traces), (0, 0));
    assert_eq!((both[&q].spans, both[&q].errors, both[&q].prompt_tokens), (2, 1, 10));

    // Deleting the LLM span removes its error and tokens; the root stays.
    let child = store.get_span(None, Some(&format!("{:016x}", 2))).await.unwrap().unwrap();
    assert!(store.delete_span(child.rowid).await.unwrap());
    let q_activity = store.project_activity(&[q], window(1)).await.unwrap().remove(&q).unwrap();
    assert_eq!((q_activity.spans, q_activity.errors, q_activity.prompt_tokens, q_activity.traces), (1, 0, 0, 1));

    // Deleting a session takes the counts of its traces.
    let mut in_session = timed(span(3, 30, None), BASE + HOUR, 5);
    in_session.attributes = serde_json::json!({"session": {"id": "s-1"}}).as_object().cloned().unwrap();
    write(&store, vec![routed("p", in_session)]).await;
    assert_eq!(store.project_activity(&[p], window(3)).await.unwrap()[&p].bins[1].traces, 1);
    let sessions = store.session_rowids_by_session_id(&["s-1"]).await.unwrap();
    assert_eq!(store.delete_sessions(&sessions).await.unwrap(), 1);
    assert_eq!(store.project_activity(&[p], window(3)).await.unwrap()[&p].spans, 0);

    // Duplicates are not counted twice; a deleted project's rollups go with it.
    write(&store, vec![routed("p", timed(span(4, 40, None), BASE, 1))]).await;
    write(&store, vec![routed("p", timed(span(4, 40, None), BASE, 1))]).await;
    assert_eq!(store.project_activity(&[p], window(3)).await.unwrap()[&p].spans, 1);
    assert!(store.delete_project(p).await.unwrap());
    assert_eq!(store.project_activity(&[p], window(3)).await.unwrap()[&p].spans, 0);
}

/// Spans over five hours with latencies from microseconds to minutes, some erroring, some LLM.
pub async fn write_mixed_spans(store: &Store) {
    let mut spans = Vec::new();
    for trace in 0..40_u8 {
        let start = BASE + i64::from(trace) * HOUR / 8;
        let millis = [0, 1, 3, 17, 120, 999, 4_200, 65_000][usize::from(trace) % 8];
        spans.push(routed("p", timed(span(trace, trace, None), start, millis)));
        let child = llm(span(trace, 100 + trace, Some(trace)), i64::from(trace), 2, trace % 3 == 0);
        spans.push(routed(if trace % 2 == 0 { "p" } else { "q" }, timed(child, start + 1, millis / 2)));
    }
    write(store, spans).await;
}

/// Project p's activity over those hours, per hour.
pub async fn mixed_activity(store: &Store) -> Vec<ember_store::ProjectActivity> {
    let ids = [project_id(store, "p").await];
    let window = ActivityWindow { start: BASE, end: BASE + 6 * HOUR, bins: 6, latency_per_bin: true };
    let activity = store.project_activity(&ids, window).await.unwrap();
    ids.iter().map(|id| activity[id].clone()).collect()
}

/// The statements of a rollup migration that fill the tables from stored spans, naming the
/// columns the rollups had then (the cost migration added two with defaults).
pub fn backfill_statements(migration: &str) -> Vec<String> {
    let without_comments: String = migration.lines().filter(|line| !line.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n");
    without_comments
        .split(';')
        .map(str::trim)
        .filter(|statement| statement.starts_with("INSERT"))
        .map(|statement| {
            statement.replacen(
                "INSERT INTO project_hourly_rollups\n",
                "INSERT INTO project_hourly_rollups (project_id, hour, span_count, error_count, root_span_count, prompt_tokens, completion_tokens)\n",
                1,
            )
        })
        .collect()
}
