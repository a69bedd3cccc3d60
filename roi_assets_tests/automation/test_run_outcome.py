import time

import dagster as dg

from roi_assets.automation.run_outcome import latest_run_outcome


@dg.asset
def candidate_model():
    return 1


@dg.asset_check(asset=candidate_model, blocking=True)
def candidate_gate():
    return dg.AssetCheckResult(passed=False)


@dg.asset(deps=[candidate_model])
def scores():
    return 2


@dg.asset_check(asset=candidate_model, blocking=False)
def second_model_validation_gate():
    return dg.AssetCheckResult(passed=False)


@dg.asset
def broken_step():
    raise RuntimeError("disk full")


def _run(assets, checks=()):
    instance = dg.DagsterInstance.ephemeral()
    job = dg.define_asset_job("refresh_all")
    defs = dg.Definitions(assets=assets, asset_checks=list(checks), jobs=[job])
    defs.resolve_job_def("refresh_all").execute_in_process(instance=instance, raise_on_error=False)
    return instance


def test_a_run_failed_only_by_a_blocking_gate_is_healthy_and_names_the_gate():
    outcome = latest_run_outcome(_run([candidate_model, scores], [candidate_gate]), "refresh_all")

    assert outcome.status == "FAILURE"
    assert outcome.healthy
    assert outcome.broken_steps == ()
    assert outcome.blocking_checks_failed == ("candidate_model_candidate_gate",)


def test_a_run_with_a_broken_step_is_not_healthy():
    outcome = latest_run_outcome(_run([candidate_model, broken_step]), "refresh_all")

    assert not outcome.healthy
    assert outcome.broken_steps == ("broken_step",)


def test_a_run_older_than_the_launch_does_not_answer_for_it():
    instance = _run([candidate_model])

    assert latest_run_outcome(instance, "refresh_all").healthy
    assert latest_run_outcome(instance, "refresh_all", started_after=time.time() + 60) is None


def test_a_failed_non_blocking_gate_leaves_the_run_successful_and_is_named():
    instance = _run([candidate_model, scores], [second_model_validation_gate])
    outcome = latest_run_outcome(instance, "refresh_all")

    assert outcome.status == "SUCCESS" and outcome.healthy
    assert outcome.gates_held_back == ("second_model_validation_gate",)
    assert outcome.blocking_checks_failed == ()


def test_a_run_failed_without_a_broken_step_or_a_gate_is_not_healthy():
    instance = dg.DagsterInstance.ephemeral()
    job = dg.Definitions(
        assets=[candidate_model], jobs=[dg.define_asset_job("refresh_all")]
    ).resolve_job_def("refresh_all")
    run = instance.create_run_for_job(job)
    instance.report_run_failed(run, "its process was killed")

    outcome = latest_run_outcome(instance, "refresh_all")

    assert outcome.status == "FAILURE" and outcome.broken_steps == ()
    assert not outcome.healthy
