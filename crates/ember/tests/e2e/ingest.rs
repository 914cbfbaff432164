//! Ingest through the real binary: OTLP/HTTP and OTLP/gRPC in, REST out, message limits,
//! shutdown and crash durability, the database URL, and replicas sharing one PostgreSQL.

use std::collections::HashSet;

use crate::process::{all_span_ids, Ember};
use ember_otlp::collector::trace_service_client::TraceServiceClient;
use ember_otlp::fixtures::{request, span, span_id, trace_id};
use ember_otlp::trace::Span;
use tonic::codec::CompressionEncoding;

fn trace_of(trace: u8, spans_per_trace: u8) -> Vec<Span> {
    (1..=spans_per_trace).map(|id| span(trace, id, (id > 1).then_some(1), if id == 1 { "CHAIN" } else { "LLM" })).collect()
}

/// Spans whose ids are unique across traces: span id = trace byte, with a distinct second half.
fn unique_trace(trace: u8, spans_per_trace: u8) -> Vec<Span> {
    trace_of(trace, spans_per_trace)
        .into_iter()
        .map(|mut span| {
            span.span_id[0] = trace;
            if !span.parent_span_id.is_empty() {
                span.parent_span_id[0] = trace;
            }
            span
        })
        .collect()
}

#[tokio::test]
async fn http_and_grpc_ingest_are_readable_over_rest() {
    let dir = tempfile::tempdir().unwrap();
    let ember = Ember::start(dir.path(), &[]).await;
    assert_eq!(ember.client.get(format!("{}/healthz", ember.http)).send().await.unwrap().text().await.unwrap(), "OK");

    let response = ember.export(&request(Some("http-project"), trace_of(1, 3))).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-phoenix-server-version"], ember_server::PHOENIX_COMPATIBLE_VERSION);

    let mut grpc = TraceServiceClient::connect(ember.grpc.clone()).await.unwrap().send_compressed(CompressionEncoding::Gzip);
    let mut bad = span(2, 9, None, "TOOL");
    bad.trace_id = vec![0; 16];
    let mut spans = unique_trace(2, 2);
    spans.push(bad);
    let reply = grpc.export(request(Some("grpc-project"), spans)).await.unwrap().into_inner();
    assert_eq!(reply.partial_success.expect("partial success").rejected_spans, 1);

    let http_spans = ember.get_json("/v1/projects/http-project/spans").await;
    assert_eq!(http_spans["data"].as_array().unwrap().len(), 3);
    let grpc_spans = ember.get_json("/v1/projects/grpc-project/spans?parent_id=null").await;
    assert_eq!(grpc_spans["data"][0]["context"]["trace_id"], trace_id(2));
    assert_eq!(grpc_spans["data"][0]["context"]["span_id"], format!("02{}", &span_id(1)[2..]));
    ember.terminate().await;
}

#[tokio::test]
async fn grpc_messages_over_the_limit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ember = Ember::start(dir.path(), &[("EMBER_GRPC_MAX_MESSAGE_BYTES", "2000")]).await;
    let mut grpc = TraceServiceClient::connect(ember.grpc.clone()).await.unwrap();
    let status = grpc.export(request(None, trace_of(1, 40))).await.expect_err("too large");
    // INVALID_ARGUMENT, not tonic's OUT_OF_RANGE, which OTLP exporters retry (D22).
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status}");
    assert!(grpc.export(request(None, trace_of(1, 2))).await.is_ok(), "a small message still goes through");
    ember.terminate().await;
}

/// D20: a request that never finishes (a body that stops arriving) cannot keep ember alive after
/// SIGTERM: it is dropped at EMBER_SHUTDOWN_TIMEOUT_SECS and ember exits cleanly.
#[tokio::test]
async fn shutdown_is_bounded_by_its_timeout() {
    use tokio::io::AsyncWriteExt;

    let dir = tempfile::tempdir().unwrap();
    let ember = Ember::start(dir.path(), &[("EMBER_SHUTDOWN_TIMEOUT_SECS", "1")]).await;
    let address = ember.http.trim_start_matches("http://").to_string();
    let mut stalled = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head =
        format!("POST /v1/traces HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/x-protobuf\r\ncontent-length: 1000000\r\n\r\nab");
    stalled.write_all(head.as_bytes()).await.unwrap();
    // The request is in flight once ember answers another one on a second connection.
    assert!(ember.client.get(format!("{}/healthz", ember.http)).send().await.unwrap().status().is_success());
    ember.terminate().await;
    drop(stalled);
}

/// D11: a connection that sends no request head, or a body that stops arriving, is closed at
/// EMBER_REQUEST_TIMEOUT_SECS; past EMBER_MAX_CONNECTIONS a new connection is closed at once, and
/// the server answers again once connections go.
#[tokio::test]
async fn slow_and_surplus_connections_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().unwrap();
    let ember = Ember::start(dir.path(), &[("EMBER_REQUEST_TIMEOUT_SECS", "1"), ("EMBER_MAX_CONNECTIONS", "3")]).await;
    let address = ember.http.trim_start_matches("http://").to_string();
    // Waits for the server to close `stream` (whatever it answered first), or fails.
    async fn closed_by_server(stream: &mut tokio::net::TcpStream, which: &str) {
        let mut buffer = [0_u8; 1024];
        let closed = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            loop {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => continue,
                }
            }
        });
        closed.await.unwrap_or_else(|_| panic!("the server closes the {which} connection"));
    }
    let mut half_head = tokio::net::TcpStream::connect(&address).await.unwrap();
    half_head.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n").await.unwrap();
    let mut trickle = tokio::net::TcpStream::connect(&address).await.unwrap();
    trickle
        .write_all(b"POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\ncontent-length: 1000\r\n\r\nab")
        .await
        .unwrap();
    let mut idle = tokio::net::TcpStream::connect(&address).await.unwrap();
    // The fourth connection is past the limit.
    let mut surplus = tokio::net::TcpStream::connect(&address).await.unwrap();
    closed_by_server(&mut surplus, "surplus").await;
    for (stream, which) in [(&mut half_head, "half-head"), (&mut trickle, "trickling body"), (&mut idle, "idle")] {
        closed_by_server(stream, which).await;
    }
    assert!(ember.client.get(format!("{}/healthz", ember.http)).send().await.unwrap().status().is_success());
    ember.terminate().await;
}

#[tokio::test]
async fn graceful_shutdown_flushes_every_accepted_span() {
    let dir = tempfile::tempdir().unwrap();
    let ember = Ember::start(dir.path(), &[]).await;
    let mut sent = Vec::new();
    for trace in 1..=50u8 {
        let body = request(Some("flush"), unique_trace(trace, 20));
        let client = ember.client.clone();
        let url = format!("{}/v1/traces", ember.http);
        sent.push(tokio::spawn(async move {
            let response =
                client.post(url).header("content-type", "application/x-protobuf").body(prost::Message::encode_to_vec(&body)).send().await;
            (trace, response.map(|r| r.status().as_u16()).unwrap_or(0))
        }));
    }
    let mut acknowledged = HashSet::new();
    for handle in sent {
        let (trace, status) = handle.await.unwrap();
        if status == 200 {
            acknowledged.insert(trace);
        }
    }
    ember.terminate().await;
    let ember = Ember::start(dir.path(), &[]).await;
    let stored: HashSet<String> = all_span_ids(&ember, "flush").await.into_iter().collect();
    assert_eq!(acknowledged.len(), 50);
    assert_eq!(stored.len(), 50 * 20, "every acknowledged span survived the restart");
    ember.terminate().await;
}

#[tokio::test]
async fn acknowledged_spans_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let ember = Ember::start(dir.path(), &[]).await;
    let mut acknowledged = Vec::new();
    for trace in 1..=30u8 {
        let spans = unique_trace(trace, 10);
        let ids: Vec<String> = spans.iter().map(|s| s.span_id.iter().map(|b| format!("{b:02x}")).collect()).collect();
        let response = ember.export(&request(Some("crash"), spans)).await;
        assert_eq!(response.status(), 200);
        acknowledged.extend(ids);
    }
    // SIGKILL right after the last acknowledgement: no shutdown hook runs.
    ember.kill().await;
    let ember = Ember::start(dir.path(), &[]).await;
    let stored: HashSet<String> = all_span_ids(&ember, "crash").await.into_iter().collect();
    for id in &acknowledged {
        assert!(stored.contains(id), "acknowledged span {id} was lost");
    }
    assert_eq!(stored.len(), acknowledged.len());
    ember.terminate().await;
}

#[tokio::test]
async fn phoenix_sql_database_url_selects_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("elsewhere").join("custom.db");
    let url = format!("sqlite:///{}", database.display());
    let ember = Ember::start(dir.path(), &[("PHOENIX_SQL_DATABASE_URL", &url)]).await;
    assert_eq!(ember.export(&request(Some("custom"), trace_of(1, 2))).await.status(), 200);
    ember.terminate().await;
    assert!(database.exists(), "the database is where the URL says");
    assert!(!dir.path().join("ember.db").exists(), "the working directory's default database is not used");
    let reopened = Ember::start(dir.path(), &[("PHOENIX_SQL_DATABASE_URL", &url)]).await;
    assert_eq!(all_span_ids(&reopened, "custom").await.len(), 2);
    reopened.terminate().await;
}

/// Two `ember serve` processes on one PostgreSQL database, each receiving part of every trace:
/// parents on one and children on the other, in orders that put children first, concurrently.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_replicas_ingesting_interleaved_traces_lose_nothing_and_count_right() {
    use ember_otlp::fixtures::{int_attribute, string_attribute, with_error};
    use ember_store::testing::TestDatabase;

    let Some(database) = TestDatabase::postgres_if_available() else { return };
    let env = database.serve_env().into_iter().map(|(k, v)| (k.to_string(), v)).collect::<Vec<_>>();
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let replicas = [Ember::start_with(dirs[0].path(), &env).await, Ember::start_with(dirs[1].path(), &env).await];

    const TRACES: u8 = 40;
    // Trace t: root 1 <- mid 2 <- leaf 3, all LLM spans with 1/2/3 prompt tokens; the leaf errs.
    // Span ids start with the trace byte, so they are unique across traces.
    let unique_span_id = |trace: u8, id: u8| format!("{trace:02x}{}", format!("{id:02x}").repeat(7));
    let member = |trace: u8, level: u8| {
        let id = level + 1;
        let mut s = span(trace, id, (level > 0).then_some(level), "LLM");
        s.span_id[0] = trace;
        if !s.parent_span_id.is_empty() {
            s.parent_span_id[0] = trace;
        }
        s.attributes.push(int_attribute("llm.token_count.prompt", i64::from(level) + 1));
        s.attributes.push(string_attribute("session.id", &format!("replica-session-{}", trace % 5)));
        if level == 2 {
            s = with_error(s, "boom");
        }
        s
    };
    let mut parts: [Vec<Vec<Span>>; 2] = [Vec::new(), Vec::new()];
    for trace in 1..=TRACES {
        let (leaf_and_root, middle) = if trace % 2 == 0 { (0, 1) } else { (1, 0) };
        parts[leaf_and_root].push(vec![member(trace, 2)]);
        parts[middle].push(vec![member(trace, 1)]);
        parts[leaf_and_root].push(vec![member(trace, 0)]);
    }
    let send = |replica: usize, batches: Vec<Vec<Span>>| {
        let client = replicas[replica].client.clone();
        let url = format!("{}/v1/traces", replicas[replica].http);
        async move {
            for spans in batches {
                let body = prost::Message::encode_to_vec(&request(Some("replicated"), spans));
                let response = client.post(&url).header("content-type", "application/x-protobuf").body(body).send().await.unwrap();
                assert_eq!(response.status(), 200, "{}", response.text().await.unwrap_or_default());
            }
        }
    };
    let [first, second] = parts;
    tokio::join!(send(0, first), send(1, second));

    // Each replica serves everything either wrote.
    for replica in &replicas {
        assert_eq!(all_span_ids(replica, "replicated").await.len(), usize::from(TRACES) * 3);
    }
    let store = database.open().await;
    for trace in 1..=TRACES {
        let root = store.get_span(None, Some(&unique_span_id(trace, 1))).await.unwrap().expect("root stored");
        assert_eq!(
            (root.cumulative_error_count, root.cumulative_llm_token_count_prompt),
            (1, 6),
            "cumulative counts of trace {trace}'s root"
        );
        let stored = store.get_trace(None, Some(&trace_id(trace))).await.unwrap().unwrap();
        assert!(stored.session_rowid.is_some(), "trace {trace} joined its session");
    }
    for session in 0..5u8 {
        let stored = store.get_session(None, Some(&format!("replica-session-{session}"))).await.unwrap().unwrap();
        assert_eq!(stored.traces.len(), usize::from(TRACES / 5), "session {session} holds its traces once each");
    }
    for replica in replicas {
        replica.terminate().await;
    }
}

/// Runs `ember serve` with `settings`, which it must refuse: it exits without ever listening.
/// Returns what it printed on stderr.
pub async fn refused_with(settings: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let binary = std::env::var("EMBER_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_ember").to_string());
    let mut command = tokio::process::Command::new(binary);
    command
        .arg("serve")
        .env("PHOENIX_HOST", "127.0.0.1")
        .env("PHOENIX_PORT", "0")
        .env("PHOENIX_GRPC_PORT", "0")
        .env("PHOENIX_WORKING_DIR", dir.path())
        .env_remove("PHOENIX_SQL_DATABASE_URL")
        .env_remove("PHOENIX_SECRET")
        .env_remove("PHOENIX_ADMIN_SECRET")
        .env_remove("PHOENIX_ENABLE_AUTH")
        .kill_on_drop(true);
    for (name, value) in settings {
        command.env(name, value);
    }
    let output = tokio::time::timeout(std::time::Duration::from_secs(30), command.output()).await.expect("ember exited in time").unwrap();
    assert!(!output.status.success(), "{settings:?}");
    assert!(String::from_utf8_lossy(&output.stdout).is_empty(), "{settings:?}: ember never says it listens");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Secrets Phoenix would refuse stop `ember serve` with Phoenix's own message.
#[tokio::test]
async fn secrets_phoenix_refuses_stop_ember_serve_in_its_words() {
    let strong = "abcdefghijklmnopqrstuvwxyzabcde1";
    for (settings, message) in [
        (vec![("PHOENIX_SECRET", "short")], "Phoenix secret must be at least 32 characters long, and at least one digit"),
        (vec![("PHOENIX_ENABLE_AUTH", "true")], "`PHOENIX_SECRET` must be set when auth is enabled with `PHOENIX_ENABLE_AUTH`"),
        (vec![("PHOENIX_ADMIN_SECRET", strong)], "`PHOENIX_ADMIN_SECRET` must be not be set without setting `PHOENIX_SECRET`."),
        (
            vec![("PHOENIX_SECRET", strong), ("PHOENIX_ADMIN_SECRET", strong)],
            "`PHOENIX_ADMIN_SECRET` must be different from `PHOENIX_SECRET`",
        ),
    ] {
        let stderr = refused_with(&settings).await;
        assert!(stderr.contains(message), "{settings:?}: {stderr}");
        for (name, value) in &settings {
            assert!(*name == "PHOENIX_ENABLE_AUTH" || !stderr.contains(value), "{name}'s value is never printed: {stderr}");
        }
    }
}
