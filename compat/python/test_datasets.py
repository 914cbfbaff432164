"""Datasets through the real `arize-phoenix-client`: created from dicts and from example records,
appended to, upserted by stable id, and read back by name, id and version."""


def test_datasets_from_dicts_append_and_read_back_at_each_version(client):
    created = client.datasets.create_dataset(
        name="compat-qa",
        inputs=[{"q": "2+2?"}, {"q": "capital of France?"}],
        outputs=[{"a": "4"}, {"a": "Paris"}],
        metadata=[{"topic": "math"}, {"topic": "geo"}],
        dataset_description="questions",
    )
    assert created.name == "compat-qa"
    assert len(created) == 2
    assert [example["input"] for example in created.examples] == [{"q": "2+2?"}, {"q": "capital of France?"}]
    assert [example["metadata"] for example in created.examples] == [{"topic": "math"}, {"topic": "geo"}]

    appended = client.datasets.add_examples_to_dataset(dataset="compat-qa", inputs=[{"q": "3*3?"}], outputs=[{"a": "9"}])
    assert len(appended) == 3
    assert appended.version_id != created.version_id

    first_version = client.datasets.get_dataset(dataset=created.id, version_id=created.version_id)
    assert [example["output"] for example in first_version.examples] == [{"a": "4"}, {"a": "Paris"}]
    latest = client.datasets.get_dataset(dataset="compat-qa")
    assert [example["output"] for example in latest.examples] == [{"a": "4"}, {"a": "Paris"}, {"a": "9"}]
    frame = latest.to_dataframe()
    assert len(frame) == 3

    versions = client.datasets.get_dataset_versions(dataset="compat-qa")
    assert [version["version_id"] for version in versions] == [appended.version_id, created.version_id]
    names = [dataset["name"] for dataset in client.datasets.list()]
    assert "compat-qa" in names


def test_create_dataset_upserts_examples_by_stable_id(client):
    records = [
        {"id": "ex-1", "input": {"q": "a"}, "output": {"a": 1}, "splits": "train"},
        {"id": "ex-2", "input": {"q": "b"}, "output": {"a": 2}, "splits": ["test", "hard"]},
    ]
    first = client.datasets.create_dataset(name="compat-golden", examples=records)
    assert [example["id"] for example in first.examples] == ["ex-1", "ex-2"]

    # The same name again: ex-2 changes, ex-1 is left out and so deleted, ex-3 is new.
    second = client.datasets.create_dataset(
        name="compat-golden",
        examples=[
            {"id": "ex-2", "input": {"q": "b"}, "output": {"a": 20}},
            {"id": "ex-3", "input": {"q": "c"}, "output": {"a": 3}},
        ],
    )
    assert second.id == first.id
    assert {example["id"]: example["output"] for example in second.examples} == {"ex-2": {"a": 20}, "ex-3": {"a": 3}}
    before = client.datasets.get_dataset(dataset="compat-golden", version_id=first.version_id)
    assert {example["id"]: example["output"] for example in before.examples} == {"ex-1": {"a": 1}, "ex-2": {"a": 2}}
    train = client.datasets.get_dataset(dataset="compat-golden", version_id=first.version_id, splits=["train"])
    assert [example["id"] for example in train.examples] == ["ex-1"]


def test_create_dataset_from_a_dataframe_and_from_a_csv_file(client, tmp_path):
    import pandas as pd

    columns = dict(input_keys=["question"], output_keys=["answer"], metadata_keys=["topic"], example_id_key="example_id")
    frame = pd.DataFrame(
        {"question": ["What is 2+2?", "Name a prime"], "answer": [4, 7], "topic": ["math", "math"], "example_id": ["q1", "q2"]}
    )
    dataset = client.datasets.create_dataset(name="compat-frame", dataframe=frame, **columns)
    assert [example["id"] for example in dataset.examples] == ["q1", "q2"]
    first = dataset.examples[0]
    # CSV cells arrive as text, as Phoenix reads them.
    assert (first["input"], first["output"], first["metadata"]) == ({"question": "What is 2+2?"}, {"answer": "4"}, {"topic": "math"})

    # The same name with q2 changed and q1 left out: the new version mirrors the frame.
    changed = pd.DataFrame({"question": ["Name a prime"], "answer": [11], "topic": ["math"], "example_id": ["q2"]})
    again = client.datasets.create_dataset(name="compat-frame", dataframe=changed, **columns)
    assert [(example["id"], example["output"]) for example in again.examples] == [("q2", {"answer": "11"})]

    path = tmp_path / "qa.csv"
    path.write_text('query,response,level\nhi,hello,1\n"bye, now",goodbye,2\n')
    from_file = client.datasets.create_dataset(
        name="compat-file", csv_file_path=path, input_keys=["query"], output_keys=["response"], metadata_keys=["level"]
    )
    assert [example["input"] for example in from_file.examples] == [{"query": "hi"}, {"query": "bye, now"}]
    assert from_file.examples[1]["metadata"] == {"level": "2"}


def test_create_dataset_again_without_ids_declares_the_next_version(client):
    """`create_dataset` with an existing name sends action=update: the next version equals what was
    sent (matched by content); re-sending it unchanged makes no version."""
    first = client.datasets.create_dataset(name="compat-declared", inputs=[{"q": 1}, {"q": 2}, {"q": 3}], outputs=[{"a": "x"}, {"a": "y"}, {"a": "z"}])
    same = client.datasets.create_dataset(name="compat-declared", inputs=[{"q": 1}, {"q": 2}, {"q": 3}], outputs=[{"a": "x"}, {"a": "y"}, {"a": "z"}])
    assert same.version_id == first.version_id
    assert len(client.datasets.get_dataset_versions(dataset="compat-declared")) == 1

    changed = client.datasets.create_dataset(name="compat-declared", inputs=[{"q": 1}, {"q": 2}, {"q": 4}], outputs=[{"a": "x"}, {"a": "Y"}, {"a": "w"}])
    assert changed.version_id != first.version_id
    assert sorted((e["input"]["q"], e["output"]["a"]) for e in changed.examples) == [(1, "x"), (2, "Y"), (4, "w")]
    kept = {e["input"]["q"]: e["id"] for e in first.examples}[1]
    assert {e["input"]["q"]: e["id"] for e in changed.examples}[1] == kept


def test_splits_list_and_csv_download(ember, client):
    import csv
    import io

    import httpx

    client.datasets.create_dataset(
        name="compat-splits",
        examples=[
            {"input": {"question": "q1"}, "output": {"answer": "a1"}, "metadata": {"difficulty": "easy"}, "splits": "train"},
            {"input": {"question": "q2"}, "output": {"answer": "a2"}, "metadata": {"difficulty": "hard"}, "splits": ["train", "test"]},
        ],
    )
    splits = httpx.get(f"{ember.http}/v1/datasets/compat-splits/splits").json()
    assert sorted((s["name"], s["example_count"]) for s in splits["data"]) == [("test", 1), ("train", 2)]

    dataset = client.datasets.get_dataset(dataset="compat-splits")
    text = httpx.get(f"{ember.http}/v1/datasets/{dataset.id}/csv").text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["id", "node_id", "input.question", "output.answer", "metadata.difficulty", "splits"]
    assert [(r["input.question"], r["output.answer"], r["metadata.difficulty"]) for r in rows] == [("q1", "a1", "easy"), ("q2", "a2", "hard")]
