"""ember's MCP server at `/mcp` through the official MCP Python SDK (`mcp` from PyPI) over
Streamable HTTP: initialize, list the tools, call each one against data sent with the real Phoenix
clients, and the errors; with authentication on, the caller's key decides what the tools see and
may change."""

import asyncio
import json

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from opentelemetry.trace import Status, StatusCode
from phoenix.client import Client
from phoenix.client.types.prompts import PromptVersion
from phoenix.otel import register

from conftest import start_ember
from test_auth import ADMIN_SECRET, SECRET, sign_in

PROJECT = "compat-mcp"
LONG_ANSWER = "refund " * 200


async def _session_calls(url, calls, headers=None):
    """Runs `calls(session)` in an initialized MCP session; returns what it returns."""
    http_client = create_mcp_http_client(headers=headers)
    async with http_client, streamable_http_client(url, http_client=http_client) as (read, write, *_):
        async with ClientSession(read, write) as session:
            await session.initialize()
            return await calls(session)


def with_session(ember, calls, headers=None):
    return asyncio.run(_session_calls(f"{ember.http}/mcp", calls, headers))


def answer(result):
    """A successful tool result's JSON."""
    assert not result.is_error, result.content[0].text
    return json.loads(result.content[0].text)


def error_text(result):
    assert result.is_error, result.content[0].text
    return result.content[0].text


def send_traces(ember):
    provider = register(
        project_name=PROJECT, endpoint=f"{ember.http}/v1/traces", batch=False, set_global_tracer_provider=False, verbose=False
    )
    tracer = provider.get_tracer("compat-mcp")
    for customer, fails in (("c-42", True), ("c-7", False)):
        with tracer.start_as_current_span(
            "agent", attributes={"openinference.span.kind": "CHAIN", "input.value": f"question of {customer}"}
        ):
            with tracer.start_as_current_span(
                "llm",
                attributes={
                    "openinference.span.kind": "LLM",
                    "llm.model_name": "gpt-4o",
                    "llm.token_count.total": 30,
                    "metadata": json.dumps({"customer_id": customer}),
                    "output.value": LONG_ANSWER,
                },
            ) as llm:
                if fails:
                    llm.set_status(Status(StatusCode.ERROR, "rate limited"))
    provider.shutdown()


def exact(output, expected):
    return output == expected


@pytest.fixture(scope="module")
def seeded(ember, client):
    send_traces(ember)
    dataset = client.datasets.create_dataset(
        name="compat-mcp-arith", inputs=[{"question": "2+2"}, {"question": "3+3"}], outputs=[{"answer": "4"}, {"answer": "7"}]
    )
    ran = client.experiments.run_experiment(
        dataset=dataset,
        task=lambda input: {"answer": str(sum(int(n) for n in input["question"].split("+")))},
        evaluators=[exact],
        experiment_name="arith",
        print_summary=False,
    )
    version = PromptVersion([{"role": "user", "content": "Weather in {{ city }}"}], model_name="gpt-4o", model_provider="OPENAI")
    prompt = client.prompts.create(name="compat-mcp-weather", version=version)
    return {"dataset": dataset, "experiment_id": ran["experiment_id"], "prompt_version_id": prompt.id}


def test_initialize_describes_ember_and_lists_every_tool_with_a_schema(ember):
    async def calls(session):
        return await session.list_tools()

    tools = {tool.name: tool for tool in with_session(ember, calls).tools}
    assert set(tools) == {
        "list_projects", "get_project", "search_spans", "get_span", "get_trace", "list_sessions", "get_session",
        "list_span_annotations", "annotate_span", "list_annotation_configs", "list_datasets", "get_dataset_examples",
        "list_experiments", "get_experiment_runs", "list_prompts", "get_prompt", "list_prompt_versions",
    }  # fmt: skip
    search = tools["search_spans"].input_schema
    assert search["required"] == ["project"]
    assert "Phoenix filter" in search["properties"]["filter"]["description"]
    assert tools["search_spans"].annotations.read_only_hint is True
    assert tools["annotate_span"].annotations.read_only_hint is False
    assert tools["annotate_span"].input_schema["$defs"]["Annotator"]["enum"] == ["HUMAN", "LLM", "CODE"]


def test_spans_traces_and_sessions(ember, seeded):
    async def calls(session):
        projects = answer(await session.call_tool("list_projects", {"name_contains": "mcp"}))
        project = answer(await session.call_tool("get_project", {"project": PROJECT}))
        errors = answer(
            await session.call_tool(
                "search_spans",
                {"project": PROJECT, "filter": "span_kind == 'LLM' and status_code == 'ERROR'", "max_value_chars": 20},
            )
        )
        by_customer = answer(
            await session.call_tool(
                "search_spans",
                {"project": PROJECT, "filter": "metadata['customer_id'] == 'c-7'", "columns": ["llm.model_name"]},
            )
        )
        ax = answer(await session.call_tool("search_spans", {"project": PROJECT, "ax_filter": "status_code = 'ERROR'", "last_hours": 1}))
        roots = answer(await session.call_tool("search_spans", {"project": PROJECT, "root_spans_only": True, "limit": 1}))
        span = errors["spans"][0]
        whole = answer(await session.call_tool("get_span", {"span": span["span_id"]}))
        trace = answer(await session.call_tool("get_trace", {"trace": span["trace_id"]}))
        sessions = answer(await session.call_tool("list_sessions", {"project": PROJECT}))
        return projects, project, errors, by_customer, ax, roots, whole, trace, sessions

    projects, project, errors, by_customer, ax, roots, whole, trace, sessions = with_session(ember, calls)
    assert [p["name"] for p in projects["data"]] == [PROJECT]
    assert project["name"] == PROJECT and project["id"] == projects["data"][0]["id"]

    # The failing LLM span, its long output cut to the budget asked for.
    assert len(errors["spans"]) == 1
    failing = errors["spans"][0]
    assert (failing["name"], failing["span_kind"], failing["status_code"], failing["status_message"]) == ("llm", "LLM", "ERROR", "rate limited")
    assert failing["attributes"]["output.value"] == LONG_ANSWER[:20] + f"… [{len(LONG_ANSWER) - 20} more characters]"
    assert failing["attributes"]["metadata"] == {"customer_id": "c-42"}
    assert failing["attributes"]["llm.model_name"] == "gpt-4o"
    assert "next_cursor" not in errors

    # Named columns only; the AX filter and the time window; root spans with a cursor.
    assert [s["attributes"] for s in by_customer["spans"]] == [{"llm.model_name": "gpt-4o"}]
    assert [s["span_id"] for s in ax["spans"]] == [failing["span_id"]]
    assert [s["name"] for s in roots["spans"]] == ["agent"] and roots["next_cursor"]

    # A span whole: every attribute, and the trace as a tree, root first.
    assert whole["attributes"]["llm.token_count.total"] == 30
    assert whole["attributes"]["openinference.span.kind"] == "LLM"
    assert whole["annotations"] == []
    assert trace["trace_id"] == failing["trace_id"] and trace["span_count"] == 2
    assert [(s["depth"], s["name"]) for s in trace["spans"]] == [(0, "agent"), (1, "llm")]
    assert trace["spans"][0]["attributes"]["input.value"] == "question of c-42"
    assert sessions["data"] == []


def test_annotations_write_and_read_back(ember, seeded):
    async def calls(session):
        span = answer(await session.call_tool("search_spans", {"project": PROJECT, "filter": "status_code == 'ERROR'"}))["spans"][0]
        written = answer(
            await session.call_tool(
                "annotate_span",
                {"span": span["id"], "name": "correctness", "label": "incorrect", "score": 0, "explanation": "rate limited"},
            )
        )
        again = answer(await session.call_tool("annotate_span", {"span": span["span_id"], "name": "correctness", "label": "correct", "score": 1}))
        listed = answer(await session.call_tool("list_span_annotations", {"project": PROJECT, "span_ids": [span["span_id"]]}))
        filtered = answer(
            await session.call_tool("search_spans", {"project": PROJECT, "filter": "evals['correctness'].label == 'correct'"})
        )
        bad = await session.call_tool("annotate_span", {"span": span["span_id"], "name": "note", "label": "x"})
        return span, written, again, listed, filtered, bad

    span, written, again, listed, filtered, bad = with_session(ember, calls)
    # The same (name, identifier) replaces: one annotation, the last values.
    assert written["id"] == again["id"]
    assert [(a["name"], a["result"]["label"], a["result"]["score"], a["annotator_kind"]) for a in listed] == [
        ("correctness", "correct", 1.0, "HUMAN")
    ]
    assert [s["span_id"] for s in filtered["spans"]] == [span["span_id"]]
    assert "note" in error_text(bad)


def test_datasets_experiments_prompts_and_annotation_configs(ember, seeded):
    async def calls(session):
        datasets = answer(await session.call_tool("list_datasets", {"name": "compat-mcp-arith"}))
        examples = answer(await session.call_tool("get_dataset_examples", {"dataset": "compat-mcp-arith"}))
        experiments = answer(await session.call_tool("list_experiments", {"dataset": seeded["dataset"].id}))
        runs = answer(await session.call_tool("get_experiment_runs", {"experiment": seeded["experiment_id"]}))
        prompts = answer(await session.call_tool("list_prompts", {"name_contains": "mcp"}))
        latest = answer(await session.call_tool("get_prompt", {"prompt": "compat-mcp-weather"}))
        by_id = answer(await session.call_tool("get_prompt", {"prompt": "compat-mcp-weather", "version_id": seeded["prompt_version_id"]}))
        versions = answer(await session.call_tool("list_prompt_versions", {"prompt": "compat-mcp-weather"}))
        configs = answer(await session.call_tool("list_annotation_configs", {}))
        return datasets, examples, experiments, runs, prompts, latest, by_id, versions, configs

    datasets, examples, experiments, runs, prompts, latest, by_id, versions, configs = with_session(ember, calls)
    assert [d["name"] for d in datasets["data"]] == ["compat-mcp-arith"]
    assert examples["example_count"] == 2
    assert sorted(e["input"]["question"] for e in examples["examples"]) == ["2+2", "3+3"]
    [experiment] = experiments
    assert (experiment["id"], experiment["name"], experiment["successful_run_count"]) == (seeded["experiment_id"], "arith", 2)
    assert [(e["name"], e["mean_score"], e["count"]) for e in experiment["evaluations"]] == [("exact", 0.5, 2)]
    assert runs["run_count"] == 2
    outcomes = sorted((r["input"]["question"], r["output"]["answer"], r["reference_output"]["answer"], r["evaluations"][0]["score"]) for r in runs["runs"])
    assert outcomes == [("2+2", "4", "4", 1.0), ("3+3", "6", "7", 0.0)]
    assert [p["name"] for p in prompts["data"]] == ["compat-mcp-weather"]
    assert latest["id"] == by_id["id"] == seeded["prompt_version_id"]
    assert latest["template"]["messages"][0]["content"] == "Weather in {{ city }}"
    assert [v["id"] for v in versions["data"]] == [seeded["prompt_version_id"]]
    assert isinstance(configs, list)


def test_bad_arguments_and_unknown_things_are_tool_errors_naming_the_problem(ember, seeded):
    async def calls(session):
        return [
            await session.call_tool("search_spans", {"project": "no-such-project"}),
            await session.call_tool("search_spans", {"project": PROJECT, "filter": "span_kind =="}),
            await session.call_tool("search_spans", {"project": PROJECT, "filter": "a == 1", "ax_filter": "b = 1"}),
            await session.call_tool("search_spans", {"project": PROJECT, "start_time": "yesterday"}),
            await session.call_tool("search_spans", {"project": PROJECT, "limit": 500}),
            await session.call_tool("search_spans", {"project": PROJECT, "cursor": "not-a-cursor"}),
            await session.call_tool("get_trace", {"trace": "0" * 32}),
            await session.call_tool("get_experiment_runs", {"experiment": "nope"}),
            await session.call_tool("get_prompt", {"prompt": "compat-mcp-weather", "tag": "missing"}),
        ]

    messages = [error_text(result) for result in with_session(ember, calls)]
    assert messages[0] == "Project not found: no-such-project"
    assert messages[1].startswith("Invalid filter:") and "column" in messages[1]
    assert messages[2] == "Give either filter (Phoenix) or ax_filter (Arize AX), not both"
    assert messages[3] == 'start_time "yesterday" is not an ISO 8601 time'
    assert messages[4] == "limit must be at most 200"
    assert "not a Span id" in messages[5]
    assert messages[6].startswith("Trace not found")
    assert "not a Experiment id" in messages[7]
    assert "tagged missing" in messages[8]


def test_missing_required_arguments_are_refused_by_the_schema(ember):
    async def calls(session):
        return await session.call_tool("get_project", {})

    try:
        result = with_session(ember, calls)
    except Exception as error:  # a JSON-RPC invalid-params error
        assert "project" in str(error)
    else:
        assert "project" in error_text(result)


# --- with authentication on ---------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded_mcp(tmp_path_factory):
    server = start_ember(
        tmp_path_factory.mktemp("ember-mcp-auth"),
        {"PHOENIX_ENABLE_AUTH": "true", "PHOENIX_SECRET": SECRET, "PHOENIX_ADMIN_SECRET": ADMIN_SECRET},
    )
    admin = {"authorization": f"Bearer {ADMIN_SECRET}"}
    http = httpx.Client(base_url=server.http, headers=admin)
    for project in ("open", "secret"):
        assert http.post("/v1/projects", json={"name": project}).status_code == 200
    keys = {}
    for name, role in (("viewer", "VIEWER"), ("member", "MEMBER")):
        user = {"email": f"{name}@example.com", "username": name, "role": role, "auth_method": "LOCAL", "password": f"{name}-pass"}
        assert http.post("/v1/users", json={"user": user}).status_code == 201
        token = sign_in(server, f"{name}@example.com", f"{name}-pass")
        made = httpx.post(f"{server.http}/v1/user/api_keys", json={"data": {"name": "mcp"}}, cookies={"phoenix-access-token": token})
        assert made.status_code == 201, made.text
        keys[name] = made.json()["data"]["key"]
    # "secret" is restricted to admins: the member and the viewer cannot learn it exists.
    restricted = http.put("/v1/projects/secret/access", json={"data": {"restricted": True, "grants": []}})
    assert restricted.status_code == 200, restricted.text
    yield server, keys
    server.process.terminate()
    assert server.process.wait(timeout=30) == 0


def test_without_a_key_the_endpoint_is_refused(guarded_mcp):
    server, _ = guarded_mcp
    response = httpx.post(
        f"{server.http}/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"accept": "application/json, text/event-stream"},
    )
    assert response.status_code == 401


def test_the_callers_access_applies_to_every_tool(guarded_mcp):
    server, keys = guarded_mcp

    async def calls(session):
        return (
            answer(await session.call_tool("list_projects", {})),
            await session.call_tool("search_spans", {"project": "secret"}),
            await session.call_tool("get_project", {"project": "secret"}),
            await session.call_tool("search_spans", {"project": "open"}),
        )

    for name in ("viewer", "member"):
        projects, secret_spans, secret_project, open_spans = with_session(server, calls, {"authorization": f"Bearer {keys[name]}"})
        assert sorted(p["name"] for p in projects["data"]) == ["default", "open"], name
        assert error_text(secret_spans) == "Project not found: secret"
        assert error_text(secret_project) == "Project not found: secret"
        assert answer(open_spans)["spans"] == []
    admin_projects = with_session(server, calls, {"authorization": f"Bearer {ADMIN_SECRET}"})[0]
    assert sorted(p["name"] for p in admin_projects["data"]) == ["default", "open", "secret"]


def test_a_viewer_may_read_but_not_annotate(guarded_mcp):
    server, keys = guarded_mcp
    admin = Client(base_url=server.http, api_key=ADMIN_SECRET)
    provider = register(
        project_name="open",
        endpoint=f"{server.http}/v1/traces",
        headers={"authorization": f"Bearer {ADMIN_SECRET}"},
        batch=False,
        set_global_tracer_provider=False,
        verbose=False,
    )
    with provider.get_tracer("compat-mcp").start_as_current_span("step", attributes={"openinference.span.kind": "CHAIN"}):
        pass
    provider.shutdown()
    span_id = admin.spans.get_spans(project_identifier="open")[0]["context"]["span_id"]

    async def calls(session):
        return await session.call_tool("annotate_span", {"span": span_id, "name": "quality", "label": "good"})

    refused = with_session(server, calls, {"authorization": f"Bearer {keys['viewer']}"})
    assert error_text(refused) == "Viewers cannot perform this action."
    written = with_session(server, calls, {"authorization": f"Bearer {keys['member']}"})
    assert answer(written)["id"]


def test_the_endpoint_can_be_turned_off(tmp_path):
    server = start_ember(tmp_path, {"PHOENIX_ENABLE_MCP_SERVER": "false"})
    try:
        response = httpx.post(
            f"{server.http}/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"accept": "application/json, text/event-stream"},
        )
        assert (response.status_code, response.text) == (404, "The MCP server is off (PHOENIX_ENABLE_MCP_SERVER=false)")
    finally:
        server.process.terminate()
        assert server.process.wait(timeout=30) == 0
