"""A scan is loaded once for its OCR and its thumbnail, readings are cached by content hash, the
training corpus splits the same way every time, and a refused document's quarantine record is
written once however often it is recorded."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import duckdb
import numpy as np
import polars as pl
import pytest

from roi_assets.documents import document_reading
from roi_assets.documents.classifier import DOCUMENT_TYPES
from roi_assets.documents.document_reading import (
    ReadingCache,
    first_page_thumbnail,
    read_documents,
)
from roi_assets.documents.intake import content_sha256, validate_document
from roi_assets.documents.labelled_corpus import held_out_split, labelled_files
from roi_assets.documents.ocr import ocr_document
from roi_assets.documents.pages import load_scanned_pages
from roi_assets.documents.quarantine import quarantine_document
from roi_assets.simulator.documents.writer import encode_document, simulate_document


@pytest.fixture(scope="module")
def born_digital(tmp_path_factory):
    """A PDF with a text layer: read without OCR, so the test stays fast."""
    for index in range(40):
        doc = simulate_document(index, 11, dpi=72, file_format="pdf", degradation_level=0)
        if doc.has_text_layer:
            path = tmp_path_factory.mktemp("reading") / doc.file_name
            path.write_bytes(encode_document(doc))
            return path
    raise AssertionError("no born-digital document among the first 40")


def test_a_cached_reading_is_not_read_again_and_a_damaged_entry_is_read_afresh(
    born_digital, tmp_path, monkeypatch
):
    cache = ReadingCache(tmp_path)
    sha = content_sha256(born_digital)
    first = cache.read(born_digital, sha, dpi=72)
    assert first.ocr.engine == "text_layer" and first.thumbnail.shape == (128, 128)

    def no_second_reading(*_):
        raise AssertionError("read again")

    with monkeypatch.context() as patch:
        patch.setattr(document_reading, "read_document", no_second_reading)
        again = cache.read(born_digital, sha, dpi=72)
    assert again.ocr.text == first.ocr.text
    assert np.array_equal(again.thumbnail, first.thumbnail)
    assert cache.get(sha, dpi=200) is None  # another resolution is another reading

    next(tmp_path.rglob("*.json")).write_text("{not json")
    assert cache.get(sha, dpi=72) is None
    assert cache.read(born_digital, sha, dpi=72).ocr.text == first.ocr.text


def test_a_batch_is_read_in_worker_processes_in_order_and_each_reading_cached(tmp_path):
    documents = []
    for index in range(60):
        doc = simulate_document(index, 7, dpi=72, file_format="pdf", degradation_level=0)
        if doc.has_text_layer and len(documents) < 8:  # 8: two workers (`process_pool`)
            path = tmp_path / doc.file_name
            path.write_bytes(encode_document(doc))
            documents.append((path, content_sha256(path), doc.clean_text))
    cache = ReadingCache(tmp_path / "cache")

    readings = read_documents([(path, sha) for path, sha, _ in documents], cache, dpi=72)

    assert len(readings) == len(documents) == 8
    for reading, (_, sha, clean_text) in zip(readings, documents, strict=True):
        assert " ".join(reading.ocr.text.split()) == " ".join(clean_text.split())
        assert cache.get(sha, dpi=72).ocr.text == reading.ocr.text


def test_a_scan_is_loaded_once_for_its_ocr_and_its_thumbnail(tmp_path, monkeypatch):
    doc = simulate_document(2, 8, dpi=100, doc_type="other", degradation_level=1, file_format="pdf")
    path = tmp_path / doc.file_name
    path.write_bytes(encode_document(doc))
    apart = (ocr_document(path, dpi=100), first_page_thumbnail(path, dpi=100))
    loads = []

    def counted_load(*args, **kwargs):
        loads.append(args)
        return load_scanned_pages(*args, **kwargs)

    monkeypatch.setattr(document_reading, "load_scanned_pages", counted_load)
    reading = document_reading.read_document(path, dpi=100)

    assert len(loads) == 1
    assert reading.ocr.engine == "tesseract" and reading.ocr.text == apart[0].text
    assert reading.ocr.page_count == apart[0].page_count == len(doc.pages)
    assert np.array_equal(reading.thumbnail, apart[1])


def _corpus(per_type: int) -> pl.DataFrame:
    rows = [
        (hashlib.sha256(f"{doc_type} {i}".encode()).hexdigest(), doc_type)
        for doc_type in DOCUMENT_TYPES
        for i in range(per_type)
    ]
    return pl.DataFrame(rows, schema=["content_sha256", "doc_type"], orient="row")


@pytest.mark.parametrize("per_type", [2, 7])
def test_the_held_out_split_is_fixed_and_holds_out_every_type(per_type):
    corpus = _corpus(per_type)
    training, held_out = held_out_split(corpus, 0.25, seed=7)
    again_training, again_held_out = held_out_split(corpus.sample(fraction=1.0, seed=1), 0.25, 7)

    assert held_out.equals(again_held_out) and training.equals(again_training)
    assert set(held_out["doc_type"]) == set(training["doc_type"]) == set(DOCUMENT_TYPES)
    assert training.height + held_out.height == corpus.height
    assert held_out.height >= max(len(DOCUMENT_TYPES), round(0.25 * corpus.height))


def test_only_the_nine_type_folders_of_the_archive_are_labels(tmp_path):
    for folder in ("mortgage_docs", "to_sort", "tax_records"):
        (tmp_path / "labelled_documents" / folder).mkdir(parents=True)
        (tmp_path / "labelled_documents" / folder / "scan.png").write_bytes(b"x")
    (tmp_path / "labelled_documents" / "tax_records" / ".upload.png").write_bytes(b"x")

    assert labelled_files(tmp_path) == [
        ("labelled_documents/mortgage_docs/scan.png", "mortgage_docs"),
        ("labelled_documents/tax_records/scan.png", "tax_records"),
    ]


def test_recording_a_refused_document_twice_leaves_one_quarantine_row(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    intake = validate_document(path)
    con = duckdb.connect()
    for _ in range(2):
        quarantine_document(
            con, intake, source="documents", location="documents/empty.png", file_hash="e3b0"
        )

    rows = con.execute("select reason, record from raw.quarantine").fetchall()
    assert len(rows) == 1
    assert rows[0][0] == "empty_file: the file is empty (0 bytes)"
    assert json.loads(rows[0][1]) == {"reason_code": "empty_file", "size_bytes": 0}
    with pytest.raises(ValueError, match="only refused"):
        quarantine_document(
            con,
            dataclasses.replace(intake, accepted=True, reason=None),
            source="documents",
            location="documents/empty.png",
            file_hash="e3b0",
        )
