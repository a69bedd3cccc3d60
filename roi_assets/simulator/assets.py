"""The simulated world as an asset: the embedded default source of the landing zone."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from roi_assets import settings
from roi_assets.resources.storage import LandingZoneResource
from roi_assets.resources.warehouse import WAREHOUSE_POOL
from roi_assets.simulator import simulate_world, world_config
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
