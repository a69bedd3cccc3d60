import datetime as dt

import numpy as np
import polars as pl
import pytest

from roi_assets.evaluation.oracle_comparison import EVALUATION_COLUMNS
from roi_assets.send_time.evaluation import (
    DQN,
    ENGAGEMENT_HOUR,
    HISTORICAL_BEST,
    ORACLE,
    POPULATION_BEST,
    RANDOM,
    SPECIFICATION_TARGETS,
    evaluate_send_time,
)
from roi_assets.send_time.held_out import is_held_out

from .worlds import PEAK_HOURS, hour_probability_frame

ENGAGEMENT_OFFSET = 3  # the test's engagement hours lie 3 hours after each type's peak


def engagement_hours(world, states) -> pl.DataFrame:
    """An engagement-hour baseline that knows each client's type but misses its peak."""
    peak = np.array(PEAK_HOURS)[world.states[:, :3].argmax(axis=1)]
    return pl.DataFrame({"client_id": states["client_id"], "engagement_hour_of_week": peak + 3})


@pytest.fixture(scope="module")
def evaluation(trained_on_logs):
    world, states, sends, training = trained_on_logs
    return evaluate_send_time(
        training.agent,
        states,
        sends,
        hour_probability_frame(world),
        training.checkpoints,
        engagement_hours(world, states),
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
    peaks = np.array(PEAK_HOURS)[world.states[held_out, :3].argmax(axis=1)]
    engagement = probabilities[np.arange(len(held_out)), peaks + ENGAGEMENT_OFFSET].mean()
    assert evaluation.value(ENGAGEMENT_HOUR) == pytest.approx(engagement)
    assert evaluation.value(POPULATION_BEST) < evaluation.value(ENGAGEMENT_HOUR)


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
        engagement_hours(world, states),
    )
    assert fewer.n_clients < evaluation.n_clients
    for baseline in (HISTORICAL_BEST, RANDOM, ENGAGEMENT_HOUR):
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
    assert by_metric["expected_open_rate_vs_engagement_hour"]["baseline_value"] == pytest.approx(
        evaluation.value(ENGAGEMENT_HOUR)
    )
    fallback = by_metric["engagement_hour_open_rate"]
    assert fallback["value"] == pytest.approx(evaluation.value(ENGAGEMENT_HOUR))
    assert fallback["baseline_value"] == pytest.approx(evaluation.value(POPULATION_BEST))


def test_a_checkpoint_missing_held_out_clients_is_refused(trained_on_logs):
    world, states, sends, training = trained_on_logs
    partial = training.checkpoints.filter(pl.col("client_id") != pl.col("client_id").min())
    with pytest.raises(ValueError, match="misses some held-out clients"):
        evaluate_send_time(
            training.agent,
            states,
            sends,
            hour_probability_frame(world),
            partial,
            engagement_hours(world, states),
        )


def test_the_report_and_plot_render(evaluation):
    assert "| dqn |" in evaluation.markdown()
    assert evaluation.learning_curve_png().startswith(b"\x89PNG")
