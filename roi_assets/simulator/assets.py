"""The simulated world as an asset: the embedded default source of the landing zone."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from roi_assets import settings
from roi_assets.resources.storage import LandingZoneResource
from roi_assets.resources.warehouse import WAREHOUSE_POOL
from roi_assets.simulator import simulate_world, world_config
from roi_assets.simulator.documents.world import (
    INCOMING_FOLDER,
    LABELLED_FOLDER,
    document_plan,
    known_documents,
    write_document_landing,
    write_document_truth,
)
from roi_assets.simulator.truth import write_truth


class SimulationConfig(dg.Config):
    scale: str = settings.simulation_scale()
    seed: int = settings.simulation_seed()


@dg.asset(group_name="simulator", kinds={"python", "duckdb"}, pool=WAREHOUSE_POOL)
def simulated_world(
    context: dg.AssetExecutionContext,
    config: SimulationConfig,
    landing_zone: LandingZoneResource,
    duckdb: DuckDBResource,
) -> dg.MaterializeResult:
    """Known-truth world: writes the sources' files into the landing zone (only those missing)
    and the probabilities they were drawn from into the `truth` schema."""
    world = world_config(config.scale, config.seed)
    result = simulate_world(world, landing_zone.path)
    with duckdb.get_connection() as con:
        truth_rows = write_truth(con, result.truth)
    context.log.info("wrote %d new landing files", len(result.files_written))
    return dg.MaterializeResult(
        metadata={
            "scale": config.scale,
            "seed": config.seed,
            "new_landing_files": len(result.files_written),
            **{f"rows_{k}": v for k, v in result.row_counts.items()},
            **{f"truth_{k}": v for k, v in truth_rows.items()},
        }
    )


@dg.asset(
    group_name="documents",
    kinds={"python", "duckdb"},
    deps=[simulated_world],
    pool=WAREHOUSE_POOL,
)
def simulated_documents(
    context: dg.AssetExecutionContext,
    config: SimulationConfig,
    landing_zone: LandingZoneResource,
    duckdb: DuckDBResource,
) -> dg.MaterializeResult:
    """Scanned and born-digital documents arriving in landing/documents/ (with one broken or
    hostile file per intake defect) and an archive filed by type in landing/labelled_documents/;
    their types, clean text and entities go to truth.document_labels, the defects to
    truth.document_defects. Only documents not landed yet are drawn."""
    plan = document_plan(world_config(config.scale, config.seed).scale, config.seed)
    with duckdb.get_connection() as con:
        known = known_documents(con)
    landing = write_document_landing(plan, landing_zone.path, known)
    with duckdb.get_connection() as con:
        sizes = write_document_truth(con, landing)
    context.log.info("wrote %d new document files", len(landing.files_written))
    return dg.MaterializeResult(
        metadata={
            "incoming_documents": plan.n_incoming,
            "labelled_documents": plan.n_labelled,
            "bad_files": len(landing.defects),
            "scan_dpi": plan.dpi,
            "new_files": len(landing.files_written),
            "incoming_folder": dg.MetadataValue.path(str(landing_zone.path / INCOMING_FOLDER)),
            "labelled_folder": dg.MetadataValue.path(str(landing_zone.path / LABELLED_FOLDER)),
            **{f"rows_{table}": rows for table, rows in sizes.items()},
        }
    )
