"""Legacy evaluations (`/v1/evaluations`, Phoenix 13 and older): payloads built the way the old
`px.Client().log_evaluations(...)` built them — a pandas DataFrame through
`pyarrow.Table.from_pandas` with the `arize` schema metadata, one IPC stream per request — and the
response read back the way `get_evaluations()` read it: consecutive IPC streams."""

import json
import uuid

import httpx
import pandas as pd
import pyarrow as pa
from phoenix.otel import register

PROJECT = "compat-legacy-evals"


def arrow_payload(dataframe, name, eval_type):
    table = pa.Table.from_pandas(dataframe, preserve_index=True)
    arize = json.dumps({"eval_id": str(uuid.uuid4()), "eval_name": name, "eval_type": eval_type}).encode()
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"arize": arize})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def read_streams(body):
    """Evaluations as the old client read them: (name, type, DataFrame) per stream."""
    reader = pa.BufferReader(body)
    out = []
    while reader.tell() < len(body):
        table = pa.ipc.open_stream(reader).read_all()
        arize = json.loads(table.schema.metadata[b"arize"])
        out.append((arize["eval_name"], arize["eval_type"], table.to_pandas()))
    return out


def test_arrow_evaluations_round_trip(ember):
    provider = register(
        project_name=PROJECT, endpoint=f"{ember.http}/v1/traces", batch=False, set_global_tracer_provider=False, verbose=False
    )
    tracer = provider.get_tracer("compat")
    with tracer.start_as_current_span("query", attributes={"openinference.span.kind": "CHAIN"}) as root:
        with tracer.start_as_current_span("retrieve", attributes={"openinference.span.kind": "RETRIEVER"}) as retriever:
            pass
    provider.shutdown()
    root_id = format(root.get_span_context().span_id, "016x")
    retriever_id = format(retriever.get_span_context().span_id, "016x")
    trace_id = format(root.get_span_context().trace_id, "032x")
    post = lambda body: httpx.post(  # noqa: E731
        f"{ember.http}/v1/evaluations", content=body, headers={"content-type": "application/x-pandas-arrow"}
    )

    spans = pd.DataFrame({"label": ["correct", "incorrect"], "score": [1.0, 0.0], "explanation": ["fine", "wrong"]},
                         index=pd.Index([root_id, retriever_id], name="context.span_id"))
    assert post(arrow_payload(spans, "Q&A Correctness", "SpanEvaluations")).status_code == 204
    traces = pd.DataFrame({"score": [0.5]}, index=pd.Index([trace_id], name="trace_id"))
    assert post(arrow_payload(traces, "Session Quality", "TraceEvaluations")).status_code == 204
    documents = pd.DataFrame(
        {"label": ["relevant", "irrelevant"], "score": [1, 0]},
        index=pd.MultiIndex.from_tuples([(retriever_id, 0), (retriever_id, 1)], names=["context.span_id", "document_position"]),
    )
    assert post(arrow_payload(documents, "Relevance", "DocumentEvaluations")).status_code == 204

    nameless = post(arrow_payload(spans, " ", "SpanEvaluations"))
    assert nameless.status_code == 422 and "blank" in nameless.text
    missing = post(arrow_payload(pd.DataFrame({"label": ["x"]}, index=pd.Index(["00000000000000ff"], name="span_id")), "X", "SpanEvaluations"))
    assert missing.status_code == 404

    response = httpx.get(f"{ember.http}/v1/evaluations", params={"project_name": PROJECT})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-pandas-arrow"
    streams = read_streams(response.content)
    assert [(name, kind) for name, kind, _ in streams] == [
        ("Session Quality", "TraceEvaluations"),
        ("Q&A Correctness", "SpanEvaluations"),
        ("Relevance", "DocumentEvaluations"),
    ]
    trace_frame, span_frame, document_frame = (frame for _, _, frame in streams)
    assert trace_frame.index.name == "context.trace_id"
    assert trace_frame.loc[trace_id, "score"] == 0.5
    assert span_frame.index.name == "context.span_id"
    assert span_frame.loc[root_id, "label"] == "correct"
    assert span_frame.loc[retriever_id, "explanation"] == "wrong"
    assert list(document_frame.index.names) == ["context.span_id", "document_position"]
    assert document_frame.loc[(retriever_id, 1), "label"] == "irrelevant"
    assert document_frame.loc[(retriever_id, 0), "score"] == 1.0

    # Legacy evaluations are annotations like any other.
    annotations = httpx.get(f"{ember.http}/v1/projects/{PROJECT}/span_annotations", params={"span_ids": root_id}).json()["data"]
    assert [(a["name"], a["annotator_kind"], a["result"]["label"]) for a in annotations] == [("Q&A Correctness", "LLM", "correct")]
    assert httpx.get(f"{ember.http}/v1/evaluations", params={"project_name": "default"}).status_code == 404
