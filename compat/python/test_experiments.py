"""Experiments through the real `arize-phoenix-client`: run a task with evaluators over a dataset,
evaluate an existing experiment again, resume failed runs and evaluations, and read back what
ember stored (runs, evaluations, downloads and the OTLP traces in the experiment's project)."""

import csv
import io
import time

import httpx


def wait_for(condition, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def make_dataset(client, name):
    return client.datasets.create_dataset(
        name=name,
        inputs=[{"question": "2+2"}, {"question": "3+3"}, {"question": "4+4"}],
        outputs=[{"answer": "4"}, {"answer": "6"}, {"answer": "9"}],
        metadata=[{"level": "easy"}, {"level": "easy"}, {"level": "hard"}],
    )


def add(input):
    left, right = input["question"].split("+")
    return {"answer": str(int(left) + int(right))}


def exact(output, expected):
    return output == expected


def graded(output, expected):
    right = output == expected
    return {"score": 1.0 if right else 0.25, "label": "right" if right else "wrong", "explanation": f"expected {expected['answer']}"}


def test_run_experiment_stores_runs_evaluations_and_traces(client, ember):
    dataset = make_dataset(client, "compat-exp-arith")
    ran = client.experiments.run_experiment(
        dataset=dataset,
        task=add,
        evaluators=[exact, graded],
        experiment_name="arith-v1",
        experiment_description="adds the numbers",
        experiment_metadata={"model": "calculator"},
        repetitions=2,
        print_summary=False,
    )
    experiment_id = ran["experiment_id"]
    assert len(ran["task_runs"]) == 6
    assert len(ran["evaluation_runs"]) == 12

    http = httpx.Client(base_url=ember.http)
    experiment = http.get(f"/v1/experiments/{experiment_id}").json()["data"]
    assert experiment["name"] == "arith-v1"
    assert experiment["description"] == "adds the numbers"
    assert experiment["metadata"] == {"model": "calculator"}
    assert experiment["dataset_id"] == dataset.id
    assert experiment["dataset_version_id"] == dataset.version_id
    assert experiment["repetitions"] == 2
    assert (experiment["example_count"], experiment["successful_run_count"], experiment["failed_run_count"]) == (3, 6, 0)
    assert experiment["missing_run_count"] == 0
    assert experiment["project_name"].startswith("Experiment-")

    # The runs as stored, value by value.
    runs = http.get(f"/v1/experiments/{experiment_id}/runs").json()["data"]
    node_ids = {example["input"]["question"]: example["node_id"] for example in dataset.examples}
    stored = sorted((run["dataset_example_id"], run["repetition_number"], run["output"]["answer"], run["error"]) for run in runs)
    expected_runs = sorted(
        (node_ids[q], repetition, answer, None) for q, answer in [("2+2", "4"), ("3+3", "6"), ("4+4", "8")] for repetition in (1, 2)
    )
    assert stored == expected_runs
    assert all(len(run["trace_id"]) == 32 for run in runs)

    # Evaluations, through the JSON download the client itself reads.
    records = http.get(f"/v1/experiments/{experiment_id}/json").json()
    assert len(records) == 6
    by_question = {}
    for record in records:
        annotations = {a["name"]: a for a in record["annotations"]}
        assert set(annotations) == {"exact", "graded"}
        assert annotations["exact"]["annotator_kind"] == "CODE"
        by_question.setdefault(record["input"]["question"], set()).add(
            (annotations["exact"]["score"], annotations["exact"]["label"], annotations["graded"]["score"], annotations["graded"]["label"])
        )
        assert record["reference_output"] == {"answer": {"2+2": "4", "3+3": "6", "4+4": "9"}[record["input"]["question"]]}
        assert record["metadata"] == {"level": "hard" if record["input"]["question"] == "4+4" else "easy"}
        assert record["latency_ms"] >= 0
    assert by_question == {
        "2+2": {(1.0, "True", 1.0, "right")},
        "3+3": {(1.0, "True", 1.0, "right")},
        "4+4": {(0.0, "False", 0.25, "wrong")},
    }

    # The task spans land in the experiment's project, hidden from project lists; the client
    # sends evaluator spans to its "evaluators" project.
    project = experiment["project_name"]

    def spans_of(project_name, count):
        found = http.get(f"/v1/projects/{project_name}/spans", params={"limit": 100}).json().get("data", [])
        return len(found) >= count and found

    task_spans = wait_for(lambda: spans_of(project, 6), "the experiment's 6 task spans")
    assert {span["span_kind"] for span in task_spans} == {"CHAIN"}
    assert {span["context"]["trace_id"] for span in task_spans} == {run["trace_id"] for run in runs}
    # Other tests' evaluators share the project: these are the spans of this run's evaluations.
    evaluation_traces = {a["trace_id"] for record in records for a in record["annotations"]}
    assert len(evaluation_traces) == 12

    def this_runs_evaluator_spans():
        found = http.get("/v1/projects/evaluators/spans", params={"limit": 1000}).json().get("data", [])
        mine = [span for span in found if span["context"]["trace_id"] in evaluation_traces]
        return len(mine) == 12 and mine

    evaluator_spans = wait_for(this_runs_evaluator_spans, "the 12 evaluator spans")
    assert {span["span_kind"] for span in evaluator_spans} == {"EVALUATOR"}
    assert project not in [p["name"] for p in client.projects.list()]
    listed = http.get("/v1/projects", params={"include_experiment_projects": "true"}).json()["data"]
    assert project in [p["name"] for p in listed]

    # The client's own read-back.
    again = client.experiments.get_experiment(experiment_id=experiment_id)
    assert len(again["task_runs"]) == 6 and len(again["evaluation_runs"]) == 12

    # The CSV download carries every run with the evaluation columns.
    rows = list(csv.DictReader(io.StringIO(http.get(f"/v1/experiments/{experiment_id}/csv").text)))
    assert len(rows) == 6
    assert {row["annotation_graded_label"] for row in rows} == {"right", "wrong"}


def test_evaluate_an_existing_experiment(client, ember):
    dataset = make_dataset(client, "compat-exp-reeval")
    ran = client.experiments.run_experiment(dataset=dataset, task=add, experiment_name="reeval", print_summary=False)
    assert ran["evaluation_runs"] == []
    existing = client.experiments.get_experiment(experiment_id=ran["experiment_id"])

    def has_answer(output):
        return {"score": 1.0 if "answer" in output else 0.0, "label": "has-answer"}

    evaluated = client.experiments.evaluate_experiment(experiment=existing, evaluators=[has_answer], print_summary=False)
    assert len(evaluated["evaluation_runs"]) == 3
    records = httpx.get(f"{ember.http}/v1/experiments/{ran['experiment_id']}/json").json()
    assert [[(a["name"], a["score"], a["label"]) for a in record["annotations"]] for record in records] == [
        [("has_answer", 1.0, "has-answer")]
    ] * 3


def test_resume_failed_runs_and_evaluations(client, ember):
    dataset = make_dataset(client, "compat-exp-resume")

    def flaky(input):
        if input["question"] == "3+3":
            raise RuntimeError("the model timed out")
        return add(input)

    ran = client.experiments.run_experiment(dataset=dataset, task=flaky, experiment_name="resume", print_summary=False, retries=0)
    experiment_id = ran["experiment_id"]
    http = httpx.Client(base_url=ember.http)
    experiment = http.get(f"/v1/experiments/{experiment_id}").json()["data"]
    assert (experiment["successful_run_count"], experiment["failed_run_count"], experiment["missing_run_count"]) == (2, 1, 0)
    failed = [run for run in http.get(f"/v1/experiments/{experiment_id}/runs").json()["data"] if run["error"]]
    assert len(failed) == 1 and "the model timed out" in failed[0]["error"]
    incomplete = http.get(f"/v1/experiments/{experiment_id}/incomplete-runs").json()
    assert [(item["dataset_example"]["input"], item["repetition_numbers"]) for item in incomplete["data"]] == [({"question": "3+3"}, [1])]

    client.experiments.resume_experiment(experiment_id=experiment_id, task=add, print_summary=False)
    experiment = http.get(f"/v1/experiments/{experiment_id}").json()["data"]
    assert (experiment["successful_run_count"], experiment["failed_run_count"]) == (3, 0)
    runs = http.get(f"/v1/experiments/{experiment_id}/runs").json()["data"]
    assert sorted(run["output"]["answer"] for run in runs) == ["4", "6", "8"]
    assert http.get(f"/v1/experiments/{experiment_id}/incomplete-runs").json()["data"] == []

    def picky(output):
        if output["answer"] == "8":
            raise ValueError("cannot judge 8")
        return 1.0

    client.experiments.resume_evaluation(experiment_id=experiment_id, evaluators={"picky": picky}, print_summary=False, retries=0)
    incomplete = http.get(f"/v1/experiments/{experiment_id}/incomplete-evaluations", params={"evaluation_name": "picky"}).json()
    assert [(item["experiment_run"]["output"], item["evaluation_names"]) for item in incomplete["data"]] == [({"answer": "8"}, ["picky"])]

    client.experiments.resume_evaluation(experiment_id=experiment_id, evaluators={"picky": lambda output: 0.5}, print_summary=False)
    assert http.get(f"/v1/experiments/{experiment_id}/incomplete-evaluations", params={"evaluation_name": "picky"}).json()["data"] == []
    records = http.get(f"/v1/experiments/{experiment_id}/json").json()
    scores = sorted((record["output"]["answer"], record["annotations"][0]["score"], record["annotations"][0]["error"]) for record in records)
    assert scores == [("4", 1.0, None), ("6", 1.0, None), ("8", 0.5, None)]


def test_list_and_delete_experiments(client, ember):
    dataset = make_dataset(client, "compat-exp-list")
    first = client.experiments.run_experiment(dataset=dataset, task=add, experiment_name="first", print_summary=False)
    second = client.experiments.run_experiment(dataset=dataset, task=add, print_summary=False)
    listed = client.experiments.list(dataset_id=dataset.id)
    assert [experiment["id"] for experiment in listed] == [second["experiment_id"], first["experiment_id"]]
    generated = listed[0]["name"]
    assert generated.startswith("compat-e-") and len(generated) == len("compat-e-") + 8

    project = listed[0]["project_name"]
    client.experiments.delete(experiment_id=second["experiment_id"], delete_project=True)
    assert [experiment["id"] for experiment in client.experiments.list(dataset_id=dataset.id)] == [first["experiment_id"]]
    assert httpx.get(f"{ember.http}/v1/projects/{project}").status_code == 404
    client.experiments.delete(experiment_id=first["experiment_id"])
    assert client.experiments.list(dataset_id=dataset.id) == []
