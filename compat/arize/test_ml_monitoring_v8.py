"""ember's ML monitoring checked against scikit-learn, scipy and numpy on the same records: models
logged with the real `arize` 8.61 SDK (`ml.log` of DataFrames), their performance, drift, data
quality and embedding drift read from ember's `/v1/ml/models/{name}/...` API and compared, to
1e-9 relative, with the figures the scientific Python stack computes from the DataFrames."""

import time
import urllib.parse
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from importlib.metadata import version  # noqa: E402

if not version("arize").startswith("8."):
    pytest.skip("the v8 suite runs with arize 8.x", allow_module_level=True)

from arize.ml.types import EmbeddingColumnNames, Environments, ModelTypes, Schema  # noqa: E402
from scipy.spatial.distance import jensenshannon  # noqa: E402
from sklearn import metrics  # noqa: E402

from conftest import phoenix_get  # noqa: E402
from test_spans_v8 import SPACE_ID, arize_client  # noqa: E402

DAY = 86_400
RELATIVE = 1e-9
PSI_FLOOR = 1e-4


def monitor(ember, model: str, view: str, **params):
    query = urllib.parse.urlencode(params, doseq=True)
    return phoenix_get(ember, f"/v1/ml/models/{urllib.parse.quote(model)}/{view}?{query}")["data"]


def assert_close(actual, expected, what):
    assert actual == pytest.approx(expected, rel=RELATIVE, abs=1e-15), f"{what}: ember {actual} vs {expected}"


def fraud_frame(rows: int, seed: int, start: int, span: int, shift: float, merchants) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    # Scores on a 0.001 grid, so that ties occur; the actual follows the score.
    score = np.round(0.001 + 0.998 * rng.random(rows), 3)
    fraud = rng.random(rows) < score * 0.8 + 0.1
    return pd.DataFrame({
        "prediction_id": [f"f{seed}-{n:05d}" for n in range(rows)],
        "prediction_ts": start + (np.arange(rows) * span) // rows,
        "prediction_label": np.where(score >= 0.5, "fraud", "legit"),
        "prediction_score": score,
        "actual_label": np.where(fraud, "fraud", "legit"),
        "amount": rng.gamma(2.0, 50.0, rows) * shift,
        "card_age_days": rng.integers(0, 3000, rows),
        "merchant": rng.choice(merchants, rows),
        "embedding_vector": [rng.normal(shift, 1.0, 3) for _ in range(rows)],
    })


FRAUD_SCHEMA = Schema(
    prediction_id_column_name="prediction_id",
    timestamp_column_name="prediction_ts",
    prediction_label_column_name="prediction_label",
    prediction_score_column_name="prediction_score",
    actual_label_column_name="actual_label",
    feature_column_names=["amount", "card_age_days", "merchant"],
    embedding_feature_column_names={"profile": EmbeddingColumnNames(vector_column_name="embedding_vector")},
)


def deciles_drift(baseline: np.ndarray, current: np.ndarray):
    """PSI and JS distance on the baseline's deciles: edge j is the sorted baseline's value at
    position ceil(j * n / 10) (numpy's inverted-CDF quantile), bins closed on the left."""
    ordered = np.sort(baseline)
    n = len(ordered)
    edges = np.unique([ordered[-(-j * n // 10) - 1] for j in range(1, 10)])
    shares = [np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1) / len(values)
              for values in (baseline, current)]
    return psi(*shares), jensenshannon(*shares)


def categorical_drift(baseline: pd.Series, current: pd.Series):
    categories = sorted(set(baseline.dropna()) | set(current.dropna()))
    shares = [np.array([(values == c).sum() for c in categories]) / values.notna().sum() for values in (baseline, current)]
    return psi(*shares), jensenshannon(*shares)


def psi(baseline: np.ndarray, current: np.ndarray) -> float:
    b, c = np.maximum(baseline, PSI_FLOOR), np.maximum(current, PSI_FLOOR)
    return float(np.sum((c - b) * np.log(c / b)))


@pytest.fixture(scope="module")
def fraud(ember):
    client = arize_client(ember)
    now = int(time.time())
    training = fraud_frame(3_000, 1, now - 10 * DAY, DAY, 1.0, ["grocery", "travel", "online", None])
    production = fraud_frame(4_000, 2, now - 2 * DAY, 2 * DAY - 120, 1.3, ["grocery", "travel", "online", "crypto", None])
    common = dict(space_id=SPACE_ID, model_name="monitored-fraud", model_type=ModelTypes.BINARY_CLASSIFICATION, schema=FRAUD_SCHEMA, model_version="v1")
    assert client.ml.log(**common, dataframe=training, environment=Environments.TRAINING).status_code == 200
    assert client.ml.log(**common, dataframe=production, environment=Environments.PRODUCTION).status_code == 200
    return training, production


def classification_expected(frame: pd.DataFrame, predicted=None):
    actual = frame.actual_label.values
    predicted = frame.prediction_label.values if predicted is None else predicted
    positive = actual == "fraud"
    return {
        "accuracy": metrics.accuracy_score(actual, predicted),
        "precision": metrics.precision_score(actual, predicted, pos_label="fraud"),
        "recall": metrics.recall_score(actual, predicted, pos_label="fraud"),
        "f1": metrics.f1_score(actual, predicted, pos_label="fraud"),
        "auc": metrics.roc_auc_score(positive, frame.prediction_score.values),
        "log_loss": metrics.log_loss(positive, frame.prediction_score.values),
    }


def test_classification_metrics_match_scikit_learn(ember, fraud):
    _, production = fraud
    performance = monitor(ember, "monitored-fraud", "performance", positive_class="fraud", bin_seconds=DAY)
    assert performance["overall"]["count"] == len(production)
    for name, expected in classification_expected(production).items():
        assert_close(performance["overall"][name], expected, name)

    # Per day: each bin against scikit-learn on that day's records.
    day = production.prediction_ts // DAY * DAY
    assert len(performance["bins"]) == day.nunique()
    for entry in performance["bins"]:
        start = int(datetime.fromisoformat(entry["start"].replace("Z", "+00:00")).timestamp())
        subset = production[day == start]
        assert entry["count"] == len(subset)
        for name, expected in classification_expected(subset).items():
            assert_close(entry[name], expected, f"{name} on {entry['start']}")

    # A threshold on the score decides the prediction; a filter takes a slice.
    at_threshold = monitor(ember, "monitored-fraud", "performance", positive_class="fraud", threshold=0.7)["overall"]
    by_score = np.where(production.prediction_score.values >= 0.7, "fraud", "legit")
    for name in ("accuracy", "precision", "recall", "f1"):
        assert_close(at_threshold[name], classification_expected(production, by_score)[name], f"{name} at 0.7")
    travel = monitor(ember, "monitored-fraud", "performance", positive_class="fraud", filter="merchant == travel")["overall"]
    subset = production[production.merchant == "travel"]
    assert travel["count"] == len(subset)
    assert_close(travel["auc"], metrics.roc_auc_score(subset.actual_label == "fraud", subset.prediction_score), "auc of a slice")


def test_drift_matches_numpy_and_scipy(ember, fraud):
    training, production = fraud
    drift = {entry["name"]: entry for entry in monitor(ember, "monitored-fraud", "drift")}
    for name in ("amount", "card_age_days", "prediction_score"):
        expected_psi, expected_js = deciles_drift(training[name].values.astype(float), production[name].values.astype(float))
        assert_close(drift[name]["psi"], expected_psi, f"PSI of {name}")
        assert_close(drift[name]["js_distance"], expected_js, f"JS distance of {name}")
    for name in ("merchant", "prediction_label"):
        expected_psi, expected_js = categorical_drift(training[name], production[name])
        assert_close(drift[name]["psi"], expected_psi, f"PSI of {name}")
        assert_close(drift[name]["js_distance"], expected_js, f"JS distance of {name}")
    assert drift["amount"]["psi"] > drift["card_age_days"]["psi"], "the shifted amount drifts, the card age does not"

    # A production window as the baseline: the first day against the second.
    first_day = production.prediction_ts < production.prediction_ts.min() + DAY
    start = datetime.fromtimestamp(int(production.prediction_ts.min()), timezone.utc).isoformat()
    middle = datetime.fromtimestamp(int(production.prediction_ts.min()) + DAY, timezone.utc).isoformat()
    windowed = {entry["name"]: entry for entry in monitor(
        ember, "monitored-fraud", "drift", baseline_start_time=start, baseline_end_time=middle, start_time=middle)}
    expected_psi, _ = deciles_drift(production[first_day].amount.values, production[~first_day].amount.values)
    assert_close(windowed["amount"]["psi"], expected_psi, "PSI of amount between production days")


def test_data_quality_and_embedding_drift_match_numpy(ember, fraud):
    training, production = fraud
    quality = {entry["name"]: entry for entry in monitor(ember, "monitored-fraud", "data_quality", baseline_environment="training")}
    merchant = quality["merchant"]
    assert merchant["records"] == len(production)
    assert merchant["missing"] == production.merchant.isna().sum()
    assert_close(merchant["missing_share"], production.merchant.isna().mean(), "missing share")
    assert merchant["cardinality"] == production.merchant.nunique()
    assert merchant["new_values"] == len(set(production.merchant.dropna()) - set(training.merchant.dropna())) == 1
    assert quality["card_age_days"]["cardinality"] == production.card_age_days.nunique()

    drift = monitor(ember, "monitored-fraud", "embedding_drift")
    centroid = lambda frame: np.mean(np.stack(frame.embedding_vector.values), axis=0)  # noqa: E731
    assert drift[0]["name"] == "profile" and drift[0]["baseline_records"] == len(training)
    assert_close(drift[0]["distance"], float(np.linalg.norm(centroid(training) - centroid(production))), "centroid distance")


def test_regression_and_ranking_metrics_match_scikit_learn(ember):
    client = arize_client(ember)
    rng = np.random.default_rng(11)
    now = int(time.time())
    actual = rng.gamma(3.0, 20.0, 2_000) + 1.0
    houses = pd.DataFrame({
        "prediction_id": [f"h{n}" for n in range(2_000)],
        "prediction_ts": now - 3600 - np.arange(2_000),
        "predicted": actual + rng.normal(0, 8.0, 2_000),
        "actual": actual,
        "rooms": rng.integers(1, 8, 2_000),
    })
    schema = Schema(prediction_id_column_name="prediction_id", timestamp_column_name="prediction_ts",
                    prediction_label_column_name="predicted", actual_label_column_name="actual", feature_column_names=["rooms"])
    logged = client.ml.log(space_id=SPACE_ID, model_name="monitored-price", model_type=ModelTypes.REGRESSION, dataframe=houses,
                           schema=schema, environment=Environments.PRODUCTION, model_version="v1")
    assert logged.status_code == 200, logged.text
    overall = monitor(ember, "monitored-price", "performance")["overall"]
    assert_close(overall["mae"], metrics.mean_absolute_error(houses.actual, houses.predicted), "MAE")
    assert_close(overall["rmse"], np.sqrt(metrics.mean_squared_error(houses.actual, houses.predicted)), "RMSE")
    assert_close(overall["mape"], metrics.mean_absolute_percentage_error(houses.actual, houses.predicted), "MAPE")
    assert_close(overall["r2"], metrics.r2_score(houses.actual, houses.predicted), "R²")

    groups, per_group = 50, 8
    relevance = rng.integers(0, 4, (groups, per_group)).astype(float)
    searches = pd.DataFrame({
        "prediction_id": [f"q{g}-{r}" for g in range(groups) for r in range(per_group)],
        "prediction_ts": now - 3600,
        "group": [f"q{g}" for g in range(groups) for _ in range(per_group)],
        "rank": [r + 1 for _ in range(groups) for r in range(per_group)],
        "relevance": relevance.reshape(-1),
    })
    schema = Schema(prediction_id_column_name="prediction_id", timestamp_column_name="prediction_ts",
                    prediction_group_id_column_name="group", rank_column_name="rank", relevance_score_column_name="relevance")
    logged = client.ml.log(space_id=SPACE_ID, model_name="monitored-search", model_type=ModelTypes.RANKING, dataframe=searches,
                           schema=schema, environment=Environments.PRODUCTION, model_version="v1")
    assert logged.status_code == 200, logged.text
    ranking = monitor(ember, "monitored-search", "performance", k=5)
    assert ranking["overall"]["count"] == groups
    # Rank r scores higher than rank r + 1.
    scores = np.tile(-np.arange(1, per_group + 1, dtype=float), (groups, 1))
    assert_close(ranking["overall"]["ndcg"], metrics.ndcg_score(relevance, scores, k=5), "NDCG@5")
