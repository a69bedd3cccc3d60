"""A world's history in one call, for benchmarks and tests that need landing files and truth.

The product's own deployments drive a `World` through its clock (`python -m roi_assets.simulator`);
this runs the same bootstrap into a folder and hands back the truth it recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from roi_assets.simulator.environment import World
from roi_assets.simulator.scales import WorldConfig
from roi_assets.simulator.truth import TRUTH_SCHEMA, Truth


@dataclass
class SimulationResult:
    truth: Truth
    files_written: list[Path] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)


def simulate_world(
    config: WorldConfig, landing_dir: Path, warehouse_path: Path | None = None
) -> SimulationResult:
    """Bootstrap the world's history into `landing_dir` (its clock state beside it) and return
    its truth; truth tables go to `warehouse_path` when given, else to a file in the state folder
    (a second call on the same folder writes nothing and reads the truth back)."""
    landing_dir = Path(landing_dir)
    before = set(landing_dir.rglob("*"))
    state_dir = landing_dir.parent / f"{landing_dir.name}.world_state"
    state_dir.mkdir(parents=True, exist_ok=True)
    warehouse = Path(warehouse_path or state_dir / "world.duckdb")
    world = World(config, landing_dir, state_dir, warehouse)
    reports = world.bootstrap()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        truth = Truth(
            **{
                name: con.execute(f"select * from {TRUTH_SCHEMA}.{name}").df()
                for name in (
                    "email_send_probabilities",
                    "churn_probabilities",
                    "best_send_hours",
                    "send_hour_probabilities",
                    "content_ctr",
                    "client_traits",
                )
            }
        )
    counts: dict[str, int] = {}
    for report in reports:
        for source, rows in report.rows.items():
            counts[source] = counts.get(source, 0) + rows
    files = sorted(p for p in set(landing_dir.rglob("*")) - before if p.is_file())
    return SimulationResult(truth=truth, files_written=files, row_counts=counts)
