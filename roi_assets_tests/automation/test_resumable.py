"""A request of a morning runs to completion once: not again when it finished, and from its
failure when it was cut short."""

import datetime as dt
import os

import dagster as dg
import pytest

from roi_assets.automation.resumable import ORPHANED_TAG, REQUEST_TAG, request_key, run_once

BREAK_FLAG = "ROI_TEST_BREAK_SCORES"


@dg.asset
def model_version(context: dg.AssetExecutionContext) -> int:
    context.log.info("registering a model version")
    return 1


@dg.asset(deps=[model_version])
def scores() -> int:
    if os.environ.get(BREAK_FLAG):
        raise RuntimeError("killed half-way")
    return 2


defs = dg.Definitions(
    assets=[model_version, scores],
    jobs=[dg.define_asset_job("daily_refit")],
    executor=dg.in_process_executor,
)
MODULE = __name__
KEY = request_key(dt.date(2025, 10, 3), "daily_refit", dg.RunRequest())


@pytest.fixture
def instance(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        yield instance


def _materializations(instance: dg.DagsterInstance, asset: str) -> int:
    return len(instance.fetch_materializations(dg.AssetKey(asset), limit=100).records)


def _run(instance: dg.DagsterInstance) -> bool:
    return run_once(instance, "daily_refit", dg.RunRequest(), KEY, {}, MODULE)


def test_a_finished_request_is_not_run_again(instance):
    assert _run(instance)
    assert _run(instance)

    assert _materializations(instance, "model_version") == 1
    assert len(instance.get_run_records(dg.RunsFilter(tags={REQUEST_TAG: KEY}))) == 1


def test_a_broken_request_is_re_executed_from_its_failure(instance, monkeypatch):
    monkeypatch.setenv(BREAK_FLAG, "1")
    assert not _run(instance)
    monkeypatch.delenv(BREAK_FLAG)

    assert _run(instance)

    assert _materializations(instance, "model_version") == 1  # kept from the first attempt
    assert _materializations(instance, "scores") == 1
    latest = instance.get_run_records(dg.RunsFilter(tags={REQUEST_TAG: KEY}), limit=1)[0]
    assert latest.dagster_run.parent_run_id is not None


def test_a_run_whose_process_was_killed_is_not_taken_for_finished(instance):
    assert _run(instance)
    first = instance.get_run_records(dg.RunsFilter(tags={REQUEST_TAG: KEY}))[0].dagster_run
    instance.add_run_tags(first.run_id, {ORPHANED_TAG: "true"})

    assert _run(instance)

    assert len(instance.get_run_records(dg.RunsFilter(tags={REQUEST_TAG: KEY}))) == 2


def test_the_same_request_on_another_morning_has_another_key():
    request = dg.RunRequest(partition_key="2025-10-03")
    monday, tuesday = dt.date(2025, 10, 6), dt.date(2025, 10, 7)

    assert request_key(monday, "ingest_daily", request) == request_key(
        monday, "ingest_daily", request
    )
    assert request_key(monday, "ingest_daily", request) != request_key(
        tuesday, "ingest_daily", request
    )
