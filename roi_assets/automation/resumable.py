"""A scheduled request runs to completion once, even when the process running it is killed.

`make live` plays each morning's run requests in its own process. When that process is killed
half-way, the morning is played again, and running its requests afresh would not give the day an
uninterrupted run gives: a finished refit would register new model versions and move the aliases
the first run had set, and the morning's marts would be served by a deployment that the killed
run's later rollout step had already moved. So, as the daemon's run retries with the
`FROM_FAILURE` strategy do, each request is keyed (`REQUEST_TAG`): a request whose run finished is
not run again, and one whose run broke or was cut short is re-executed from failure with
Dagster's own re-execution — the steps that succeeded keep their outputs, the rest run.
"""

from __future__ import annotations

import datetime as dt
import gc
import importlib

import dagster as dg

from roi_assets.automation.run_outcome import run_outcome

REQUEST_TAG = "roi/request"
ORPHANED_TAG = "roi/orphaned"  # set on a run whose process was killed while it ran
LAUNCHED_BY_TAG = "roi/launched_by"
# The drivers that run jobs in their own process, one at a time and never two at once (each
# writes the warehouse): `make run`'s stages, `make live`, the landing zone's catch-up and the
# landed documents' runs. A run of theirs still unfinished when one of them starts is an orphan.
FOREGROUND_LAUNCHERS = ("make run", "make live", "catch_up", "process_landed")
UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def request_key(day: dt.date, job_name: str, request: dg.RunRequest) -> str:
    """The same request of the same morning gets the same key on every attempt."""
    parts = (day.isoformat(), job_name, request.partition_key or "-", request.run_key or "-")
    return ":".join(parts)


def fail_orphaned(instance: dg.DagsterInstance, run: dg.DagsterRun, reason: str) -> None:
    """Mark a run whose process was killed failed, and free its warehouse-pool slots (otherwise
    the next runs wait for them forever). Tagged, so that it is never taken for finished even when
    a gate had already blocked its candidate before the kill."""
    instance.add_run_tags(run.run_id, {ORPHANED_TAG: "true"})
    instance.report_run_failed(run, reason)
    instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)


def fail_orphaned_runs(instance: dg.DagsterInstance, reason: str) -> int:
    """Runs of the foreground drivers that a killed process left unfinished: failed, their
    warehouse-pool slots freed (otherwise every later run waits for the pool forever). Runs the
    daemon launched (`make ui`) are not the drivers' to judge and are left alone."""
    orphans = [
        record.dagster_run
        for launcher in FOREGROUND_LAUNCHERS
        for record in instance.get_run_records(
            filters=dg.RunsFilter(statuses=UNFINISHED, tags={LAUNCHED_BY_TAG: launcher})
        )
    ]
    for run in orphans:
        fail_orphaned(instance, run, reason)
    return len(orphans)


def job_named(definitions_module: str, job_name: str) -> dg.JobDefinition:
    """A job of the `defs` in `definitions_module` (the reconstructor Dagster's re-execution
    imports)."""
    return importlib.import_module(definitions_module).defs.resolve_job_def(job_name)


def run_once(
    instance: dg.DagsterInstance,
    job_name: str,
    request: dg.RunRequest,
    key: str,
    tags: dict[str, str],
    definitions_module: str = "roi_assets.definitions",
) -> bool:
    """Run `request` unless a run with its key finished; re-execute an attempt that did not from
    its failure. True unless a step broke (a validation gate holding back a candidate is the
    product's decision)."""
    tags = {**(request.tags or {}), **tags, REQUEST_TAG: key}
    previous = _latest_attempt(instance, key)
    if previous is not None and _finished(instance, previous):
        return True
    if previous is not None and previous.status == dg.DagsterRunStatus.FAILURE:
        if not _steps_left(instance, previous):  # killed after its last step
            return True
        result = dg.execute_job(
            dg.build_reconstructable_job(
                __name__, job_named.__name__, (definitions_module, job_name)
            ),
            instance,
            tags=tags,
            reexecution_options=dg.ReexecutionOptions.from_failure(previous.run_id, instance),
        )
    else:
        result = job_named(definitions_module, job_name).execute_in_process(
            instance=instance,
            run_config=request.run_config or None,
            partition_key=request.partition_key,
            asset_selection=request.asset_selection,
            tags=tags,
            raise_on_error=False,
        )
    run = instance.get_run_by_id(result.run_id)
    success = result.success or run_outcome(instance, run).healthy
    # A failed step's exception and the frames it holds form reference cycles that keep that
    # step's DuckDB connection, and DuckDB's hold on the warehouse file, until the cycle
    # collector runs (dagster-duckdb closes connections only after blocks that succeeded). This
    # process goes on opening the file (read-only for the day line, dbt from a subprocess), so
    # after a failed step the cycles are collected now rather than whenever the collector next
    # runs. A full collection walks every object of the process (0.5 s and more once models are
    # loaded): a run whose steps all succeeded leaves no such cycle and skips it.
    failed_step = not result.success
    del result
    if failed_step:
        gc.collect()
    return success


def _latest_attempt(instance: dg.DagsterInstance, key: str) -> dg.DagsterRun | None:
    records = instance.get_run_records(filters=dg.RunsFilter(tags={REQUEST_TAG: key}), limit=1)
    return records[0].dagster_run if records else None


def _finished(instance: dg.DagsterInstance, run: dg.DagsterRun) -> bool:
    if run.tags.get(ORPHANED_TAG):
        return False
    return run_outcome(instance, run).healthy


def _steps_left(instance: dg.DagsterInstance, run: dg.DagsterRun) -> set[str]:
    """The steps of the run's plan that did not succeed (Dagster refuses a re-execution with
    none)."""
    plan = instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
    succeeded = {
        record.dagster_event.step_key
        for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
    }
    return set(plan.step_keys_to_execute) - succeeded
