"""features.feat_email_scoring: each active client's features for an email sent at the scoring
moment, rolled forward from the client's history with the training rows' own definitions.

A small simulated world is ingested and built with dbt once; the scoring table is then rebuilt for
chosen scoring dates (dbt var `scoring_date`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from roi_assets import settings
from roi_assets.engagement.features import ENGAGEMENT_FEATURES, engagement_features
from roi_assets.engagement.scoring import SCORING_TABLE, read_scoring_rows, scoring_rows
from roi_assets.ingestion.contracts import CONTRACTS
from roi_assets.ingestion.loader import ingest_source
from roi_assets.simulator import simulate_world, world_config

SEED = 5
# What an email sent at the moment knows of the client's past; the content columns and variants are
# the campaign's typical email at the scoring moment, not a particular send's.
HISTORY_FEATURES = (
    "hour_of_day",
    "day_of_week",
    "day_of_month",
    "is_weekend",
    "is_holiday",
    "days_since_last_open",
    "days_since_last_click",
    "lifetime_open_rate",
    "recent_open_rate_7d",
    "recent_open_rate_30d",
    "click_through_rate",
    "avg_time_to_open_hours",
    "email_frequency_score",
    "account_age_days",
    "login_frequency_weekly",
    "document_access_rate",
    "feature_adoption_score",
    "support_ticket_count",
    "referral_generated",
    "hour_of_week",
)


class Warehouse:
    """A tiny world's warehouse and the dbt command that builds it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "warehouse.duckdb"

    def dbt(self, *command: str) -> None:
        env = {**os.environ, settings.ENV_WAREHOUSE_PATH: str(self.path)}
        subprocess.run(
            [
                str(Path(sys.executable).parent / "dbt"),
                *command,
                "--quiet",
                "--profiles-dir",
                ".",
                "--target-path",
                str(self.folder / "dbt_target"),
                "--log-path",
                str(self.folder),
            ],
            cwd=settings.DBT_PROJECT_DIR,
            env=env,
            check=True,
        )

    def scoring(self, scoring_date: dt.date) -> pl.DataFrame:
        self.dbt(
            "run",
            "--select",
            "feat_email_scoring",
            "--vars",
            json.dumps({"scoring_date": scoring_date.isoformat()}),
        )
        with duckdb.connect(str(self.path), read_only=True) as con:
            return read_scoring_rows(con)

    def query(self, sql: str) -> pl.DataFrame:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.execute(sql).pl()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Warehouse:
    folder = tmp_path_factory.mktemp("scoring_world")
    built = Warehouse(folder)
    simulate_world(world_config("tiny", SEED), folder / "landing")
    with duckdb.connect(str(built.path)) as con:
        for contract in CONTRACTS.values():
            ingest_source(con, folder / "landing", contract)
    built.dbt("seed")
    built.dbt("run", "--select", "+feat_email_engagement", "+feat_email_scoring")
    return built


@pytest.fixture(scope="module")
def data_end(warehouse) -> dt.date:
    return warehouse.query("select data_end from intermediate.int_world_calendar")["data_end"][0]


def test_every_active_client_gets_one_complete_row_for_an_email_sent_the_next_morning(
    warehouse, data_end
):
    scoring = warehouse.query(f"select * from {SCORING_TABLE}")
    active = warehouse.query(
        "select distinct client_id from staging.stg_subscriptions where cancelled_date is null"
    )

    assert set(scoring["client_id"]) == set(active["client_id"])
    assert scoring["client_id"].is_unique().all()
    assert (scoring["as_of_date"] == data_end).all()
    assert (scoring["hour_of_day"] == 10).all()
    assert scoring["day_of_week"].n_unique() == 1
    assert len(engagement_features(scoring)) == scoring.height  # every feature, no missing value
    local_day = scoring["scoring_at"].dt.date()
    assert local_day.is_between(
        data_end + dt.timedelta(days=1), data_end + dt.timedelta(days=2)
    ).all()


def test_days_since_the_last_open_grow_with_the_scoring_date(warehouse, data_end):
    earlier_date = data_end - dt.timedelta(days=20)
    earlier = warehouse.scoring(earlier_date)
    later = warehouse.scoring(earlier_date + dt.timedelta(days=10))

    both = earlier.join(later, on="client_id", suffix="_later")
    grown = both["days_since_last_open_later"] - both["days_since_last_open"]
    # an hour of slack for a daylight-saving change between the two mornings
    assert (grown <= 10 + 1 / 24 + 1e-9).all()
    no_open_since = both.filter(pl.col("days_since_last_open_later") > 10 + 1 / 24)
    assert no_open_since.height > 0
    unopened = no_open_since.filter(pl.col("days_since_last_open") < 355)
    assert (
        (unopened["days_since_last_open_later"] - unopened["days_since_last_open"] - 10).abs()
        <= 1 / 24 + 1e-9
    ).all()
    assert (both["account_age_days_later"] - both["account_age_days"] == 10).all()
    assert not both["recent_open_rate_7d"].equals(both["recent_open_rate_7d_later"])


def test_a_scoring_row_has_the_features_a_real_send_at_that_moment_got(warehouse):
    """Sends that left at exactly 10:00 local time: the scoring row of that morning must hold the
    training row's history, behaviour and calendar features, value for value."""
    sends = warehouse.query(
        "select f.*, cast(s.sent_at_local as date) as local_day "
        "from features.feat_email_engagement f join staging.stg_email_sends s using (send_id) "
        "where hour(s.sent_at_local) = 10 and minute(s.sent_at_local) = 0"
    )
    busiest = sends.group_by("local_day").len().sort("len", descending=True)["local_day"][0]
    real = (
        sends.filter(pl.col("local_day") == busiest)
        .unique("client_id", keep="first")
        .sort("client_id")
    )
    assert real.height > 0

    scored = scoring_rows(warehouse.scoring(busiest), real["client_id"])

    assert scored["client_id"].to_list() == real["client_id"].to_list()
    for feature in HISTORY_FEATURES:
        assert scored[feature].cast(pl.Float64).to_list() == pytest.approx(
            real[feature].cast(pl.Float64).to_list(), abs=1e-9
        ), feature
    assert set(ENGAGEMENT_FEATURES) <= set(scored.columns)
