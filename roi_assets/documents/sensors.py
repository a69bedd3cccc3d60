"""The arrival sensor: every new document in the landing zone becomes a partition and a run.

Each look lists the documents folder (and its S3 prefix when a bucket is configured), takes the
oldest arrivals after its cursor, at most a batch of them, and keys each by its content hash. A
key that came twice in the batch is one document. A key that is already a partition was seen
before (the same document under another name, or the same file seen again when a killed process
looks again from its saved cursor): it is requested again only when nothing handled it, that is
when no run of its partition succeeded (read and classified, or quarantined) and none is queued,
starting or running. The process that registered it may have been killed before its run, or the
run failed (`make live` fails the runs a killed process left unfinished); without the retry the
document would be lost, its file behind the cursor. A retry gets a run key of its own,
`<key>:retry-<n>` after n runs of the partition, because Dagster drops a request whose run key
the sensor used before. Only keys that are already partitions are looked up among the runs, and
they are rare, so a look stays short. The cursor moves past the batch, so a burst of a thousand
files is worked through a batch per look, each look short. Files that turn out bad are not judged
here: their run checks them at intake and quarantines them, and the sensor carries on.
"""

import time
from collections.abc import Sequence

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
# The tag Dagster puts on a run of one partition (the daemon's and `execute_in_process`'s alike).
PARTITION_TAG = "dagster/partition"
# A run in one of these states will handle its document: no other is requested meanwhile.
IN_FLIGHT = (
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
)

document_intake = dg.define_asset_job(
    "document_intake",
    selection=[document_ocr, document_classifications],
    partitions_def=documents_partitions,
    description="Read, check and classify one landed document (a partition per content hash).",
)


def look_started_ns() -> int:
    """When a look begins (a function, so tests can move the clock)."""
    return time.time_ns()


def run_request(key: str, location: str, retry: int | None = None) -> dg.RunRequest:
    """The run of one document: its partition, keyed by content so Dagster launches it once. A
    retry after `retry` runs that handled nothing needs a run key of its own: the daemon drops a
    request whose run key the sensor used before."""
    return dg.RunRequest(
        run_key=key if retry is None else f"{key}:retry-{retry}",
        partition_key=key,
        run_config={"ops": {document_ocr.op.name: {"config": {"location": location}}}},
    )


def partition_runs(instance: dg.DagsterInstance, key: str) -> list[dg.DagsterRunStatus]:
    """The status of every run of a document's partition, whatever launched it."""
    records = instance.get_run_records(filters=dg.RunsFilter(tags={PARTITION_TAG: key}))
    return [record.dagster_run.status for record in records]


def handled(statuses: Sequence[dg.DagsterRunStatus]) -> bool:
    """Whether a document needs no new run: one of its runs succeeded or one is in flight. Runs
    that failed or were cancelled (a killed process's runs are failed on restart) handled
    nothing, and neither did a partition registered by a process killed before its run."""
    return any(status == dg.DagsterRunStatus.SUCCESS or status in IN_FLIGHT for status in statuses)


@dg.sensor(
    job=document_intake,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def document_arrival_sensor(
    context: dg.SensorEvaluationContext, landing_zone: LandingZoneResource
) -> dg.SensorResult:
    """New files in landing/documents/ (and the S3 prefix when configured): one partition and one
    run per new content hash, and a run again for a known one that nothing handled, at most 100
    files or 256 MiB per look."""
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
    new_keys: list[str] = []
    for arrival in batch:
        try:
            key = document_key(landed_sha256(arrival.location, landing_zone.path, s3))
        except (OSError, ValueError, BotoCoreError, ClientError) as error:  # gone meanwhile
            context.log.warning("skipped %s: %s", arrival.location, error)
            continue
        if key in requests:
            continue
        if not context.instance.has_dynamic_partition(documents_partitions.name, key):
            new_keys.append(key)
            requests[key] = run_request(key, arrival.location)
            continue
        earlier = partition_runs(context.instance, key)
        if not handled(earlier):
            requests[key] = run_request(key, arrival.location, retry=len(earlier))
    context.log.info(
        "%d new files, %d new documents, %d requested again (%d arrivals still waiting)",
        len(batch),
        len(new_keys),
        len(requests) - len(new_keys),
        sum(len(source) for source in sources) - len(batch),
    )
    return dg.SensorResult(
        run_requests=list(requests.values()),
        dynamic_partitions_requests=(
            [documents_partitions.build_add_request(new_keys)] if new_keys else []
        ),
        cursor=cursor.advanced(batch).to_json(),
    )
