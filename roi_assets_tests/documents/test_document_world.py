"""The documents of a simulated world: arrivals, a labelled archive by type, bad files, truth."""

from __future__ import annotations

import duckdb

from roi_assets.documents.labelled_corpus import LABELLED_FOLDER, labelled_files
from roi_assets.simulator.documents import DEFECTS
from roi_assets.simulator.documents.world import (
    INCOMING,
    INCOMING_FOLDER,
    LABELLED,
    DocumentPlan,
    document_plan,
    known_documents,
    write_document_landing,
    write_document_truth,
)
from roi_assets.simulator.scales import SCALES

SMALL = DocumentPlan(seed=5, n_incoming=2, labelled_per_type=1, dpi=72)


def test_half_of_a_scales_documents_arrive_and_the_archive_holds_every_type_twice_or_more():
    tiny, default = document_plan(SCALES["tiny"], 7), document_plan(SCALES["default"], 7)
    assert (tiny.n_incoming, tiny.n_labelled, tiny.dpi) == (6, 18, 100)
    assert (default.n_incoming, default.n_labelled, default.dpi) == (60, 936, 200)


def test_the_product_reads_the_archive_where_the_simulator_files_it(tmp_path):
    landing = write_document_landing(SMALL, tmp_path)

    labelled = landing.labels[landing.labels.corpus == LABELLED]
    assert LABELLED_FOLDER == "labelled_documents"
    assert sorted(labelled_files(tmp_path)) == sorted(
        zip(labelled["landing_path"], labelled["doc_type"], strict=True)
    )
    arrivals = landing.labels[landing.labels.corpus == INCOMING]
    assert all(path.startswith(f"{INCOMING_FOLDER}/") for path in arrivals["landing_path"])
    assert len(landing.defects) == len(DEFECTS)
    assert (tmp_path / INCOMING_FOLDER).joinpath(landing.defects["file_name"].iloc[0]).exists()


def test_documents_already_landed_and_known_are_neither_drawn_nor_rewritten(tmp_path):
    con = duckdb.connect()
    first = write_document_landing(SMALL, tmp_path)
    write_document_truth(con, first)
    victim = tmp_path / first.labels["landing_path"].iloc[0]
    victim.write_bytes(b"changed by the source")

    again = write_document_landing(SMALL, tmp_path, known_documents(con))

    assert again.labels.empty and again.files_written == []
    assert victim.read_bytes() == b"changed by the source"
    assert len(known_documents(con)) == len(first.labels) == SMALL.n_incoming + 9


def test_a_document_known_to_the_truth_but_missing_from_the_landing_zone_is_drawn_again(
    tmp_path,
):
    con = duckdb.connect()
    first = write_document_landing(SMALL, tmp_path)
    counts = write_document_truth(con, first)
    lost = tmp_path / first.labels["landing_path"].iloc[-1]
    lost.unlink()

    again = write_document_landing(SMALL, tmp_path, known_documents(con))

    assert list(again.labels["document_id"]) == [first.labels["document_id"].iloc[-1]]
    assert lost.exists()
    assert write_document_truth(con, again) == counts


def test_documents_drawn_in_two_processes_are_the_documents_drawn_in_one(tmp_path):
    alone = write_document_landing(SMALL, tmp_path / "one", workers=1)
    pooled = write_document_landing(SMALL, tmp_path / "two", workers=2)

    assert len(pooled.labels) >= 8  # enough for two workers (`process_pool.pool_workers`)
    assert pooled.labels.equals(alone.labels)
    for path in alone.files_written:
        twin = tmp_path / "two" / path.relative_to(tmp_path / "one")
        assert twin.read_bytes() == path.read_bytes()
