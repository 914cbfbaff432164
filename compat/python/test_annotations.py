"""Span and trace annotations and notes through the real `arize-phoenix-client`, read back with
the client's own readers (list and dataframe) and seen by the filter language."""

import httpx
import pandas as pd
import pytest
from phoenix.client.types.spans import SpanQuery
from phoenix.otel import register

PROJECT = "compat-annotations"


@pytest.fixture(scope="module")
def trace(ember):
    provider = register(
        project_name=PROJECT, endpoint=f"{ember.http}/v1/traces", batch=False, set_global_tracer_provider=False, verbose=False
    )
    tracer = provider.get_tracer("compat")
    with tracer.start_as_current_span("agent", attributes={"openinference.span.kind": "AGENT", "session.id": "chat-1"}) as root:
        # The LLM span also lists the two documents it was given, so they can be annotated.
        documents = {f"retrieval.documents.{i}.document.content": text for i, text in enumerate(["refunds", "shipping"])}
        with tracer.start_as_current_span("answer", attributes={"openinference.span.kind": "LLM", **documents}) as llm:
            pass
    provider.shutdown()
    return {
        "trace": format(root.get_span_context().trace_id, "032x"),
        "root": format(root.get_span_context().span_id, "016x"),
        "llm": format(llm.get_span_context().span_id, "016x"),
    }


def test_span_annotations_round_trip(client, trace):
    inserted = client.spans.add_span_annotation(
        span_id=trace["llm"],
        annotation_name="correctness",
        annotator_kind="LLM",
        label="incorrect",
        score=0.0,
        explanation="the answer is wrong",
        metadata={"judge": "gpt-4o"},
        sync=True,
    )
    assert inserted["id"]
    frame = pd.DataFrame(
        {"name": ["helpfulness", "helpfulness"], "annotator_kind": ["HUMAN", "CODE"], "label": ["good", "ok"], "score": [1.0, 0.5]},
        index=[trace["root"], trace["llm"]],
    )
    logged = client.spans.log_span_annotations_dataframe(dataframe=frame, sync=True)
    assert len(logged) == 2

    annotations = client.spans.get_span_annotations(span_ids=[trace["llm"], trace["root"]], project_identifier=PROJECT)
    by_key = {(a["span_id"], a["name"]): a for a in annotations}
    assert set(by_key) == {(trace["llm"], "correctness"), (trace["llm"], "helpfulness"), (trace["root"], "helpfulness")}
    correctness = by_key[(trace["llm"], "correctness")]
    assert correctness["id"] == inserted["id"]
    assert correctness["annotator_kind"] == "LLM"
    assert correctness["result"] == {"label": "incorrect", "score": 0.0, "explanation": "the answer is wrong"}
    assert correctness["metadata"] == {"judge": "gpt-4o"}
    assert by_key[(trace["root"], "helpfulness")]["result"]["label"] == "good"

    # Upsert by (name, span, identifier): the same name replaces the row in place.
    client.spans.add_span_annotation(span_id=trace["llm"], annotation_name="correctness", label="correct", score=1.0, sync=True)
    frame = client.spans.get_span_annotations_dataframe(span_ids=[trace["llm"]], project_identifier=PROJECT)
    assert frame.index.name == "span_id"
    rows = {row["annotation_name"]: (row["result.label"], row["result.score"], row["annotator_kind"]) for _, row in frame.iterrows()}
    assert rows == {"correctness": ("correct", 1.0, "HUMAN"), "helpfulness": ("ok", 0.5, "CODE")}

    # Filters see what the client wrote.
    judged = client.spans.get_spans_dataframe(
        query=SpanQuery().where("evals['correctness'].label == 'correct'").select("name"), project_name=PROJECT
    )
    assert list(judged.index) == [trace["llm"]]


def test_notes_and_errors(client, trace):
    client.spans.add_span_note(span_id=trace["root"], note="first look")
    client.spans.add_span_note(span_id=trace["root"], note="second look")
    # The client leaves notes out unless asked for them.
    assert all(a["name"] != "note" for a in client.spans.get_span_annotations(span_ids=[trace["root"]], project_identifier=PROJECT))
    notes = client.spans.get_span_annotations(
        span_ids=[trace["root"]], project_identifier=PROJECT, include_annotation_names=["note"], exclude_annotation_names=[]
    )
    assert sorted(n["result"]["explanation"] for n in notes) == ["first look", "second look"]

    with pytest.raises(httpx.HTTPStatusError) as missing:
        client.spans.add_span_annotation(span_id="00000000000000ff", annotation_name="x", label="y", sync=True)
    assert missing.value.response.status_code == 404


def test_trace_annotations(client, ember, trace):
    inserted = client.traces.add_trace_annotation(
        trace_id=trace["trace"], annotation_name="resolved", annotator_kind="HUMAN", label="yes", score=1.0, sync=True
    )
    assert inserted["id"]
    frame = pd.DataFrame({"trace_id": [trace["trace"]], "name": ["escalated"], "annotator_kind": ["CODE"], "label": ["no"]})
    client.traces.log_trace_annotations_dataframe(dataframe=frame, sync=True)
    listed = httpx.get(f"{ember.http}/v1/projects/{PROJECT}/trace_annotations", params={"trace_ids": trace["trace"]}).json()
    assert sorted((a["name"], a["result"]["label"]) for a in listed["data"]) == [("escalated", "no"), ("resolved", "yes")]
    spans = client.spans.get_spans_dataframe(
        query=SpanQuery().where("trace_annotations['resolved'].label == 'yes'").select("name"), project_name=PROJECT
    )
    assert set(spans.index) == {trace["root"], trace["llm"]}


def test_session_and_document_annotations(client, ember, trace):
    inserted = client.sessions.add_session_annotation(
        session_id="chat-1", annotation_name="satisfied", annotator_kind="HUMAN", label="yes", sync=True
    )
    assert inserted["id"]
    frame = pd.DataFrame({"session_id": ["chat-1"], "name": ["turns"], "annotator_kind": ["CODE"], "score": [2.0]})
    client.sessions.log_session_annotations_dataframe(dataframe=frame, sync=True)
    listed = httpx.get(f"{ember.http}/v1/projects/{PROJECT}/session_annotations", params={"session_ids": "chat-1"}).json()
    assert sorted((a["name"], a["result"]["label"], a["result"]["score"]) for a in listed["data"]) == [
        ("satisfied", "yes", None),
        ("turns", None, 2.0),
    ]

    first = client.spans.add_document_annotation(
        span_id=trace["llm"], document_position=0, annotation_name="relevance", annotator_kind="LLM", label="relevant", sync=True
    )
    second = client.spans.add_document_annotation(
        span_id=trace["llm"], document_position=1, annotation_name="relevance", annotator_kind="LLM", score=0.2, sync=True
    )
    again = client.spans.add_document_annotation(
        span_id=trace["llm"], document_position=0, annotation_name="relevance", annotator_kind="LLM", label="irrelevant", sync=True
    )
    assert first["id"] != second["id"]
    assert again["id"] == first["id"], "upserted by (name, span, position, identifier)"
