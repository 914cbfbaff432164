//! The web UI's routes in process: headers, assets, and every page's answer to bad input (the
//! pages themselves are driven in Chromium by `crates/ember/tests/e2e/browser`).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use ember_core::{GlobalId, GlobalType};
use ember_otlp::fixtures::{request, span, span_id, string_attribute, trace_id, with_attributes};

use crate::common::{test_app, TestApp, TestResponse};

async fn post_form(app: &TestApp, uri: &str, form: &str) -> TestResponse {
    let request =
        Request::post(uri).header("content-type", "application/x-www-form-urlencoded").body(Body::from(form.to_string())).unwrap();
    app.send(request).await
}

/// An error page with this status and message.
fn assert_error_page(response: &TestResponse, status: StatusCode, message: &str) {
    assert_eq!(response.status, status, "{}", response.text());
    let html = response.text();
    assert!(html.contains("id=\"error-page\""), "{html}");
    assert!(html.contains(message), "{message:?} in {html}");
}

#[tokio::test]
async fn pages_carry_a_strict_policy_and_assets_are_cached_for_good() {
    let app = test_app().await;
    let root = app.get("/").await;
    assert_eq!(root.status, StatusCode::SEE_OTHER);
    assert_eq!(root.headers["location"], "/projects");

    let page = app.get("/projects").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.content_type().starts_with("text/html"));
    let policy = page.headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("default-src 'none'") && policy.contains("script-src 'self'"), "{policy}");
    let html = page.text();
    assert!(html.contains("default"), "the default project is listed");
    assert!(!html.contains("http://") && !html.contains("https://"), "no absolute URL on the page: {html}");

    let css = app.get("/ui/assets/app.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.content_type(), "text/css; charset=utf-8");
    assert!(css.headers["cache-control"].to_str().unwrap().contains("immutable"));
    assert!(!css.text().contains("url("), "the stylesheet loads nothing");
    assert_eq!(app.get("/ui/assets/app.js").await.content_type(), "text/javascript; charset=utf-8");
    assert_eq!(app.get("/ui/assets/other.js").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pages_name_what_is_missing_or_malformed() {
    let app = test_app().await;
    app.ingest(&request(Some("p"), vec![span(1, 1, None, "CHAIN"), span(1, 2, Some(1), "LLM")])).await;
    let project = app.store.get_project_by_name("p").await.unwrap().unwrap().id;

    assert_error_page(&app.get("/projects/999").await, StatusCode::NOT_FOUND, "Project not found: 999");
    assert_error_page(&app.get("/models/nope").await, StatusCode::NOT_FOUND, "no model is named &quot;nope&quot;");
    assert_error_page(&app.get("/projects?cursor=abc").await, StatusCode::BAD_REQUEST, "The page cursor is not a number.");
    assert_error_page(
        &app.get(&format!("/projects/{project}?cursor=x")).await,
        StatusCode::BAD_REQUEST,
        "The page cursor is not a number.",
    );
    assert_error_page(
        &app.get(&format!("/projects/{project}/traces/{}", "0".repeat(32))).await,
        StatusCode::NOT_FOUND,
        &format!("Project p has no trace {}", "0".repeat(32)),
    );
    assert_error_page(&app.get(&format!("/projects/{project}/sessions/77")).await, StatusCode::NOT_FOUND, "Project p has no session 77");
    assert_error_page(&app.get("/datasets/5").await, StatusCode::NOT_FOUND, "Dataset 5 not found");
    assert_error_page(&app.get("/prompts/5").await, StatusCode::NOT_FOUND, "Prompt not found");
    assert_error_page(&app.get("/datasets/5/experiments/7").await, StatusCode::NOT_FOUND, "Dataset 5 not found");
    assert_error_page(
        &app.get(&format!("/projects/{project}/metrics?from=abc&to=1")).await,
        StatusCode::BAD_REQUEST,
        "`from` is not a time in nanoseconds",
    );
    let trace = format!("/projects/{project}/traces/{}", trace_id(1));
    assert_error_page(
        &app.get(&format!("{trace}/spans/{}/otlp.json", "0".repeat(16))).await,
        StatusCode::NOT_FOUND,
        &format!("has no span {}", "0".repeat(16)),
    );
    let download = app.get(&format!("{trace}/spans/{}/otlp.json", span_id(2))).await;
    assert_eq!(download.status, StatusCode::OK);
    assert!(download.headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let otlp: serde_json::Value = serde_json::from_str(&download.text()).unwrap();
    assert_eq!(otlp["span_id"], span_id(2));
    // A search text past its length names nothing, without an error.
    let long = app.get(&format!("/search?q={}", "x".repeat(5_000))).await;
    assert_eq!(long.status, StatusCode::OK);
    assert!(long.text().contains("Nothing is named"));

    // A filter that does not parse is explained under the box; the page still answers.
    let filtered = app.get(&format!("/projects/{project}?tab=spans&range=all&filter=span_kind%20%3D%3D")).await;
    assert_eq!(filtered.status, StatusCode::OK);
    assert!(filtered.text().contains("class=\"filter-error\""), "{}", filtered.text());
    // A valid one selects.
    // The fixtures' spans are from 2024: outside the default week, inside "all time".
    let week = app.get(&format!("/projects/{project}?tab=spans&spans=all")).await.text();
    assert!(week.contains("No spans in this range match."));
    let llm = app.get(&format!("/projects/{project}?tab=spans&spans=all&range=all&filter=span_kind%20%3D%3D%20%27LLM%27")).await.text();
    assert!(llm.contains(&format!("value=\"{}\"", span_id(2))) && !llm.contains(&format!("value=\"{}\"", span_id(1))), "{llm}");
    let all_time = app.get(&format!("/projects/{project}?range=all")).await.text();
    assert!(all_time.contains("<option value=\"all\" selected>All time</option>"), "{all_time}");
    assert!(all_time.contains("<div class=\"value\">1</div><div class=\"label\">Traces</div>"), "the rollups count the trace: {all_time}");

    // The trace page of a stored trace, with its selected span.
    let trace = app.get(&format!("/projects/{project}/traces/{}?span={}", trace_id(1), span_id(2))).await;
    assert_eq!(trace.status, StatusCode::OK);
    assert!(trace.text().contains("LLM-2"));
}

/// Where a redirect points.
fn location(response: &TestResponse) -> &str {
    assert!(response.status.is_redirection(), "{} {}", response.status, response.text());
    response.headers["location"].to_str().unwrap()
}

#[tokio::test]
async fn phoenix_links_open_ember_pages() {
    let app = test_app().await;
    let in_session = with_attributes(span(1, 1, None, "CHAIN"), vec![string_attribute("session.id", "chat-7")]);
    app.ingest(&request(Some("p"), vec![in_session, span(1, 2, Some(1), "LLM")])).await;
    let project = app.store.get_project_by_name("p").await.unwrap().unwrap().id;
    let project_gid = GlobalId::encode(GlobalType::Project, project);
    let session = app.get("/v1/projects/p/sessions").await.json()["data"][0]["id"].as_str().unwrap().to_string();
    let session_rowid = GlobalId::decode_as(&session, GlobalType::ProjectSession).unwrap();

    // Pages take Phoenix's GlobalIDs where they take rowids.
    let by_gid = app.get(&format!("/projects/{project_gid}")).await;
    assert_eq!(by_gid.status, StatusCode::OK);
    assert!(by_gid.text().contains(&format!("href=\"/projects/{project}?tab=spans")), "links use rowids");
    let trace = app.get(&format!("/projects/{project_gid}/traces/{}?span={}", trace_id(1), span_id(2))).await;
    assert!(trace.status.is_success() && trace.text().contains("LLM-2"));
    assert_eq!(app.get(&format!("/projects/{project_gid}/sessions/{session}")).await.status, StatusCode::OK);
    assert_eq!(location(&app.get(&format!("/projects/{project_gid}/spans")).await), format!("/projects/{project}?tab=spans"));
    assert_eq!(location(&app.get(&format!("/projects/{project_gid}/sessions")).await), format!("/projects/{project}?tab=sessions"));
    assert_eq!(location(&app.get(&format!("/projects/{project_gid}/traces")).await), format!("/projects/{project}"));

    // Phoenix's redirects by OpenTelemetry and session ids.
    let to_span = format!("/projects/{project}/traces/{}?span={}", trace_id(1), span_id(2));
    assert_eq!(location(&app.get(&format!("/redirects/spans/{}", span_id(2))).await), to_span);
    assert_eq!(
        location(&app.get(&format!("/redirects/traces/{}", trace_id(1))).await),
        format!("/projects/{project}/traces/{}", trace_id(1))
    );
    assert_eq!(location(&app.get("/redirects/sessions/chat-7").await), format!("/projects/{project}/sessions/{session_rowid}"));
    assert_error_page(&app.get("/redirects/spans/0000000000000000").await, StatusCode::NOT_FOUND, "There is no span");
    assert_error_page(&app.get(&format!("/redirects/traces/{}", "0".repeat(32))).await, StatusCode::NOT_FOUND, "Trace not found");

    // The links the Python client prints after an experiment.
    let dataset = app
        .post_json("/v1/datasets/upload?sync=true", &serde_json::json!({"name": "d", "inputs": [{"q": 1}], "outputs": [{"a": 2}]}))
        .await
        .json();
    let dataset_gid = dataset["data"]["dataset_id"].as_str().unwrap().to_string();
    let dataset_rowid = GlobalId::decode_as(&dataset_gid, GlobalType::Dataset).unwrap();
    assert_eq!(
        location(&app.get(&format!("/datasets/{dataset_gid}/experiments")).await),
        format!("/datasets/{dataset_rowid}?tab=experiments")
    );
    assert_eq!(app.get(&format!("/datasets/{dataset_gid}")).await.status, StatusCode::OK);
    let experiment = app.post_json(&format!("/v1/datasets/{dataset_gid}/experiments"), &serde_json::json!({})).await.json();
    let experiment_gid = experiment["data"]["id"].as_str().unwrap().to_string();
    let compare = app.get(&format!("/datasets/{dataset_gid}/compare?experimentId={experiment_gid}")).await;
    assert_eq!(compare.status, StatusCode::OK, "{}", compare.text());
    assert!(compare.text().contains("Comparing 1 experiments"));

    // Malformed ids and unknown pages are the styled not-found page, not a parse error.
    for path in ["/projects/not-an-id", "/datasets/RGF0YXNldDp4", &format!("/projects/{project}/sessions/x"), "/prompts/%20"] {
        assert_error_page(&app.get(path).await, StatusCode::NOT_FOUND, "There is no page at");
    }
    let unknown = app.send(Request::get("/no/such/page").header("accept", "text/html").body(Body::empty()).unwrap()).await;
    assert_error_page(&unknown, StatusCode::NOT_FOUND, "There is no page here.");
    assert_eq!(app.get("/v1/no/such/route").await.text(), "Not Found", "clients keep the plain answer");
}

#[tokio::test]
async fn forms_refuse_bad_input_with_a_message() {
    let app = test_app().await;
    app.ingest(&request(Some("p"), vec![span(1, 1, None, "CHAIN")])).await;
    let project = app.store.get_project_by_name("p").await.unwrap().unwrap().id;
    let back = format!("/projects/{project}/traces/{}", trace_id(1));
    let form = |level: &str, score: &str, return_to: &str| {
        format!(
            "level={level}&span_id={}&trace_id={}&name=quality&label=good&score={score}&explanation=&return_to={}",
            span_id(1),
            trace_id(1),
            percent_encoding::utf8_percent_encode(return_to, percent_encoding::NON_ALPHANUMERIC)
        )
    };
    let uri = format!("/projects/{project}/annotations");
    assert_error_page(
        &post_form(&app, &uri, &form("span", "abc", &back)).await,
        StatusCode::BAD_REQUEST,
        "The score &quot;abc&quot; is not a number.",
    );
    assert_error_page(&post_form(&app, &uri, &form("document", "1", &back)).await, StatusCode::BAD_REQUEST, "not &quot;document&quot;");
    assert_error_page(
        &post_form(&app, &uri, &form("span", "1", "https://elsewhere.example/")).await,
        StatusCode::BAD_REQUEST,
        "unexpected page",
    );

    // A good one is stored as a human annotation from the app, and goes back to the trace.
    let saved = post_form(&app, &uri, &form("trace", "0.5", &back)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert!(saved.headers["location"].to_str().unwrap().starts_with(&back));
    let query = ember_store::AnnotationQuery { target_ids: vec![trace_id(1)], limit: 10, ..Default::default() };
    let stored = app.store.list_annotations(ember_core::AnnotationTarget::Trace, project, &query).await.unwrap().items;
    assert_eq!((stored[0].annotator_kind.as_str(), stored[0].source.as_str(), stored[0].score), ("HUMAN", "APP", Some(0.5)));
    // Deleting it through another project's form finds nothing.
    let other = app.store.create_project("q", None).await.unwrap().id;
    let delete = format!(
        "level=trace&id={}&return_to={}",
        stored[0].rowid,
        percent_encoding::utf8_percent_encode(&format!("/projects/{other}/traces/x"), percent_encoding::NON_ALPHANUMERIC)
    );
    let answer = post_form(&app, &format!("/projects/{other}/annotations/delete"), &delete).await;
    assert!(answer.headers["location"].to_str().unwrap().contains("already%20gone"), "{:?}", answer.headers);
    assert_eq!(app.store.list_annotations(ember_core::AnnotationTarget::Trace, project, &query).await.unwrap().items.len(), 1);

    // A name with a config follows it: a label outside it comes back as the rule's message, and
    // nothing is stored.
    let config = serde_json::json!({"name": "quality", "type": "CATEGORICAL", "optimization_direction": "MAXIMIZE",
        "values": [{"label": "great", "score": 1}, {"label": "poor", "score": 0}]});
    let input: ember_service::annotation_configs::AnnotationConfigInput = serde_json::from_value(config).unwrap();
    app.services.annotation_configs().create(&ember_service::Caller::anonymous(), &input).await.unwrap();
    let refused = post_form(&app, &uri, &form("span", "1", &back)).await;
    let location = refused.headers["location"].to_str().unwrap();
    assert!(location.contains("error=") && location.contains("is%20not%20one%20of%20quality"), "{location}");
    let spans = ember_store::AnnotationQuery { target_ids: vec![span_id(1)], limit: 10, ..Default::default() };
    assert!(app.store.list_annotations(ember_core::AnnotationTarget::Span, project, &spans).await.unwrap().items.is_empty());

    // Notes: text is needed; one is stored under the reserved name, on the page's object.
    let note = |text: &str, return_to: &str| {
        let return_to = percent_encoding::utf8_percent_encode(return_to, percent_encoding::NON_ALPHANUMERIC);
        format!("level=span&target_id={}&text={text}&return_to={return_to}", span_id(1))
    };
    let notes = format!("/projects/{project}/notes");
    let empty = post_form(&app, &notes, &note("%20", &back)).await;
    assert!(empty.headers["location"].to_str().unwrap().contains("needs%20some%20text"));
    assert_error_page(&post_form(&app, &notes, &note("hi", "/projects/1/../x")).await, StatusCode::BAD_REQUEST, "unexpected page");
    let added = post_form(&app, &notes, &note("looks%20fine", &back)).await;
    assert!(added.headers["location"].to_str().unwrap().contains("Note%20added"), "{:?}", added.headers);
    let stored = app.store.list_annotations(ember_core::AnnotationTarget::Span, project, &spans).await.unwrap().items;
    assert_eq!((stored[0].name.as_str(), stored[0].explanation.as_deref()), ("note", Some("looks fine")));

    // Projects: a blank name and a taken one come back as messages.
    let blank = post_form(&app, "/projects", "name=%20&description=").await;
    assert!(blank.headers["location"].to_str().unwrap().contains("error="));
    let taken = post_form(&app, "/projects", "name=p&description=").await;
    assert!(taken.headers["location"].to_str().unwrap().contains("already%20exists"));
    assert_error_page(&post_form(&app, "/projects/999/delete", "").await, StatusCode::NOT_FOUND, "Project not found: 999");
    let created = post_form(&app, "/projects", "name=fresh&description=made+in+the+UI").await;
    let fresh = app.store.get_project_by_name("fresh").await.unwrap().expect("created");
    assert_eq!(fresh.description.as_deref(), Some("made in the UI"));
    assert_eq!(created.headers["location"], format!("/projects/{}", fresh.id).as_str());
    assert_eq!(post_form(&app, &format!("/projects/{}/delete", fresh.id), "").await.headers["location"], "/projects");
    assert!(app.store.get_project(fresh.id).await.unwrap().is_none());

    // Experiments: comparing needs experiments of this dataset.
    assert_error_page(&app.get("/datasets/1/compare").await, StatusCode::NOT_FOUND, "Dataset 1 not found");

    // Settings: the REST API's validation, as a message.
    let invalid = post_form(&app, "/settings/annotation-configs", "name=tone&kind=CONTINUOUS&lower_bound=5&upper_bound=1").await;
    let location = percent_encoding::percent_decode_str(invalid.headers["location"].to_str().unwrap()).decode_utf8().unwrap().to_string();
    assert!(location.starts_with("/settings?error=") && location.contains("lower_bound (5) must be strictly less"), "{location}");
    let valid =
        post_form(&app, "/settings/annotation-configs", "name=tone&kind=CONTINUOUS&direction=MAXIMIZE&lower_bound=0&upper_bound=1").await;
    assert!(valid.headers["location"].to_str().unwrap().contains("notice="));
    let config = app.store.get_annotation_config(None, Some("tone")).await.unwrap().unwrap();
    assert_eq!((config.config["lower_bound"].as_f64(), config.config["upper_bound"].as_f64()), (Some(0.0), Some(1.0)));

    // Editing changes it in place; taking another config's name is refused; deleting removes it.
    let edit = format!("/settings/annotation-configs/{}", config.id);
    let edited = post_form(&app, &edit, "name=tone&kind=CONTINUOUS&direction=MINIMIZE&lower_bound=0&upper_bound=10").await;
    assert!(edited.headers["location"].to_str().unwrap().contains("notice="));
    let config = app.store.get_annotation_config(Some(config.id), None).await.unwrap().unwrap();
    assert_eq!((config.config["upper_bound"].as_f64(), config.config["optimization_direction"].as_str()), (Some(10.0), Some("MINIMIZE")));
    post_form(&app, "/settings/annotation-configs", "name=other&kind=FREEFORM").await;
    let clash = post_form(&app, &edit, "name=other&kind=FREEFORM").await;
    assert!(clash.headers["location"].to_str().unwrap().contains("already%20exists"), "{:?}", clash.headers);
    assert_eq!(post_form(&app, &format!("{edit}/delete"), "").await.status, StatusCode::SEE_OTHER);
    assert!(app.store.get_annotation_config(Some(config.id), None).await.unwrap().is_none());
    assert_error_page(&post_form(&app, &format!("{edit}/delete"), "").await, StatusCode::NOT_FOUND, "");
}

/// Retention policies and "clear data before…" through the forms: the service's rules as
/// messages, a project following the chosen policy, the sweep and the purge taking effect.
#[tokio::test]
async fn retention_and_purge_forms_work() {
    let app = test_app().await;
    app.ingest(&request(Some("p"), vec![span(1, 1, None, "CHAIN"), span(2, 2, None, "CHAIN")])).await;
    app.ingest(&request(Some("q"), vec![span(3, 3, None, "CHAIN"), span(4, 4, None, "CHAIN"), span(6, 6, None, "CHAIN")])).await;
    let (p, q) =
        (app.store.get_project_by_name("p").await.unwrap().unwrap().id, app.store.get_project_by_name("q").await.unwrap().unwrap().id);
    let location = |response: &TestResponse| {
        percent_encoding::percent_decode_str(response.headers["location"].to_str().unwrap()).decode_utf8().unwrap().to_string()
    };
    let settings = app.get("/settings").await.text();
    assert!(settings.contains("id=\"retention-policies\"") && settings.contains("Default") && settings.contains("keeps every trace"));

    let bad = post_form(&app, "/settings/retention-policies", "name=weekly&cron_expression=5+3+*+*+1&max_days=1&max_count=").await;
    assert!(location(&bad).contains("error=Invalid cron expression. Minute field must be '0'."), "{}", location(&bad));
    let bad = post_form(&app, "/settings/retention-policies", "name=weekly&cron_expression=0+3+*+*+1&max_days=soon&max_count=").await;
    assert!(location(&bad).contains("not a number of days"), "{}", location(&bad));
    let created = post_form(&app, "/settings/retention-policies", "name=weekly&cron_expression=0+3+*+*+1&max_days=1&max_count=").await;
    assert!(
        location(&created).starts_with("/settings?notice=Created weekly.") && location(&created).ends_with("#retention"),
        "{}",
        location(&created)
    );
    let policy = app.store.list_retention_policies(None, 10).await.unwrap().items.pop().unwrap();
    assert_eq!((policy.name.as_str(), policy.rule), ("weekly", ember_store::RetentionRule::MaxDays(1.0)));
    let settings = app.get("/settings").await.text();
    assert!(settings.contains("deletes traces older than 1 day") && settings.contains("At 03:00, on Monday. (UTC)"), "{settings}");

    // The project's settings: it follows Default until it is told otherwise.
    let page = app.get(&format!("/projects/{p}/settings")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Follows <strong>Default</strong>"), "{}", page.text());
    let chosen = post_form(&app, &format!("/projects/{p}/settings/retention"), &format!("policy_id={}", policy.id)).await;
    assert!(location(&chosen).contains("notice="), "{}", location(&chosen));
    assert!(app.get(&format!("/projects/{p}/settings")).await.text().contains("Follows <strong>weekly</strong>"));
    let unknown = post_form(&app, &format!("/projects/{p}/settings/retention"), "policy_id=999").await;
    assert!(location(&unknown).contains("error=Retention policy with ID"), "{}", location(&unknown));

    // Apply now: the sweeper (run here by hand) deletes p's old traces, not q's.
    let applied = post_form(&app, &format!("/settings/retention-policies/{}/apply", policy.id), "").await;
    assert!(location(&applied).contains("notice=weekly is being applied"), "{}", location(&applied));
    let report = app.services.retention().sweep_due(ember_core::time::now_nanos()).await.unwrap();
    assert_eq!((report.policies_applied, report.traces_deleted), (1, 2));
    assert!(app.store.get_trace(None, Some(&trace_id(1))).await.unwrap().is_none());
    assert!(app.store.get_trace(None, Some(&trace_id(3))).await.unwrap().is_some());

    // Clear data before a time (UTC): q's traces 3 and 4 started before 00:00:05, trace 6 after.
    let bad = post_form(&app, &format!("/projects/{q}/settings/purge"), "before=last+week").await;
    assert!(location(&bad).contains("is not a date and time"), "{}", location(&bad));
    let purged = post_form(&app, &format!("/projects/{q}/settings/purge"), "before=2024-01-01T00%3A00%3A05").await;
    assert!(location(&purged).contains("notice=Deleted 2 traces that started before 2024-01-01T00:00:05 UTC."), "{}", location(&purged));
    assert!(app.store.get_trace(None, Some(&trace_id(4))).await.unwrap().is_none());
    assert!(app.store.get_trace(None, Some(&trace_id(6))).await.unwrap().is_some());

    // Deleting a policy sends its projects back to Default.
    let deleted = post_form(&app, &format!("/settings/retention-policies/{}/delete", policy.id), "").await;
    assert!(location(&deleted).contains("notice=Deleted weekly"), "{}", location(&deleted));
    assert_eq!(app.store.project_retention_policy(p).await.unwrap(), None);
}

#[tokio::test]
async fn the_project_settings_page_shows_and_sets_the_byte_budget() {
    let app = test_app().await;
    app.ingest(&request(Some("p"), vec![span(1, 1, None, "CHAIN")])).await;
    let p = app.store.get_project_by_name("p").await.unwrap().unwrap().id;
    let page = app.get(&format!("/projects/{p}/settings")).await.text();
    assert!(page.contains("id=\"byte-budget\"") && page.contains("Holds about") && page.contains("no budget."), "{page}");
    let location = |response: &TestResponse| {
        percent_encoding::percent_decode_str(response.headers["location"].to_str().unwrap()).decode_utf8().unwrap().to_string()
    };
    let bad = post_form(&app, &format!("/projects/{p}/settings/byte-budget"), "max_mb=lots").await;
    assert!(location(&bad).contains("error=\"lots\" is not a number of MB"), "{}", location(&bad));
    let zero = post_form(&app, &format!("/projects/{p}/settings/byte-budget"), "max_mb=0").await;
    assert!(location(&zero).contains("max_bytes must be a number of bytes ≥ 1"), "{}", location(&zero));
    let set = post_form(&app, &format!("/projects/{p}/settings/byte-budget"), "max_mb=2.5").await;
    assert!(location(&set).contains("notice=The project's byte budget is 2.5 MB."), "{}", location(&set));
    assert_eq!(app.store.project_max_bytes(p).await.unwrap(), Some(2_500_000));
    assert!(app.get(&format!("/projects/{p}/settings")).await.text().contains("of a budget of <strong>2.5 MB</strong>"));
    let cleared = post_form(&app, &format!("/projects/{p}/settings/byte-budget"), "max_mb=").await;
    assert!(location(&cleared).contains("notice=The project has no byte budget."), "{}", location(&cleared));
}
