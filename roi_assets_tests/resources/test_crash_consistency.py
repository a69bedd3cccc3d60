"""A writer killed with SIGKILL at a random point and run again leaves the warehouse an
uninterrupted run leaves (row counts and keyed checksums per table), and the BI copy is never torn.

A handful of kill points on the light writers (the landing-zone loader, the bandit's posterior
update, the BI publication), on copies of the session's ingested tiny deployment;
`benchmarks/chaos.py` kills the product's jobs (ingestion and dbt, training and registration,
marts, a live day) at many more points.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from roi_assets import settings
from roi_assets.resources.consistency import warehouse_fingerprint
from roi_assets_tests.crash_harness import (
    crash_and_rerun,
    kill_delays,
    python_command,
    run_to_completion,
)

KILLS_PER_WRITER = 2
WRITER = "roi_assets_tests.crash_writers"
REPOSITORY = Path(__file__).resolve().parents[2]


def _env(folder: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPOSITORY), "ROI_DATA_DIR": str(folder)}


def _copy_warehouse(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    source = settings.warehouse_path()
    for path in (source, source.with_name(source.name + ".wal")):
        if path.exists():
            shutil.copy2(path, target / path.name.replace(source.name, "warehouse.duckdb"))
    return target


def _check_writer(stage, command_for, before: Path, workdir: Path, compared: str, seed: int):
    reference = workdir / "reference"
    shutil.copytree(before, reference)
    code, seconds = run_to_completion(
        command_for(reference), _env(reference), workdir / f"{stage}.log", 600
    )
    assert code == 0, (workdir / f"{stage}.log").read_text()[-2000:]
    expected = warehouse_fingerprint(reference / compared)
    assert expected, "the writer wrote tables to compare"
    outcomes = [
        crash_and_rerun(
            stage, command_for, _env, before, expected, workdir, delay,
            warehouse=compared, timeout_s=600,
        )
        for delay in kill_delays(seconds, KILLS_PER_WRITER, seed)
    ]  # fmt: skip
    assert [o.problems for o in outcomes] == [[]] * len(outcomes), outcomes
    return outcomes


@pytest.fixture(scope="module")
def ingested(lived_instance, tmp_path_factory) -> Path:
    """A copy of the session's warehouse after its history was ingested."""
    return _copy_warehouse(tmp_path_factory.mktemp("crash_ingested"))


def test_a_killed_load_of_the_landing_zone_loses_and_duplicates_no_row(lived_instance, tmp_path):
    before = tmp_path / "empty"
    before.mkdir()
    landing = settings.landing_dir()

    def command(folder: Path) -> list[str]:
        return python_command(
            "-m", WRITER, "ingest", str(folder / "warehouse.duckdb"), str(landing)
        )

    _check_writer("ingest", command, before, tmp_path, "warehouse.duckdb", seed=1)


def test_a_killed_posterior_update_is_absorbed_once_on_the_re_run(ingested, tmp_path):
    before = tmp_path / "before"
    shutil.copytree(ingested, before)

    def command(folder: Path) -> list[str]:
        return python_command("-m", WRITER, "posteriors", str(folder / "warehouse.duckdb"))

    _check_writer("posteriors", command, before, tmp_path, "warehouse.duckdb", seed=2)


def test_a_killed_publication_never_tears_the_bi_copy_and_the_re_run_completes_it(
    ingested, tmp_path
):
    before = tmp_path / "before"
    shutil.copytree(ingested, before)
    (before / "bi.duckdb").write_bytes(b"")  # replaced below by a first, complete publication
    first = run_to_completion(
        python_command("-m", WRITER, "publish", str(before / "warehouse.duckdb"),
                       str(before / "bi.duckdb")),
        _env(before), tmp_path / "first.log", 600,
    )  # fmt: skip
    assert first[0] == 0

    def command(folder: Path) -> list[str]:
        warehouse, target = folder / "warehouse.duckdb", folder / "bi.duckdb"
        return python_command("-m", WRITER, "publish", str(warehouse), str(target))

    _check_writer("publish", command, before, tmp_path, "bi.duckdb", seed=3)
