"""The Arize ML API with the real `arize` 8.61 SDK against ember: `ml.log_stream` (single records
on `/v1/log`, delayed actuals), `ml.log` (a DataFrame and its Schema on `/v1/pandas_arrow`) and
`ml.export_to_df` (Arrow Flight), each result checked through ember's `/v1/ml/models` API and
against the DataFrame that was logged."""

import time
import urllib.parse
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from importlib.metadata import version  # noqa: E402

if not version("arize").startswith("8."):
    pytest.skip("the v8 suite runs with arize 8.x", allow_module_level=True)

from arize.ml.types import Embedding, EmbeddingColumnNames, Environments, ModelTypes, Schema  # noqa: E402

from conftest import phoenix_get  # noqa: E402
from test_spans_v8 import SPACE_ID, arize_client  # noqa: E402

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def records(ember, model: str, **params):
    query = urllib.parse.urlencode({"limit": 1000, **params})
    return phoenix_get(ember, f"/v1/ml/models/{urllib.parse.quote(model)}/records?{query}")["data"]


def by_id(rows):
    return {row["prediction_id"]: row for row in rows}


def test_log_stream_records_join_their_delayed_actuals(ember):
    client = arize_client(ember)
    common = dict(space_id=SPACE_ID, model_name="churn-stream", model_type=ModelTypes.BINARY_CLASSIFICATION, environment=Environments.PRODUCTION)
    futures = [
        client.ml.log_stream(**common, prediction_id="s-1", prediction_label=("churn", 0.81), model_version="v3",
                             features={"tenure": 12, "plan": "pro", "monthly": 49.5, "active": True},
                             embedding_features={"note": Embedding(vector=[0.1, 0.2, 0.3], data="called support twice")},
                             tags={"region": "eu"}, shap_values={"tenure": -0.4}),
        client.ml.log_stream(**common, prediction_id="s-2", prediction_label=("stay", 0.12), model_version="v3", features={"tenure": 40}),
        # An actual alone, before its prediction (the order may be either).
        client.ml.log_stream(**common, prediction_id="s-3", actual_label=("churn", 1.0)),
    ]
    assert [future.result().status_code for future in futures] == [200, 200, 200]
    # The actuals of s-1 and s-2 arrive later; s-3's prediction too.
    later = [
        client.ml.log_stream(**common, prediction_id="s-1", actual_label=("churn", 1.0), tags={"reviewed": "yes"}),
        client.ml.log_stream(**common, prediction_id="s-2", actual_label=("churn", 1.0)),
        client.ml.log_stream(**common, prediction_id="s-3", prediction_label=("stay", 0.3), model_version="v3", features={"tenure": 2}),
    ]
    assert [future.result().status_code for future in later] == [200, 200, 200]

    stored = by_id(records(ember, "churn-stream"))
    assert set(stored) == {"s-1", "s-2", "s-3"}
    first = stored["s-1"]
    assert first["prediction"] == {"label": "churn", "score": 0.81}
    assert first["actual"] == {"label": "churn", "score": 1.0}
    assert first["features"] == {"tenure": 12, "plan": "pro", "monthly": 49.5, "active": "True"}
    assert first["tags"] == {"region": "eu", "reviewed": "yes"}
    assert first["shap_values"] == {"tenure": -0.4}
    assert first["embeddings"]["note"] == {"vector": [0.1, 0.2, 0.3], "data": ["called support twice"]}
    assert first["model_version"] == "v3"
    assert stored["s-3"]["prediction"]["label"] == "stay" and stored["s-3"]["actual"]["label"] == "churn"

    schema = phoenix_get(ember, "/v1/ml/models/churn-stream")["data"]
    assert schema["model_type"] == "score_categorical"
    assert {f["name"]: f["value_type"] for f in schema["features"]} == {"tenure": "int", "plan": "string", "monthly": "double", "active": "string"}
    assert schema["embeddings"] == ["note"]

    # A regression model's training records are their own environment.
    training = client.ml.log_stream(space_id=SPACE_ID, model_name="price-stream", model_type=ModelTypes.REGRESSION,
                                    environment=Environments.TRAINING, prediction_id="t-1", prediction_label=3.5, actual_label=4.0,
                                    features={"rooms": 3})
    assert training.result().status_code == 200
    trained = records(ember, "price-stream", environment="training")
    assert [(row["prediction"], row["actual"]) for row in trained] == [({"value": 3.5}, {"value": 4.0})]
    assert records(ember, "price-stream") == [], "nothing in production"


def fraud_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    now = int(time.time())
    return pd.DataFrame({
        "prediction_id": [f"fraud-{n:05d}" for n in range(rows)],
        "prediction_ts": [now - 60 - n for n in range(rows)],
        "prediction_label": rng.choice(["fraud", "legit"], rows),
        "prediction_score": rng.random(rows),
        "actual_label": rng.choice(["fraud", "legit"], rows),
        "amount": rng.gamma(2.0, 50.0, rows),
        "merchant": rng.choice(["grocery", "travel", "online", None], rows),
        "card_age_days": rng.integers(0, 3000, rows),
        "is_foreign": rng.random(rows) < 0.1,
        "channel": rng.choice(["web", "pos"], rows),
        "amount_shap": rng.normal(0, 1, rows),
        "embedding_vector": [rng.random(4) for _ in range(rows)],
        "embedding_text": [f"transaction {n}" for n in range(rows)],
    })


FRAUD_SCHEMA = Schema(
    prediction_id_column_name="prediction_id",
    timestamp_column_name="prediction_ts",
    prediction_label_column_name="prediction_label",
    prediction_score_column_name="prediction_score",
    actual_label_column_name="actual_label",
    feature_column_names=["amount", "merchant", "card_age_days", "is_foreign"],
    tag_column_names=["channel"],
    shap_values_column_names={"amount": "amount_shap"},
    embedding_feature_column_names={"description": EmbeddingColumnNames(vector_column_name="embedding_vector", data_column_name="embedding_text")},
)


def test_ml_log_a_dataframe_and_export_it_back(ember):
    client = arize_client(ember)
    frame = fraud_frame(2_500)
    response = client.ml.log(space_id=SPACE_ID, model_name="fraud-batch", model_type=ModelTypes.BINARY_CLASSIFICATION,
                             dataframe=frame, schema=FRAUD_SCHEMA, environment=Environments.PRODUCTION, model_version="v1")
    assert response.status_code == 200, response.text

    page, cursor = [], None
    while True:
        query = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        answer = phoenix_get(ember, f"/v1/ml/models/fraud-batch/records?{urllib.parse.urlencode(query)}")
        page.extend(answer["data"])
        cursor = answer["next_cursor"]
        if not cursor:
            break
    stored = by_id(page)
    assert len(stored) == 2_500
    row = frame.iloc[17]
    record = stored[row.prediction_id]
    assert record["prediction"] == {"label": row.prediction_label, "score": row.prediction_score}
    assert record["actual"] == {"label": row.actual_label}
    assert record["features"]["amount"] == row.amount
    assert record["features"]["card_age_days"] == row.card_age_days
    assert record["features"]["is_foreign"] == str(row.is_foreign)
    assert record["tags"] == {"channel": row.channel}
    assert record["shap_values"] == {"amount": row.amount_shap}
    assert record["embeddings"]["description"]["vector"] == list(row.embedding_vector)

    exported = client.ml.export_to_df(space_id=SPACE_ID, model_name="fraud-batch", environment=Environments.PRODUCTION,
                                      start_time=NOW - timedelta(hours=2), end_time=NOW + timedelta(hours=1), include_actuals=True)
    assert len(exported) == 2_500
    assert list(exported["time"]) == sorted(exported["time"]), "the SDK sorts by time"
    merged = exported.set_index("prediction_id").loc[frame.prediction_id]
    assert (merged["prediction_label"].values == frame.prediction_label.values).all()
    assert np.allclose(merged["prediction_score"].values, frame.prediction_score.values, rtol=0, atol=0)
    assert (merged["actual_label"].values == frame.actual_label.values).all()
    assert np.array_equal(merged["amount"].values, frame.amount.values)
    assert np.array_equal(merged["card_age_days"].values, frame.card_age_days.values)
    assert (merged["merchant"].fillna("<none>").values == frame.merchant.fillna("<none>").values).all()
    assert np.array_equal(merged["amount_shap"].values, frame.amount_shap.values)
    assert (merged["model_version"] == "v1").all()
    assert list(merged["description_vector"].iloc[3]) == list(frame.embedding_vector.iloc[3])

    without_actuals = client.ml.export_to_df(space_id=SPACE_ID, model_name="fraud-batch", environment=Environments.PRODUCTION,
                                             start_time=NOW - timedelta(hours=2), end_time=NOW + timedelta(hours=1))
    assert "actual_label" not in without_actuals.columns
    nothing = client.ml.export_to_df(space_id=SPACE_ID, model_name="fraud-batch", environment=Environments.TRAINING,
                                     start_time=NOW - timedelta(hours=2), end_time=NOW + timedelta(hours=1))
    assert nothing.empty


def test_ml_log_actuals_later_and_validation_batches(ember):
    client = arize_client(ember)
    frame = fraud_frame(40)
    predictions = frame.drop(columns=["actual_label"])
    schema = Schema(prediction_id_column_name="prediction_id", timestamp_column_name="prediction_ts",
                    prediction_label_column_name="prediction_label", prediction_score_column_name="prediction_score",
                    feature_column_names=["amount", "merchant"])
    # (ml.log's default model_version, "", fails the SDK's own validation: every call names one.)
    common = dict(space_id=SPACE_ID, model_name="fraud-delayed", model_type=ModelTypes.BINARY_CLASSIFICATION)
    assert client.ml.log(**common, dataframe=predictions, schema=schema, environment=Environments.PRODUCTION, model_version="v1").status_code == 200
    assert records(ember, "fraud-delayed", has_actual="true") == []
    actuals = frame[["prediction_id", "actual_label"]].iloc[:25]
    actual_schema = Schema(prediction_id_column_name="prediction_id", actual_label_column_name="actual_label")
    assert client.ml.log(**common, dataframe=actuals, schema=actual_schema, environment=Environments.PRODUCTION, model_version="v1").status_code == 200
    joined = by_id(records(ember, "fraud-delayed", has_actual="true"))
    assert len(joined) == 25
    row = frame.iloc[3]
    assert joined[row.prediction_id]["prediction"]["label"] == row.prediction_label
    assert joined[row.prediction_id]["actual"]["label"] == row.actual_label
    assert joined[row.prediction_id]["features"]["amount"] == row.amount, "the prediction's features stay"

    validation = client.ml.log(**common, dataframe=frame.iloc[:10], schema=FRAUD_SCHEMA, environment=Environments.VALIDATION,
                               model_version="v2", batch_id="holdout-1")
    assert validation.status_code == 200
    batch = records(ember, "fraud-delayed", environment="validation", batch_id="holdout-1")
    assert len(batch) == 10 and all(row["model_version"] == "v2" for row in batch)
    versions = phoenix_get(ember, "/v1/ml/models/fraud-delayed")["data"]["versions"]
    assert {"environment": "VALIDATION", "version": "v2", "batch_id": "holdout-1"}.items() <= next(
        v for v in versions if v["environment"] == "VALIDATION").items()
