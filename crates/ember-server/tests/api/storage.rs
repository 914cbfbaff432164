//! The disk guard and the byte budget: past Phoenix's insertion-blocking threshold ingest is
//! refused with 507 naming the setting while reads work and every page shows a banner, and once
//! space is freed ingest resumes; past `EMBER_MAX_DATABASE_BYTES` the oldest traces go.

use axum::http::StatusCode;
use ember_otlp::fixtures::{request, span, string_attribute, with_attributes};
use ember_service::storage::{StorageLevel, StorageSettings};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

use crate::common::{test_app_with_storage, TestApp};

const GIB: f64 = (1u64 << 30) as f64;

/// Spans `first..first + count` of project `p`, each with 16 KB of text that does not compress.
fn bulky(first: u8, count: u8) -> ExportTraceServiceRequest {
    let spans = (first..first + count)
        .map(|id| {
            let mut state = u64::from(id) | 1;
            let filler: String = (0..2_000)
                .map(|_| {
                    state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                    format!("{:08x}", state >> 32)
                })
                .collect();
            with_attributes(span(id, id, None, "CHAIN"), vec![string_attribute("filler", &filler)])
        })
        .collect();
    request(Some("p"), spans)
}

async fn export(app: &TestApp, request: &ExportTraceServiceRequest) -> crate::common::TestResponse {
    let http = axum::http::Request::post("/v1/traces")
        .header("content-type", "application/x-protobuf")
        .body(axum::body::Body::from(request.encode_to_vec()))
        .unwrap();
    app.send(http).await
}

#[tokio::test]
async fn past_the_blocking_threshold_ingest_is_refused_until_space_is_freed() {
    // The capacity is set so that the empty database is at 50 % and 2 MB more pass 80 %.
    let probe = crate::common::test_app().await;
    let empty = probe.store.database_used_bytes().await.unwrap() as f64;
    let capacity = ((empty + 2e6) / 0.8) / GIB;
    let settings = StorageSettings {
        capacity_gib: Some(capacity.max((empty / 0.5) / GIB)),
        warning_percent: Some(60.0),
        blocking_percent: Some(80.0),
        ..Default::default()
    };
    let app = test_app_with_storage(settings).await;
    let status = app.services.storage().refresh().await.unwrap();
    assert!(!matches!(status.level, StorageLevel::Blocked(_)), "{status:?}");
    for first in [1, 51, 101, 151] {
        assert_eq!(export(&app, &bulky(first, 50)).await.status, StatusCode::OK);
    }
    let status = app.services.storage().check_and_enforce().await.unwrap();
    assert!(matches!(status.level, StorageLevel::Blocked(_)), "3 MB of spans pass the threshold: {status:?}");

    // Refused before anything is accepted, naming the setting; reads and pages go on.
    let refused = export(&app, &request(Some("p"), vec![span(250, 250, None, "CHAIN")])).await;
    assert_eq!(refused.status, StatusCode::INSUFFICIENT_STORAGE, "{}", refused.text());
    assert!(refused.text().contains("PHOENIX_DATABASE_USAGE_INSERTION_BLOCKING_THRESHOLD_PERCENTAGE (80 %)"), "{}", refused.text());
    assert!(app.store.get_span(None, Some(&ember_otlp::fixtures::span_id(250))).await.unwrap().is_none(), "nothing was accepted");
    assert_eq!(app.get("/v1/projects/p/spans?limit=5").await.status, StatusCode::OK, "reads work");
    let page = app.get("/projects").await.text();
    assert!(page.contains("id=\"storage-banner\"") && page.contains("Ingest is paused"), "{page}");

    // Clearing the project's data frees the space; the next check lets ingest in again.
    let purged = app.delete("/v1/projects/p/traces?start_time=2000-01-01T00:00:00Z&end_time=2100-01-01T00:00:00Z").await;
    assert_eq!(purged.status, StatusCode::NO_CONTENT, "{}", purged.text());
    // On PostgreSQL, VACUUM FULL keeps deleted rows that an open snapshot of another test on the
    // same database can still see: the space comes back once those transactions end.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        app.database.reclaim_space().await;
        let status = app.services.storage().check_and_enforce().await.unwrap();
        if !matches!(status.level, StorageLevel::Blocked(_)) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the purge freed no space: {status:?}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(export(&app, &request(Some("p"), vec![span(250, 250, None, "CHAIN")])).await.status, StatusCode::OK);
    assert!(!app.get("/projects").await.text().contains("Ingest is paused"));
}

/// SQLite only (PostgreSQL refuses the setting): past the budget the oldest traces go until the
/// database is under 90 % of it, the newest stay, the charts keep counting, and the file shrinks.
#[tokio::test]
async fn past_the_byte_budget_the_oldest_traces_go_and_the_file_shrinks() {
    let probe = crate::common::test_app().await;
    if probe.store.database_file_bytes().await.unwrap().is_none() {
        return;
    }
    let empty = probe.store.database_used_bytes().await.unwrap();
    let budget = empty + 1_500_000;
    let app = test_app_with_storage(StorageSettings { max_database_bytes: Some(budget), ..Default::default() }).await;
    for first in [1, 51, 101, 151, 201] {
        assert_eq!(export(&app, &bulky(first, 50)).await.status, StatusCode::OK);
    }
    let full = app.store.database_file_bytes().await.unwrap().unwrap();
    assert!(app.store.database_used_bytes().await.unwrap() > budget, "4 MB of spans pass the budget");
    let status = app.services.storage().check_and_enforce().await.unwrap();
    assert!(status.used_bytes <= budget * 9 / 10 + 65_536, "back under 90 % of the budget: {status:?}");
    assert!(app.store.get_trace(None, Some(&ember_otlp::fixtures::trace_id(1))).await.unwrap().is_none(), "the oldest went");
    assert!(app.store.get_trace(None, Some(&ember_otlp::fixtures::trace_id(250))).await.unwrap().is_some(), "the newest stay");
    let shrunk = app.store.database_file_bytes().await.unwrap().unwrap();
    assert!(shrunk < full * 3 / 4, "the freed pages went back to the file system: {full} → {shrunk} bytes");
    let p = app.store.get_project_by_name("p").await.unwrap().unwrap().id;
    let window = ember_store::ActivityWindow { start: 0, end: i64::MAX / 2, bins: 1, latency_per_bin: false };
    assert_eq!(app.store.project_activity(&[p], window).await.unwrap()[&p].spans, 250, "the charts keep counting them");
}
