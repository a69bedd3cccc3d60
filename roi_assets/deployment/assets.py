"""The deployment step of the day: every model family's live evaluation and rollout advanced by
one day (`deployment.lifecycle`), recorded in four monitoring tables.

The day is the `as_of` config value (the run's UTC date by default), so a backfill, `make live`
or a test can move the clock; the `rollout_daily` schedule sets it to its own tick.
"""

import datetime as dt

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource

from roi_assets.deployment.families import FAMILIES
from roi_assets.deployment.lifecycle import advance
from roi_assets.deployment.outcomes import SENDS as LANDED_SENDS
from roi_assets.deployment.rollout_plot import challenger_share_plot_png
from roi_assets.deployment.state_store import TRANSITIONS_TABLE, ensure_tables
from roi_assets.evaluation.reliability import png_markdown
from roi_assets.resources.registry import ModelRegistry
from roi_assets.resources.warehouse import WAREHOUSE_POOL, table_exists

GROUP = "deployment"
ROLLOUT_STATE = dg.AssetKey(["monitoring", "rollout_state"])
DEPLOYMENT_TABLES = {
    "ab_outcomes": "each A/B test's landed outcomes, one row per send and arm",
    "ab_test_decisions": "each live evaluation's verdict of the day (A/B or shadow)",
    "deployment_transitions": "every change of a deployment, with its reason",
}


class DeploymentClock(dg.Config):
    """`as_of`: the deployment day as an ISO date (the rollout schedule passes its tick's date);
    empty means the data's today, the day after the latest landed send, so a run without a date
    (`refresh_all`, a manual materialisation) judges experiments on the landed data's calendar
    and not on a wall clock that may be far from it (a replayed or simulated history)."""

    as_of: str = ""

    def today(self, con: duckdb.DuckDBPyConnection) -> dt.date:
        if self.as_of:
            return dt.date.fromisoformat(self.as_of)
        latest = None
        if table_exists(con, *LANDED_SENDS.split(".")):
            latest = con.execute(f"select max(sent_at)::date from {LANDED_SENDS}").fetchone()[0]
        today = dt.datetime.now(dt.UTC).date()
        return today if latest is None else latest + dt.timedelta(days=1)


def _markdown(frame: pl.DataFrame) -> str:
    return frame.to_pandas().to_markdown(index=False) if frame.height else "none"


# What the live evaluations read: the landed outcomes (A/B) and the matured labels (shadow).
EVIDENCE = [
    dg.AssetKey(["intermediate", "int_email_outcomes"]),
    dg.AssetKey(["features", "feat_email_engagement"]),
    dg.AssetKey(["features", "feat_client_churn"]),
    dg.AssetKey(["raw", "labelled_documents"]),
]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ROLLOUT_STATE,
            description="one row per model: stage and challenger share",
            deps=EVIDENCE,
            group_name=GROUP,
        ),
        *(
            dg.AssetSpec(["monitoring", table], description=about, deps=EVIDENCE, group_name=GROUP)
            for table, about in DEPLOYMENT_TABLES.items()
        ),
    ],
    pool=WAREHOUSE_POOL,
)
def rollout_state(
    context: dg.AssetExecutionContext,
    config: DeploymentClock,
    duckdb: DuckDBResource,
    registry: ModelRegistry,
):
    """Advances every model's deployment by one day: starts a live evaluation for a new
    challenger (an A/B test for the models that decide, a shadow test for the others), judges it
    on what landed or matured, steps the rollout 20 → 50 → 80 → 100 %, makes the challenger
    champion at day 28, and rolls back on a critical alert. The serving API and the marts route
    clients by monitoring.rollout_state."""
    client = registry.client()
    with duckdb.get_connection() as con:
        as_of = config.today(con)
        ensure_tables(con)
        days = [advance(con, client, family, as_of) for family in FAMILIES]
        states = con.execute(
            "select model_name, challenger_version, champion_version, stage, challenger_share, "
            "started_at::date as started from monitoring.rollout_state order by model_name"
        ).pl()
        history = con.execute(
            f"select model_name, challenger_version, as_of, challenger_share from "
            f"{TRANSITIONS_TABLE} order by as_of"
        ).pl()
    for day in days:
        context.log.info("%s: %s", day.model_name, day.note)
    today = pl.DataFrame(
        {
            "model": [d.model_name for d in days],
            "transition": [", ".join(t.event for t in d.transitions) or "-" for d in days],
            "note": [d.note for d in days],
        }
    )
    yield dg.MaterializeResult(
        asset_key=ROLLOUT_STATE,
        metadata={
            "as_of": as_of.isoformat(),
            "dagster/row_count": states.height,
            "transitions_today": sum(len(d.transitions) for d in days),
            "today": dg.MetadataValue.md(_markdown(today)),
            "rollout_state": dg.MetadataValue.md(_markdown(states)),
            "challenger_share": dg.MetadataValue.md(
                png_markdown(challenger_share_plot_png(history), "challenger share by day")
            ),
        },
    )
    for table in DEPLOYMENT_TABLES:
        yield dg.MaterializeResult(asset_key=["monitoring", table], metadata={"as_of": str(as_of)})
