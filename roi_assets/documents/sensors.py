"""The arrival sensor: every new document in the landing zone becomes a partition and a run.

Each look lists the documents folder (and its S3 prefix when a bucket is configured), takes the
oldest arrivals after its cursor, at most a batch of them, and keys each by its content hash. A
key that is already a partition, or that came twice in the batch, was or is being processed: the
file is the same document under another name, and it is not requested again (the run key says the
same to Dagster). The cursor moves past the batch, so a burst of a thousand files is worked through
a batch per look, each look short. Files that turn out bad are not judged here: their run checks
them at intake and quarantines them, and the sensor carries on.
"""

import time

import dagster as dg
from botocore.exceptions import BotoCoreError, ClientError

from roi_assets.documents.arrivals import (
    ArrivalCursor,
    local_arrivals,
    s3_arrivals,
    s3_folder_prefix,
    take_batch,
)
from roi_assets.documents.assets import (
    INCOMING_FOLDER,
    document_classifications,
    document_ocr,
    documents_partitions,
)
from roi_assets.documents.landed import document_key, landed_sha256
from roi_assets.resources.storage import LandingZoneResource

MAX_DOCUMENTS_PER_LOOK = 100
MAX_BYTES_PER_LOOK = 256 * 1024 * 1024

document_intake = dg.define_asset_job(
    "document_intake",
    selection=[document_ocr, document_classifications],
    partitions_def=documents_partitions,
    description="Read, check and classify one landed document (a partition per content hash).",
)


def look_started_ns() -> int:
    """When a look begins (a function, so tests can move the clock)."""
    return time.time_ns()


def run_request(key: str, location: str) -> dg.RunRequest:
    """The run of one document: its partition, keyed by content so Dagster launches it once."""
    return dg.RunRequest(
        run_key=key,
        partition_key=key,
        run_config={"ops": {document_ocr.op.name: {"config": {"location": location}}}},
    )


@dg.sensor(
    job=document_intake,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def document_arrival_sensor(
    context: dg.SensorEvaluationContext, landing_zone: LandingZoneResource
) -> dg.SensorResult:
    """New files in landing/documents/ (and the S3 prefix when configured): one partition and one
    run per new content hash, at most 100 files or 256 MiB per look."""
    cursor = ArrivalCursor.from_json(context.cursor)
    started_ns = look_started_ns()
    sources = [local_arrivals(landing_zone.path, INCOMING_FOLDER, cursor.local, started_ns)]
    s3 = None
    if landing_zone.uses_s3:
        s3 = landing_zone.s3_client()
        prefix = s3_folder_prefix(landing_zone.s3_prefix, INCOMING_FOLDER)
        sources.append(s3_arrivals(s3, landing_zone.s3_bucket, prefix, cursor.s3, started_ns))
    batch = take_batch(sources, MAX_DOCUMENTS_PER_LOOK, MAX_BYTES_PER_LOOK)
    requests: dict[str, dg.RunRequest] = {}
    for arrival in batch:
        try:
            key = document_key(landed_sha256(arrival.location, landing_zone.path, s3))
        except (OSError, ValueError, BotoCoreError, ClientError) as error:  # gone meanwhile
            context.log.warning("skipped %s: %s", arrival.location, error)
            continue
        if key in requests or context.instance.has_dynamic_partition(
            documents_partitions.name, key
        ):
            continue
        requests[key] = run_request(key, arrival.location)
    context.log.info(
        "%d new files, %d new documents (%d arrivals still waiting)",
        len(batch),
        len(requests),
        sum(len(source) for source in sources) - len(batch),
    )
    return dg.SensorResult(
        run_requests=list(requests.values()),
        dynamic_partitions_requests=(
            [documents_partitions.build_add_request(list(requests))] if requests else []
        ),
        cursor=cursor.advanced(batch).to_json(),
    )
