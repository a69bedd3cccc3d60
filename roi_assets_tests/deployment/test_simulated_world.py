"""The deployment assets on the tiny simulated world, with its real engagement model: outcomes are
played from the simulator's truth and the A/B test reaches a verdict on day 7.

The world's warehouse and registry are copied, so the session's own are left as they were.
"""

from __future__ import annotations

import datetime as dt
import shutil

import dagster as dg
import mlflow
import pytest
from dagster_duckdb import DuckDBResource
from mlflow import MlflowClient

from roi_assets import settings
from roi_assets.deployment.definitions import CLOCKED_ASSETS
from roi_assets.deployment.simulated_outcomes import latest_sends
from roi_assets.resources.tracking import CHALLENGER, CHAMPION, set_alias
from roi_assets.resources.warehouse import connect

MODEL_NAME = "roi-engagement-open"
DAY_0 = dt.date(2025, 6, 2)
# what the A/B verdict does to the stage the next step records
STAGE_AFTER = {"promote": "rollout", "reject": "rejected", "hold": "ab_test"}


@pytest.fixture
def world_copy(materialized_world, tmp_path):
    """The tiny world's warehouse and a registry copy where the trained model's version 1 is
    champion and a second registration of the same model is challenger."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(settings.warehouse_path(), warehouse)
    database = tmp_path / "mlflow.db"
    shutil.copy(settings.data_dir() / "mlflow.db", database)
    uri = f"sqlite:///{database}"
    previous = mlflow.get_tracking_uri()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(settings.ENV_MLFLOW_TRACKING_URI, uri)
        mlflow.set_tracking_uri(uri)
        client = MlflowClient(uri)
        first = client.get_model_version(MODEL_NAME, "1")
        second = client.create_model_version(
            MODEL_NAME, first.source, run_id=first.run_id, model_id=first.model_id
        )
        set_alias(MODEL_NAME, CHAMPION, "1", client)
        set_alias(MODEL_NAME, CHALLENGER, second.version, client)
        yield warehouse
    mlflow.set_tracking_uri(previous)


def test_a_week_of_simulated_outcomes_gives_the_ab_test_a_verdict(world_copy):
    for offset in (0, 7):
        dg.materialize(
            list(CLOCKED_ASSETS),
            resources={"duckdb": DuckDBResource(database=str(world_copy))},
            run_config={
                "ops": {
                    a.op.name: {
                        "config": {"as_of": (DAY_0 + dt.timedelta(days=offset)).isoformat()}
                    }
                    for a in CLOCKED_ASSETS
                }
            },
            instance=dg.DagsterInstance.ephemeral(),
        )
    with connect(world_copy, read_only=True) as con:
        clients = latest_sends(con, "p_open").height
        per_arm = dict(
            con.execute("select arm, count(*) from monitoring.ab_outcomes group by arm").fetchall()
        )
        decision = con.execute(
            "select decision, n_champion, n_challenger, reason from monitoring.ab_test_decisions"
        ).fetchone()
        stage = con.execute("select stage from monitoring.rollout_state").fetchone()[0]
    # a week of campaigns reaches every client once, each arm emailing its top half
    assert per_arm["champion"] + per_arm["challenger"] == pytest.approx(clients / 2, abs=7)
    assert per_arm["challenger"] == pytest.approx(clients * 0.1, abs=max(8, clients * 0.04))
    assert decision[1:3] == (per_arm["champion"], per_arm["challenger"])
    assert stage == STAGE_AFTER[decision[0]], decision[3]
