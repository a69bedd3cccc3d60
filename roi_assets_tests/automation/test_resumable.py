"""A request of a morning runs to completion once: not again when it finished, and from its
failure when it was cut short."""

import datetime as dt
import os

import dagster as dg
import pytest

from roi_assets.automation.resumable import (
    FOREGROUND_LAUNCHERS,
    LAUNCHED_BY_TAG,
    REQUEST_TAG,
    fail_orphaned,
    fail_orphaned_runs,
    request_key,
    run_once,
)

BREAK_FLAG = "ROI_TEST_BREAK_SCORES"
HOLD_FLAG = "ROI_TEST_GATE_HOLDS_BACK"


@dg.asset
def model_version(context: dg.AssetExecutionContext) -> int:
    context.log.info("registering a model version")
    return 1


@dg.asset_check(asset=model_version, blocking=True)
def model_version_validation_gate() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=not os.environ.get(HOLD_FLAG))


@dg.asset(deps=[model_version])
def scores() -> int:
    if os.environ.get(BREAK_FLAG):
        raise RuntimeError("killed half-way")
    return 2


defs = dg.Definitions(
    assets=[model_version, scores],
    asset_checks=[model_version_validation_gate],
    jobs=[dg.define_asset_job("daily_refit")],
    # Re-execution reads the outputs the first attempt stored: as in the product, they persist.
    resources={"io_manager": dg.FilesystemIOManager()},
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
    latest, broken = instance.get_run_records(dg.RunsFilter(tags={REQUEST_TAG: KEY}))
    assert latest.dagster_run.parent_run_id == broken.dagster_run.run_id


def test_a_run_killed_before_its_first_step_is_executed_in_full(instance):
    job = defs.resolve_job_def("daily_refit")
    killed = instance.create_run_for_job(job, tags={REQUEST_TAG: KEY})
    fail_orphaned(instance, killed, "its process was killed")

    assert _run(instance)

    assert _materializations(instance, "model_version") == 1
    assert _materializations(instance, "scores") == 1


def test_a_run_held_back_by_its_gate_is_finished_unless_its_process_was_killed(
    instance, monkeypatch
):
    monkeypatch.setenv(HOLD_FLAG, "1")
    assert _run(instance)  # the gate's decision, not a breakdown
    assert _run(instance)
    attempts = instance.get_run_records(dg.RunsFilter(tags={REQUEST_TAG: KEY}))
    assert len(attempts) == 1

    fail_orphaned(instance, attempts[0].dagster_run, "its process was killed")
    assert _run(instance)

    assert len(instance.get_run_records(dg.RunsFilter(tags={REQUEST_TAG: KEY}))) == 2


def _started_run_holding_the_warehouse(instance: dg.DagsterInstance, tags: dict) -> str:
    job = defs.resolve_job_def("daily_refit")
    run = instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED, tags=tags)
    instance.event_log_storage.claim_concurrency_slot("warehouse", run.run_id, "scores")
    return run.run_id


@pytest.mark.parametrize("launcher", FOREGROUND_LAUNCHERS)
def test_a_foreground_run_a_killed_process_left_is_failed_and_frees_the_warehouse(
    instance, launcher
):
    instance.event_log_storage.set_concurrency_slots("warehouse", 1)
    orphan = _started_run_holding_the_warehouse(instance, {LAUNCHED_BY_TAG: launcher})

    assert fail_orphaned_runs(instance, "its process was killed") == 1

    assert instance.get_run_by_id(orphan).status == dg.DagsterRunStatus.FAILURE
    assert instance.event_log_storage.get_concurrency_info("warehouse").active_slot_count == 0
    assert fail_orphaned_runs(instance, "its process was killed") == 0


def test_a_run_the_daemon_launched_is_left_running(instance):
    instance.event_log_storage.set_concurrency_slots("warehouse", 1)
    daemons = _started_run_holding_the_warehouse(instance, {"dagster/schedule_name": "daily"})

    assert fail_orphaned_runs(instance, "its process was killed") == 0

    assert instance.get_run_by_id(daemons).status == dg.DagsterRunStatus.STARTED
    assert instance.event_log_storage.get_concurrency_info("warehouse").active_slot_count == 1


def test_the_same_request_on_another_morning_has_another_key():
    request = dg.RunRequest(partition_key="2025-10-03")
    monday, tuesday = dt.date(2025, 10, 6), dt.date(2025, 10, 7)

    assert request_key(monday, "ingest_daily", request) == request_key(
        monday, "ingest_daily", request
    )
    assert request_key(monday, "ingest_daily", request) != request_key(
        tuesday, "ingest_daily", request
    )
