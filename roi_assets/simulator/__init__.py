"""Known-truth simulator: the product's embedded default source and its yardstick."""

from roi_assets.simulator.scales import SCALES, Drift, Scale, WorldConfig, world_config
from roi_assets.simulator.world import SimulationResult, simulate_world

__all__ = [
    "SCALES",
    "Drift",
    "Scale",
    "SimulationResult",
    "WorldConfig",
    "simulate_world",
    "world_config",
]
