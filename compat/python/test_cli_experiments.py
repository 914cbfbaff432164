"""`ember experiments run` records what `arize-phoenix-client` reads back as its own: the real
client gets the CLI's experiment, its runs and evaluations, evaluates it again, and resumes it."""

import subprocess
import sys

import httpx

from conftest import ember_binary

TASK = f"""{sys.executable} -c '
import json, sys
example = json.load(sys.stdin)
left, right = example["input"]["question"].split("+")
print(json.dumps({{"answer": str(int(left) + int(right))}}))
'"""


def ember_cli(ember, *args):
    finished = subprocess.run(
        [ember_binary(), *args], capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "PHOENIX_ENDPOINT": ember.http}
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return finished.stdout


def test_the_client_reads_and_extends_an_experiment_run_by_the_cli(client, ember):
    dataset = client.datasets.create_dataset(
        name="compat-cli-sums",
        inputs=[{"question": "2+2"}, {"question": "3+3"}, {"question": "4+4"}],
        outputs=[{"answer": "4"}, {"answer": "6"}, {"answer": "9"}],
    )
    summary = ember_cli(
        ember, "experiments", "run", "--dataset", "compat-cli-sums", "--command", TASK, "--name", "cli-sums",
        "--repetitions", "2", "-e", "exact_match", "-e", "numeric=0.5",
    )
    experiment_id = summary.splitlines()[0].split("(")[1].split(")")[0]

    ran = client.experiments.get_experiment(experiment_id=experiment_id)
    assert ran["experiment_id"] == experiment_id
    assert ran["dataset_id"] == dataset.id
    assert ran["dataset_version_id"] == dataset.version_id
    assert len(ran["task_runs"]) == 6
    answers = sorted((run["repetition_number"], run["output"]["answer"]) for run in ran["task_runs"])
    assert answers == [(1, "4"), (1, "6"), (1, "8"), (2, "4"), (2, "6"), (2, "8")]
    assert all(run["error"] is None and len(run["trace_id"]) == 32 for run in ran["task_runs"])
    evaluations = sorted((e.name, e.result["score"], e.result["label"], e.annotator_kind) for e in ran["evaluation_runs"])
    assert evaluations == sorted(
        [("exact_match", 1.0, "True", "CODE")] * 4 + [("exact_match", 0.0, "False", "CODE")] * 2
        + [("numeric", 1.0, "True", "CODE")] * 4 + [("numeric", 0.0, "False", "CODE")] * 2
    )

    # The client adds its own evaluator to the CLI's experiment.
    def short(output):
        return len(output["answer"]) == 1

    evaluated = client.experiments.evaluate_experiment(experiment=ran, evaluators=[short], print_summary=False)
    assert len(evaluated["evaluation_runs"]) == 18
    assert sorted(e.result["score"] for e in evaluated["evaluation_runs"] if e.name == "short") == [1.0] * 6
    http = httpx.Client(base_url=ember.http)
    records = http.get(f"/v1/experiments/{experiment_id}/json").json()
    assert {frozenset(a["name"] for a in record["annotations"]) for record in records} == {frozenset({"exact_match", "numeric", "short"})}

    # Nothing is left to resume: every run succeeded and every evaluation is recorded.
    incomplete = http.get(f"/v1/experiments/{experiment_id}/incomplete-runs").json()["data"]
    assert incomplete == []
    missing = http.get(f"/v1/experiments/{experiment_id}/incomplete-evaluations", params={"evaluation_name": ["exact_match", "numeric"]}).json()["data"]
    assert missing == []
