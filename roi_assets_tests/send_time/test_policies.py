import numpy as np
import pytest

from roi_assets.send_time.environment import HOURS_PER_WEEK, SendTimeEnvironment
from roi_assets.send_time.policies import (
    HistoricalBestHourPolicy,
    OracleBestHourPolicy,
    PopulationBestHourPolicy,
    UniformRandomPolicy,
    evaluate_policies,
    one_hot_hours,
)


class FixedHourPolicy:
    def __init__(self, hour: int) -> None:
        self.hour = hour

    def action_probabilities(self, states, clients):
        return one_hot_hours(np.full(len(clients), self.hour))


def two_client_world() -> SendTimeEnvironment:
    """Client 0 opens with 0.8 at hour 0, client 1 with 0.4 at hour 1; both 0.1 elsewhere."""
    opens = np.full((2, HOURS_PER_WEEK), 0.1)
    opens[0, 0] = 0.8
    opens[1, 1] = 0.4
    clicks = opens / 4
    return SendTimeEnvironment(np.zeros((2, 20)), opens, clicks, click_weight=2.0)


def test_policy_evaluation_uses_the_true_probabilities_exactly():
    world = two_client_world()
    table = evaluate_policies(
        world,
        np.array([0, 1]),
        {
            "hour_0": FixedHourPolicy(0),
            "random": UniformRandomPolicy(),
            "oracle": OracleBestHourPolicy(world),
        },
    ).set_index("policy")
    random_open = ((0.8 + 167 * 0.1) / 168 + (0.4 + 167 * 0.1) / 168) / 2
    assert table.loc["hour_0", "expected_open_rate"] == pytest.approx((0.8 + 0.1) / 2)
    assert table.loc["hour_0", "expected_click_rate"] == pytest.approx((0.2 + 0.025) / 2)
    assert table.loc["hour_0", "expected_reward"] == pytest.approx(0.45 + 2 * 0.1125)
    assert table.loc["random", "expected_open_rate"] == pytest.approx(random_open)
    assert table.loc["random", "open_uplift_vs_random_pct"] == pytest.approx(0.0, abs=1e-9)
    assert table.loc["oracle", "expected_open_rate"] == pytest.approx((0.8 + 0.4) / 2)
    assert table.loc["oracle", "open_uplift_vs_random_pct"] == pytest.approx(
        100 * (0.6 / random_open - 1)
    )
    assert table.loc["oracle", "click_uplift_vs_random_pct"] == pytest.approx(
        table.loc["oracle", "open_uplift_vs_random_pct"]
    )


def test_evaluating_twice_gives_the_same_table():
    world = two_client_world()
    policies = {"random": UniformRandomPolicy(), "oracle": OracleBestHourPolicy(world)}
    first = evaluate_policies(world, np.array([0, 1]), policies)
    second = evaluate_policies(world, np.array([0, 1]), policies)
    assert first.equals(second)


def test_a_policy_that_does_not_return_distributions_is_refused():
    class Broken:
        def action_probabilities(self, states, clients):
            return np.ones((len(clients), HOURS_PER_WEEK))

    with pytest.raises(ValueError, match="distribution"):
        evaluate_policies(two_client_world(), np.array([0, 1]), {"broken": Broken()})


def test_the_historical_best_hour_prefers_a_consistent_hour_over_one_lucky_open():
    # client 0: opened 1 of 1 sends at hour 7, 8 of 10 at hour 20; client 1 has no logs
    clients = [0] + [0] * 10 + [2] * 40
    hours = [7] + [20] * 10 + [50] * 40
    opened = [1] + [1] * 8 + [0] * 2 + [1] * 20 + [0] * 20
    policy = HistoricalBestHourPolicy.from_logs(clients, hours, opened, n_clients=3)
    chosen = policy.action_probabilities(np.zeros((3, 20)), np.array([0, 1])).argmax(axis=1)
    assert chosen[0] == 20
    # the population's best hour: hour 20 (9 of 11 opens pooled over clients 0) beats hour 50
    assert chosen[1] == 20


def test_with_a_negligible_prior_one_lucky_open_would_win():
    policy = HistoricalBestHourPolicy.from_logs(
        [0] * 11, [7] + [20] * 10, [1] + [1] * 8 + [0] * 2, n_clients=1, prior_strength=1e-6
    )
    assert policy.best_hour[0] == 7


def test_the_population_best_hour_sends_everyone_at_the_hour_the_pooled_logs_favour():
    # client 0 opened all 4 sends at hour 7; client 1 opened 3 of 30 at hour 7, 30 of 40 at 50
    clients = [0] * 4 + [1] * 70
    hours = [7] * 4 + [7] * 30 + [50] * 40
    opened = [1] * 4 + [1] * 3 + [0] * 27 + [1] * 30 + [0] * 10
    historical = HistoricalBestHourPolicy.from_logs(clients, hours, opened, n_clients=2)
    population = PopulationBestHourPolicy(historical.population_open_rate)
    chosen = population.action_probabilities(np.zeros((2, 20)), np.array([0, 1])).argmax(axis=1)
    assert historical.best_hour.tolist() == [7, 50]
    assert chosen.tolist() == [50, 50]
