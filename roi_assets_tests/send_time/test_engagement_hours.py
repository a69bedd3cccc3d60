import numpy as np
import pytest

from roi_assets.send_time.engagement_hours import (
    MIN_ENGAGEMENT_EVENTS,
    engagement_hour_table,
    most_frequent_engagement_hour,
)

POPULATION_BEST = 7  # Monday 07:00


def counts_at(cells: dict[int, int]) -> np.ndarray:
    row = np.zeros((1, 168))
    for hour, n in cells.items():
        row[0, hour] = n
    return row


def test_a_client_with_enough_history_gets_its_most_frequent_hour():
    # Tuesday and Thursday 20:00 dominate; Friday 09:00 is one busy cell
    counts = counts_at({24 + 20: 12, 3 * 24 + 20: 10, 4 * 24 + 9: 14})
    assert most_frequent_engagement_hour(counts, POPULATION_BEST).tolist() == [24 + 20]


def test_the_hour_of_day_decides_and_the_busiest_day_at_that_hour_breaks_the_tie():
    # 21:00 on five weekdays beats a single busier Saturday 10:00 cell
    counts = counts_at({d * 24 + 21: 5 for d in range(5)} | {5 * 24 + 10: 12, 2 * 24 + 21: 6})
    assert most_frequent_engagement_hour(counts, POPULATION_BEST).tolist() == [2 * 24 + 21]


def test_a_client_with_little_history_falls_back_to_the_population_best_hour():
    sparse = counts_at({24 + 20: MIN_ENGAGEMENT_EVENTS - 1})
    enough = counts_at({24 + 20: MIN_ENGAGEMENT_EVENTS})
    never = np.zeros((1, 168))
    hours = most_frequent_engagement_hour(np.vstack([sparse, enough, never]), POPULATION_BEST)
    assert hours.tolist() == [POPULATION_BEST, 24 + 20, POPULATION_BEST]
    table = engagement_hour_table(np.vstack([sparse, enough]), ["A", "B"], POPULATION_BEST)
    assert table["fallback"].to_list() == [True, False]
    assert table["engagement_events"].to_list() == [
        MIN_ENGAGEMENT_EVENTS - 1,
        MIN_ENGAGEMENT_EVENTS,
    ]


def test_counts_that_are_not_hours_of_the_week_are_refused():
    with pytest.raises(ValueError, match="168"):
        most_frequent_engagement_hour(np.zeros((2, 24)), POPULATION_BEST)
