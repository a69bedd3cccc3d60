"""The arrival sensor: one partition and one run per new content, resumed by cursor, in batches;
a known document requested again only when no run of it succeeded or is in flight."""

from __future__ import annotations

import time

import boto3
import dagster as dg
import pytest
from moto import mock_aws

from roi_assets.documents import sensors
from roi_assets.documents.assets import document_classifications, documents_partitions
from roi_assets.documents.intake import content_sha256
from roi_assets.documents.landed import document_key
from roi_assets.documents.sensors import (
    MAX_DOCUMENTS_PER_LOOK,
    PARTITION_TAG,
    document_arrival_sensor,
    document_intake,
)
from roi_assets.resources.storage import LandingZoneResource

AN_HOUR_LATER = time.time_ns() + 3_600 * 1_000_000_000


@pytest.fixture(autouse=True)
def settled_clock(monkeypatch):
    """Every file landed in a test has settled by the time the sensor looks."""
    monkeypatch.setattr(sensors, "look_started_ns", lambda: AN_HOUR_LATER)


@pytest.fixture
def instance():
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


def _look(instance, landing_zone, cursor=None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"landing_zone": landing_zone}
    )
    result = document_arrival_sensor(context)
    # what the daemon does with the result before launching the runs
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
    return result


def _launch(instance, result: dg.SensorResult) -> None:
    """What the daemon does next: a run of each request's partition, started."""
    for request in result.run_requests:
        instance.add_run(
            dg.DagsterRun(
                job_name=document_intake.name,
                status=dg.DagsterRunStatus.STARTED,
                tags={PARTITION_TAG: request.partition_key},
            )
        )


def _run(instance, key: str, *, fails: bool = False) -> None:
    """A finished run of the document's partition, executed in process as `make live` does (a
    stand-in for the intake job: its partition and its outcome are what the sensor reads)."""

    @dg.asset(partitions_def=documents_partitions, name="intake_stand_in")
    def stand_in() -> None:
        if fails:
            raise dg.Failure("the run broke")

    dg.materialize([stand_in], instance=instance, partition_key=key, raise_on_error=False)


def _land(landing, name, content: bytes):
    path = landing / "documents" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def _location(request: dg.RunRequest) -> str:
    return request.run_config["ops"]["raw__document_ocr"]["config"]["location"]


def test_the_same_content_under_two_names_is_one_partition_and_one_run(tmp_path, instance):
    zone = LandingZoneResource(local_dir=str(tmp_path))
    scan = document_key(content_sha256(_land(tmp_path, "scan.png", b"page one")))
    _land(tmp_path, "scan (copy).png", b"page one")
    other = document_key(content_sha256(_land(tmp_path, "other.pdf", b"another document")))

    result = _look(instance, zone)

    by_key = {request.partition_key: _location(request) for request in result.run_requests}
    assert len(result.run_requests) == 2
    assert by_key[other] == "documents/other.pdf"
    assert by_key[scan] in {"documents/scan.png", "documents/scan (copy).png"}
    assert all(request.run_key == request.partition_key for request in result.run_requests)
    assert sorted(instance.get_dynamic_partitions(documents_partitions.name)) == sorted(by_key)


def test_a_file_arriving_again_later_is_not_requested_again_and_the_cursor_resumes(
    tmp_path, instance
):
    zone = LandingZoneResource(local_dir=str(tmp_path))
    _land(tmp_path, "scan.png", b"page one")
    first = _look(instance, zone)
    assert len(first.run_requests) == 1
    _launch(instance, first)

    _land(tmp_path, "resent/scan.png", b"page one")
    _land(tmp_path, "new.png", b"page two")
    second = _look(instance, zone, first.cursor)

    # the scan's run is in flight
    assert [_location(r) for r in second.run_requests] == ["documents/new.png"]
    assert _look(instance, zone, second.cursor).run_requests == []
    _run(instance, second.run_requests[0].partition_key)
    # a sensor started afresh (no cursor) finds one document's run running, the other's succeeded
    assert _look(instance, zone).run_requests == []


def test_a_document_whose_run_never_happened_or_failed_is_requested_again_with_a_new_run_key(
    tmp_path, instance
):
    zone = LandingZoneResource(local_dir=str(tmp_path))
    key = document_key(content_sha256(_land(tmp_path, "scan.png", b"page one")))
    first = _look(instance, zone)
    assert [(r.partition_key, r.run_key) for r in first.run_requests] == [(key, key)]

    # the process that registered the partition was killed before its run: it looks again from
    # its saved cursor, and the file is still there
    again = _look(instance, zone)
    assert [(r.partition_key, r.run_key) for r in again.run_requests] == [(key, f"{key}:retry-0")]
    assert _location(again.run_requests[0]) == "documents/scan.png"
    assert again.dynamic_partitions_requests == []

    _run(instance, key, fails=True)
    third = _look(instance, zone)
    assert [r.run_key for r in third.run_requests] == [f"{key}:retry-1"]

    _run(instance, key)
    assert _look(instance, zone).run_requests == []


def test_a_burst_of_a_thousand_files_is_worked_through_in_short_batches(tmp_path, instance):
    zone = LandingZoneResource(local_dir=str(tmp_path))
    for i in range(1_000):
        _land(tmp_path, f"burst/{i:04d}.png", f"document {i}".encode())

    cursor, batches, slowest = None, [], 0.0
    while True:
        start = time.perf_counter()
        result = _look(instance, zone, cursor)
        slowest = max(slowest, time.perf_counter() - start)
        if not result.run_requests:
            break
        batches.append(len(result.run_requests))
        cursor = result.cursor

    assert batches == [MAX_DOCUMENTS_PER_LOOK] * (1_000 // MAX_DOCUMENTS_PER_LOOK)
    assert len(instance.get_dynamic_partitions(documents_partitions.name)) == 1_000
    assert slowest < 30, f"a look took {slowest:.1f} s; the sensor's limit is 60 s"


def test_documents_in_the_s3_prefix_are_requested_with_their_s3_location(
    tmp_path, instance, monkeypatch
):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="landing")
        s3.put_object(Bucket="landing", Key="zone/documents/scan.png", Body=b"page one")
        s3.put_object(Bucket="landing", Key="zone/documents/copy.png", Body=b"page one")
        _land(tmp_path, "local.png", b"page one")
        zone = LandingZoneResource(local_dir=str(tmp_path), s3_bucket="landing", s3_prefix="zone")

        result = _look(instance, zone)

    assert len(result.run_requests) == 1
    assert _location(result.run_requests[0]) in {
        "documents/local.png",
        "s3://landing/zone/documents/copy.png",
        "s3://landing/zone/documents/scan.png",
    }
    assert '"s3": [' in result.cursor


def test_the_sensor_launches_the_per_document_job_which_the_whole_graph_refresh_leaves_out():
    from roi_assets.definitions import defs

    per_document = {dg.AssetKey(["raw", "document_ocr"]), document_classifications.key}
    intake = defs.resolve_job_def("document_intake").asset_layer.selected_asset_keys
    refresh = defs.resolve_job_def("refresh_all").asset_layer.selected_asset_keys
    assert set(intake) == per_document
    assert not per_document & set(refresh)
    assert dg.AssetKey("document_classifier") in refresh
    assert document_arrival_sensor.job_name == "document_intake"
