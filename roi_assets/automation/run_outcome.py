"""What the latest run of a job came to, read from the Dagster instance: for `make run`'s verdict.

Dagster marks a run failed when a blocking check fails, because the check's step raises. For the
product that is a decision, not a breakdown: the gate kept an unfit candidate from being promoted
and the champion (if any) keeps serving. So the outcome separates the two: steps that broke, and
validation gates that blocked. A non-blocking validation gate that failed held back only its own
candidate (e.g. the click model, a long churn window): the run succeeds, and the outcome names it.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

# The error a step raises when its blocking asset check did not pass.
BLOCKED_BY_CHECK = "DagsterAssetCheckFailedError"
GATE_SUFFIX = "validation_gate"  # how the product names its validation gates


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    status: str
    broken_steps: tuple[str, ...]
    blocking_checks_failed: tuple[str, ...]
    gates_held_back: tuple[str, ...] = ()

    @property
    def healthy(self) -> bool:
        """True when the run succeeded or failed only because gates blocked candidates (a run
        failed with neither, e.g. one whose process was killed, is not)."""
        if self.status == "SUCCESS":
            return True
        blocked_only = bool(self.blocking_checks_failed) and not self.broken_steps
        return self.status == "FAILURE" and blocked_only


def latest_run_outcome(
    instance: dg.DagsterInstance, job_name: str, started_after: float = 0.0
) -> RunOutcome | None:
    """The outcome of the job's most recent run in `instance` that started after the given Unix
    time, None when there is none (the run never started: an older run must not answer for it)."""
    records = instance.get_run_records(filters=dg.RunsFilter(job_name=job_name), limit=1)
    if not records or (records[0].start_time or 0.0) < started_after:
        return None
    return run_outcome(instance, records[0].dagster_run)


def run_outcome(instance: dg.DagsterInstance, run: dg.DagsterRun) -> RunOutcome:
    """What one run came to: its status, the steps that broke, the gates that blocked or held
    back their candidates."""
    broken, blocked = [], []
    for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
        error = event.event_specific_data.error if event.event_specific_data else None
        if error is not None and error.cls_name == BLOCKED_BY_CHECK:
            blocked.append(event.step_key)
        else:
            broken.append(event.step_key)
    held_back = []
    for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.dagster_event.event_specific_data
        if (
            not evaluation.passed
            and not evaluation.blocking
            and evaluation.check_name.endswith(GATE_SUFFIX)
        ):
            held_back.append(evaluation.check_name)
    return RunOutcome(
        run.run_id, run.status.value, tuple(broken), tuple(blocked), tuple(sorted(held_back))
    )
