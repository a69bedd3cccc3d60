import datetime as dt

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

SCORED_AT = dt.datetime(2024, 4, 9, 6, 0)


def test_each_active_client_is_scored_on_their_latest_snapshot_only(world):
    churn = pl.from_pandas(world.churn)
    active = pl.Series(["c0000", "c0001", "c0002"])

    rows = latest_snapshot_rows(churn, active)

    assert rows["client_id"].to_list() == ["c0000", "c0001", "c0002"]
    for row in rows.iter_rows(named=True):
        own = churn.filter(pl.col("client_id") == row["client_id"])
        assert row["snapshot_date"] == own["snapshot_date"].max()


def test_reasons_and_actions_are_given_from_the_medium_tier_up(ensemble, world):
    last = np.flatnonzero(world.churn["snapshot_date"] == world.churn["snapshot_date"].max())
    rows = pl.from_pandas(world.churn.iloc[last])

    risk = risk_rows(ensemble, rows, world.sequences[last], model_version="7", scored_at=SCORED_AT)

    assert risk.columns == list(RISK_COLUMNS)
    assert risk.height == len(last) and (risk["window_days"] == 30).all()
    assert risk["tier"].to_list() == list(risk_tier(risk["probability"].to_numpy()))
    low = risk["tier"] == "low"
    assert low.any() and (~low).any()
    assert risk.filter(low)["top_reasons"].null_count() == low.sum()
    assert risk.filter(low)["recommended_action"].null_count() == low.sum()
    assert risk.filter(~low)["top_reasons"].null_count() == 0
    assert risk.filter(~low)["recommended_action"].null_count() == 0
    assert (risk["model_version"] == "7").all() and (risk["scored_at"] == SCORED_AT).all()


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
