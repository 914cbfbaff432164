//! Datasets: JSON uploads (create, append), lists, versions, examples at a version, splits, deletion.

use axum::http::StatusCode;
use ember_otlp::fixtures::{request, span, span_id};
use serde_json::{json, Value};

use crate::common::{test_app, TestApp};

async fn upload(app: &TestApp, body: Value) -> Value {
    let response = app.post_json("/v1/datasets/upload?sync=true", &body).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.json()["data"].clone()
}

fn inputs(examples: &Value) -> Vec<Value> {
    examples["data"]["examples"].as_array().unwrap().iter().map(|example| example["input"].clone()).collect()
}

#[tokio::test]
async fn uploads_create_and_append_versions_whose_examples_read_back() {
    let app = test_app().await;
    app.ingest(&request(Some("p"), vec![span(1, 1, None, "LLM")])).await;
    let created = upload(
        &app,
        json!({
            "action": "create", "name": "qa", "description": "questions",
            "inputs": [{"q": "one"}, {"q": "two"}],
            "outputs": [{"a": 1}, {"a": 2}],
            "metadata": [{"m": true}, null],
            "splits": ["train", ["test", "hard"]],
            "span_ids": [span_id(1), null],
            "example_ids": ["ex-1", null],
        }),
    )
    .await;
    assert_eq!((created["num_created_examples"].as_u64(), created["num_updated_examples"].as_u64()), (Some(2), Some(0)));
    let dataset_id = created["dataset_id"].as_str().unwrap().to_string();
    let first_version = created["version_id"].as_str().unwrap().to_string();

    let dataset = app.get(&format!("/v1/datasets/{dataset_id}")).await.json()["data"].clone();
    assert_eq!(
        (dataset["name"].as_str(), dataset["description"].as_str(), dataset["example_count"].as_u64()),
        (Some("qa"), Some("questions"), Some(2))
    );
    assert!(dataset["created_at"].as_str().unwrap().ends_with("+00:00"));

    let examples = app.get(&format!("/v1/datasets/{dataset_id}/examples")).await.json();
    assert_eq!(examples["data"]["version_id"], first_version.as_str());
    let first = &examples["data"]["examples"][0];
    assert_eq!(
        (first["id"].as_str(), &first["input"], &first["output"], &first["metadata"]),
        (Some("ex-1"), &json!({"q": "one"}), &json!({"a": 1}), &json!({"m": true}))
    );
    assert_eq!(first["source"]["span_id"], span_id(1));
    let second = &examples["data"]["examples"][1];
    assert_eq!(second["id"], second["node_id"], "without an example id, the id is the node id");
    assert_eq!(second["metadata"], json!({}));

    // Appending makes a new version; the old one still reads as it was.
    let appended = upload(&app, json!({"action": "append", "name": "qa", "inputs": [{"q": "three"}]})).await;
    assert_eq!(appended["dataset_id"], dataset_id.as_str());
    assert_ne!(appended["version_id"], first_version.as_str());
    let latest = app.get(&format!("/v1/datasets/{dataset_id}/examples")).await.json();
    assert_eq!(inputs(&latest), vec![json!({"q": "one"}), json!({"q": "two"}), json!({"q": "three"})]);
    let old = app.get(&format!("/v1/datasets/{dataset_id}/examples?version_id={first_version}")).await.json();
    assert_eq!(inputs(&old), vec![json!({"q": "one"}), json!({"q": "two"})]);
    assert_eq!(app.get(&format!("/v1/datasets/{dataset_id}")).await.json()["data"]["example_count"], 3);

    // Splits by name; versions newest first with a cursor.
    let test_split = app.get(&format!("/v1/datasets/{dataset_id}/examples?split=test")).await.json();
    assert_eq!(inputs(&test_split), vec![json!({"q": "two"})]);
    assert_eq!(test_split["data"]["filtered_splits"], json!(["test"]));
    let either = app.get(&format!("/v1/datasets/{dataset_id}/examples?split=train&split=hard")).await.json();
    assert_eq!(inputs(&either).len(), 2);
    let versions = app.get(&format!("/v1/datasets/{dataset_id}/versions?limit=1")).await.json();
    assert_eq!(versions["data"][0]["version_id"], appended["version_id"]);
    let cursor = versions["next_cursor"].as_str().unwrap();
    let older = app.get(&format!("/v1/datasets/{dataset_id}/versions?limit=1&cursor={cursor}")).await.json();
    assert_eq!(older["data"][0]["version_id"], first_version.as_str());
    assert_eq!(older["next_cursor"], Value::Null);

    // Lists by name; deletion.
    upload(&app, json!({"name": "other", "inputs": [{"x": 1}]})).await;
    let all = app.get("/v1/datasets").await.json();
    let names: Vec<&str> = all["data"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["other", "qa"]);
    let named = app.get("/v1/datasets?name=qa").await.json();
    assert_eq!(named["data"].as_array().unwrap().len(), 1);
    assert_eq!(app.delete(&format!("/v1/datasets/{dataset_id}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/v1/datasets/{dataset_id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.delete(&format!("/v1/datasets/{dataset_id}")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_uploads_name_the_problem_and_write_nothing() {
    let app = test_app().await;
    upload(&app, json!({"name": "qa", "inputs": [{"q": 1}], "example_ids": ["a"]})).await;
    let cases = [
        (json!({"name": "qa", "inputs": [{"q": 2}]}), StatusCode::CONFLICT, "already exists"),
        (
            json!({"name": "new", "inputs": [{"q": 2}, {"q": 3}], "example_ids": ["b", "b"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Duplicate example_id in request: 'b'",
        ),
        (json!({"name": "new", "inputs": [{"q": 2}], "outputs": []}), StatusCode::UNPROCESSABLE_ENTITY, "outputs has 0 items"),
        (json!({"name": "new", "inputs": [1]}), StatusCode::UNPROCESSABLE_ENTITY, "inputs[0]"),
        (json!({"name": "new", "inputs": [{}], "splits": [3]}), StatusCode::UNPROCESSABLE_ENTITY, "splits[0]"),
        (json!({"name": "new", "inputs": [{}], "action": "merge"}), StatusCode::UNPROCESSABLE_ENTITY, "Invalid dataset action: merge"),
        (json!({"name": " ", "inputs": [{}]}), StatusCode::UNPROCESSABLE_ENTITY, "name"),
    ];
    for (body, status, message) in cases {
        let response = app.post_json("/v1/datasets/upload?sync=true", &body).await;
        assert_eq!(response.status, status, "{body}: {}", response.text());
        assert!(response.text().contains(message), "{body}: {}", response.text());
    }
    let all = app.get("/v1/datasets").await.json();
    assert_eq!(all["data"].as_array().unwrap().len(), 1, "nothing but the first dataset was written");
    assert_eq!(all["data"][0]["example_count"], 1);
    assert_eq!(app.get("/v1/datasets/not-an-id").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let dataset_id = all["data"][0]["id"].as_str().unwrap();
    let bad_version = app.get(&format!("/v1/datasets/{dataset_id}/examples?version_id=nope")).await;
    assert_eq!(bad_version.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_version.text().contains("nope"), "{}", bad_version.text());
    // A version of another dataset is not one of this dataset's.
    let other = upload(&app, json!({"name": "other", "inputs": [{}]})).await;
    let foreign = app.get(&format!("/v1/datasets/{dataset_id}/examples?version_id={}", other["version_id"].as_str().unwrap())).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", foreign.text());
    assert_eq!(app.get("/v1/datasets/RGF0YXNldDo5OTk=/versions").await.status, StatusCode::NOT_FOUND);
    // An asynchronous upload answers null, as Phoenix does, once the data is committed.
    let quiet = app.post_json("/v1/datasets/upload", &json!({"name": "later", "inputs": [{}]})).await;
    assert_eq!((quiet.status, quiet.json()), (StatusCode::OK, Value::Null));
    assert_eq!(app.get("/v1/datasets?name=later").await.json()["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn update_mirrors_an_upload_with_ids_and_append_keeps_what_it_does_not_name() {
    let app = test_app().await;
    let rows = |items: &[(&str, i64)]| {
        json!({
            "action": "update", "name": "golden",
            "inputs": items.iter().map(|(_, n)| json!({"n": n})).collect::<Vec<_>>(),
            "example_ids": items.iter().map(|(id, _)| id.to_string()).collect::<Vec<_>>(),
        })
    };
    // The first update creates the dataset.
    let first = upload(&app, rows(&[("a", 1), ("b", 2), ("c", 3)])).await;
    assert_eq!(
        (first["num_created_examples"].as_u64(), first["num_updated_examples"].as_u64(), first["num_deleted_examples"].as_u64()),
        (Some(3), Some(0), Some(0))
    );
    let dataset_id = first["dataset_id"].as_str().unwrap().to_string();
    // b changes, c is left out (deleted), d is new, a is carried forward unchanged.
    let second = upload(&app, rows(&[("a", 1), ("b", 20), ("d", 4)])).await;
    assert_eq!(second["dataset_id"], dataset_id.as_str());
    assert_eq!(
        (second["num_created_examples"].as_u64(), second["num_updated_examples"].as_u64(), second["num_deleted_examples"].as_u64()),
        (Some(1), Some(1), Some(1))
    );
    let ids_and_inputs = |examples: &Value| -> Vec<(String, Value)> {
        examples["data"]["examples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["id"].as_str().unwrap().to_string(), e["input"].clone()))
            .collect()
    };
    let latest = app.get(&format!("/v1/datasets/{dataset_id}/examples")).await.json();
    assert_eq!(ids_and_inputs(&latest), vec![("a".into(), json!({"n": 1})), ("b".into(), json!({"n": 20})), ("d".into(), json!({"n": 4}))]);
    let before = app.get(&format!("/v1/datasets/{dataset_id}/examples?version_id={}", first["version_id"].as_str().unwrap())).await.json();
    assert_eq!(ids_and_inputs(&before), vec![("a".into(), json!({"n": 1})), ("b".into(), json!({"n": 2})), ("c".into(), json!({"n": 3}))]);
    assert_eq!(app.get(&format!("/v1/datasets/{dataset_id}")).await.json()["data"]["example_count"], 3);

    // Append updates what it names, adds the rest and deletes nothing; a deleted id comes back.
    let appended = upload(
        &app,
        json!({"action": "append", "name": "golden", "inputs": [{"n": 100}, {"n": 30}, {"n": 5}], "example_ids": ["a", "c", null]}),
    )
    .await;
    assert_eq!(
        (appended["num_created_examples"].as_u64(), appended["num_updated_examples"].as_u64(), appended["num_deleted_examples"].as_u64()),
        (Some(2), Some(1), Some(0))
    );
    let latest = app.get(&format!("/v1/datasets/{dataset_id}/examples")).await.json();
    let inputs: Vec<Value> = ids_and_inputs(&latest).into_iter().map(|(_, input)| input).collect();
    assert_eq!(inputs, vec![json!({"n": 100}), json!({"n": 20}), json!({"n": 30}), json!({"n": 4}), json!({"n": 5})]);
    assert_eq!(app.get(&format!("/v1/datasets/{dataset_id}")).await.json()["data"]["example_count"], 5);

    // Without ids an update still declares the version: examples match by content, the rest go.
    let plain = upload(&app, json!({"action": "update", "name": "golden", "inputs": [{"n": 20}, {"n": 6}]})).await;
    assert_eq!(
        (plain["num_created_examples"].as_u64(), plain["num_updated_examples"].as_u64(), plain["num_deleted_examples"].as_u64()),
        (Some(1), Some(0), Some(4))
    );
    let latest = app.get(&format!("/v1/datasets/{dataset_id}/examples")).await.json();
    let ids: Vec<String> = ids_and_inputs(&latest).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids[0], "b", "the stored example with the same content is kept, with its id");
    assert_eq!(app.get(&format!("/v1/datasets/{dataset_id}")).await.json()["data"]["example_count"], 2);
}

/// What `client.datasets.create_dataset(name=<existing>)` (action `update`) does on Phoenix
/// 20.26.1, observed with `phoenix serve`: the latest version equals the upload, matched by id or
/// else by content; re-sending it changes nothing and makes no version; a changed example without
/// an id is a new example (its old one deleted); splits given are set exactly, splits omitted kept.
#[tokio::test]
async fn update_declares_the_next_version_and_unchanged_uploads_make_none() {
    let app = test_app().await;
    let counts = |outcome: &Value| {
        (outcome["num_created_examples"].as_u64(), outcome["num_updated_examples"].as_u64(), outcome["num_deleted_examples"].as_u64())
    };
    let body = |qs: &[i64], answers: &[&str]| {
        json!({"action": "update", "name": "qa", "inputs": qs.iter().map(|q| json!({"q": q})).collect::<Vec<_>>(),
               "outputs": answers.iter().map(|a| json!({"a": a})).collect::<Vec<_>>()})
    };
    let first = upload(&app, body(&[1, 2, 3], &["x", "y", "z"])).await;
    assert_eq!(counts(&first), (Some(3), Some(0), Some(0)));
    let dataset_id = first["dataset_id"].as_str().unwrap().to_string();
    async fn versions(app: &TestApp, dataset_id: &str) -> usize {
        app.get(&format!("/v1/datasets/{dataset_id}/versions?limit=100")).await.json()["data"].as_array().unwrap().len()
    }
    async fn examples(app: &TestApp, dataset_id: &str) -> Vec<(String, i64, Value)> {
        let page = app.get(&format!("/v1/datasets/{dataset_id}/examples")).await.json();
        page["data"]["examples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["id"].as_str().unwrap().to_string(), e["input"]["q"].as_i64().unwrap(), e["output"]["a"].clone()))
            .collect()
    }
    let stored = examples(&app, &dataset_id).await;

    let again = upload(&app, body(&[1, 2, 3], &["x", "y", "z"])).await;
    assert_eq!(counts(&again), (Some(0), Some(0), Some(0)));
    assert_eq!(again["version_id"], first["version_id"], "no new version; the latest is named");
    assert_eq!(versions(&app, &dataset_id).await, 1);

    // Metadata given as empty objects is the same content as metadata left out.
    let reordered = upload(
        &app,
        json!({"action": "update", "name": "qa", "inputs": [{"q": 1}, {"q": 2}, {"q": 3}],
        "outputs": [{"a": "x"}, {"a": "y"}, {"a": "z"}], "metadata": [{}, {}, {}]}),
    )
    .await;
    assert_eq!(counts(&reordered), (Some(0), Some(0), Some(0)));

    let changed = upload(&app, body(&[1, 2, 4], &["x", "Y", "w"])).await;
    assert_eq!(counts(&changed), (Some(2), Some(0), Some(2)));
    assert_eq!(versions(&app, &dataset_id).await, 2);
    let now = examples(&app, &dataset_id).await;
    assert_eq!(now.iter().map(|(_, q, a)| (*q, a.as_str().unwrap())).collect::<Vec<_>>(), [(1, "x"), (2, "Y"), (4, "w")]);
    assert_eq!(now[0].0, stored[0].0, "the unchanged example keeps its id");
    assert_ne!(now[1].0, stored[1].0, "a changed example without an id is a new example");

    // Each stored example is matched once: a repeated example is added.
    let repeated = upload(&app, body(&[1, 1], &["x", "x"])).await;
    assert_eq!(counts(&repeated), (Some(1), Some(0), Some(2)));

    // Splits given are set exactly (a split change is an update but makes no version).
    let versions_before = versions(&app, &dataset_id).await;
    let mut with_splits = body(&[1, 1], &["x", "x"]);
    with_splits["splits"] = json!(["train", null]);
    assert_eq!(counts(&upload(&app, with_splits).await), (Some(0), Some(1), Some(0)));
    assert_eq!(versions(&app, &dataset_id).await, versions_before);
    let train = app.get(&format!("/v1/datasets/{dataset_id}/examples?split=train")).await.json();
    assert_eq!(train["data"]["examples"].as_array().unwrap().len(), 1);
    assert_eq!(counts(&upload(&app, body(&[1, 1], &["x", "x"])).await), (Some(0), Some(0), Some(0)), "splits omitted are kept");
    let mut cleared = body(&[1, 1], &["x", "x"]);
    cleared["splits"] = json!([null, null]);
    assert_eq!(counts(&upload(&app, cleared).await), (Some(0), Some(1), Some(0)));
    let splits = app.get(&format!("/v1/datasets/{dataset_id}/splits")).await.json();
    assert_eq!(splits, json!({"data": [], "next_cursor": null}));

    // Append adds only what the dataset does not hold yet (by content, each stored example once).
    let appended = upload(
        &app,
        json!({"action": "append", "name": "qa", "inputs": [{"q": 1}, {"q": 1}, {"q": 1}, {"q": 9}],
        "outputs": [{"a": "x"}, {"a": "x"}, {"a": "x"}, {"a": "n"}]}),
    )
    .await;
    assert_eq!(counts(&appended), (Some(2), Some(0), Some(0)));
}

/// `GET /v1/datasets/{d}/splits` lists the splits holding the dataset's examples, newest first,
/// counting only this dataset's examples, by GlobalID or name, with Phoenix's cursor.
#[tokio::test]
async fn a_dataset_lists_its_splits_with_their_example_counts() {
    let app = test_app().await;
    upload(&app, json!({"name": "a", "inputs": [{"q": 1}, {"q": 2}, {"q": 3}], "splits": ["s1", "s2", "s3"]})).await;
    let b = upload(&app, json!({"name": "b", "inputs": [{"q": 1}, {"q": 2}, {"q": 3}], "splits": ["s1", ["s1", "s2"], null]})).await;
    let names_counts = |page: &Value| -> Vec<(String, i64)> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["name"].as_str().unwrap().to_string(), s["example_count"].as_i64().unwrap()))
            .collect()
    };
    let listed = app.get("/v1/datasets/b/splits").await.json();
    let mut counted = names_counts(&listed);
    counted.sort();
    assert_eq!(counted, [("s1".to_string(), 2), ("s2".to_string(), 1)]);
    assert_eq!(listed["data"][0]["color"], "#808080");
    let by_id = app.get(&format!("/v1/datasets/{}/splits", b["dataset_id"].as_str().unwrap())).await.json();
    assert_eq!(by_id, listed);

    let first = app.get("/v1/datasets/a/splits?limit=2").await.json();
    let ids = |page: &Value| page["data"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("/v1/datasets/a/splits?limit=2&cursor={cursor}")).await.json();
    assert_eq!(ids(&rest), [cursor.to_string()], "the cursor names the first split of the next page");
    assert_eq!(rest["next_cursor"], Value::Null);
    let mut all = ids(&first);
    all.extend(ids(&rest));
    let rowid = |id: &String| ember_core::GlobalId::decode(id).unwrap().rowid;
    assert!(all.windows(2).all(|pair| rowid(&pair[0]) > rowid(&pair[1])), "newest first: {all:?}");

    let missing = app.get("/v1/datasets/nope/splits").await;
    assert_eq!((missing.status, missing.text()), (StatusCode::NOT_FOUND, "Dataset with name nope not found".to_string()));
    let bad = app.get("/v1/datasets/a/splits?cursor=bad").await;
    assert_eq!((bad.status, bad.text()), (StatusCode::UNPROCESSABLE_ENTITY, "Invalid cursor format: bad".to_string()));
    assert_eq!(app.get("/v1/datasets/a/splits?limit=0").await.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// A `multipart/form-data` body as `arize-phoenix-client` sends a DataFrame: form fields, then a
/// gzip-compressed CSV file part.
fn form(fields: &[(&str, &str)], csv: &str) -> (String, Vec<u8>) {
    use std::io::Write;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(csv.as_bytes()).unwrap();
    file_form(fields, "text/csv", Some("gzip"), &gzip.finish().unwrap())
}

/// A form with the `file` part holding `file` as `content_type`.
pub(crate) fn file_form(fields: &[(&str, &str)], content_type: &str, encoding: Option<&str>, file: &[u8]) -> (String, Vec<u8>) {
    use std::io::Write;
    let boundary = "ember-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        write!(body, "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").unwrap();
    }
    write!(body, "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"data\"\r\nContent-Type: {content_type}\r\n")
        .unwrap();
    if let Some(encoding) = encoding {
        write!(body, "Content-Encoding: {encoding}\r\n").unwrap();
    }
    write!(body, "\r\n").unwrap();
    body.extend(file);
    write!(body, "\r\n--{boundary}--\r\n").unwrap();
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_form(app: &TestApp, (content_type, body): (String, Vec<u8>)) -> crate::common::TestResponse {
    use axum::body::Body;
    use axum::http::Request;
    app.send(Request::post("/v1/datasets/upload?sync=true").header("content-type", content_type).body(Body::from(body)).unwrap()).await
}

#[tokio::test]
async fn json_lines_and_arrow_files_upload_typed_cells() {
    use std::sync::Arc;

    use arrow_array::{Float64Array, Int64Array, RecordBatch, StringArray};
    use arrow_ipc::writer::StreamWriter;

    let app = test_app().await;
    let keys =
        [("input_keys[]", "q"), ("output_keys[]", "a"), ("metadata_keys[]", "meta"), ("split_key", "split"), ("example_id_key", "id")];
    let lines = concat!(
        "{\"q\": {\"text\": \"two plus two\"}, \"a\": 4, \"meta\": [1, 2], \"split\": [\"train\", \"easy\"], \"id\": \"x-1\"}\n",
        "\n",
        "{\"q\": \"no answer\", \"split\": \"test\", \"id\": 7}\n",
    );
    let response =
        post_form(&app, file_form(&[&[("name", "from-jsonl")][..], &keys].concat(), "application/jsonl", None, lines.as_bytes())).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let dataset_id = response.json()["data"]["dataset_id"].as_str().unwrap().to_string();
    let examples = app.get(&format!("/v1/datasets/{dataset_id}/examples")).await.json()["data"]["examples"].clone();
    assert_eq!(
        (&examples[0]["id"], &examples[0]["input"], &examples[0]["output"], &examples[0]["metadata"]),
        (&json!("x-1"), &json!({"q": {"text": "two plus two"}}), &json!({"a": 4}), &json!({"meta": [1, 2]}))
    );
    assert_eq!((&examples[1]["id"], &examples[1]["output"]), (&json!("7"), &json!({"a": null})));
    let easy = app.get(&format!("/v1/datasets/{dataset_id}/examples?split=easy")).await.json();
    assert_eq!(easy["data"]["examples"].as_array().unwrap().len(), 1);

    // An Arrow stream, as pyarrow writes a DataFrame: numbers stay numbers.
    let batch = RecordBatch::try_from_iter([
        ("q", Arc::new(StringArray::from(vec!["one", "two"])) as _),
        ("a", Arc::new(Int64Array::from(vec![1, 2])) as _),
        ("meta", Arc::new(Float64Array::from(vec![0.5, f64::NAN])) as _),
        ("split", Arc::new(StringArray::from(vec![Some("train"), None])) as _),
        ("id", Arc::new(StringArray::from(vec!["r-1", "r-2"])) as _),
    ])
    .unwrap();
    let mut stream = Vec::new();
    let mut writer = StreamWriter::try_new(&mut stream, &batch.schema()).unwrap();
    writer.write(&batch).unwrap();
    writer.finish().unwrap();
    drop(writer);
    let response =
        post_form(&app, file_form(&[&[("name", "from-arrow")][..], &keys].concat(), "application/x-pandas-pyarrow", None, &stream)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let dataset_id = response.json()["data"]["dataset_id"].as_str().unwrap().to_string();
    let examples = app.get(&format!("/v1/datasets/{dataset_id}/examples")).await.json()["data"]["examples"].clone();
    assert_eq!(
        (&examples[0]["input"], &examples[0]["output"], &examples[0]["metadata"], &examples[1]["metadata"]),
        (&json!({"q": "one"}), &json!({"a": 1}), &json!({"meta": 0.5}), &json!({"meta": null}))
    );
    assert_eq!((&examples[0]["id"], &examples[1]["id"]), (&json!("r-1"), &json!("r-2")));

    // Errors name the line, the column or the type; nothing is written.
    let bad_line = "{\"q\": 1}\n[1, 2]\n";
    let cases = [
        (
            file_form(&[("name", "bad"), ("input_keys[]", "q")], "application/jsonl", None, bad_line.as_bytes()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "line 2",
        ),
        (
            file_form(&[("name", "bad"), ("input_keys[]", "nope")], "application/jsonl", None, b"{\"q\": 1}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "nope",
        ),
        (
            file_form(&[("name", "bad"), ("input_keys[]", "q")], "application/x-pandas-pyarrow", None, b"not arrow"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Arrow",
        ),
        (file_form(&[("name", "bad"), ("input_keys[]", "q")], "image/png", None, b"x"), StatusCode::UNSUPPORTED_MEDIA_TYPE, "image/png"),
        (
            file_form(&[("name", "bad"), ("input_keys[]", "q"), ("split_key", "s")], "application/jsonl", None, b"{\"q\": 1, \"s\": 5}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "line 1",
        ),
    ];
    for (form, status, message) in cases {
        let response = post_form(&app, form).await;
        assert_eq!(response.status, status, "{}", response.text());
        assert!(response.text().contains(message), "{message}: {}", response.text());
    }
    assert_eq!(app.get("/v1/datasets?name=bad").await.json()["data"], json!([]));
}

#[tokio::test]
async fn csv_forms_upload_examples_by_column() {
    use axum::body::Body;
    use axum::http::Request;

    let app = test_app().await;
    app.ingest(&request(Some("p"), vec![span(1, 1, None, "LLM")])).await;
    let csv = format!(
        "question,answer,topic,split,span,key\nWhat is 2+2?,4,math,\"[\"\"train\"\", \"\"easy\"\"]\",{},k-1\n\"Name, a prime\",7,math,test,,k-2\n",
        span_id(1)
    );
    let fields = [
        ("action", "update"),
        ("name", "from-csv"),
        ("description", "a DataFrame"),
        ("input_keys[]", "question"),
        ("output_keys[]", "answer"),
        ("metadata_keys[]", "topic"),
        ("split_key", "split"),
        ("span_id_key", "span"),
        ("example_id_key", "key"),
    ];
    let (content_type, body) = form(&fields, &csv);
    let post = |body: Vec<u8>, content_type: String| {
        Request::post("/v1/datasets/upload?sync=true").header("content-type", content_type).body(Body::from(body)).unwrap()
    };
    let response = app.send(post(body, content_type)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let data = response.json()["data"].clone();
    assert_eq!(data["num_created_examples"], 2);
    let dataset_id = data["dataset_id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/v1/datasets/{dataset_id}")).await.json()["data"]["description"], "a DataFrame");
    let examples = app.get(&format!("/v1/datasets/{dataset_id}/examples")).await.json();
    let first = &examples["data"]["examples"][0];
    assert_eq!(
        (first["id"].as_str(), &first["input"], &first["output"], &first["metadata"]),
        (Some("k-1"), &json!({"question": "What is 2+2?"}), &json!({"answer": "4"}), &json!({"topic": "math"}))
    );
    assert_eq!(first["source"]["span_id"], span_id(1));
    assert_eq!(examples["data"]["examples"][1]["input"], json!({"question": "Name, a prime"}));
    let easy = app.get(&format!("/v1/datasets/{dataset_id}/examples?split=easy")).await.json();
    assert_eq!(inputs(&easy), vec![json!({"question": "What is 2+2?"})]);

    // A key that names no column is a 422 naming it; nothing is written.
    let (content_type, body) = form(&[("name", "broken"), ("input_keys[]", "nope")], "question\nx\n");
    let response = app.send(post(body, content_type)).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().contains("\"nope\""), "{}", response.text());
    assert_eq!(app.get("/v1/datasets?name=broken").await.json()["data"], json!([]));
}

#[tokio::test]
async fn splits_are_created_with_examples_changed_and_deleted() {
    use axum::body::Body;
    use axum::http::Request;

    let app = test_app().await;
    let qa = upload(&app, json!({"name": "qa", "inputs": [{"n": 1}, {"n": 2}, {"n": 3}]})).await;
    let dataset_id = qa["dataset_id"].as_str().unwrap().to_string();
    let examples = app.get(&format!("/v1/datasets/{dataset_id}/examples")).await.json();
    let node = |index: usize| examples["data"]["examples"][index]["node_id"].as_str().unwrap().to_string();
    let other = upload(&app, json!({"name": "other", "inputs": [{"n": 9}]})).await;
    let foreign = app.get(&format!("/v1/datasets/{}/examples", other["dataset_id"].as_str().unwrap())).await.json()["data"]["examples"][0]
        ["node_id"]
        .as_str()
        .unwrap()
        .to_string();

    let created = app
        .post_json("/v1/datasets/qa/splits", &json!({"name": "hard", "example_ids": [node(0), node(2)], "metadata": {"by": "me"}}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let split = created.json()["data"].clone();
    assert_eq!(
        (split["name"].as_str(), split["color"].as_str(), split["example_count"].as_u64()),
        (Some("hard"), Some("#33c5e8"), Some(2))
    );
    let split_id = split["id"].as_str().unwrap().to_string();
    let in_split = app.get(&format!("/v1/datasets/{dataset_id}/examples?split=hard")).await.json();
    assert_eq!(inputs(&in_split), vec![json!({"n": 1}), json!({"n": 3})]);

    // Bad input: a taken name, an example of another dataset, a bad color; nothing written.
    for (body, status, message) in [
        (json!({"name": "hard"}), StatusCode::CONFLICT, "hard"),
        (json!({"name": "x", "example_ids": [foreign]}), StatusCode::UNPROCESSABLE_ENTITY, "not an example of this dataset"),
        (json!({"name": "x", "color": "red"}), StatusCode::UNPROCESSABLE_ENTITY, "color"),
        (json!({"name": "x", "example_ids": ["nope"]}), StatusCode::UNPROCESSABLE_ENTITY, "example_ids"),
    ] {
        let response = app.post_json(&format!("/v1/datasets/{dataset_id}/splits"), &body).await;
        assert_eq!(response.status, status, "{body}: {}", response.text());
        assert!(response.text().contains(message), "{body}: {}", response.text());
    }
    assert_eq!(app.get(&format!("/v1/datasets/{dataset_id}/examples?split=x")).await.json()["data"]["examples"], json!([]));

    // PATCH renames, adds and removes examples, clears the description.
    let patch = |body: Value| {
        Request::patch(format!("/v1/datasets/qa/splits/{split_id}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let changed = app
        .send(patch(json!({"name": "tricky", "add_example_ids": [node(1)], "remove_example_ids": [node(0)], "description": null})))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    assert_eq!((changed.json()["data"]["name"].as_str(), changed.json()["data"]["example_count"].as_u64()), (Some("tricky"), Some(2)));
    let in_split = app.get(&format!("/v1/datasets/{dataset_id}/examples?split={split_id}")).await.json();
    assert_eq!(inputs(&in_split), vec![json!({"n": 2}), json!({"n": 3})]);
    assert_eq!(app.send(patch(json!({"add_example_ids": [foreign]}))).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    // DELETE removes the split, not its examples.
    assert_eq!(app.delete(&format!("/v1/datasets/qa/splits/{split_id}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.delete(&format!("/v1/datasets/qa/splits/{split_id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(inputs(&app.get(&format!("/v1/datasets/{dataset_id}/examples")).await.json()).len(), 3);
    assert_eq!(app.send(patch(json!({"name": "again"}))).await.status, StatusCode::NOT_FOUND);
}

/// `rows` CSV rows of about 600 bytes with ids `id-0`…, so a few thousand exceed the test app's
/// 1 MiB body limit (forms may be 4 MiB) and span several of the store's 1000-example batches.
fn padded_csv(rows: usize, broken_row: Option<usize>, repeated_id: Option<(usize, usize)>) -> String {
    let mut csv = String::from("id,question,answer,pad\n");
    let pad = "p".repeat(580);
    for row in 1..=rows {
        let id = match repeated_id {
            Some((from, to)) if row == to => from,
            _ => row,
        };
        if broken_row == Some(row) {
            csv.push_str("id-broken,only two\n");
        } else {
            csv.push_str(&format!("id-{id},q{row},a{row},{pad}\n"));
        }
    }
    csv
}

fn padded_form(name: &str, action: &str, csv: &str) -> (String, Vec<u8>) {
    let fields = [("name", name), ("action", action), ("input_keys[]", "question"), ("output_keys[]", "answer"), ("example_id_key", "id")];
    file_form(&fields, "text/csv", None, csv.as_bytes())
}

#[tokio::test]
async fn large_forms_stream_in_batches_and_a_late_bad_row_writes_nothing() {
    let app = test_app().await;
    let csv = padded_csv(2500, None, None);
    assert!(csv.len() > 1 << 20 && csv.len() < 4 << 20);

    // A bad row after two full batches reached the store: 422 naming it, and no dataset.
    let broken = post_form(&app, padded_form("big", "create", &padded_csv(2500, Some(2300), None))).await;
    assert_eq!(broken.status, 422);
    assert!(broken.text().starts_with("CSV row 2300: "), "{}", broken.text());
    let repeated = post_form(&app, padded_form("big", "create", &padded_csv(2500, None, Some((10, 1500))))).await;
    assert_eq!(repeated.status, 422);
    assert_eq!(repeated.text(), "Duplicate example_id in request: 'id-10'");
    assert_eq!(app.get("/v1/datasets?name=big").await.json()["data"], json!([]));

    // Larger than the JSON body limit, within the upload limit.
    let created = post_form(&app, padded_form("big", "create", &csv)).await;
    assert_eq!(created.status, 200, "{}", created.text());
    let dataset_id = created.json()["data"]["dataset_id"].as_str().unwrap().to_string();
    assert_eq!(created.json()["data"]["num_created_examples"], 2500);
    let examples = app.get(&format!("/v1/datasets/{dataset_id}/examples")).await.json();
    let examples = examples["data"]["examples"].as_array().unwrap().clone();
    assert_eq!(examples.len(), 2500);
    assert!(examples
        .iter()
        .any(|example| example["input"] == json!({"question": "q2500"}) && example["output"] == json!({"answer": "a2500"})));

    // An update naming the first 1500 ids, across two batches, deletes the other 1000 and
    // changes nothing else.
    let mirrored = post_form(&app, padded_form("big", "update", &padded_csv(1500, None, None))).await;
    assert_eq!(mirrored.status, 200, "{}", mirrored.text());
    let counts = &mirrored.json()["data"];
    assert_eq!(
        (counts["num_created_examples"].as_u64(), counts["num_updated_examples"].as_u64(), counts["num_deleted_examples"].as_u64()),
        (Some(0), Some(0), Some(1000))
    );
    assert_eq!(app.get(&format!("/v1/datasets/{dataset_id}")).await.json()["data"]["example_count"], 1500);

    // The JSON body keeps the general limit; a form past the upload limit is refused too.
    let inputs: Vec<Value> = (0..2500).map(|row| json!({"question": format!("q{row}"), "pad": "p".repeat(580)})).collect();
    let too_big_json = app.post_json("/v1/datasets/upload", &json!({"name": "json-big", "inputs": inputs})).await;
    assert_eq!(too_big_json.status, 413);
    let too_big_form = post_form(&app, padded_form("huge", "create", &padded_csv(7500, None, None))).await;
    assert_eq!(too_big_form.status, 413);
    assert_eq!(app.get("/v1/datasets?name=huge").await.json()["data"], json!([]));
}

/// D6/D7: upload forms are bounded — form fields at 64 KiB, 10,000 keys, 10,000 columns, 16 MiB
/// per cell — each a 422 naming the limit, with nothing stored; wide files are checked in linear
/// time.
#[tokio::test]
async fn upload_forms_are_bounded_in_fields_keys_columns_and_cells() {
    let app = crate::common::test_app_with(ember_store::QueueLimits::default(), 8 << 20).await;
    let refused = |response: crate::common::TestResponse, needle: &str| {
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{needle}: {}", response.text());
        assert!(response.text().contains(needle), "{needle}: {}", response.text());
    };
    let description = "d".repeat(70 << 10);
    refused(
        post_form(&app, form(&[("name", "big"), ("description", &description)], "a\n1\n")).await,
        "\"description\" is longer than 65536 bytes",
    );
    let keys: Vec<(&str, &str)> = std::iter::once(("name", "many")).chain(std::iter::repeat_n(("input_keys[]", "a"), 10_001)).collect();
    refused(post_form(&app, form(&keys, "a\n1\n")).await, "more than 10000 keys");
    let wide = |columns: usize| {
        format!("{}\n{}\n", (0..columns).map(|i| format!("c{i}")).collect::<Vec<_>>().join(","), vec!["v"; columns].join(","))
    };
    refused(post_form(&app, form(&[("name", "wide"), ("input_keys[]", "c0")], &wide(10_001))).await, "has 10001 columns; at most 10000");
    refused(
        post_form(&app, form(&[("name", "cell"), ("input_keys[]", "a")], &format!("a\n{}\n", "x".repeat((16 << 20) + 1)))).await,
        "longer than 16777216 bytes",
    );
    assert!(app.get("/v1/datasets").await.json()["data"].as_array().unwrap().is_empty(), "nothing was stored");

    // Within the limits: a 10,000-column file, and a key named twice is one key.
    let ok = post_form(
        &app,
        form(&[("name", "wide"), ("input_keys[]", "c0"), ("input_keys[]", "c0"), ("input_keys[]", "c9999")], &wide(10_000)),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let dataset_id = ok.json()["data"]["dataset_id"].as_str().unwrap().to_string();
    let examples = app.get(&format!("/v1/datasets/{dataset_id}/examples")).await.json();
    assert_eq!(examples["data"]["examples"][0]["input"], json!({"c0": "v", "c9999": "v"}));
}

/// A split named with U+0000 (found by the `dataset_upload_arrow` fuzz target on PostgreSQL,
/// which stores it as U+FFFD: the upload answered 500 looking the split up by the name as sent).
#[tokio::test]
async fn split_names_with_nul_characters_are_stored() {
    let app = test_app().await;
    let body = json!({"name": "nul", "inputs": [{"q": 1}, {"q": 2}], "splits": ["a\u{0}b", "a\u{0}b"]});
    let created = upload(&app, body.clone()).await;
    assert_eq!(created["num_created_examples"], 2);
    let splits = app.get("/v1/datasets/nul/splits").await.json();
    assert_eq!(splits["data"].as_array().unwrap().len(), 1);
    assert_eq!(splits["data"][0]["example_count"], 2);
    let mut again = body;
    again["action"] = json!("update");
    let unchanged = upload(&app, again).await;
    assert_eq!((unchanged["num_created_examples"].as_u64(), unchanged["num_updated_examples"].as_u64()), (Some(0), Some(0)));
}
