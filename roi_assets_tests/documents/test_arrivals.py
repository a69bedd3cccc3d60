"""Arrivals: new files are found in arrival order after a cursor, in batches, locally and on S3."""

from __future__ import annotations

import time

import boto3
import pytest
from moto import mock_aws

from roi_assets.documents.arrivals import (
    LOCAL_SETTLE_NS,
    S3_SETTLE_NS,
    Arrival,
    ArrivalCursor,
    local_arrivals,
    s3_arrivals,
    s3_folder_prefix,
    take_batch,
)
from roi_assets.documents.landed import document_key, landed_sha256, local_copy, local_path

LATER = time.time_ns() + 3_600 * 1_000_000_000  # a look that starts after every file landed


def _land(folder, name, content: bytes):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_local_arrivals_come_oldest_first_and_a_cursor_resumes_after_the_last(tmp_path):
    for i in range(3):
        _land(tmp_path / "documents", f"scan_{i}.png", bytes([i]))
    first = local_arrivals(tmp_path, "documents", None, LATER)
    assert [a.location for a in first] == [f"documents/scan_{i}.png" for i in range(3)]
    assert first == sorted(first)

    _land(tmp_path / "documents" / "batch_2", "late.pdf", b"late")
    after = local_arrivals(tmp_path, "documents", first[-1].mark, LATER)

    assert [a.location for a in after] == ["documents/batch_2/late.pdf"]


def test_uploads_in_progress_links_and_files_not_yet_settled_wait(tmp_path):
    folder = tmp_path / "documents"
    _land(folder, ".scan.png.partial", b"half")
    _land(folder, "scan.png.part", b"half")
    _land(tmp_path, "outside.png", b"secret")
    folder.joinpath("link.png").symlink_to(tmp_path / "outside.png")
    landed = _land(folder, "scan.png", b"whole")
    settled_ns = landed.stat().st_ctime_ns + LOCAL_SETTLE_NS

    assert local_arrivals(tmp_path, "documents", None, settled_ns - 1) == []
    settled = local_arrivals(tmp_path, "documents", None, settled_ns)
    assert [a.location for a in settled] == ["documents/scan.png"]


def test_a_missing_folder_has_no_arrivals(tmp_path):
    assert local_arrivals(tmp_path, "documents", None, LATER) == []


def test_a_batch_is_capped_by_files_and_bytes_but_always_takes_one():
    local = [Arrival(i, f"documents/{i}.png", 10) for i in range(0, 10, 2)]
    remote = [Arrival(i, f"s3://b/documents/{i}.png", 10) for i in range(1, 10, 2)]

    assert [a.arrived_ns for a in take_batch([local, remote], 4, 1_000)] == [0, 1, 2, 3]
    assert len(take_batch([local, remote], 100, 25)) == 2
    assert len(take_batch([[Arrival(0, "documents/huge.png", 10**12)]], 100, 25)) == 1


def test_the_cursor_survives_a_json_round_trip_and_advances_per_source():
    batch = [Arrival(5, "documents/a.png"), Arrival(7, "s3://b/documents/c.png")]

    cursor = ArrivalCursor().advanced(batch)

    assert cursor == ArrivalCursor(local=(5, "documents/a.png"), s3=(7, "s3://b/documents/c.png"))
    assert ArrivalCursor.from_json(cursor.to_json()) == cursor
    assert ArrivalCursor.from_json(None) == ArrivalCursor()


def test_a_location_outside_the_landing_zone_is_refused(tmp_path):
    with pytest.raises(ValueError, match="outside the landing zone"):
        local_path("../elsewhere/scan.png", tmp_path / "landing")


@pytest.fixture
def bucket():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="landing")
        yield client


def test_s3_objects_arrive_after_their_second_and_are_read_like_local_files(bucket, tmp_path):
    prefix = s3_folder_prefix("zone/", "documents")
    bucket.put_object(Bucket="landing", Key=f"{prefix}scan.png", Body=b"scanned page")
    bucket.put_object(Bucket="landing", Key=f"{prefix}.upload.png.partial", Body=b"half")
    bucket.put_object(Bucket="landing", Key="zone/clients/clients.csv", Body=b"id\n1\n")

    assert s3_arrivals(bucket, "landing", prefix, None, time.time_ns()) == []
    settled = time.time_ns() + S3_SETTLE_NS
    arrivals = s3_arrivals(bucket, "landing", prefix, None, settled)

    assert [a.location for a in arrivals] == ["s3://landing/zone/documents/scan.png"]
    assert s3_arrivals(bucket, "landing", prefix, arrivals[-1].mark, settled) == []
    sha = landed_sha256(arrivals[0].location, tmp_path, bucket)
    with local_copy(arrivals[0].location, tmp_path, bucket) as path:
        assert path.read_bytes() == b"scanned page"
        assert path.suffix == ".png"
    _land(tmp_path / "documents", "same.png", b"scanned page")
    assert document_key(sha) == document_key(landed_sha256("documents/same.png", tmp_path))
