import datetime as dt

import polars as pl

from roi_assets.deployment.rollout_plot import challenger_share_plot_png, share_by_day

START = dt.date(2025, 1, 1)


def _transitions(rows: list[tuple[str, str, int, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "model_name": [r[0] for r in rows],
            "challenger_version": [r[1] for r in rows],
            "as_of": [START + dt.timedelta(days=r[2]) for r in rows],
            "challenger_share": [r[3] for r in rows],
        }
    )


def test_a_model_is_one_line_whatever_its_number_of_challenger_versions():
    daily_versions = _transitions([("bandit", str(day), day, 1.0) for day in range(10)])
    plotted = share_by_day(daily_versions)
    assert plotted["model_name"].unique().to_list() == ["bandit"]
    assert plotted.height == 10


def test_the_share_of_a_day_is_its_last_transition():
    day = _transitions([("dqn", "3", 0, 0.2), ("dqn", "4", 0, 0.0), ("dqn", "4", 1, 0.2)])
    plotted = share_by_day(day)
    assert plotted.select("as_of", "challenger_share", "challenger_version").rows() == [
        (START, 0.0, "4"),
        (START + dt.timedelta(days=1), 0.2, "4"),
    ]


def test_only_the_last_days_are_plotted():
    year = _transitions([("churn", "1", day, 0.5) for day in range(365)])
    plotted = share_by_day(year, days=56)
    assert plotted.height == 56
    assert plotted["as_of"].min() == START + dt.timedelta(days=364 - 55)


def test_an_empty_history_still_draws_a_picture():
    png = challenger_share_plot_png(_transitions([]).cast({"challenger_share": pl.Float64}))
    assert png.startswith(b"\x89PNG")
