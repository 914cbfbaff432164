"""The web UI's pages over data sent by the real clients: traces from `arize-phoenix-otel`,
datasets, experiments and prompts from `arize-phoenix-client`. (The pages are driven in
Chromium by crates/ember/tests/browser.rs; this checks they read what real clients write.)"""

import base64
import html
import re

import httpx
from phoenix.client.types.prompts import PromptVersion

from test_experiments import add, exact, make_dataset
from test_tracing import register_provider, send_agent_trace


def rowid(global_id):
    return int(base64.b64decode(global_id).decode().rsplit(":", 1)[1])


def page(ember, path):
    response = httpx.get(f"{ember.http}{path}")
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:500]}"
    assert "id=\"error-page\"" not in response.text
    return html.unescape(response.text)


def test_traces_sessions_and_spans_from_phoenix_otel_are_shown(ember, client):
    provider = register_provider("compat-ui", f"{ember.http}/v1/traces", "http/protobuf")
    trace_id, root_id, child_id = send_agent_trace(provider, session_id="ui-session")
    provider.shutdown()
    project = rowid(client.projects.get(project_name="compat-ui")["id"])

    projects = page(ember, "/projects")
    assert "compat-ui" in projects
    traces = page(ember, f"/projects/{project}")
    assert "agent" in traces and "What is ember?" in traces and "15" in traces, "root, input and the trace's tokens"
    spans = page(ember, f"/projects/{project}?tab=spans&spans=all&filter=span_kind == 'LLM'")
    assert child_id in spans and root_id not in spans

    trace = page(ember, f"/projects/{project}/traces/{trace_id}?span={child_id}")
    for expected in ["rate limited", "gpt-4o", "ValueError", "Input messages", "temperature", "thinking"]:
        assert expected in trace, expected
    assert trace.count('class="row') >= 2

    sessions = page(ember, f"/projects/{project}?tab=sessions")
    session_path = re.search(rf"/projects/{project}/sessions/\d+", sessions).group(0)
    session = page(ember, session_path)
    assert "ui-session" in session and "What is ember?" in session


def test_datasets_experiments_and_prompts_from_phoenix_client_are_shown(ember, client):
    dataset = make_dataset(client, "compat-ui-arith")

    def wrong(input):
        return {"answer": "0"}

    first = client.experiments.run_experiment(dataset=dataset, task=add, evaluators=[exact], experiment_name="ui-add", print_summary=False)
    second = client.experiments.run_experiment(dataset=dataset, task=wrong, evaluators=[exact], experiment_name="ui-zero", print_summary=False)
    dataset_id = rowid(dataset.id)

    datasets = page(ember, "/datasets")
    assert "compat-ui-arith" in datasets
    examples = page(ember, f"/datasets/{dataset_id}")
    assert "2+2" in examples and "4+4" in examples
    listed = page(ember, f"/datasets/{dataset_id}?tab=experiments")
    assert "ui-add" in listed and "ui-zero" in listed and "exact" in listed
    assert "0.667" in listed and "0.000" in listed, "mean scores: add gets 4+4 wrong against the reference 9"
    ids = [rowid(first["experiment_id"]), rowid(second["experiment_id"])]
    compare = page(ember, f"/datasets/{dataset_id}/compare?experiment={ids[0]}&experiment={ids[1]}")
    assert compare.count("<tr>") >= 3 and '"answer": "8"' in compare and '"answer": "0"' in compare

    client.prompts.create(name="compat-ui-prompt", version=PromptVersion([{"role": "user", "content": "Say hi to {{ name }}"}], model_name="gpt-4o"))
    client.prompts.create(name="compat-ui-prompt", version=PromptVersion([{"role": "user", "content": "Wave at {{ name }}"}], model_name="gpt-4o"))
    prompts = page(ember, "/prompts")
    prompt_path = re.search(r'href="(/prompts/\d+)">compat-ui-prompt<', prompts).group(1)
    diff = page(ember, prompt_path)
    assert "- " in diff and "Say hi to" in diff and "+ " in diff and "Wave at" in diff
