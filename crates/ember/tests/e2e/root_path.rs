//! A deployment under a path prefix (`PHOENIX_HOST_ROOT_PATH`), as behind a reverse proxy that
//! forwards `/phoenix/...` with or without stripping it: the API, OTLP and the web UI answer at
//! both, and the UI's links, assets and redirects carry the prefix.

use ember_otlp::fixtures::{request, span};
use prost::Message;

use crate::ingest::refused_with;
use crate::process::Ember;

#[tokio::test]
async fn ember_serves_under_a_path_prefix_and_its_pages_link_within_it() {
    let dir = tempfile::tempdir().unwrap();
    let ember = Ember::start(dir.path(), &[("PHOENIX_HOST_ROOT_PATH", "/phoenix")]).await;
    let prefixed = format!("{}/phoenix", ember.http);
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    let export = request(Some("behind-proxy"), vec![span(1, 1, None, "LLM")]).encode_to_vec();
    let sent =
        client.post(format!("{prefixed}/v1/traces")).header("content-type", "application/x-protobuf").body(export).send().await.unwrap();
    assert_eq!(sent.status(), 200);
    for base in [prefixed.as_str(), ember.http.as_str()] {
        let spans = client.get(format!("{base}/v1/projects/behind-proxy/spans")).send().await.unwrap();
        assert_eq!(spans.json::<serde_json::Value>().await.unwrap()["data"].as_array().unwrap().len(), 1, "at {base}");
    }

    let home = client.get(format!("{prefixed}/")).send().await.unwrap();
    assert_eq!(home.headers()["location"], "/phoenix/projects");
    let page = client.get(format!("{prefixed}/projects")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("href=\"/phoenix/ui/assets/"), "{page}");
    assert!(page.contains("href=\"/phoenix/projects/"), "project links carry the prefix");
    assert!(!page.contains("href=\"/projects"), "no link leaves the prefix");
    let asset = page.split("href=\"/phoenix/ui/assets/").nth(1).unwrap().split('"').next().unwrap().to_string();
    assert_eq!(client.get(format!("{prefixed}/ui/assets/{asset}")).send().await.unwrap().status(), 200);
    ember.terminate().await;

    let refused = refused_with(&[("PHOENIX_HOST_ROOT_PATH", "/phoenix/")]).await;
    assert!(refused.contains("Value cannot end with '/'"), "{refused}");
}
