"""The BI copy follows every finished run of a writing job, failed runs included."""

import dagster as dg

from roi_assets.automation.jobs import publish_bi, refresh_all
from roi_assets.automation.sensors import WRITING_JOBS, publish_bi_sensors
from roi_assets.definitions import defs


def _finished_run(
    instance: dg.DagsterInstance, fail: bool
) -> tuple[dg.DagsterRun, dg.DagsterEvent]:
    @dg.op
    def step() -> None:
        if fail:
            raise RuntimeError("a step broke")

    @dg.job(name="writing_job")
    def writing_job() -> None:
        step()

    result = writing_job.execute_in_process(instance=instance, raise_on_error=False)
    run = instance.get_run_by_id(result.run_id)
    status_event = dg.DagsterEventType.RUN_FAILURE if fail else dg.DagsterEventType.RUN_SUCCESS
    record = instance.get_records_for_run(result.run_id, of_type=status_event).records[0]
    return run, record.event_log_entry.dagster_event


def test_the_bi_copy_is_not_a_step_of_the_refresh_so_a_blocking_gate_cannot_skip_it():
    graph = defs.resolve_asset_graph()
    assert dg.AssetKey("bi_warehouse_copy") not in refresh_all.selection.resolve(graph)
    assert publish_bi.selection.resolve(graph) == {dg.AssetKey("bi_warehouse_copy")}


def test_a_failed_and_a_successful_run_each_request_one_publication():
    instance = dg.DagsterInstance.ephemeral()
    by_status = {sensor.name: sensor for sensor in publish_bi_sensors}
    for fail, name in ((True, "publish_bi_after_failure"), (False, "publish_bi_after_success")):
        run, event = _finished_run(instance, fail)
        context = dg.build_run_status_sensor_context(
            sensor_name=name, dagster_event=event, dagster_instance=instance, dagster_run=run
        )
        request = by_status[name](context)
        assert request.run_key == run.run_id  # a second evaluation of the same run is deduplicated


def test_the_sensors_launch_the_publication_for_the_writing_jobs_only():
    for sensor in publish_bi_sensors:
        assert sensor.job_name == publish_bi.name
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    watched = {job.name for job in WRITING_JOBS}
    assert {refresh_all.name, "monitoring_daily", "advance_deployments"} <= watched
    assert publish_bi.name not in watched  # publishing must not trigger itself
