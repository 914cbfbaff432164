"""Seed 003 (logging latent metadata) with the real `arize` 7.54 SDK's `arize.pandas.logger.Client`
against ember — the seed's three ways of writing metadata, as written there (adapted only where
the SDK differs: `log_metadata` returns a dict, so `response["spans_updated"]`, not
`response.spans_updated`; the client is pointed at ember with `uri`, `host`, `port` and
`scheme`, its only way) — and the v7 span calls around it (`log_spans`, `log_evaluations`,
`log_evaluations_sync`, `log_annotations`), each checked through ember's Phoenix REST API."""

from datetime import datetime, timedelta, timezone
from importlib.metadata import version

import pandas as pd
import pytest

if not version("arize").startswith("7."):
    pytest.skip("the v7 suite runs with arize 7.x", allow_module_level=True)

from arize.pandas.logger import Client  # noqa: E402

from conftest import host_port, phoenix_spans, span_annotations  # noqa: E402

SPACE_ID = "U3BhY2U6MTpzZWVkMDAz"
PROJECT_NAME = "seed-003-project"
NOW = datetime.now(timezone.utc).replace(microsecond=0)
SPAN_1, SPAN_2 = "seed003-span-0001", "seed003-span-0002"


@pytest.fixture(scope="module")
def arize_client(ember):
    flight_host, flight_port = host_port(ember.grpc)
    return Client(space_id=SPACE_ID, api_key="any-key", uri=f"{ember.http}/v1", host=flight_host, port=flight_port, scheme="grpc+tcp")


@pytest.fixture(scope="module")
def logged(arize_client):
    rows = []
    for index, span_id in enumerate([SPAN_1, SPAN_2]):
        start = NOW - timedelta(minutes=10 - index)
        rows.append({
            "context.span_id": span_id,
            "context.trace_id": "seed003-trace-0001",
            "parent_id": None if index == 0 else SPAN_1,
            "name": f"step {index}",
            "span_kind": "CHAIN" if index == 0 else "LLM",
            "start_time": start,
            "end_time": start + timedelta(seconds=1),
            "status_code": "OK",
            "attributes.input.value": f"input {index}",
        })
    response = arize_client.log_spans(dataframe=pd.DataFrame(rows), project_name=PROJECT_NAME)
    assert response.status_code == 200, response.text
    return rows


def metadata_of(ember, span_id):
    spans = {span["context"]["span_id"]: span for span in phoenix_spans(ember, PROJECT_NAME)}
    attributes = spans[span_id]["attributes"]
    return {key.removeprefix("metadata."): value for key, value in attributes.items() if key.startswith("metadata.")}


def test_log_spans_reach_phoenix_clients(logged, ember):
    spans = {span["context"]["span_id"]: span for span in phoenix_spans(ember, PROJECT_NAME)}
    assert set(spans) == {SPAN_1, SPAN_2}
    assert spans[SPAN_2]["parent_id"] == SPAN_1 and spans[SPAN_2]["span_kind"] == "LLM"


def test_log_metadata_three_ways(logged, arize_client, ember):
    # Method 1: Using patch_document
    metadata_df = pd.DataFrame({
        "context.span_id": [SPAN_1],
        "patch_document": [{"status": "reviewed"}],
    })
    response = arize_client.log_metadata(dataframe=metadata_df, project_name=PROJECT_NAME, validate=True, verbose=True)
    assert response["spans_updated"] == 1 and response["spans_failed"] == 0
    assert metadata_of(ember, SPAN_1) == {"status": "reviewed"}

    # Method 2: Using metadata-prefixed columns
    metadata_df = pd.DataFrame({
        "context.span_id": [SPAN_2],
        "attributes.metadata.status": ["reviewed"],
        "attributes.metadata.tag": ["important"],
    })
    response = arize_client.log_metadata(dataframe=metadata_df, project_name=PROJECT_NAME, validate=True, verbose=True)
    assert response["spans_updated"] == 1
    assert metadata_of(ember, SPAN_2) == {"status": "reviewed", "tag": "important"}

    # Method 3: Combining both (the patch document takes precedence)
    metadata_df = pd.DataFrame({
        "context.span_id": [SPAN_1],
        "attributes.metadata.tag": ["important"],
        "patch_document": [{"status": "escalated"}],
    })
    response = arize_client.log_metadata(dataframe=metadata_df, project_name=PROJECT_NAME, validate=True, verbose=True)
    assert response["spans_updated"] == 1
    assert metadata_of(ember, SPAN_1) == {"status": "escalated", "tag": "important"}
    # Filterable once written.
    reviewed = phoenix_spans(ember, PROJECT_NAME, filter_condition="metadata['tag'] == 'important'")
    assert sorted(span["context"]["span_id"] for span in reviewed) == [SPAN_1, SPAN_2]

    # Type handling: a bool is stored as "true"; a span that is not there is reported.
    metadata_df = pd.DataFrame({"context.span_id": [SPAN_2, "seed003-missing-span"], "patch_document": [{"flag": True}, {"x": 1}]})
    response = arize_client.log_metadata(dataframe=metadata_df, project_name=PROJECT_NAME)
    assert (response["spans_processed"], response["spans_updated"], response["spans_failed"]) == (2, 1, 1)
    assert response["errors"][0]["span_id"] == "seed003-missing-span"
    assert metadata_of(ember, SPAN_2)["flag"] == "true"


def test_log_evaluations_over_http_and_flight(logged, arize_client, ember):
    evals_df = pd.DataFrame([{"context.span_id": SPAN_1, "eval.Correctness.label": "correct", "eval.Correctness.score": 1.0}])
    response = arize_client.log_evaluations(dataframe=evals_df, project_name=PROJECT_NAME)
    assert response.status_code == 200, response.text
    correctness = [a for a in span_annotations(ember, PROJECT_NAME, SPAN_1) if a["name"] == "Correctness"]
    assert correctness[0]["annotator_kind"] == "LLM" and correctness[0]["result"]["label"] == "correct"

    sync_df = pd.DataFrame([{"context.span_id": SPAN_2, "eval.Tone.label": "calm", "eval.Tone.explanation": "no shouting"}])
    reply = arize_client.log_evaluations_sync(dataframe=sync_df, project_name=PROJECT_NAME)
    assert reply.records_updated == 1
    tone = [a for a in span_annotations(ember, PROJECT_NAME, SPAN_2) if a["name"] == "Tone"]
    assert tone[0]["result"]["explanation"] == "no shouting"


def test_log_annotations(logged, arize_client, ember):
    annotations_df = pd.DataFrame([{
        "context.span_id": SPAN_2,
        "annotation.Quality.label": "good",
        "annotation.Quality.score": 1.0,
        "annotation.notes": "checked by hand",
    }])
    reply = arize_client.log_annotations(dataframe=annotations_df, project_name=PROJECT_NAME)
    assert reply.records_updated == 1
    written = {a["name"]: a for a in span_annotations(ember, PROJECT_NAME, SPAN_2)}
    assert written["Quality"]["annotator_kind"] == "HUMAN" and written["Quality"]["result"]["label"] == "good"
    assert written["note"]["result"]["explanation"] == "checked by hand"
