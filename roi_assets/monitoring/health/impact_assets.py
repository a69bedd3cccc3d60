"""monitoring.business_impact: what the product's decisions achieved in the closed loop."""

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource

from roi_assets.evaluation.business_impact import daily_impact, record_tier_counts, uplift_table
from roi_assets.evaluation.reliability import png_markdown
from roi_assets.monitoring.health.impact_plot import impact_plot_png
from roi_assets.resources.table_contracts import create_statement
from roi_assets.resources.warehouse import WAREHOUSE_POOL

IMPACT_TABLE = "monitoring.business_impact"


@dg.asset(
    key=["monitoring", "business_impact"],
    group_name="monitoring",
    kinds={"duckdb"},
    deps=[dg.AssetKey(["raw", "email_events"]), dg.AssetKey(["marts", "churn_risk"])],
    pool=WAREHOUSE_POOL,
)
def business_impact(duckdb: DuckDBResource) -> dg.MaterializeResult:
    """One row per live day, policy and metric: expected open and click rate of the product's
    decisions and of the policies they must beat (legacy, random hour, population-best hour,
    oracle hour; uniform, ε-greedy and oracle content) on the same sends, the realised rates that
    landed, the expected churn saves of the watch list against a random list of its size, and the
    churn mart's clients per tier next to the truth's (recorded per snapshot in
    monitoring.churn_tier_counts). The uplift table puts the customer's targets and the oracle's
    uplift next to the product's."""
    with duckdb.get_connection() as con:
        record_tier_counts(con)
        impact = daily_impact(con)
        _replace_rows(con, impact)
    uplift = uplift_table(impact)
    return dg.MaterializeResult(
        metadata={
            "live_days": impact["impact_date"].n_unique(),
            "uplift": dg.MetadataValue.md(_markdown(uplift)),
            "by_day": dg.MetadataValue.md(png_markdown(impact_plot_png(impact), "impact by day")),
            "dagster/row_count": impact.height,
        }
    )


def _replace_rows(con: duckdb.DuckDBPyConnection, impact: pl.DataFrame) -> None:
    """The table's rows replaced in one transaction: a run killed half-way leaves the old ones."""
    con.execute("create schema if not exists monitoring")
    con.execute(create_statement(IMPACT_TABLE))
    con.register("impact_rows", impact.to_arrow())
    con.begin()
    try:
        con.execute(f"delete from {IMPACT_TABLE}")
        con.execute(f"insert into {IMPACT_TABLE} by name select * from impact_rows")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.unregister("impact_rows")


def _markdown(frame: pl.DataFrame) -> str:
    return frame.to_pandas().to_markdown(index=False, floatfmt=".4f") if frame.height else "none"
