from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from roi_assets.evaluation.binary_metrics import choose_threshold
from roi_assets.evaluation.oracle_comparison import (
    EVALUATION_COLUMNS,
    base_rate_scores,
    compare_with_oracle,
)
from roi_assets.evaluation.windows import TimeWindow

WINDOW = TimeWindow(datetime(2024, 3, 1), datetime(2024, 3, 31))


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


@pytest.fixture(scope="module")
def rows() -> dict[str, np.ndarray]:
    """Outcomes drawn from known probabilities, a model that sees them through noise, baselines."""
    rng = np.random.default_rng(3)
    truth = _sigmoid(rng.normal(-1.0, 1.5, 8000))
    outcomes = (rng.uniform(size=truth.size) < truth).astype(int)
    return {
        "outcomes": outcomes,
        "truth": truth,
        "noisy_model": _sigmoid(_logit(truth) + rng.normal(0, 1.0, truth.size)),
        "weak_baseline": _sigmoid(0.3 * _logit(truth) + rng.normal(0, 1.5, truth.size)),
        "base_rate": base_rate_scores(outcomes[:1000], truth.size),
    }


def _compare(rows, **overrides):
    arguments = {
        "model_name": "roi-engagement-open",
        "model_version": "4",
        "model_threshold": 0.3,
        "evaluation_window": WINDOW,
        "evaluated_at": datetime(2024, 4, 1, 12, 0),
    } | overrides
    return compare_with_oracle(
        rows["outcomes"],
        rows["noisy_model"],
        rows["truth"],
        {"base_rate": rows["base_rate"], "weak": rows["weak_baseline"]},
        **arguments,
    )


def test_the_oracle_ranks_better_than_a_noisy_model_on_the_same_rows(rows):
    comparison = _compare(rows)

    model_auc = comparison.value("auc_roc")
    oracle_auc = comparison.value("auc_roc", "oracle")
    assert oracle_auc > model_auc > comparison.value("auc_roc", "weak")
    assert comparison.value("auc_roc", "base_rate") == pytest.approx(0.5)
    assert comparison.auc_fraction_of_oracle == pytest.approx(model_auc / oracle_auc)


def test_the_tidy_table_has_exactly_the_evaluation_columns(rows):
    metrics = _compare(rows).metrics

    assert tuple(metrics.columns) == EVALUATION_COLUMNS
    auc = metrics.filter(metrics["metric"] == "auc_roc").row(0, named=True)
    assert auc["model_name"] == "roi-engagement-open"
    assert auc["model_version"] == "4"
    assert auc["evaluation_window"] == WINDOW.label
    assert auc["evaluated_at"] == datetime(2024, 4, 1, 12, 0)


def test_the_reference_baseline_is_the_strongest_unless_named(rows):
    strongest = _compare(rows)
    named = _compare(rows, reference_baseline="base_rate")

    def baseline_auc(comparison):
        tidy = comparison.metrics
        return tidy.filter(tidy["metric"] == "auc_roc")["baseline_value"].item()

    assert strongest.reference_baseline == "weak"
    assert baseline_auc(strongest) == pytest.approx(strongest.value("auc_roc", "weak"))
    assert baseline_auc(named) == pytest.approx(0.5)


def test_thresholds_come_from_the_caller_or_from_each_scorer_own_scores(rows):
    comparison = _compare(rows, baseline_thresholds={"weak": 0.25})

    assert comparison.value("threshold") == pytest.approx(0.3)
    assert comparison.value("threshold", "weak") == pytest.approx(0.25)
    assert comparison.value("threshold", "oracle") == pytest.approx(
        choose_threshold(rows["outcomes"], rows["truth"])
    )


def test_the_markdown_shows_every_scorer_the_targets_and_the_auc_fraction(rows):
    comparison = _compare(rows, targets={"auc_roc": 0.90, "precision": 0.85})
    markdown = comparison.markdown()

    assert "| metric | model | oracle | base_rate | weak | target |" in markdown
    assert f"{comparison.auc_fraction_of_oracle:.1%} of the oracle's" in markdown
    auc_line = next(line for line in markdown.splitlines() if line.startswith("| auc_roc |"))
    assert auc_line.endswith("| 0.900 |")


def test_evaluation_times_are_stored_in_utc(rows):
    new_york = timezone(timedelta(hours=-5))
    comparison = _compare(rows, evaluated_at=datetime(2024, 4, 1, 7, 0, tzinfo=new_york))

    assert comparison.evaluated_at == datetime(2024, 4, 1, 12, 0)
    assert comparison.evaluated_at.tzinfo is None
    assert _compare(rows, evaluated_at=datetime(2024, 4, 1, 12, tzinfo=UTC)).evaluated_at == (
        datetime(2024, 4, 1, 12, 0)
    )


def test_flat_metrics_prefix_every_scorer_but_the_model(rows):
    flat = _compare(rows).flat_metrics()

    assert flat["auc_roc"] == pytest.approx(_compare(rows).value("auc_roc"))
    assert {"oracle_auc_roc", "base_rate_auc_roc", "weak_auc_roc_of_oracle"} <= set(flat)


def test_baselines_cannot_take_reserved_names_and_must_exist(rows):
    with pytest.raises(ValueError, match="reserved"):
        compare_with_oracle(
            rows["outcomes"],
            rows["noisy_model"],
            rows["truth"],
            {"oracle": rows["base_rate"]},
            model_name="m",
            model_version="1",
            model_threshold=0.3,
            evaluation_window=WINDOW,
        )
    with pytest.raises(ValueError, match="not among the baselines"):
        _compare(rows, reference_baseline="logistic_regression")
