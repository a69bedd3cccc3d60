"""Assets that span domains: the read-only copy BI tools open."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from roi_assets import settings
from roi_assets.resources.bi_publication import publish_bi_copy
from roi_assets.resources.warehouse import WAREHOUSE_POOL

# The BI-facing tables the copy is drawn for (lineage in the UI). The copy is not part of the jobs
# that write them: a blocking validation gate skips what lies downstream of it, and BI must still
# get a fresh copy after such a run. It has its own job, launched after each run (see
# `automation.sensors`) and by `make run`.
BI_INPUTS = [
    dg.AssetKey(["features", "feat_email_engagement"]),
    dg.AssetKey(["features", "feat_client_churn"]),
    dg.AssetKey(["features", "feat_client_daily"]),
    dg.AssetKey(["marts", "engagement_scores"]),
    dg.AssetKey(["marts", "churn_risk"]),
    dg.AssetKey(["marts", "send_time_recommendations"]),
    dg.AssetKey(["marts", "content_assignments"]),
    dg.AssetKey(["marts", "document_classifications"]),
]


@dg.asset(group_name="bi", kinds={"duckdb"}, deps=BI_INPUTS, pool=WAREHOUSE_POOL)
def bi_warehouse_copy(duckdb: DuckDBResource) -> dg.MaterializeResult:
    """`data/bi.duckdb`: features, marts and monitoring tables, replaced atomically for BI tools."""
    target = settings.bi_warehouse_path()
    with duckdb.get_connection() as con:
        counts = publish_bi_copy(con, target)
    table = "\n".join(f"| {name} | {rows:,} |" for name, rows in counts.items())
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(target)),
            "tables": dg.MetadataValue.md(f"| table | rows |\n|---|---|\n{table}"),
        }
    )
