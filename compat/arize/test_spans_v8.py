"""Seed 004 (the AX spans API) with the real `arize` 8.61 SDK against ember, every call as the seed
writes it, adapted only where the SDK differs from the seed text (`spans.annotate`, not
`annotate_spans`; `span.context.span_id`; ids of 12 to 128 characters, which the SDK checks), and
each result checked through ember's Phoenix REST API and filters."""

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from importlib.metadata import version  # noqa: E402

if not version("arize").startswith("8."):
    pytest.skip("the v8 suite runs with arize 8.x", allow_module_level=True)

from arize import ArizeClient  # noqa: E402
from arize.annotation_queues.types import AnnotationInput  # noqa: E402
from arize.exceptions.auth import AuthenticationError  # noqa: E402
from arize.spans.types import AnnotateRecordInput  # noqa: E402

from conftest import ADMIN_SECRET, host_port, phoenix_get, phoenix_spans, span_annotations  # noqa: E402

SPACE_ID = "U3BhY2U6MTpjb21wYXQ="  # base64("Space:1:compat")
PROJECT = "my-llm-app"
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def arize_client(ember, key="any-key"):
    api_host, api_port = host_port(ember.http)
    flight_host, flight_port = host_port(ember.grpc)
    return ArizeClient(
        api_key=key,
        api_host=f"{api_host}:{api_port}",
        api_scheme="http",
        flight_host=flight_host,
        flight_port=flight_port,
        flight_scheme="grpc+tcp",
    )


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def span_row(span_id, trace_id, name, parent=None, minutes_ago=10, **extra):
    start = NOW - timedelta(minutes=minutes_ago)
    return {
        "context.span_id": span_id,
        "context.trace_id": trace_id,
        "parent_id": parent,
        "name": name,
        "span_kind": "LLM",
        "start_time": iso(start),
        "end_time": iso(start + timedelta(seconds=2)),
        "attributes.llm.model_name": "gpt-4",
        "attributes.llm.input_messages": [{"message.role": "user", "message.content": f"question for {name}"}],
        "attributes.llm.output_messages": [{"message.role": "assistant", "message.content": f"answer from {name}"}],
        **extra,
    }


SPAN_1, SPAN_2, SPAN_3 = "seed004-span-0001", "seed004-span-0002", "seed004-span-0003"
TRACE = "seed004-trace-0001"
SESSION = "seed004-session-0001"


@pytest.fixture(scope="module")
def client(ember):
    return arize_client(ember)


@pytest.fixture(scope="module")
def logged(client, ember):
    """Log Spans (with evaluations), then Log Spans Only."""
    spans_df = pd.DataFrame([
        span_row(SPAN_1, TRACE, "llm_call", minutes_ago=10, status_code="OK", **{"attributes.session.id": SESSION}),
        span_row(SPAN_2, TRACE, "llm_judge", parent=SPAN_1, minutes_ago=9, status_code="ERROR", status_message="timeout"),
    ])
    evals_df = pd.DataFrame([{
        "context.span_id": SPAN_1,
        "eval.Correctness.label": "correct",
        "eval.Correctness.score": 1.0,
        "eval.Correctness.explanation": "The model's response was accurate.",
        # Evaluations of the span's trace and of its session, as the SDK's columns name them.
        "trace_eval.Coherence.label": "coherent",
        "trace_eval.Coherence.score": 0.9,
        "session_eval.Frustration.label": "calm",
        "session_eval.Frustration.explanation": "No repeated questions.",
    }])
    response = client.spans.log(space_id=SPACE_ID, project_name=PROJECT, dataframe=spans_df, evals_dataframe=evals_df)
    assert response.status_code == 200
    response = client.spans.log(space_id=SPACE_ID, project_name=PROJECT, dataframe=pd.DataFrame([span_row(SPAN_3, "seed004-trace-0002", "retrieval", minutes_ago=8)]))
    assert response.status_code == 200
    return spans_df


def by_id(spans):
    return {span["context"]["span_id"]: span for span in spans}


def test_log_spans_are_read_by_phoenix_clients(logged, ember):
    spans = by_id(phoenix_spans(ember, PROJECT))
    assert set(spans) == {SPAN_1, SPAN_2, SPAN_3}
    assert spans[SPAN_2]["parent_id"] == SPAN_1
    assert spans[SPAN_2]["status_code"] == "ERROR" and spans[SPAN_2]["status_message"] == "timeout"
    assert spans[SPAN_1]["span_kind"] == "LLM"
    assert spans[SPAN_1]["attributes"]["llm.model_name"] == "gpt-4"
    assert spans[SPAN_1]["attributes"]["llm.input_messages.0.message.content"] == "question for llm_call"
    correctness = span_annotations(ember, PROJECT, SPAN_1)
    assert [(a["name"], a["annotator_kind"], a["result"]["label"]) for a in correctness] == [("Correctness", "LLM", "correct")]


def trace_annotations(ember, trace_id):
    return phoenix_get(ember, f"/v1/projects/{PROJECT}/trace_annotations?trace_ids={trace_id}")["data"]


def test_trace_and_session_evaluations_annotate_the_trace_and_the_session(logged, ember):
    coherence = trace_annotations(ember, TRACE)
    assert [(a["name"], a["annotator_kind"], a["result"]["label"], a["result"]["score"]) for a in coherence] == [
        ("Coherence", "LLM", "coherent", 0.9)
    ]
    frustration = phoenix_get(ember, f"/v1/projects/{PROJECT}/session_annotations?session_ids={SESSION}")["data"]
    assert [(a["name"], a["result"]["label"], a["result"]["explanation"]) for a in frustration] == [
        ("Frustration", "calm", "No repeated questions.")
    ]
    assert [a["name"] for a in span_annotations(ember, PROJECT, SPAN_1)] == ["Correctness"]


def test_update_evaluations(logged, client, ember):
    evals_df = pd.DataFrame([
        {"context.span_id": SPAN_1, "eval.Relevance.label": "relevant", "eval.Relevance.score": 0.95,
         "eval.Relevance.explanation": "The response directly answers the question."},
        {"context.span_id": SPAN_2, "eval.Relevance.label": "not_relevant", "eval.Relevance.score": 0.2,
         "eval.Relevance.explanation": "The model's response was not relevant."},
        {"context.span_id": "seed004-missing-span", "eval.Relevance.label": "relevant"},
        {"context.span_id": SPAN_3, "trace_eval.Completeness.label": "complete"},
    ])
    response = client.spans.update_evaluations(space_id=SPACE_ID, project_name=PROJECT, dataframe=evals_df)
    assert response["records_updated"] == "3"
    assert response["unmatched_ids"] == ["seed004-missing-span"]
    assert [a["result"]["label"] for a in trace_annotations(ember, "seed004-trace-0002")] == ["complete"]
    relevance = [a for a in span_annotations(ember, PROJECT, SPAN_2) if a["name"] == "Relevance"]
    assert relevance[0]["result"] == {"label": "not_relevant", "score": 0.2, "explanation": "The model's response was not relevant."}

    # The same over HTTP (`force_http`), an evaluations-only upload.
    http_df = pd.DataFrame([{"context.span_id": SPAN_3, "eval.Tone.label": "neutral", "eval.Tone.score": 0.5}])
    client.spans.update_evaluations(space_id=SPACE_ID, project_name=PROJECT, dataframe=http_df, force_http=True)
    assert [a["result"]["label"] for a in span_annotations(ember, PROJECT, SPAN_3) if a["name"] == "Tone"] == ["neutral"]


def test_annotate_spans(logged, client, ember):
    client.spans.annotate(
        project=PROJECT,
        space="compat-space",
        annotations=[
            AnnotateRecordInput(
                record_id=SPAN_1,
                values=[
                    AnnotationInput(name="accuracy", label="correct", score=1.0),
                    AnnotationInput(name="notes", text="Verified by reviewer"),
                ],
            ),
        ],
        start_time=NOW - timedelta(days=1),
        end_time=NOW + timedelta(minutes=5),
    )
    written = {a["name"]: a for a in span_annotations(ember, PROJECT, SPAN_1)}
    assert written["accuracy"]["annotator_kind"] == "HUMAN" and written["accuracy"]["result"]["label"] == "correct"
    assert written["notes"]["result"]["explanation"] == "Verified by reviewer"

    # A span that is not there: 404, and nothing of the batch is written.
    with pytest.raises(Exception) as refused:
        client.spans.annotate(
            project=PROJECT,
            space="compat-space",
            annotations=[
                AnnotateRecordInput(record_id=SPAN_2, values=[AnnotationInput(name="batch", label="x")]),
                AnnotateRecordInput(record_id="seed004-missing-span", values=[AnnotationInput(name="batch", label="x")]),
            ],
        )
    assert "404" in str(refused.value)
    assert not [a for a in span_annotations(ember, PROJECT, SPAN_2) if a["name"] == "batch"]


def test_update_annotations(logged, client, ember):
    annotations_df = pd.DataFrame([{
        "context.span_id": SPAN_2,
        "annotation.Quality.label": "correct",
        "annotation.Quality.score": 1.0,
        "annotation.Quality.text": "Verified by human reviewer",
    }])
    response = client.spans.update_annotations(space_id=SPACE_ID, project_name=PROJECT, dataframe=annotations_df)
    assert response["records_updated"] == "1"
    quality = [a for a in span_annotations(ember, PROJECT, SPAN_2) if a["name"] == "Quality"]
    assert quality[0]["annotator_kind"] == "HUMAN"
    assert quality[0]["result"] == {"label": "correct", "score": 1.0, "explanation": "Verified by human reviewer"}


def metadata_filter(ember, condition):
    return sorted(span["context"]["span_id"] for span in phoenix_spans(ember, PROJECT, filter_condition=condition))


def test_update_metadata_three_ways_and_type_conflicts(logged, client, ember):
    # Method 1: direct field columns.
    metadata_df = pd.DataFrame([
        {"context.span_id": SPAN_1, "attributes.metadata.customer_id": "cust-456",
         "attributes.metadata.experiment_version": "v2", "attributes.metadata.region": "us-west"},
        {"context.span_id": SPAN_2, "attributes.metadata.customer_id": "cust-789", "attributes.metadata.region": "eu-central"},
    ])
    response = client.spans.update_metadata(space_id=SPACE_ID, project_name=PROJECT, dataframe=metadata_df)
    assert (response["spans_updated"], response.get("spans_failed", "0")) == ("2", "0"), response
    assert metadata_filter(ember, "metadata['region'] == 'us-west'") == [SPAN_1]

    # Method 2: a patch document, under a custom column name.
    patch_df = pd.DataFrame([
        {"context.span_id": SPAN_1, "my_patch_col": {"tag": "important", "priority": "high"}},
        {"context.span_id": SPAN_2, "my_patch_col": {"tag": "standard"}},
    ])
    client.spans.update_metadata(space_id=SPACE_ID, project_name=PROJECT, dataframe=patch_df, patch_document_column_name="my_patch_col")
    assert metadata_filter(ember, "metadata['tag'] == 'standard'") == [SPAN_2]

    # Method 3: both; the patch document wins.
    combined = pd.DataFrame([{"context.span_id": SPAN_2, "attributes.metadata.tag": "low", "patch_document": {"priority": "low"}}])
    client.spans.update_metadata(space_id=SPACE_ID, project_name=PROJECT, dataframe=combined)
    assert metadata_filter(ember, "metadata['priority'] == 'low'") == [SPAN_2]

    # A string field given a number is a type conflict, reported per span; a missing span too.
    conflict = pd.DataFrame([
        {"context.span_id": SPAN_1, "patch_document": {"region": 7}},
        {"context.span_id": "seed004-missing-span", "patch_document": {"region": "x"}},
    ])
    response = client.spans.update_metadata(space_id=SPACE_ID, project_name=PROJECT, dataframe=conflict)
    assert (response["spans_processed"], response["spans_failed"]) == ("2", "2")
    messages = {error["span_id"]: error["error_message"] for error in response["errors"]}
    assert "type_conflict" in messages[SPAN_1] and "segment_not_found" in messages["seed004-missing-span"]
    assert metadata_filter(ember, "metadata['region'] == 'us-west'") == [SPAN_1], "a refused patch changes nothing"


def listed(client, **kwargs):
    response = client.spans.list(project=PROJECT, space="compat-space", **kwargs)
    return sorted(span.context.span_id for span in response.spans)


def test_list_spans_with_the_seed_filters(logged, client):
    assert listed(client) == [SPAN_1, SPAN_2, SPAN_3], "the last seven days by default"
    assert listed(client, start_time=datetime(2024, 1, 1), end_time=datetime(2024, 2, 1), limit=100) == []
    assert listed(client, filter="status_code = 'ERROR'") == [SPAN_2]
    assert listed(client, filter="eval.Correctness.label = 'correct'") == [SPAN_1]
    assert listed(client, filter="latency_ms > 1000") == [SPAN_1, SPAN_2, SPAN_3]
    assert listed(client, filter="latency_ms > 5000") == []
    assert listed(client, filter="status_code = 'ERROR' AND eval.Correctness.label = 'correct'") == []
    assert listed(client, filter="status_code = 'ERROR' OR eval.Correctness.label = 'correct'") == [SPAN_1, SPAN_2]
    page = client.spans.list(project=PROJECT, space="compat-space", limit=2)
    assert len(page.spans) == 2 and page.pagination.has_more
    rest = client.spans.list(project=PROJECT, space="compat-space", limit=2, cursor=page.pagination.next_cursor)
    assert len(rest.spans) == 1 and not rest.pagination.has_more
    span = next(span for span in page.spans + rest.spans if span.context.span_id == SPAN_1)
    assert span.kind.value == "LLM" and span.attributes["llm"]["model_name"] == "gpt-4"
    assert [(e.name, e.label) for e in span.evaluations if e.name == "Correctness"] == [("Correctness", "correct")]


def test_annotation_filter_and_traces(logged, client):
    client.spans.annotate(project=PROJECT, space="compat-space",
                          annotations=[AnnotateRecordInput(record_id=SPAN_3, values=[AnnotationInput(name="Quality", label="good")])])
    assert listed(client, filter="annotation.Quality.label = 'good'") == [SPAN_3]
    traces = client.traces.list(project=PROJECT, space="compat-space", filter="status_code = 'ERROR'")
    assert [(trace.trace_id, trace.root_span_id, len(trace.spans)) for trace in traces.traces] == [(TRACE, SPAN_1, 2)]


def test_export_to_df_equals_what_was_logged(logged, client, tmp_path):
    window = {"start_time": NOW - timedelta(hours=1), "end_time": NOW + timedelta(minutes=5)}
    df = client.spans.export_to_df(space_id=SPACE_ID, project_name=PROJECT, **window)
    assert sorted(df["context.span_id"]) == [SPAN_1, SPAN_2, SPAN_3]
    row = df.set_index("context.span_id").loc[SPAN_1]
    assert row["name"] == "llm_call" and row["attributes.llm.model_name"] == "gpt-4"
    assert row["attributes.llm.input_messages"] == [{"message.role": "user", "message.content": "question for llm_call"}]
    assert row["start_time"] == pd.Timestamp(logged.loc[0, "start_time"]).tz_localize(None)
    assert row["eval.Correctness.label"] == "correct"
    filtered = client.spans.export_to_df(space_id=SPACE_ID, project_name=PROJECT, where="status_code = 'ERROR'",
                                         columns=["context.span_id", "name"], **window)
    assert filtered["context.span_id"].tolist() == [SPAN_2]
    empty = client.spans.export_to_df(space_id=SPACE_ID, project_name=PROJECT, start_time=datetime(2024, 1, 1), end_time=datetime(2024, 2, 1))
    assert empty.empty
    path = tmp_path / "spans.parquet"
    client.spans.export_to_parquet(space_id=SPACE_ID, project_name=PROJECT, path=str(path), **window)
    assert sorted(pd.read_parquet(path)["context.span_id"]) == [SPAN_1, SPAN_2, SPAN_3]


def test_delete_spans(logged, client, ember):
    doomed = "seed004-span-doomed"
    client.spans.log(space_id=SPACE_ID, project_name=PROJECT, dataframe=pd.DataFrame([span_row(doomed, "seed004-trace-doomed", "doomed", minutes_ago=5)]))
    result = client.spans.delete(project=PROJECT, space="compat-space", span_ids=[doomed, "seed004-never-there"])
    assert result.deleted_span_ids == [doomed] and result.not_deleted_span_ids == ["seed004-never-there"]
    assert doomed not in by_id(phoenix_spans(ember, PROJECT))


def test_an_upload_with_a_session_evaluation_of_a_span_in_no_session_writes_nothing(logged, client, ember):
    rows = pd.DataFrame([{"context.span_id": SPAN_3, "eval.Partial.label": "x", "session_eval.Mood.label": "calm"}])
    with pytest.raises(Exception, match=r"HTTP 404\): no span in the project \(with a session.id, for session evaluations\) with id seed004-span-0003"):
        client.spans.update_evaluations(space_id=SPACE_ID, project_name=PROJECT, dataframe=rows, force_http=True)
    assert "Partial" not in [a["name"] for a in span_annotations(ember, PROJECT, SPAN_3)]


def test_error_paths(logged, client):
    with pytest.raises(Exception) as unknown:
        client.spans.list(project="no-such-project", space="compat-space")
    assert type(unknown.value).__name__ == "NotFoundError", unknown.value
    with pytest.raises(RuntimeError, match="Error during update request"):
        client.spans.update_evaluations(space_id=SPACE_ID, project_name="no-such-project",
                                        dataframe=pd.DataFrame([{"context.span_id": SPAN_1, "eval.X.label": "y"}]))


def test_keys_are_checked_with_auth_on(ember_with_auth):
    bad = arize_client(ember_with_auth, key="not-a-key")
    spans_df = pd.DataFrame([span_row("seed004-auth-0001", "seed004-auth-trace", "guarded")])
    with pytest.raises(AuthenticationError):
        bad.spans.log(space_id=SPACE_ID, project_name="guarded", dataframe=spans_df)
    with pytest.raises(Exception) as refused:
        bad.spans.list(project="guarded", space="compat-space")
    assert "401" in str(refused.value)
    with pytest.raises(RuntimeError):
        bad.spans.update_evaluations(space_id=SPACE_ID, project_name="guarded",
                                     dataframe=pd.DataFrame([{"context.span_id": "seed004-auth-0001", "eval.X.label": "y"}]))
    good = arize_client(ember_with_auth, key=ADMIN_SECRET)
    assert good.spans.log(space_id=SPACE_ID, project_name="guarded", dataframe=spans_df).status_code == 200
    assert [span.context.span_id for span in good.spans.list(project="guarded", space="compat-space").spans] == ["seed004-auth-0001"]


def test_one_port_for_everything(logged, ember):
    host, port = host_port(ember.http)
    single = ArizeClient(api_key="any", single_host=host, single_port=port, api_scheme="http", otlp_scheme="http", flight_scheme="grpc+tcp")
    response = single.spans.update_evaluations(space_id=SPACE_ID, project_name=PROJECT,
                                               dataframe=pd.DataFrame([{"context.span_id": SPAN_3, "eval.Single.label": "port"}]))
    assert response["records_updated"] == "1"
    df = single.spans.export_to_df(space_id=SPACE_ID, project_name=PROJECT, start_time=NOW - timedelta(hours=1), end_time=NOW + timedelta(minutes=5))
    assert df.set_index("context.span_id").loc[SPAN_3, "eval.Single.label"] == "port"
