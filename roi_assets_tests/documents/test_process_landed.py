"""The sensor's path outside the daemon: looks from a cursor."""

from __future__ import annotations

import time

import dagster as dg

from roi_assets.documents import sensors
from roi_assets.documents.assets import documents_partitions
from roi_assets.documents.intake import content_sha256
from roi_assets.documents.landed import document_key
from roi_assets.documents.process_landed import look_until_done
from roi_assets.resources.storage import LandingZoneResource


def _keys(looks) -> list[str]:
    return [request.partition_key for request in looks.requests]


def test_a_look_from_the_day_befores_cursor_requests_only_the_documents_landed_since(
    tmp_path, monkeypatch
):
    # every file counts as settled, whenever it landed
    monkeypatch.setattr(sensors, "look_started_ns", lambda: time.time_ns() + 10**12)
    folder = tmp_path / "documents"
    folder.mkdir()
    for name, content in (("a.pdf", b"first"), ("b.pdf", b"second")):
        (folder / name).write_bytes(content)
    zone = LandingZoneResource(local_dir=str(tmp_path))
    with dg.DagsterInstance.ephemeral() as instance:
        yesterday = look_until_done(instance, zone)
        (folder / "c.pdf").write_bytes(b"third")
        today = look_until_done(instance, zone, yesterday.cursor)
        again = look_until_done(instance, zone, today.cursor)
        partitions = set(instance.get_dynamic_partitions(documents_partitions.name))

    key = {
        name: document_key(content_sha256(folder / name)) for name in ("a.pdf", "b.pdf", "c.pdf")
    }
    assert sorted(_keys(yesterday)) == sorted([key["a.pdf"], key["b.pdf"]])
    assert _keys(today) == [key["c.pdf"]]
    assert _keys(again) == [] and again.cursor == today.cursor
    assert partitions == set(key.values())


def test_a_copy_landing_in_a_later_batch_of_the_same_looks_is_requested_once(tmp_path, monkeypatch):
    monkeypatch.setattr(sensors, "look_started_ns", lambda: time.time_ns() + 10**12)
    monkeypatch.setattr(sensors, "MAX_DOCUMENTS_PER_LOOK", 1)  # a batch per file
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "a.pdf").write_bytes(b"first")
    (folder / "a (copy).pdf").write_bytes(b"first")
    zone = LandingZoneResource(local_dir=str(tmp_path))
    with dg.DagsterInstance.ephemeral() as instance:
        looks = look_until_done(instance, zone)

    # the second look finds the partition without a run (the runs follow the looks)
    assert _keys(looks) == [document_key(content_sha256(folder / "a.pdf"))]
