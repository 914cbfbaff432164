//! Retention: policies and the projects following them, sweeps that delete old traces with what
//! hangs off them while the rollups keep counting them, and purges that clear the rollups too.

use ember_core::{AnnotationTarget, Span};
use ember_store::{
    ActivityWindow, AnnotationInput, AnnotationSource, AnnotatorKind, ExampleInput, RetentionPolicyChanges, RetentionRule, Store,
    UploadAction, DEFAULT_RETENTION_POLICY_ID,
};
use serde_json::json;

use super::{project_id, routed, span, write};

const HOUR: i64 = 3_600_000_000_000;
const DAY: i64 = 24 * HOUR;
const NOW: i64 = 480_000 * HOUR;

/// Trace `trace`'s root span `id`, started `age` before [`NOW`], in session `session` if any.
fn aged(trace: u8, id: u8, age: i64, session: Option<&str>) -> Span {
    let mut s = span(trace, id, None);
    s.start_time = NOW - age;
    s.end_time = s.start_time + 1_000_000;
    if let Some(session) = session {
        s.attributes.insert("session".into(), json!({"id": session}));
    }
    s
}

/// A child of `root` with span id `id`.
fn child(mut s: Span, id: u8) -> Span {
    s.parent_id = Some(std::mem::replace(&mut s.span_id, format!("{id:016x}")));
    s
}

fn all_time() -> ActivityWindow {
    ActivityWindow { start: 0, end: NOW + DAY, bins: 1, latency_per_bin: false }
}

async fn trace_exists(store: &Store, trace: u8) -> bool {
    store.get_trace(None, Some(&format!("{trace:032x}"))).await.unwrap().is_some()
}

/// Sweeps a project to the end, `batch` traces per transaction.
async fn sweep(store: &Store, project: i64, rule: RetentionRule, batch: usize) -> usize {
    let Some(cutoff) = store.retention_cutoff(project, rule, NOW).await.unwrap() else { return 0 };
    let mut deleted = 0;
    loop {
        let went = store.sweep_traces_before(project, cutoff, batch).await.unwrap().deleted;
        deleted += went;
        if went < batch {
            return deleted;
        }
    }
}

pub async fn retention_sweeps_delete_old_traces_and_keep_their_rollups(store: Store) {
    // p: traces 1–4 are 3–6 days old (1 and 2 in session "old", 3 with "mixed"), trace 5 is an
    // hour old and also in "mixed"; q has an old trace that follows no policy of p's.
    let mut spans = vec![];
    for trace in 1..=4_u8 {
        let session = match trace {
            1 | 2 => Some("old"),
            3 => Some("mixed"),
            _ => None,
        };
        let root = aged(trace, trace * 10, (7 - i64::from(trace)) * DAY, session);
        spans.push(routed("p", child(root.clone(), trace * 10 + 1)));
        spans.push(routed("p", root));
    }
    spans.push(routed("p", aged(5, 50, HOUR, Some("mixed"))));
    spans.push(routed("q", aged(9, 90, 30 * DAY, None)));
    write(&store, spans).await;
    let (p, q) = (project_id(&store, "p").await, project_id(&store, "q").await);
    let before = store.project_activity(&[p], all_time()).await.unwrap()[&p].clone();
    assert_eq!((before.spans, before.traces), (9, 5));

    // An annotation and a dataset example hang off trace 1's root span.
    let root_1 = format!("{:016x}", 10);
    let annotation = AnnotationInput {
        target_id: root_1.clone(),
        name: "quality".into(),
        label: Some("good".into()),
        score: None,
        explanation: None,
        metadata: json!({}),
        annotator_kind: AnnotatorKind::Human,
        identifier: String::new(),
        source: AnnotationSource::Api,
    };
    store.upsert_annotations(AnnotationTarget::Span, &[annotation], None).await.unwrap();
    let example = ExampleInput {
        input: json!({"q": "kept"}),
        output: json!({}),
        metadata: json!({}),
        splits: None,
        span_id: Some(root_1.clone()),
        external_id: None,
    };
    let dataset = store.upload_examples(UploadAction::Create, "from-spans", None, &json!({}), vec![example]).await.unwrap();
    let linked = store.dataset_examples(dataset.dataset_id, dataset.version_id, &[], &[]).await.unwrap();
    assert!(linked[0].span.is_some(), "the example starts linked to its span");
    let root_1_rowid = store.get_span(None, Some(&root_1)).await.unwrap().unwrap().rowid;

    // Two days: traces 1–4 go, two per transaction, oldest first; trace 5 and q's stay.
    let deleted = sweep(&store, p, RetentionRule::MaxDays(2.0), 2).await;
    assert_eq!(deleted, 4);
    for trace in 1..=4 {
        assert!(!trace_exists(&store, trace).await, "trace {trace} is past the limit");
    }
    assert!(trace_exists(&store, 5).await && trace_exists(&store, 9).await);
    assert!(store.get_span(None, Some(&root_1)).await.unwrap().is_none(), "spans go with their traces");
    assert!(store.annotations_of_span(root_1_rowid).await.unwrap().is_empty(), "their annotations too");
    let examples = store.dataset_examples(dataset.dataset_id, dataset.version_id, &[], &[]).await.unwrap();
    assert_eq!(examples.len(), 1, "examples made from swept spans stay");
    assert_eq!((examples[0].input.clone(), examples[0].span.clone()), (json!({"q": "kept"}), None), "and lose the link");
    assert!(store.get_session(None, Some("old")).await.unwrap().is_none(), "a session left without traces goes");
    let mixed = store.get_session(None, Some("mixed")).await.unwrap().expect("a session with a trace left stays");
    assert_eq!(mixed.traces.len(), 1);

    // The rollups still count what the sweep deleted: the charts keep the old hours.
    let after = store.project_activity(&[p], all_time()).await.unwrap()[&p].clone();
    assert_eq!((after.spans, after.traces), (before.spans, before.traces));
    assert_eq!(sweep(&store, p, RetentionRule::MaxDays(2.0), 2).await, 0, "a second sweep finds nothing");

    // Counts keep the newest: of q's traces 9 (oldest), 10 and 11, one goes at a limit of two.
    write(&store, vec![routed("q", aged(10, 100, 2 * DAY, None)), routed("q", aged(11, 110, DAY, None))]).await;
    assert_eq!(sweep(&store, q, RetentionRule::MaxCount(2), 100).await, 1);
    assert!(!trace_exists(&store, 9).await && trace_exists(&store, 10).await && trace_exists(&store, 11).await);
    assert_eq!(sweep(&store, q, RetentionRule::MaxCount(5), 100).await, 0, "fewer traces than the limit: none go");
    let either = RetentionRule::MaxDaysOrCount { max_days: 1.5, max_count: 5 };
    assert_eq!(sweep(&store, q, either, 100).await, 1, "either limit deletes");
    assert!(!trace_exists(&store, 10).await && trace_exists(&store, 11).await);
    assert_eq!(sweep(&store, q, RetentionRule::MaxDays(0.0), 100).await, 0, "0 is no limit");

    // A purge of a window clears the rollups of its whole hours, swept spans or not.
    store.delete_traces_started_between(p, i64::MIN, NOW - DAY).await.unwrap();
    let purged = store.project_activity(&[p], all_time()).await.unwrap()[&p].clone();
    assert_eq!((purged.spans, purged.traces), (1, 1), "only trace 5's hour is left");
}

pub async fn retention_policies_are_followed_by_the_projects_that_name_them(store: Store) {
    store.ensure_default_retention_policy("0 0 * * 0", RetentionRule::MaxDays(0.0)).await.unwrap();
    store.ensure_default_retention_policy("0 1 * * 1", RetentionRule::MaxDays(9.0)).await.unwrap();
    let default = store.get_retention_policy(DEFAULT_RETENTION_POLICY_ID).await.unwrap().unwrap();
    assert_eq!(
        (default.name.as_str(), default.cron_expression.as_str(), default.rule),
        ("Default", "0 0 * * 0", RetentionRule::MaxDays(0.0))
    );

    let (a, b) = (store.create_project("a", None).await.unwrap().id, store.create_project("b", None).await.unwrap().id);
    let weekly = store.create_retention_policy("weekly", "0 3 * * 1", RetentionRule::MaxCount(100), &[a]).await.unwrap();
    assert!(weekly.id > DEFAULT_RETENTION_POLICY_ID);
    assert_eq!(store.project_retention_policy(a).await.unwrap(), Some(weekly.id));
    assert_eq!(store.project_retention_policy(b).await.unwrap(), None);
    assert_eq!(store.retention_policy_projects(weekly.id).await.unwrap(), [a]);
    assert!(store.retention_policy_projects(DEFAULT_RETENTION_POLICY_ID).await.unwrap().contains(&b));

    let changes = RetentionPolicyChanges { name: Some("renamed".into()), rule: Some(RetentionRule::MaxDays(3.5)), ..Default::default() };
    let changed = store.update_retention_policy(weekly.id, &changes, &[b], &[a]).await.unwrap().unwrap();
    assert_eq!(
        (changed.name.as_str(), changed.cron_expression.as_str(), changed.rule),
        ("renamed", "0 3 * * 1", RetentionRule::MaxDays(3.5))
    );
    assert_eq!(store.retention_policy_projects(weekly.id).await.unwrap(), [b]);
    assert_eq!(store.project_retention_policy(a).await.unwrap(), None, "a removed project follows the default");
    assert!(store.update_retention_policy(9_999, &changes, &[], &[]).await.unwrap().is_none());

    store.mark_retention_applied(weekly.id, NOW).await.unwrap();
    assert_eq!(store.get_retention_policy(weekly.id).await.unwrap().unwrap().last_applied_at, Some(NOW));
    let page = store.list_retention_policies(None, 1).await.unwrap();
    assert_eq!((page.items[0].id, page.next_cursor), (DEFAULT_RETENTION_POLICY_ID, Some(weekly.id)), "the default comes first");

    store.set_project_retention_policy(a, Some(weekly.id)).await.unwrap();
    assert!(store.delete_retention_policy(weekly.id).await.unwrap());
    assert!(!store.delete_retention_policy(weekly.id).await.unwrap());
    assert_eq!(store.project_retention_assignments().await.unwrap().iter().filter(|(_, policy)| policy.is_some()).count(), 0);
    assert!(store.set_project_retention_policy(9_999, None).await.is_err(), "no such project");
}

/// Ingest goes on while a sweep deletes, and loses nothing: every span written meanwhile is there
/// afterwards, and every old trace is gone.
pub async fn ingest_during_a_sweep_loses_no_span(store: Store) {
    let old: Vec<_> = (0..=199_u8)
        .flat_map(|trace| {
            let root = aged(trace, trace, 10 * DAY + i64::from(trace), None);
            [routed("p", root.clone()), routed("p", child(root, 200 + trace % 50))]
        })
        .collect();
    // Child span ids repeat across traces; keep them unique per trace instead.
    let old: Vec<_> = old
        .into_iter()
        .enumerate()
        .map(|(i, mut routed)| {
            routed.span.span_id = format!("{:016x}", 1_000_000 + i);
            routed
        })
        .collect();
    write(&store, old).await;
    let p = project_id(&store, "p").await;
    let cutoff = store.retention_cutoff(p, RetentionRule::MaxDays(1.0), NOW).await.unwrap().unwrap();
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for batch in 0..40_u32 {
                let spans = (0..5_u32)
                    .map(|i| {
                        let mut s = aged(0, 0, HOUR, None);
                        s.trace_id = format!("{:032x}", 0xfeed_0000_u64 + u64::from(batch * 5 + i));
                        s.span_id = format!("{:016x}", 0xbeef_0000_u64 + u64::from(batch * 5 + i));
                        routed("p", s)
                    })
                    .collect();
                write(&store, spans).await;
            }
        })
    };
    let mut swept = 0;
    loop {
        let went = store.sweep_traces_before(p, cutoff, 7).await.unwrap().deleted;
        swept += went;
        if went < 7 {
            break;
        }
    }
    writer.await.unwrap();
    assert_eq!(swept, 200, "every old trace went");
    for i in 0..200_u64 {
        let span = store.get_span(None, Some(&format!("{:016x}", 0xbeef_0000_u64 + i))).await.unwrap();
        assert!(span.is_some(), "span {i} written during the sweep is stored");
    }
}

/// A root span of trace `trace` starting `hours` hours after [`NOW`] - 10 days, carrying about
/// `kilobytes` KB of input.
fn sized(trace: u8, hours: i64, kilobytes: usize) -> Span {
    let mut s = span(trace, trace, None);
    s.start_time = NOW - 10 * DAY + hours * HOUR + 1_000;
    s.end_time = s.start_time + 1_000_000;
    // Text that compresses little, so the stored size follows the length.
    let mut state = 0x2545_f491_4f6c_dd1d_u64 ^ u64::from(trace);
    let text: String = (0..kilobytes * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'a' + (state % 26) as u8)
        })
        .collect();
    s.attributes = json!({"input": {"value": text}}).as_object().cloned().unwrap();
    s
}

pub async fn project_bytes_follow_ingest_rebuilds_and_sweeps(store: Store) {
    write(&store, vec![routed("p", sized(1, 0, 4)), routed("p", sized(2, 1, 4)), routed("p", sized(3, 2, 4))]).await;
    let p = project_id(&store, "p").await;
    let total = store.project_bytes(p).await.unwrap();
    assert!(total > 3 * 1024, "three spans of ~4 KB stored: {total} bytes");
    assert!(total < 3 * 12 * 1024, "{total}");

    // A span written and then deleted leaves its hour's bytes as ingest counted them: the
    // rebuild counts in SQL what ingest counted in Rust (PostgreSQL counts JSONB's text form,
    // which spaces its separators).
    write(&store, vec![routed("p", sized(4, 2, 2))]).await;
    assert!(store.project_bytes(p).await.unwrap() > total);
    let extra = store.get_span(None, Some(&format!("{:016x}", 4))).await.unwrap().unwrap().rowid;
    store.delete_spans(&[extra]).await.unwrap();
    let rebuilt = store.project_bytes(p).await.unwrap();
    match store.backend_name() {
        "sqlite" => assert_eq!(rebuilt, total),
        _ => assert!((rebuilt - total).abs() <= total / 4, "{rebuilt} vs {total}"),
    }

    // Under a budget of about two hours' bytes the cut keeps the newest two hours.
    let per_hour = rebuilt / 3;
    let cutoff = store.byte_budget_cutoff(p, 2 * per_hour + per_hour / 2).await.unwrap().expect("over the target");
    assert_eq!(cutoff.start_time, crate::suite::retention::hour_start(NOW - 10 * DAY + HOUR));
    assert_eq!(store.byte_budget_cutoff(p, rebuilt + 1).await.unwrap(), None, "under the target: nothing to cut");
    // Even a budget smaller than the newest hour keeps that hour.
    let newest_only = store.byte_budget_cutoff(p, 1).await.unwrap().unwrap();
    assert_eq!(newest_only.start_time, crate::suite::retention::hour_start(NOW - 10 * DAY + 2 * HOUR));

    // Sweeping before the cut: the first hour no longer counts, though its rollups stay.
    while store.sweep_traces_before(p, cutoff, 10).await.unwrap().deleted > 0 {}
    let after = store.project_bytes(p).await.unwrap();
    assert!(after < rebuilt && after >= 2 * per_hour - per_hour / 2, "{after} of {rebuilt}");
    assert_eq!(store.project_activity(&[p], all_time()).await.unwrap()[&p].traces, 3, "the charts keep the swept hour");

    // Budgets are stored per project.
    assert_eq!(store.project_max_bytes(p).await.unwrap(), None);
    store.set_project_max_bytes(p, Some(5_000)).await.unwrap();
    assert_eq!(store.project_max_bytes(p).await.unwrap(), Some(5_000));
    assert_eq!(store.projects_with_byte_budgets().await.unwrap(), vec![(p, 5_000)]);
    store.set_project_max_bytes(p, None).await.unwrap();
    assert!(store.projects_with_byte_budgets().await.unwrap().is_empty());
}

/// The start of the hour holding `time`.
pub fn hour_start(time: i64) -> i64 {
    time - time.rem_euclid(HOUR)
}
