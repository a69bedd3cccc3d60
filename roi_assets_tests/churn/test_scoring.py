import datetime as dt
import math

import numpy as np
import polars as pl

from roi_assets.churn.scoring import (
    RISK_COLUMNS,
    latest_snapshot_rows,
    risk_rows,
    tier_distribution,
    tier_distribution_markdown,
)
from roi_assets.churn.tiers import risk_tier
from roi_assets.evaluation.risk_metrics import WATCH_LIST_FRACTION

SCORED_AT = dt.datetime(2024, 4, 9, 6, 0)


def test_each_active_client_is_scored_on_their_latest_snapshot_only(world):
    churn = pl.from_pandas(world.churn)
    active = pl.Series(["c0000", "c0001", "c0002"])

    rows = latest_snapshot_rows(churn, active)

    assert rows["client_id"].to_list() == ["c0000", "c0001", "c0002"]
    for row in rows.iter_rows(named=True):
        own = churn.filter(pl.col("client_id") == row["client_id"])
        assert row["snapshot_date"] == own["snapshot_date"].max()


def _latest_risk(ensemble, world, **scored):
    last = np.flatnonzero(world.churn["snapshot_date"] == world.churn["snapshot_date"].max())
    rows = pl.from_pandas(world.churn.iloc[last])
    return risk_rows(ensemble, rows, world.sequences[last], scored_at=SCORED_AT, **scored)


def test_reasons_and_actions_go_to_the_medium_tier_up_and_the_watch_list_only(ensemble, world):
    risk = _latest_risk(ensemble, world, model_version="7")

    assert risk.columns == list(RISK_COLUMNS)
    assert (risk["window_days"] == 30).all()
    assert risk["tier"].to_list() == list(risk_tier(risk["probability"].to_numpy()))
    attention = (risk["tier"] != "low") | risk["on_watch_list"]
    assert attention.any() and (~attention).any()
    assert risk.filter(~attention)["top_reasons"].null_count() == (~attention).sum()
    assert risk.filter(~attention)["recommended_action"].null_count() == (~attention).sum()
    assert risk.filter(attention)["top_reasons"].null_count() == 0
    assert risk.filter(attention)["recommended_action"].null_count() == 0
    assert (risk["model_version"] == "7").all() and (risk["scored_at"] == SCORED_AT).all()


def test_the_watch_list_is_the_riskiest_three_percent_even_when_all_are_low_risk(
    ensemble, world, monkeypatch
):
    risk = _latest_risk(ensemble, world, model_version="7")
    stack = ensemble.predict_proba
    # The same ranking with every client far below the medium tier, as on the default world.
    monkeypatch.setattr(ensemble, "predict_proba", lambda *rows: stack(*rows) * 0.1)

    quiet = _latest_risk(ensemble, world, model_version="7")

    assert (quiet["tier"] == "low").all()
    listed = quiet.filter(pl.col("on_watch_list"))
    unlisted = quiet.filter(~pl.col("on_watch_list"))
    assert listed.height == math.ceil(WATCH_LIST_FRACTION * quiet.height)
    assert listed["probability"].min() >= unlisted["probability"].max()
    assert listed["top_reasons"].null_count() == 0
    assert listed["recommended_action"].null_count() == 0
    assert quiet["on_watch_list"].to_list() == risk["on_watch_list"].to_list()


def test_the_tier_distribution_counts_every_tier_of_every_window_including_empty_ones():
    risk = pl.DataFrame(
        {"window_days": [30, 30, 30, 60], "tier": ["low", "low", "critical", "medium"]}
    )

    distribution = tier_distribution(risk)

    assert distribution.rows() == [
        (30, "low", 2),
        (30, "medium", 0),
        (30, "high", 0),
        (30, "critical", 1),
        (60, "low", 0),
        (60, "medium", 1),
        (60, "high", 0),
        (60, "critical", 0),
    ]
    assert "| 30 days | 2 | 0 | 0 | 1 |" in tier_distribution_markdown(distribution)
