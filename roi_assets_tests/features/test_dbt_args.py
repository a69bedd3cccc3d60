"""The dbt command line of a run of the dbt assets."""

import datetime as dt
import json

import pytest

from roi_assets.features.dbt_args import dbt_args, window_vars

DAY = dt.date(2025, 9, 1)
NEXT_DAY = dt.date(2025, 9, 2)


def _vars(args: list[str]) -> dict[str, str]:
    return json.loads(args[args.index("--vars") + 1])


def test_a_day_is_passed_as_its_date_and_the_next_one_excluded():
    args = dbt_args("build", (DAY, NEXT_DAY))
    assert args[0] == "build"
    assert _vars(args) == {"min_date": "2025-09-01", "max_date": "2025-09-02"}


def test_a_range_of_days_is_one_window():
    assert _vars(dbt_args("build", (DAY, dt.date(2025, 10, 3)))) == {
        "min_date": "2025-09-01",
        "max_date": "2025-10-03",
    }


def test_without_a_window_dbt_builds_everything():
    assert dbt_args("build") == ["build"]


def test_a_full_refresh_ignores_the_window():
    assert dbt_args("build", (DAY, NEXT_DAY), full_refresh=True) == ["build", "--full-refresh"]


def test_an_empty_window_is_refused():
    with pytest.raises(ValueError, match="empty window"):
        window_vars(NEXT_DAY, DAY)
    with pytest.raises(ValueError, match="empty window"):
        window_vars(DAY, DAY)


def test_the_dbt_assets_are_daily_and_a_backfill_is_one_dbt_run():
    import dagster as dg

    from roi_assets.features.assets import dbt_models
    from roi_assets.ingestion.partitions import daily_partitions

    assert dbt_models.partitions_def == daily_partitions
    assert dbt_models.backfill_policy == dg.BackfillPolicy.single_run()
