"""Crash consistency of the product's writers: SIGKILL a tiny deployment's jobs at random points,
re-run them, and compare with an uninterrupted run.

Stages, in the order `make run` and `make live` take them, each a process of its own:
- ingest: `automation.catch_up`, the landing zone's history into raw.* and the dbt features;
- train: `refresh_all` with the tiny budgets (training, registration and aliases, the bandit's
  posterior update, the marts, monitoring);
- bi: `publish_bi`, the BI copy;
- live: one live day (`simulator.live --days 1`: the world's day, then the product's morning).

First the stages run uninterrupted, each from the previous one's end state (the reference). Then,
per stage, each kill point starts from a copy of the state before the stage, kills the stage's
process group at a delay drawn in its own slice of the reference's writing time, checks that the
BI copy reads whole, re-runs the stage as an operator would (unfinished runs marked failed and
their pool slots freed, as `make live` does), and compares: every table's row count and keyed
checksum against the reference's, every registry alias on a version that finished registering
with its model files, and the BI copy readable. Columns left out of the checksums: wall-clock
stamps (`*_at`, `*seconds`), and, after training, registry version numbers (`*version*`): a
killed run may have registered versions, so the re-run's numbers are higher by design. For the
same reason the rows of versions no alias points to (a killed run's, superseded candidates) are
left out of the tables keyed by model and version, in both runs.

    .venv/bin/python benchmarks/chaos.py --workdir /tmp/chaos --kills 4
    .venv/bin/python benchmarks/chaos.py --workdir /tmp/chaos --prepare-only   # for soak.py
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from machine import load_average, machine_description

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

from roi_assets_tests.crash_harness import (  # noqa: E402
    WRITING,
    copy_deployment,
    crash_and_rerun,
    kill_delays,
    python_command,
    run_to_completion,
)

STAGES = ("ingest", "train", "bi", "live")
VERSION_COLUMN = re.compile(r"version")
UNFINISHED = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING")


def environment(folder: Path) -> dict[str, str]:
    """A tiny deployment in `folder`: data, Dagster home, registry all inside it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROI_", "MLFLOW_"))}
    return {
        **env,
        "PYTHONPATH": str(REPOSITORY),
        "ROI_DATA_DIR": str(folder),
        "ROI_SCALE": "tiny",
        "DAGSTER_HOME": str(folder / "dagster_home"),
        "OMP_THREAD_LIMIT": "1",
    }


def fail_unfinished_runs() -> int:
    """Runs a killed process left unfinished: failed, their pool slots freed (the product runs
    one writer at a time, so every unfinished run is an orphan when a stage starts)."""
    import dagster as dg

    from roi_assets.automation.resumable import fail_orphaned

    with dg.DagsterInstance.get() as instance:
        statuses = [dg.DagsterRunStatus[name] for name in UNFINISHED]
        records = instance.get_run_records(filters=dg.RunsFilter(statuses=statuses))
        for record in records:
            fail_orphaned(instance, record.dagster_run, "its process was killed")
        return len(records)


def run_stage(stage: str) -> int:
    """One stage in this process (`chaos.py --stage NAME`), after WRITING."""
    import dagster as dg

    from roi_assets.automation.tiny_run import TINY_RUN_CONFIG
    from roi_assets.definitions import defs

    fail_unfinished_runs()
    print(WRITING, flush=True)
    if stage == "ingest":
        from roi_assets.automation.catch_up import main as catch_up

        return catch_up()
    if stage == "live":
        from roi_assets.simulator.live import live

        return 0 if live(days=1) in (0, 1) else 2
    job = {"train": "refresh_all", "bi": "publish_bi"}[stage]
    config = TINY_RUN_CONFIG if stage == "train" else None
    with dg.DagsterInstance.get() as instance:
        result = defs.resolve_job_def(job).execute_in_process(
            instance=instance, run_config=config, raise_on_error=False
        )
    print(f"{job}: {'success' if result.success else 'failed steps (gates included)'}")
    return 0


def bootstrap(folder: Path, log: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "dagster_home").mkdir()
    shutil.copy(REPOSITORY / "dagster.yaml", folder / "dagster_home" / "dagster.yaml")
    command = python_command("-m", "roi_assets.simulator", "bootstrap")
    with log.open("ab") as out:
        subprocess.run(command, env=environment(folder), check=True, stdout=out, stderr=out)


def registry_checks(folder: Path) -> list[str]:
    from mlflow import MlflowClient

    from roi_assets.resources.consistency import registry_problems

    if not (folder / "mlflow.db").exists():
        return []
    return registry_problems(MlflowClient(f"sqlite:///{folder / 'mlflow.db'}"))


def alias_less_versions(folder: Path) -> frozenset[tuple[str, str]]:
    """The deployment's registered versions no alias points to (their records are left out of
    the comparison: `consistency.versions_without_alias`)."""
    from mlflow import MlflowClient

    from roi_assets.resources.consistency import versions_without_alias

    if not (folder / "mlflow.db").exists():
        return frozenset()
    return versions_without_alias(MlflowClient(f"sqlite:///{folder / 'mlflow.db'}"))


def stage_command(stage: str):
    return lambda folder: python_command(str(Path(__file__).resolve()), "--stage", stage)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/roi_chaos"))
    parser.add_argument("--kills", type=int, default=4, help="kill points per stage")
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prepare-only", action="store_true")
    args = parser.parse_args()
    if args.stage:
        return run_stage(args.stage)

    from roi_assets.resources.consistency import warehouse_fingerprint

    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "chaos.log"
    print(machine_description())
    print(f"load average before: {load_average()}; work folder {workdir}")
    states = [workdir / f"state{i}" for i in range(len(STAGES) + 1)]
    if not states[0].exists():
        began = time.monotonic()
        bootstrap(states[0], log)
        print(f"world bootstrapped in {time.monotonic() - began:.0f} s")
    timings = workdir / "writing_seconds.txt"
    writing: dict[str, float] = ast.literal_eval(timings.read_text()) if timings.exists() else {}
    for i, stage in enumerate(STAGES):
        if states[i + 1].exists() and stage in writing:  # finished before
            continue
        # In place: the registry keeps absolute artifact paths, which a renamed folder would
        # leave pointing nowhere (and every later copy's aliases with them).
        folder = copy_deployment(states[i], states[i + 1])
        began = time.monotonic()
        code, seconds = run_to_completion(
            stage_command(stage)(folder), environment(folder), log, 7200
        )
        if code != 0:
            shutil.rmtree(folder)
            print(f"reference {stage} failed with {code}: see {log}")
            return 2
        writing[stage] = seconds
        timings.write_text(repr(writing))
        print(f"reference {stage}: {time.monotonic() - began:.0f} s ({seconds:.0f} s writing)")
    if args.prepare_only:
        print(f"prepared deployments: {', '.join(str(s) for s in states[1:])}")
        return 0
    tried = killed = 0
    inconsistencies: list[str] = []
    for i, stage in enumerate(STAGES):
        if stage not in args.stages.split(","):
            continue
        registered = i >= STAGES.index("train")
        pattern = VERSION_COLUMN if registered else None
        left_out = alias_less_versions if registered else lambda folder: frozenset()
        expected = warehouse_fingerprint(
            states[i + 1] / "warehouse.duckdb", None, pattern, left_out(states[i + 1])
        )
        seconds = writing[stage]
        for delay in kill_delays(seconds, args.kills, args.seed + i):
            outcome = crash_and_rerun(
                stage,
                stage_command(stage),
                environment,
                states[i],
                expected,
                workdir / "kills",
                delay,
                ignore_pattern=pattern,
                extra_checks=registry_checks,
                left_out_versions=left_out,
                timeout_s=7200,
            )
            tried += 1
            killed += outcome.killed
            verdict = "consistent" if not outcome.problems else "; ".join(outcome.problems)
            print(f"  {stage} killed at {delay:6.1f} s of {seconds:.0f} s: {verdict}", flush=True)
            inconsistencies += [f"{stage} @ {delay:.1f} s: {p}" for p in outcome.problems]
    print(f"\n{tried} kill points tried ({killed} killed mid-write, the others had finished), "
          f"{len(inconsistencies)} inconsistencies")  # fmt: skip
    for line in inconsistencies:
        print(f"  {line}")
    print(f"load average after: {load_average()}")
    return 1 if inconsistencies else 0


if __name__ == "__main__":
    sys.exit(main())
