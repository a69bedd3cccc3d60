"""Observed against predicted per decile, on synthetic rows whose true probabilities are known."""

import numpy as np
import polars as pl
import pytest

from roi_assets.evaluation.binary_metrics import decile_calibration_error, decile_groups
from roi_assets.evaluation.calibration import (
    DECILE_COLUMNS,
    decile_markdown,
    decile_metrics,
    decile_table,
    truth_gap,
)

ROWS = 60_000


@pytest.fixture(scope="module")
def known():
    """True probabilities spread like churn risk (most below 0.1, a tail above 0.3) and outcomes
    drawn from them."""
    rng = np.random.default_rng(3)
    truth = rng.beta(0.6, 9.0, ROWS)
    outcomes = (rng.random(ROWS) < truth).astype(int)
    return truth, outcomes


def test_true_probabilities_are_calibrated_in_every_decile(known):
    truth, outcomes = known

    table = decile_table(outcomes, truth, truth)

    assert table.columns == list(DECILE_COLUMNS)
    assert table["decile"].to_list() == list(range(1, 11))
    assert table["rows"].to_list() == [ROWS // 10] * 10
    noise = np.sqrt(table["mean_predicted"] * (1 - table["mean_predicted"]) / table["rows"])
    assert (abs(table["observed_rate"] - table["mean_predicted"]) < 4 * noise + 1e-3).all()
    assert decile_calibration_error(outcomes, truth) < 0.005
    assert truth_gap(truth, truth) == pytest.approx(0.0, abs=1e-12)


def test_halved_probabilities_show_each_decile_observed_at_twice_the_prediction(known):
    truth, outcomes = known
    halved = truth / 2

    table = decile_table(outcomes, halved, truth)

    ratio = table["observed_rate"] / table["mean_predicted"]
    assert ratio.slice(3).is_between(1.8, 2.2).all()  # the lowest deciles have few outcomes
    assert table["mean_true_probability"].to_numpy() == pytest.approx(
        2 * table["mean_predicted"].to_numpy()
    )
    assert decile_calibration_error(outcomes, halved) == pytest.approx(truth.mean() / 2, rel=0.05)
    assert truth_gap(halved, truth) == pytest.approx(truth.mean() / 2)


def test_deciles_hold_equal_counts_even_when_every_score_is_the_same():
    groups = decile_groups(np.full(95, 0.04))

    assert np.bincount(groups)[1:].tolist() == [10] * 5 + [9] * 5


def test_decile_metrics_carry_the_true_mean_as_the_oracle_value(known):
    truth, outcomes = known
    table = decile_table(outcomes, truth / 2, truth)

    metrics = decile_metrics(table, prefix="stack_uncalibrated_")

    by_name = {name: (value, oracle) for name, value, oracle, _ in metrics}
    assert len(metrics) == 20
    top = table.filter(pl.col("decile") == 10).row(0, named=True)
    assert by_name["stack_uncalibrated_decile_10_predicted"] == (
        top["mean_predicted"],
        top["mean_true_probability"],
    )
    assert by_name["stack_uncalibrated_decile_10_observed"][0] == top["observed_rate"]


def test_the_markdown_puts_scorers_side_by_side(known):
    truth, outcomes = known
    text = decile_markdown(
        {"stack": decile_table(outcomes, truth, truth), "halved": decile_table(outcomes, truth / 2)}
    )

    assert "| decile | stack: predicted → observed (true) | halved:" in text
    assert len(text.splitlines()) == 12
