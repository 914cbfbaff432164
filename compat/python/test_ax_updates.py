"""The Arize AX bulk span updates with bodies made by pandas and pyarrow, as AX users hold their
data: a DataFrame as an Arrow IPC stream, as CSV and as Parquet."""

import httpx
import pandas as pd
import pyarrow as pa
from phoenix.otel import register

PROJECT = "compat-ax-updates"


def arrow_stream(dataframe):
    table = pa.Table.from_pandas(dataframe, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def test_metadata_and_evaluations_from_dataframes(client, ember):
    provider = register(
        project_name=PROJECT, endpoint=f"{ember.http}/v1/traces", batch=False, set_global_tracer_provider=False, verbose=False
    )
    tracer = provider.get_tracer("compat")
    with tracer.start_as_current_span("answer", attributes={"openinference.span.kind": "LLM"}) as span:
        pass
    provider.shutdown()
    span_id = format(span.get_span_context().span_id, "016x")

    metadata = pd.DataFrame({
        "context.span_id": [span_id],
        "attributes.metadata.customer_id": ["cust-456"],
        "attributes.metadata.turns": [3],
        "attributes.metadata.vip": [True],
    })
    response = httpx.post(
        f"{ember.http}/v1/projects/{PROJECT}/spans/metadata",
        content=arrow_stream(metadata),
        headers={"content-type": "application/vnd.apache.arrow.stream"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"spans_processed": 1, "spans_updated": 1, "spans_failed": 0, "errors": []}

    evaluations = pd.DataFrame({"context.span_id": [span_id], "eval.Correctness.label": ["correct"], "eval.Correctness.score": [1.0]})
    response = httpx.post(
        f"{ember.http}/v1/projects/{PROJECT}/spans/evaluations",
        content=evaluations.to_csv(index=False),
        headers={"content-type": "text/csv"},
    )
    assert response.status_code == 200, response.text

    annotations = pd.DataFrame({"context.span_id": [span_id], "annotation.Tone.label": ["calm"], "annotation.Tone.text": ["polite"]})
    response = httpx.post(
        f"{ember.http}/v1/projects/{PROJECT}/spans/annotations",
        content=annotations.to_parquet(index=False),
        headers={"content-type": "application/vnd.apache.parquet"},
    )
    assert response.status_code == 200, response.text
    tone = client.spans.get_span_annotations(span_ids=[span_id], project_identifier=PROJECT, include_annotation_names=["Tone"])
    assert [(a["annotator_kind"], a["result"]["label"], a["result"]["explanation"]) for a in tone] == [("HUMAN", "calm", "polite")]

    from phoenix.client.types.spans import SpanQuery

    frame = client.spans.get_spans_dataframe(
        query=SpanQuery()
        .where("metadata['customer_id'] == 'cust-456' and metadata['vip'] == 'true' and evals['Correctness'].label == 'correct'")
        .select("name", "metadata.turns"),
        project_name=PROJECT,
    )
    assert frame.to_dict(orient="index") == {span_id: {"name": "answer", "metadata.turns": 3}}
