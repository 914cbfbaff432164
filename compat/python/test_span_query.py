"""The span query language through the real `arize-phoenix-client`: `SpanQuery` with
where/select/explode/concat/with_index, and the client's RAG helpers, checked value by value."""

import json

import httpx
import pandas as pd
import pytest
from phoenix.client.helpers.spans import get_input_output_context, get_retrieved_documents
from phoenix.client.types.spans import SpanQuery
from phoenix.otel import register

PROJECT = "compat-rag"

DOCUMENTS = {
    "How do refunds work?": [("Refunds take 5 days.", 0.9, {"source": "faq"}), ("Contact support.", 0.4, None)],
    "Where is my order?": [("Orders ship in 2 days.", 0.7, {"source": "shipping"})],
}


def send_rag_trace(tracer, question, answer, customer):
    """CHAIN root (question/answer) <- RETRIEVER (documents) and LLM; returns the span ids."""
    with tracer.start_as_current_span(
        "rag",
        attributes={
            "openinference.span.kind": "CHAIN",
            "input.value": question,
            "output.value": answer,
            "metadata": json.dumps({"customer_id": customer}),
        },
    ) as root:
        attributes = {"openinference.span.kind": "RETRIEVER", "input.value": question}
        for position, (content, score, metadata) in enumerate(DOCUMENTS[question]):
            attributes[f"retrieval.documents.{position}.document.content"] = content
            attributes[f"retrieval.documents.{position}.document.score"] = score
            if metadata is not None:
                attributes[f"retrieval.documents.{position}.document.metadata"] = json.dumps(metadata)
        with tracer.start_as_current_span("retrieve", attributes=attributes) as retriever:
            pass
        with tracer.start_as_current_span(
            "generate",
            attributes={
                "openinference.span.kind": "LLM",
                "llm.model_name": "gpt-4o" if customer == "c-42" else "claude",
                "llm.token_count.prompt": 100,
                "llm.token_count.completion": 20,
                "input.value": question,
                "output.value": answer,
            },
        ) as llm:
            pass
    hex_span = lambda span: format(span.get_span_context().span_id, "016x")  # noqa: E731
    return {
        "trace": format(root.get_span_context().trace_id, "032x"),
        "root": hex_span(root),
        "retriever": hex_span(retriever),
        "llm": hex_span(llm),
    }


@pytest.fixture(scope="module")
def rag(ember):
    provider = register(
        project_name=PROJECT, endpoint=f"{ember.http}/v1/traces", batch=False, set_global_tracer_provider=False, verbose=False
    )
    tracer = provider.get_tracer("compat")
    refund = send_rag_trace(tracer, "How do refunds work?", "Your REFUND arrives in 5 days.", "c-42")
    order = send_rag_trace(tracer, "Where is my order?", "It ships tomorrow.", "c-7")
    provider.shutdown()
    return {"refund": refund, "order": order}


def test_where_and_select_build_the_frame_value_by_value(client, rag):
    query = SpanQuery().where("span_kind == 'llm' and llm.token_count.prompt >= 100").select("name", "llm.model_name", "trace_id")
    df = client.spans.get_spans_dataframe(query=query, project_name=PROJECT)
    assert df.index.name == "context.span_id"
    assert sorted(df.columns) == ["context.trace_id", "llm.model_name", "name"]
    expected = {
        rag["refund"]["llm"]: ("generate", "gpt-4o", rag["refund"]["trace"]),
        rag["order"]["llm"]: ("generate", "claude", rag["order"]["trace"]),
    }
    assert {span_id: (row["name"], row["llm.model_name"], row["context.trace_id"]) for span_id, row in df.iterrows()} == expected

    refunds = client.spans.get_spans_dataframe(
        query=SpanQuery().where("'refund' in output.value and parent_id is None").select("output.value"), project_name=PROJECT
    )
    assert refunds.to_dict(orient="index") == {rag["refund"]["root"]: {"output.value": "Your REFUND arrives in 5 days."}}

    by_metadata = client.spans.get_spans_dataframe(
        query=SpanQuery().where("metadata['customer_id'] == 'c-7'").select("name"), project_name=PROJECT
    )
    assert list(by_metadata.index) == [rag["order"]["root"]]


def test_explode_concat_and_index(client, rag):
    exploded = client.spans.get_spans_dataframe(
        query=SpanQuery()
        .where("span_kind == 'RETRIEVER'")
        .explode("retrieval.documents", content="document.content", score="document.score"),
        project_name=PROJECT,
    )
    assert list(exploded.index.names) == ["context.span_id", "document_position"]
    # pandas' fast JSON float parser reads 0.7 as 0.7000000000000001, whoever the server is.
    rows = {index: (row["content"], round(row["score"], 9)) for index, row in exploded.iterrows()}
    assert rows == {
        (rag["refund"]["retriever"], 0): ("Refunds take 5 days.", 0.9),
        (rag["refund"]["retriever"], 1): ("Contact support.", 0.4),
        (rag["order"]["retriever"], 0): ("Orders ship in 2 days.", 0.7),
    }

    concatenated = client.spans.get_spans_dataframe(
        query=SpanQuery().where("span_kind == 'RETRIEVER'").concat("retrieval.documents", text="document.content").with_index("trace_id"),
        project_name=PROJECT,
    )
    assert concatenated.index.name == "context.trace_id"
    assert concatenated["text"].to_dict() == {
        rag["refund"]["trace"]: "Refunds take 5 days.\n\nContact support.",
        rag["order"]["trace"]: "Orders ship in 2 days.",
    }


def test_rag_helpers(client, rag):
    documents = get_retrieved_documents(client, project_name=PROJECT)
    assert list(documents.index.names) == ["context.span_id", "document_position"]
    assert sorted(documents.columns) == ["context.trace_id", "document", "document_metadata", "document_score", "input"]
    first = documents.loc[(rag["refund"]["retriever"], 0)]
    assert first["context.trace_id"] == rag["refund"]["trace"]
    assert first["input"] == "How do refunds work?"
    assert first["document"] == "Refunds take 5 days."
    assert first["document_score"] == pytest.approx(0.9)
    assert first["document_metadata"] == {"source": "faq"}
    assert pd.isna(documents.loc[(rag["refund"]["retriever"], 1)]["document_metadata"])
    assert len(documents) == 3

    context = get_input_output_context(client, project_name=PROJECT)
    assert context.index.name == "context.span_id"
    assert set(context.index) == {rag["refund"]["root"], rag["order"]["root"]}
    refund = context.loc[rag["refund"]["root"]]
    assert refund["context.trace_id"] == rag["refund"]["trace"]
    assert refund["input"] == "How do refunds work?"
    assert refund["output"] == "Your REFUND arrives in 5 days."
    assert refund["context"] == "Refunds take 5 days.\n\nContact support."
    assert refund["metadata"] == {"customer_id": "c-42"}


def test_a_bad_filter_is_a_422_naming_the_problem(client, rag):
    with pytest.raises(httpx.HTTPStatusError) as error:
        client.spans.get_spans_dataframe(query=SpanQuery().where("latency_ms > 'slow'"), project_name=PROJECT)
    assert error.value.response.status_code == 422
    assert error.value.response.text == 'Invalid query: cannot compare a number with the text "slow" at column 1'


def test_arize_filter_on_the_span_list(ember, rag):
    """The ember extension `filter` (Arize AX syntax) on GET /v1/projects/{p}/spans."""
    response = httpx.get(
        f"{ember.http}/v1/projects/{PROJECT}/spans",
        params={"filter": "span_kind = 'LLM' AND attributes.llm.model_name = 'gpt-4o'"},
    )
    assert response.status_code == 200, response.text
    assert [span["context"]["span_id"] for span in response.json()["data"]] == [rag["refund"]["llm"]]


def test_message_and_document_lists_hold_flattened_dicts(ember, client):
    """Phoenix's frames hold list attributes as lists of flattened dicts: `m["message.content"]`."""
    provider = register(
        project_name="compat-messages", endpoint=f"{ember.http}/v1/traces", batch=False, set_global_tracer_provider=False, verbose=False
    )
    attributes = {
        "openinference.span.kind": "LLM",
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.content": "What is 2 + 2?",
        "llm.output_messages.0.message.role": "assistant",
        "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "add",
        "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": '{"a": 2, "b": 2}',
    }
    with provider.get_tracer("compat").start_as_current_span("chat", attributes=attributes):
        pass
    provider.shutdown()

    df = client.spans.get_spans_dataframe(project_name="compat-messages")
    [row] = df.to_dict("records")
    assert [m["message.content"] for m in row["attributes.llm.input_messages"]] == ["What is 2 + 2?"]
    [answer] = row["attributes.llm.output_messages"]
    assert answer["message.role"] == "assistant"
    assert answer["message.tool_calls"] == [{"tool_call.function.name": "add", "tool_call.function.arguments": '{"a": 2, "b": 2}'}]
