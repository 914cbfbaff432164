"""Traces sent with the real `arize-phoenix-otel` `register()` over OTLP/HTTP and OTLP/gRPC,
read back with the real `arize-phoenix-client`."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from opentelemetry.trace import Status, StatusCode
from phoenix.client.exceptions import SpanCreationError
from phoenix.otel import register


def send_agent_trace(tracer_provider, session_id):
    """A CHAIN root with an erroring LLM child; returns their hex (trace id, root id, child id)."""
    tracer = tracer_provider.get_tracer("compat")
    with tracer.start_as_current_span(
        "agent",
        attributes={
            "openinference.span.kind": "CHAIN",
            "input.value": "What is ember?",
            "session.id": session_id,
            "metadata": json.dumps({"tier": "gold", "attempt": 2}),
        },
    ) as root:
        with tracer.start_as_current_span(
            "llm",
            attributes={
                "openinference.span.kind": "LLM",
                "llm.model_name": "gpt-4o",
                "llm.token_count.prompt": 10,
                "llm.token_count.completion": 5,
                "llm.input_messages.0.message.role": "user",
                "llm.input_messages.0.message.content": "What is ember?",
                "llm.invocation_parameters": json.dumps({"temperature": 0}),
            },
        ) as child:
            child.add_event("thinking", {"step": 1})
            child.record_exception(ValueError("rate limited"))
            child.set_status(Status(StatusCode.ERROR, "rate limited"))
        root.set_status(Status(StatusCode.OK))
    trace_id = format(root.get_span_context().trace_id, "032x")
    return trace_id, format(root.get_span_context().span_id, "016x"), format(child.get_span_context().span_id, "016x")


def register_provider(project, endpoint, protocol):
    # batch=False: each span is exported when it ends, and ember answers after committing it.
    return register(
        project_name=project,
        endpoint=endpoint,
        protocol=protocol,
        batch=False,
        set_global_tracer_provider=False,
        verbose=False,
    )


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_register_export_and_read_back(ember, client, protocol):
    project = f"compat-{protocol.replace('/', '-')}"
    endpoint = f"{ember.http}/v1/traces" if protocol == "http/protobuf" else ember.grpc
    provider = register_provider(project, endpoint, protocol)
    trace_id, root_id, child_id = send_agent_trace(provider, session_id=f"session-{project}")
    provider.shutdown()

    assert project in [p["name"] for p in client.projects.list()]
    assert client.projects.get(project_name=project)["name"] == project

    spans = {s["name"]: s for s in client.spans.get_spans(project_identifier=project)}
    assert set(spans) == {"agent", "llm"}
    root, llm = spans["agent"], spans["llm"]
    assert root["context"] == {"trace_id": trace_id, "span_id": root_id}
    assert root.get("parent_id") is None
    assert llm["parent_id"] == root_id
    assert llm["span_kind"] == "LLM" and root["span_kind"] == "CHAIN"
    assert llm["status_code"] == "ERROR" and llm["status_message"] == "rate limited"
    assert root["status_code"] == "OK"
    assert llm["attributes"]["llm.input_messages.0.message.content"] == "What is ember?"
    assert llm["attributes"]["llm.invocation_parameters"] == json.dumps({"temperature": 0}), "stays a string"
    assert root["attributes"]["metadata.tier"] == "gold"
    assert "openinference.span.kind" not in root["attributes"]
    events = {e["name"]: e for e in llm["events"]}
    assert events["thinking"]["attributes"] == {"step": 1}
    assert events["exception"]["attributes"]["exception.type"] == "ValueError"
    assert events["exception"]["attributes"]["exception.message"] == "rate limited"

    roots = client.spans.get_spans(project_identifier=project, parent_id="null")
    assert [s["name"] for s in roots] == ["agent"]

    traces = client.traces.get_traces(project_identifier=project, include_spans=True)
    assert [t["trace_id"] for t in traces] == [trace_id]
    assert traces[0]["token_count_total"] == 15
    assert {s["span_id"] for s in traces[0]["spans"]} == {root_id, child_id}
    assert [t["trace_id"] for t in client.traces.get_traces(project_identifier=project, error=True)] == [trace_id]
    assert client.traces.get_traces(project_identifier=project, error=False) == []

    sessions = client.sessions.list(project_name=project)
    assert [s["session_id"] for s in sessions] == [f"session-{project}"]
    session = client.sessions.get(session_id=f"session-{project}")
    assert [t["trace_id"] for t in session["traces"]] == [trace_id]


def test_spans_dataframe_without_a_filter(ember, client):
    project = "compat-dataframe"
    provider = register_provider(project, f"{ember.http}/v1/traces", "http/protobuf")
    trace_id, root_id, child_id = send_agent_trace(provider, session_id="session-df")
    provider.shutdown()

    df = client.spans.get_spans_dataframe(project_identifier=project)
    assert len(df) == 2
    assert df.index.name == "context.span_id"
    assert set(df.index) == {root_id, child_id}
    assert set(df["context.trace_id"]) == {trace_id}
    assert df.loc[child_id, "parent_id"] == root_id
    assert df.loc[child_id, "span_kind"] == "LLM"
    assert df.loc[child_id, "attributes.llm.token_count.prompt"] == 10
    assert df.loc[root_id, "attributes.metadata"] == {"tier": "gold", "attempt": 2}
    assert isinstance(df.loc[child_id, "attributes.llm.input_messages"], list)
    assert str(df["start_time"].dtype).startswith("datetime64[ns, UTC]") or "UTC" in str(df["start_time"].dtype)

    roots = client.spans.get_spans_dataframe(project_identifier=project, root_spans_only=True)
    assert list(roots.index) == [root_id]
    assert len(client.spans.get_spans_dataframe(project_identifier=project, limit=1)) == 1
    future = datetime.now(timezone.utc) + timedelta(days=1)
    assert client.spans.get_spans_dataframe(project_identifier=project, start_time=future).empty

    project_id = client.projects.get(project_name=project)["id"]
    assert len(client.spans.get_spans_dataframe(project_identifier=project_id)) == 2


def test_projects_log_spans_and_deletes(client):
    created = client.projects.create(name="compat-crud", description="made by the client")
    assert created["description"] == "made by the client"
    updated = client.projects.update(project_name="compat-crud", description="changed")
    assert updated["description"] == "changed"

    span = {
        "name": "logged",
        "context": {"trace_id": "0af7651916cd43dd8448eb211c80319c", "span_id": "b7ad6b7169203331"},
        "span_kind": "TOOL",
        "start_time": "2025-01-01T00:00:00+00:00",
        "end_time": "2025-01-01T00:00:01+00:00",
        "status_code": "OK",
        "attributes": {"tool.name": "search"},
    }
    result = client.spans.log_spans(project_identifier="compat-crud", spans=[span])
    assert result["total_queued"] == 1
    with pytest.raises(SpanCreationError) as duplicate:
        client.spans.log_spans(project_identifier="compat-crud", spans=[span])
    assert duplicate.value.total_duplicates == 1

    stored = client.spans.get_spans(project_identifier="compat-crud")
    assert [s["attributes"]["tool.name"] for s in stored] == ["search"]
    client.spans.delete(span_identifier="b7ad6b7169203331")
    assert client.spans.get_spans(project_identifier="compat-crud") == []

    client.projects.delete(project_name="compat-crud")
    assert "compat-crud" not in [p["name"] for p in client.projects.list()]


def test_span_query_arrow_stream_reads_back_with_pyarrow(ember, client):
    """Without `Accept: application/json` the span query answers Arrow IPC streams, which
    pyarrow turns back into the same DataFrame, index included."""
    import httpx
    import pyarrow as pa

    project = "compat-arrow"
    provider = register_provider(project, f"{ember.http}/v1/traces", "http/protobuf")
    trace_id, root_id, child_id = send_agent_trace(provider, session_id="session-arrow")
    provider.shutdown()

    response = httpx.post(f"{ember.http}/v1/spans", params={"project_name": project}, json={"queries": [{}]})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-pandas-arrow"
    df = pa.ipc.open_stream(response.content).read_pandas()
    assert df.index.name == "context.span_id"
    assert set(df.index) == {root_id, child_id}
    assert df.loc[child_id, "parent_id"] == root_id
    assert df.loc[child_id, "attributes.llm.token_count.prompt"] == 10
    assert str(df["start_time"].dtype) == "datetime64[ns, UTC]"

    json_frame = client.spans.get_spans_dataframe(project_identifier=project)
    assert sorted(json_frame.index) == sorted(df.index)


def test_gen_ai_spans_read_back_as_openinference(ember, client):
    """Spans carrying only OpenTelemetry GenAI attributes (as GenAI-instrumented SDKs send them)
    read back with OpenInference's names, as Phoenix 20.26 converts them."""
    project = "compat-gen-ai"
    provider = register_provider(project, f"{ember.http}/v1/traces", "http/protobuf")
    tracer = provider.get_tracer("compat")
    messages = [{"role": "user", "parts": [{"type": "text", "content": "Weather in Oslo?"}]}]
    output = [{"role": "assistant", "finish_reason": "stop", "parts": [{"type": "tool_call", "id": "c1", "name": "get_weather", "arguments": {"city": "Oslo"}}]}]
    with tracer.start_as_current_span("chat gpt-4o", attributes={
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
        "gen_ai.request.temperature": 0.2, "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 5,
        "gen_ai.usage.cache_read.input_tokens": 4, "gen_ai.input.messages": json.dumps(messages),
        "gen_ai.output.messages": json.dumps(output), "gen_ai.conversation.id": "conversation-1",
    }) as chat:
        with tracer.start_as_current_span("execute_tool get_weather", attributes={
            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather", "gen_ai.tool.call.id": "c1",
            "gen_ai.tool.call.arguments": json.dumps({"city": "Oslo"}), "gen_ai.tool.call.result": json.dumps({"celsius": 3}),
        }) as tool:
            pass
    provider.shutdown()
    chat_id, tool_id = (format(span.get_span_context().span_id, "016x") for span in (chat, tool))

    df = client.spans.get_spans_dataframe(project_identifier=project)
    assert df.loc[chat_id, "span_kind"] == "LLM" and df.loc[tool_id, "span_kind"] == "TOOL"
    assert df.loc[chat_id, "attributes.llm.model_name"] == "gpt-4o"
    assert df.loc[chat_id, "attributes.llm.provider"] == "openai"
    assert df.loc[chat_id, "attributes.llm.token_count.total"] == 15
    assert df.loc[chat_id, "attributes.llm.token_count.prompt_details.cache_read"] == 4
    assert json.loads(df.loc[chat_id, "attributes.llm.invocation_parameters"]) == {"temperature": 0.2}
    assert df.loc[chat_id, "attributes.llm.input_messages"] == [{"message.role": "user", "message.content": "Weather in Oslo?"}]
    [answer] = df.loc[chat_id, "attributes.llm.output_messages"]
    assert answer["message.tool_calls"] == [{"tool_call.id": "c1", "tool_call.function.name": "get_weather", "tool_call.function.arguments": "{\"city\": \"Oslo\"}"}]
    assert df.loc[tool_id, "attributes.tool.name"] == "get_weather" and df.loc[tool_id, "attributes.tool.id"] == "c1"
    assert df.loc[tool_id, "attributes.output.value"] == "{\"celsius\": 3}"
    assert [s["session_id"] for s in client.sessions.list(project_name=project)] == ["conversation-1"]
