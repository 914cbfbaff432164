//! The playground over real sockets: the binary relays a provider's stream as it arrives, not
//! once it has ended, and traces the call.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;

use crate::process::Ember;

type Frames = Arc<Mutex<Option<mpsc::Receiver<String>>>>;

/// An OpenAI-compatible stub whose streamed answer the test writes frame by frame.
async fn stub_provider(frames: Frames) -> String {
    let handler = |State(frames): State<Frames>| async move {
        let receiver = frames.lock().unwrap().take().expect("one streamed call");
        let body = ReceiverStream::new(receiver).map(Ok::<_, std::convert::Infallible>);
        ([("content-type", "text/event-stream")], Body::from_stream(body)).into_response()
    };
    let router = axum::Router::new().route("/v1/chat/completions", post(handler)).with_state(frames);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{address}/v1")
}

fn chunk(delta: Value, finish_reason: Value) -> String {
    format!("data: {}\n\n", json!({"choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}))
}

#[tokio::test]
async fn a_streamed_answer_is_relayed_as_it_arrives() {
    let (provider, receiver) = mpsc::channel::<String>(8);
    let base_url = stub_provider(Arc::new(Mutex::new(Some(receiver)))).await;
    let dir = tempfile::tempdir().unwrap();
    let ember = Ember::start(dir.path(), &[("OPENAI_API_KEY", "k"), ("OPENAI_BASE_URL", &base_url)]).await;

    let request = json!({"model": "openai:gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": "Say hello"}]});
    let mut response = ember.client.post(format!("{}/v1/chat/completions", ember.http)).json(&request).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");

    // The first piece reaches the caller while the provider is still answering.
    provider.send(chunk(json!({"content": "Hel"}), Value::Null)).await.unwrap();
    let mut received = String::new();
    while !received.contains("Hel") {
        let piece = response.chunk().await.unwrap().expect("the stream ended before the first piece");
        received.push_str(std::str::from_utf8(&piece).unwrap());
    }
    assert!(!received.contains("[DONE]"));

    provider.send(chunk(json!({"content": "lo"}), Value::Null)).await.unwrap();
    provider.send(chunk(json!({}), json!("stop"))).await.unwrap();
    provider
        .send(format!("data: {}\n\ndata: [DONE]\n\n", json!({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}})))
        .await
        .unwrap();
    drop(provider);
    while let Some(piece) = response.chunk().await.unwrap() {
        received.push_str(std::str::from_utf8(&piece).unwrap());
    }
    assert!(received.ends_with("data: [DONE]\n\n"), "{received}");
    let text: String = received
        .split("\n\n")
        .filter_map(|event| event.strip_prefix("data: "))
        .filter(|data| *data != "[DONE]")
        .filter_map(|data| {
            serde_json::from_str::<Value>(data).unwrap().pointer("/choices/0/delta/content").and_then(Value::as_str).map(str::to_string)
        })
        .collect();
    assert_eq!(text, "Hello");

    let spans = ember.get_json("/v1/projects/playground/spans").await;
    let span = &spans["data"][0];
    assert_eq!(span["attributes"]["llm.output_messages.0.message.content"], "Hello");
    assert_eq!(span["attributes"]["llm.token_count.total"], 5);
    ember.terminate().await;
}
