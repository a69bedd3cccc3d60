"""Scaling table: wall time, CPU time and peak memory of each stage of the product, per world size.

For each scale it bootstraps a world in a fresh data folder and runs the product's stages as
`make run` does, each in a child process of its own, and measures it:

- `world`: the world writes its history into the landing zone (`python -m roi_assets.simulator
  bootstrap`), outside the product;
- `ingest+features`: every landed day ingested into `raw.*` and the dbt models built, as one
  backfill run of `ingest_daily` (`python -m roi_assets.automation.catch_up`);
- `train+score`: `refresh_all` (training, evaluation, scoring, explanations, fairness; `dagster job
  execute -j refresh_all`), with --with-training only: tens of minutes at the default scale.

It prints one row per scale and stage, then how each stage's cost grew from one scale to the next
against the growth of the world (client-days): an exponent near 1 is linear growth, the baseline
every stage is held to in the same run. Peak RSS is the largest single process of the stage
(DuckDB's memory limit applies: settings.duckdb_memory_limit()).

    .venv/bin/python benchmarks/scaling.py [--scales tiny default large] [--with-training]
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from machine import load_average, machine_description

from roi_assets import settings
from roi_assets.runner import STEP_EVENT, only_gates
from roi_assets.simulator import SCALES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class StageCost:
    scale: str
    stage: str
    wall_s: float
    cpu_s: float
    peak_rss_gib: float


def stages(with_training: bool) -> list[tuple[str, list[str]]]:
    """The stages in order, each as the command `make run` uses for it."""
    steps = [
        ("world", [str(BIN / "python"), "-m", "roi_assets.simulator", "bootstrap"]),
        ("ingest+features", [str(BIN / "python"), "-m", "roi_assets.automation.catch_up"]),
    ]
    if with_training:
        dagster = [str(BIN / "dagster"), "job", "execute", "-m", "roi_assets.definitions"]
        steps.append(("train+score", [*dagster, "-j", "refresh_all"]))
    return steps


def client_days(scale: str) -> int:
    """The size of a world: its clients times its days of history."""
    return SCALES[scale].n_clients * SCALES[scale].n_days


def only_gates_failed(log_text: str) -> bool:
    """Whether the steps that failed in a stage's log are all validation gates holding their
    candidates back (`make run` counts such a run as done; a small world's models often fail
    their gates)."""
    return only_gates(
        [step for step, event in STEP_EVENT.findall(log_text) if event == "STEP_FAILURE"]
    )


def measure(
    scale: str, stage: str, command: list[str], env: dict[str, str], log: Path
) -> StageCost:
    """Runs one stage to completion and reads its resource usage (wait4: the stage's process and
    the children it waited for)."""
    start = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=out)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0 and not only_gates_failed(log.read_text()):
        print(log.read_text()[-3000:])
        raise RuntimeError(f"{stage} at {scale} failed; its log is above")
    return StageCost(scale, stage, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 2**20)


def run_scale(scale: str, with_training: bool, root: Path) -> list[StageCost]:
    data_dir = root / scale
    env = {
        **os.environ,
        settings.ENV_DATA_DIR: str(data_dir),
        settings.ENV_SCALE: scale,
        "DAGSTER_HOME": str(data_dir / "dagster_home"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    env.pop(settings.ENV_WAREHOUSE_PATH, None)
    env.pop(settings.ENV_LANDING_DIR, None)
    (data_dir / "dagster_home").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "dagster.yaml", data_dir / "dagster_home" / "dagster.yaml")
    costs = []
    for stage, command in stages(with_training):
        cost = measure(scale, stage, command, env, data_dir / f"{stage}.log")
        print(
            f"{scale:8s} {stage:16s} {cost.wall_s:9.1f} s {cost.cpu_s:9.1f} s "
            f"{cost.peak_rss_gib:8.2f} GiB",
            flush=True,
        )
        costs.append(cost)
    return costs


def growth_lines(costs: list[StageCost], scales: list[str]) -> list[str]:
    """Per stage and pair of consecutive scales: how many times the CPU time grew, against the
    world's growth, and the exponent b of cost ~ size^b (1: linear)."""
    lines = []
    by_key = {(c.scale, c.stage): c for c in costs}
    for small, big in itertools.pairwise(scales):
        size_ratio = client_days(big) / client_days(small)
        for stage in dict.fromkeys(c.stage for c in costs):
            before, after = by_key.get((small, stage)), by_key.get((big, stage))
            if before is None or after is None or before.cpu_s <= 0:
                continue
            ratio = after.cpu_s / before.cpu_s
            exponent = math.log(ratio) / math.log(size_ratio)
            lines.append(
                f"ratio {stage} CPU {big}/{small} = {ratio:.1f} for {size_ratio:.1f}x the "
                f"client-days: cost ~ size^{exponent:.2f}"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["tiny", "default"], choices=sorted(SCALES))
    parser.add_argument("--with-training", action="store_true", help="also time refresh_all")
    args = parser.parse_args(argv)
    scales = sorted(args.scales, key=client_days)

    print(machine_description())
    print(
        f"scales {', '.join(scales)}; DuckDB memory_limit {settings.duckdb_memory_limit()}; "
        f"load average at start {load_average()}"
    )
    print(f"{'scale':8s} {'stage':16s} {'wall':>11s} {'CPU':>11s} {'peak RSS':>12s}")
    root = Path(tempfile.mkdtemp(prefix="roi_scaling_"))
    try:
        costs = [cost for scale in scales for cost in run_scale(scale, args.with_training, root)]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for line in growth_lines(costs, scales):
        print(line)
    print(f"load average at end {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
