"""The world's command line: `python -m roi_assets.simulator bootstrap | advance | status`.

It writes the landing zone and the truth schema of the product's data folder (ROI_DATA_DIR) and
reads the product's decisions from its BI copy, as the platform and the email service would.
"""

from __future__ import annotations

import argparse
import dataclasses

from roi_assets import settings
from roi_assets.simulator.environment import World
from roi_assets.simulator.scales import Drift, world_config


def default_world() -> World:
    """The world of the product's settings (ROI_SCALE, ROI_SEED, ROI_DATA_DIR), with the drift
    planted on live day ROI_LIVE_DRIFT_DAY (18 unless set; `off` for none)."""
    config = world_config(settings.simulation_scale(), settings.simulation_seed())
    drift_day = settings.live_drift_day()
    if drift_day is not None:
        config = dataclasses.replace(
            config, drift=Drift(start_day=config.scale.n_days + drift_day - 1)
        )
    return World(
        config,
        landing_dir=settings.landing_dir(),
        state_dir=settings.data_dir() / "world",
        warehouse_path=settings.warehouse_path(),
        bi_path=settings.bi_warehouse_path(),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m roi_assets.simulator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("bootstrap", help="write the legacy history (the days not written yet)")
    advance = commands.add_parser("advance", help="write the next day(s), acting on decisions")
    advance.add_argument("--days", type=int, default=1)
    commands.add_parser("status", help="print the world's last written day")
    args = parser.parse_args(argv)

    world = default_world()
    if args.command == "bootstrap":
        reports = world.bootstrap()
        print(f"wrote {len(reports)} days of history; the world stands on {world.today()}")
    elif args.command == "advance":
        for _ in range(args.days):
            report = world.advance()
            print(
                f"{report.date}: "
                + ", ".join(f"{source} {rows}" for source, rows in report.rows.items())
                + f"; {report.sends_decided_by_product} sends as the product decided, "
                f"{report.retention_actions} retention actions, {report.documents} documents"
            )
    else:
        print(world.today() or "not started: run bootstrap")


if __name__ == "__main__":
    main()
