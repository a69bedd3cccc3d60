import datetime as dt

import numpy as np
import polars as pl
import pytest

from roi_assets.evaluation.oracle_comparison import EVALUATION_COLUMNS
from roi_assets.send_time.evaluation import (
    DQN,
    HISTORICAL_BEST,
    ORACLE,
    RANDOM,
    SPECIFICATION_TARGETS,
    evaluate_send_time,
)
from roi_assets.send_time.held_out import is_held_out

from .worlds import hour_probability_frame


@pytest.fixture(scope="module")
def evaluation(trained_on_logs):
    world, states, sends, training = trained_on_logs
    return evaluate_send_time(
        training.agent, states, sends, hour_probability_frame(world), training.checkpoints
    )


def test_every_policy_is_scored_on_the_held_out_clients_from_the_true_probabilities(
    trained_on_logs, evaluation
):
    world, states, _, _ = trained_on_logs
    held_out = np.flatnonzero(is_held_out(states["client_id"]))
    probabilities = world.open_probabilities(held_out)
    assert evaluation.n_clients == len(held_out)
    assert evaluation.value(RANDOM) == pytest.approx(probabilities.mean())
    assert evaluation.value(ORACLE) == pytest.approx(probabilities.max(axis=1).mean())
    assert evaluation.value(RANDOM) < evaluation.value(HISTORICAL_BEST) < evaluation.value(ORACLE)
    assert evaluation.value(RANDOM) < evaluation.value(DQN) <= evaluation.value(ORACLE)


def test_the_learning_curve_has_one_true_open_rate_per_checkpoint_and_ends_at_the_agents(
    evaluation,
):
    curve = evaluation.learning_curve
    assert curve["iteration"].to_list() == [50, 100, 150, 200, 250, 300]
    assert curve["expected_open_rate"][-1] == pytest.approx(evaluation.value(DQN))
    assert evaluation.iterations_to_convergence in curve["iteration"].to_list()


def test_the_noise_margin_shrinks_with_more_held_out_clients(trained_on_logs, evaluation):
    world, states, sends, training = trained_on_logs
    fewer = evaluate_send_time(
        training.agent,
        states,
        sends,
        hour_probability_frame(world).filter(pl.col("client_id") < "C0150"),
        training.checkpoints,
    )
    assert fewer.n_clients < evaluation.n_clients
    for baseline in (HISTORICAL_BEST, RANDOM):
        assert 0 < evaluation.noise_margins[baseline] < fewer.noise_margins[baseline]


def test_the_evaluation_rows_put_the_dqn_next_to_the_oracle_and_a_baseline(evaluation):
    rows = evaluation.metrics("roi-send-time-dqn", "3", "a/b", dt.datetime(2025, 6, 1))
    assert rows.columns == list(EVALUATION_COLUMNS)
    assert rows["metric"].is_unique().all()
    by_metric = {row["metric"]: row for row in rows.iter_rows(named=True)}
    assert set(SPECIFICATION_TARGETS) <= set(by_metric)
    open_rate = by_metric["expected_open_rate"]
    assert open_rate["baseline_value"] == pytest.approx(evaluation.value(HISTORICAL_BEST))
    assert by_metric["expected_open_rate_vs_random"]["baseline_value"] == pytest.approx(
        evaluation.value(RANDOM)
    )
    assert open_rate["oracle_value"] == pytest.approx(evaluation.value(ORACLE))


def test_a_checkpoint_missing_held_out_clients_is_refused(trained_on_logs):
    world, states, sends, training = trained_on_logs
    partial = training.checkpoints.filter(pl.col("client_id") != pl.col("client_id").min())
    with pytest.raises(ValueError, match="misses some held-out clients"):
        evaluate_send_time(training.agent, states, sends, hour_probability_frame(world), partial)


def test_the_report_and_plot_render(evaluation):
    assert "| dqn |" in evaluation.markdown()
    assert evaluation.learning_curve_png().startswith(b"\x89PNG")
