"""ember's MCP server at `/mcp` through the official MCP Python SDK (`mcp` from PyPI) over
Streamable HTTP: initialize, list the tools, call each one against data sent with the real Phoenix
clients, and the errors; with authentication on, the caller's key decides what the tools see and
may change."""

import asyncio
import json

import httpx
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from opentelemetry.trace import Status, StatusCode
from phoenix.client import Client
from phoenix.client.types.prompts import PromptVersion
from phoenix.otel import register

from conftest import ember_binary, start_ember
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


async def _stdio_calls(ember, calls, api_key=None):
    env = {"PHOENIX_ENDPOINT": ember.http, **({"PHOENIX_API_KEY": api_key} if api_key else {})}
    params = StdioServerParameters(command=ember_binary(), args=["mcp"], env=env)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            return await calls(session)


def over_stdio(ember, calls, api_key=None):
    """Runs `calls(session)` through `ember mcp`, the stdio relay to ember's `/mcp`."""
    return asyncio.run(_stdio_calls(ember, calls, api_key))


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
            "agent",
            attributes={"openinference.span.kind": "CHAIN", "input.value": f"question of {customer}", "session.id": f"chat-{customer}"},
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
    config = {
        "type": "CATEGORICAL",
        "name": "correctness",
        "optimization_direction": "MAXIMIZE",
        "values": [{"label": "correct", "score": 1}, {"label": "incorrect", "score": 0}],
    }
    assert httpx.post(f"{ember.http}/v1/annotation_configs", json=config).status_code == 200
    return {"dataset": dataset, "experiment_id": ran["experiment_id"], "prompt_version_id": prompt.id}


def test_initialize_describes_ember_and_lists_every_tool_with_a_schema(ember):
    async def calls(session):
        return await session.list_tools()

    tools = {tool.name: tool for tool in with_session(ember, calls).tools}
    assert set(tools) == {
        "list_projects", "get_project", "search_spans", "get_span", "get_trace", "list_sessions", "get_session",
        "list_span_annotations", "annotate_span", "list_annotation_configs", "list_datasets", "get_dataset_examples",
        "list_experiments", "get_experiment_runs", "list_prompts", "get_prompt", "list_prompt_versions",
        "create_dataset_from_spans", "add_dataset_examples", "compare_experiments", "create_prompt_version", "run_sql",
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
        one = answer(await session.call_tool("get_session", {"session": "chat-c-42"}))
        return projects, project, errors, by_customer, ax, roots, whole, trace, sessions, one

    projects, project, errors, by_customer, ax, roots, whole, trace, sessions, one = with_session(ember, calls)
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
    assert sorted(s["session_id"] for s in sessions["data"]) == ["chat-c-42", "chat-c-7"]
    assert one["session_id"] == "chat-c-42" and [t["trace_id"] for t in one["traces"]] == [failing["trace_id"]]


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
    assert sorted((c["name"], c["type"]) for c in configs) == [("correctness", "CATEGORICAL"), ("user_feedback", "CATEGORICAL")]


def test_datasets_from_spans_examples_experiment_comparison_and_prompt_versions(ember, client, seeded):
    second = client.experiments.run_experiment(
        dataset=seeded["dataset"],
        task=lambda input: {"answer": "7" if input["question"] == "3+3" else "5"},
        evaluators=[exact],
        experiment_name="arith-v2",
        print_summary=False,
    )

    async def calls(session):
        errors = answer(await session.call_tool("search_spans", {"project": PROJECT, "filter": "status_code == 'ERROR'"}))
        made = answer(
            await session.call_tool(
                "create_dataset_from_spans",
                {"dataset": "compat-mcp-failures", "project": PROJECT, "span_ids": [s["span_id"] for s in errors["spans"]]},
            )
        )
        added = answer(
            await session.call_tool(
                "add_dataset_examples",
                {"dataset": "compat-mcp-failures", "examples": [{"input": {"q": "hand-written"}, "output": {"a": "yes"}}]},
            )
        )
        examples = answer(await session.call_tool("get_dataset_examples", {"dataset": made["dataset_id"], "max_value_chars": 10}))
        compared = answer(
            await session.call_tool(
                "compare_experiments", {"base_experiment": seeded["experiment_id"], "compare_experiment": second["experiment_id"]}
            )
        )
        version = {
            "model_provider": "OPENAI",
            "model_name": "gpt-4o-mini",
            "template_type": "CHAT",
            "template_format": "MUSTACHE",
            "template": {"type": "chat", "messages": [{"role": "user", "content": [{"type": "text", "text": "Forecast for {{ city }}"}]}]},
            "invocation_parameters": {"type": "openai", "openai": {"temperature": 0.1}},
        }
        created = answer(
            await session.call_tool("create_prompt_version", {"prompt": "compat-mcp-weather", "version": version, "tags": ["staging"]})
        )
        tagged = answer(await session.call_tool("get_prompt", {"prompt": "compat-mcp-weather", "tag": "staging"}))
        invalid = await session.call_tool("create_prompt_version", {"prompt": "compat-mcp-weather", "version": {"model_name": "x"}})
        return made, added, examples, compared, created, tagged, invalid

    made, added, examples, compared, created, tagged, invalid = with_session(ember, calls)
    assert made["examples_added"] == 1 and added["examples_added"] == 1
    assert added["dataset_id"] == made["dataset_id"] and added["version_id"] != made["version_id"]
    by_input = {json.dumps(e["input"]): e["output"] for e in examples["examples"]}
    # The failing span is the LLM span: no input value, its long output cut to 10 characters.
    assert by_input == {
        '{"input": null}': {"output": LONG_ANSWER[:10] + f"\u2026 [{len(LONG_ANSWER) - 10} more characters]"},
        '{"q": "hand-writt\\u2026 [2 more characters]"}': {"a": "yes"},
    }

    # 2+2: 4 (right) then 5 (wrong); 3+3: 6 (wrong against 7) then 7 (right).
    assert compared["examples_compared"] == 2
    [shift] = compared["evaluations"]
    assert (shift["name"], shift["base_mean_score"], shift["compare_mean_score"]) == ("exact", 0.5, 0.5)
    assert (shift["improved"], shift["regressed"], shift["unchanged"]) == (1, 1, 0)
    sides = sorted((e["input"]["question"], e["base"]["output"]["answer"], e["compare"]["output"]["answer"]) for e in compared["examples"])
    assert sides == [("2+2", "4", "5"), ("3+3", "6", "7")]

    assert tagged["id"] == created["id"] and created["model_name"] == "gpt-4o-mini"
    assert error_text(invalid).startswith("Invalid prompt version:")


def test_bad_arguments_and_unknown_things_are_tool_errors_naming_the_problem(ember, seeded):
    many_ids = [f"{i:016x}" for i in range(20_000)]

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
            await session.call_tool("create_dataset_from_spans", {"dataset": "d", "project": PROJECT, "span_ids": many_ids}),
            await session.call_tool("list_span_annotations", {"project": PROJECT, "span_ids": many_ids}),
            await session.call_tool("search_spans", {"project": PROJECT, "columns": ["a"] * 201}),
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
    assert messages[9] == "At most 10000 span ids may be given at once; 20000 were"
    assert messages[10] == "At most 10000 span_ids and identifiers may be given at once; 20000 were"
    assert messages[11] == "At most 200 columns may be asked for"


def test_malformed_messages_and_other_methods_are_refused(ember):
    headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
    malformed = httpx.post(f"{ember.http}/mcp", content=b"{not json", headers=headers)
    assert malformed.status_code == 415 and "deserialize" in malformed.text
    unknown = httpx.post(f"{ember.http}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "no/such"}, headers=headers)
    assert unknown.status_code == 200 and unknown.json()["error"]["code"] == -32601
    assert httpx.get(f"{ember.http}/mcp").status_code == 405


def test_the_filter_reference_is_a_resource(ember):
    async def calls(session):
        listed = await session.list_resources()
        read = await session.read_resource("ember://docs/filter-language")
        return listed, read

    listed, read = with_session(ember, calls)
    assert [(r.name, str(r.uri), r.mime_type) for r in listed.resources] == [
        ("filter-language", "ember://docs/filter-language", "text/markdown"),
        ("sql-views", "ember://docs/sql-views", "text/markdown"),
    ]
    text = read.contents[0].text
    assert text.startswith("## Filters") and "metadata['customer_id'] == 'c-42'" in text


def test_run_sql_answers_over_the_views_and_refuses_anything_else(ember, seeded):
    async def calls(session):
        views = await session.read_resource("ember://docs/sql-views")
        by_kind = answer(
            await session.call_tool(
                "run_sql",
                {
                    "sql": "SELECT s.span_kind, count(*) AS n, sum(CASE WHEN s.status_code = 'ERROR' THEN 1 ELSE 0 END) AS errors "
                    "FROM spans AS s JOIN projects AS p ON p.id = s.project_id WHERE p.name = 'compat-mcp' "
                    "GROUP BY s.span_kind ORDER BY s.span_kind"
                },
            )
        )
        capped = answer(await session.call_tool("run_sql", {"sql": "SELECT span_id FROM spans", "max_rows": 1}))
        refused = [
            error_text(await session.call_tool("run_sql", {"sql": sql}))
            for sql in ("DELETE FROM spans", "SELECT * FROM users", "SELECT name FROM spans; DROP TABLE spans", "SELECT pg_read_file('x')")
        ]
        rejected = error_text(await session.call_tool("run_sql", {"sql": "SELECT no_such_column FROM spans"}))
        return views, by_kind, capped, refused, rejected

    views, by_kind, capped, refused, rejected = with_session(ember, calls)
    text = views.contents[0].text
    assert "## spans" in text and "| latency_ms | real |" in text
    assert by_kind == {"columns": ["span_kind", "n", "errors"], "rows": [["CHAIN", 2, 0], ["LLM", 2, 1]], "truncated": False}
    assert len(capped["rows"]) == 1 and capped["truncated"] is True
    assert refused == [
        "Only queries (SELECT) may run",
        "users is not a view; the views are: projects, spans, traces, sessions, span_annotations, trace_annotations, session_annotations",
        "Give exactly one query (a SELECT)",
        "The function pg_read_file is not allowed",
    ]
    assert rejected.startswith("The database refused the query:")


def test_a_query_past_its_budget_is_cancelled(tmp_path, ember):
    server = start_ember(tmp_path, {"EMBER_MCP_SQL_TIMEOUT_MS": "100"})
    try:
        send_traces(server)
        endless = "SELECT count(*) FROM " + ", ".join(f"spans AS s{i}" for i in range(14))

        async def calls(session):
            return error_text(await session.call_tool("run_sql", {"sql": endless}))

        message = with_session(server, calls)
        assert "past its time budget of 100 ms and was cancelled" in message, message
    finally:
        server.process.terminate()
        assert server.process.wait(timeout=30) == 0


def test_stdio_relays_every_message_to_the_server(ember, seeded):
    async def calls(session):
        tools = await session.list_tools()
        found = answer(await session.call_tool("search_spans", {"project": PROJECT, "filter": "status_code == 'ERROR'"}))
        missing = await session.call_tool("get_project", {"project": "no-such-project"})
        resource = await session.read_resource("ember://docs/filter-language")
        return tools, found, missing, resource

    tools, found, missing, resource = over_stdio(ember, calls)
    assert "search_spans" in {tool.name for tool in tools.tools}
    assert [s["name"] for s in found["spans"]] == ["llm"]
    assert error_text(missing) == "Project not found: no-such-project"
    assert resource.contents[0].text.startswith("## Filters")


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


def send_span_as_admin(server, project, name):
    provider = register(
        project_name=project,
        endpoint=f"{server.http}/v1/traces",
        headers={"authorization": f"Bearer {ADMIN_SECRET}"},
        batch=False,
        set_global_tracer_provider=False,
        verbose=False,
    )
    with provider.get_tracer("compat-mcp").start_as_current_span(name, attributes={"openinference.span.kind": "CHAIN"}):
        pass
    provider.shutdown()


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


def test_stdio_sends_the_key_and_says_when_the_server_refuses_it(guarded_mcp):
    server, keys = guarded_mcp

    async def calls(session):
        return answer(await session.call_tool("list_projects", {}))

    projects = over_stdio(server, calls, api_key=keys["member"])
    assert sorted(p["name"] for p in projects["data"]) == ["default", "open"]
    with pytest.raises(BaseException) as refused:
        over_stdio(server, calls, api_key="not-a-key")

    def leaves(error):
        return [leaf for sub in error.exceptions for leaf in leaves(sub)] if isinstance(error, BaseExceptionGroup) else [error]

    messages = [str(leaf) for leaf in leaves(refused.value)]
    assert any("ember could not answer: POST /mcp: the server answered 401 Unauthorized: Invalid token" in m for m in messages), messages


def test_run_sql_sees_only_the_callers_projects(guarded_mcp):
    server, keys = guarded_mcp
    for project in ("open", "secret"):
        send_span_as_admin(server, project, f"in-{project}")
    sql = "SELECT p.name, count(*) AS n FROM spans AS s JOIN projects AS p ON p.id = s.project_id WHERE s.name LIKE 'in-%' GROUP BY p.name ORDER BY p.name"

    async def calls(session):
        return answer(await session.call_tool("run_sql", {"sql": sql}))

    assert with_session(server, calls, {"authorization": f"Bearer {keys['member']}"})["rows"] == [["open", 1]]
    assert with_session(server, calls, {"authorization": f"Bearer {ADMIN_SECRET}"})["rows"] == [["open", 1], ["secret", 1]]


def test_a_viewer_may_read_but_not_annotate(guarded_mcp):
    server, keys = guarded_mcp
    send_span_as_admin(server, "open", "step")
    admin = Client(base_url=server.http, api_key=ADMIN_SECRET)
    span_id = admin.spans.get_spans(project_identifier="open", name="step")[0]["context"]["span_id"]

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
