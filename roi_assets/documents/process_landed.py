"""Process the documents waiting in the landing zone the way the running sensor would:
`python -m roi_assets.documents.process_landed` (part of `make run`).

The arrival sensor is evaluated against the Dagster instance of DAGSTER_HOME until it has nothing
left to request; its dynamic partitions are added and each run request is executed in this
process, as a run of the `document_intake` job that the UI lists like any other. Before the runs,
the batch's accepted documents are read into the reading cache, so the runs, which share one
DuckDB writer and therefore go one after another, find their OCR done. `make live` uses the same
three steps and keeps the sensor's cursor from one day to the next, so each day looks only at the
files that arrived since the day before.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

from roi_assets.automation.resumable import LAUNCHED_BY_TAG
from roi_assets.documents.assets import document_ocr, reading_cache
from roi_assets.documents.document_reading import read_documents
from roi_assets.documents.intake import validate_document
from roi_assets.documents.landed import local_copy
from roi_assets.documents.sensors import document_arrival_sensor, document_intake
from roi_assets.resources.storage import LandingZoneResource


@dataclass
class SensorLooks:
    """What the sensor asked for over its looks, and its cursor after the last one."""

    requests: list[dg.RunRequest]
    cursor: str | None


def _config_of(request: dg.RunRequest) -> dict:
    return request.run_config["ops"][document_ocr.op.name]["config"]


def read_ahead(
    requests: Sequence[dg.RunRequest], landing_zone: LandingZoneResource, workers: int
) -> int:
    """Read the accepted local documents of a batch into the cache; returns how many were read.
    S3 documents and refused files are left to their runs."""
    documents = []
    cache = reading_cache()
    for request in requests:
        location = _config_of(request)["location"]
        if location.startswith("s3://"):
            continue
        with local_copy(location, landing_zone.path) as path:
            intake = validate_document(path)
            if intake.accepted and cache.get(intake.content_sha256) is None:
                documents.append((path, intake.content_sha256))
    # a live day's two or three documents are read in this process (`process_pool`)
    read_documents(documents, cache, workers=workers)
    return len(documents)


def look_until_done(
    instance: dg.DagsterInstance, landing_zone: LandingZoneResource, cursor: str | None = None
) -> SensorLooks:
    """Evaluate the arrival sensor from `cursor` until it requests nothing more, adding the
    dynamic partitions it asks for; returns one run request per document and the last cursor.
    A copy of a document in a later batch is requested again by its look (its partition has no
    run yet, as the runs follow the looks here), and is dropped."""
    requests: dict[str, dg.RunRequest] = {}
    while True:
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, resources={"landing_zone": landing_zone}
        )
        result = document_arrival_sensor(context)
        for request in result.dynamic_partitions_requests or ():
            instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
        if result.cursor == cursor and not result.run_requests:
            return SensorLooks(list(requests.values()), cursor)
        cursor = result.cursor
        for request in result.run_requests or ():
            requests.setdefault(request.partition_key, request)


def execute_requests(
    instance: dg.DagsterInstance,
    job: dg.JobDefinition,
    requests: Sequence[dg.RunRequest],
) -> Counter:
    """Each request as a run of `job` (the resolved `document_intake`); the outcomes counted."""
    outcomes: Counter = Counter()
    for request in requests:
        run = job.execute_in_process(
            instance=instance,
            partition_key=request.partition_key,
            run_config=request.run_config,
            tags={LAUNCHED_BY_TAG: "process_landed"},
            raise_on_error=False,
        )
        outcomes["success" if run.success else "failure"] += 1
    return outcomes


def process_landed(
    instance: dg.DagsterInstance,
    landing_zone: LandingZoneResource,
    job: dg.JobDefinition,
    *,
    workers: int = 2,
) -> Counter:
    """Evaluate the sensor until it requests nothing more, read the new documents, then execute
    every request as a run of `job` (the resolved `document_intake`); the runs' outcomes
    counted."""
    looks = look_until_done(instance, landing_zone)
    read_ahead(looks.requests, landing_zone, workers)
    return execute_requests(instance, job, looks.requests)


def main() -> int:
    start = time.perf_counter()
    landing_zone = LandingZoneResource.from_settings()
    with dg.DagsterInstance.get() as instance:
        # Imported here: the graph loads this package, so the module must not need the graph.
        from roi_assets.definitions import defs

        job = defs.resolve_job_def(document_intake.name)
        outcomes = process_landed(instance, landing_zone, job, workers=os.cpu_count() or 1)
    print(
        f"Landed documents: {outcomes['success']} runs succeeded, {outcomes['failure']} failed "
        f"({time.perf_counter() - start:.0f} s)"
    )
    return 1 if outcomes["failure"] else 0


if __name__ == "__main__":
    sys.exit(main())
