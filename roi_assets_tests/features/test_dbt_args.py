"""How a run of the dbt assets tells dbt its days."""

import datetime as dt

import pytest

from roi_assets.features.dbt_args import (
    WINDOW_END,
    WINDOW_START,
    dbt_args,
    window_environment,
    window_vars,
)

DAY = dt.date(2025, 9, 1)
NEXT_DAY = dt.date(2025, 9, 2)


def test_a_day_is_passed_as_its_date_and_the_next_one_excluded():
    assert window_environment((DAY, NEXT_DAY)) == {
        WINDOW_START: "2025-09-01",
        WINDOW_END: "2025-09-02",
    }


def test_a_range_of_days_is_one_window():
    assert window_environment((DAY, dt.date(2025, 10, 3))) == {
        WINDOW_START: "2025-09-01",
        WINDOW_END: "2025-10-03",
    }


def test_without_a_window_dbt_builds_everything():
    assert window_environment(None) == {WINDOW_START: "", WINDOW_END: ""}
    assert dbt_args("build") == ["build", "--exclude-resource-type", "unit_test"]


def test_a_full_refresh_ignores_the_window():
    assert window_environment((DAY, NEXT_DAY), full_refresh=True) == {
        WINDOW_START: "",
        WINDOW_END: "",
    }
    assert dbt_args("build", full_refresh=True) == [
        "build",
        "--exclude-resource-type",
        "unit_test",
        "--full-refresh",
    ]


def test_only_the_test_suite_runs_dbts_unit_tests():
    assert "unit_test" in dbt_args("build")
    assert dbt_args("test") == ["test"]


def test_the_dbt_version_dagster_reads_from_the_package_is_the_executables():
    import subprocess

    from roi_assets.features.assets import dbt_resource

    resource = dbt_resource()
    printed = subprocess.run(
        [resource.dbt_executable, "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert f"installed: {resource._cli_version}" in printed


def test_an_empty_window_is_refused():
    with pytest.raises(ValueError, match="empty window"):
        window_environment((NEXT_DAY, DAY))
    with pytest.raises(ValueError, match="empty window"):
        window_vars(DAY, DAY)


def test_the_dbt_assets_are_daily_and_a_backfill_is_one_dbt_run():
    import dagster as dg

    from roi_assets.features.assets import dbt_models
    from roi_assets.ingestion.partitions import daily_partitions

    assert dbt_models.partitions_def == daily_partitions
    assert dbt_models.backfill_policy == dg.BackfillPolicy.single_run()
