"""`make run`'s background reader: it reads the archive from the end its step reads last, then
the arrivals, and caches only what intake accepts and the cache lacks."""

from __future__ import annotations

import time

from roi_assets.documents.background_reading import read_into_cache, reading_order
from roi_assets.documents.document_reading import ReadingCache
from roi_assets.documents.intake import content_sha256
from roi_assets.simulator.documents.writer import encode_document, simulate_document


def _touch(path, data=b"%PDF-1.4"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_the_archive_is_read_last_file_first_then_the_arrivals(tmp_path):
    first = _touch(tmp_path / "labelled_documents" / "purchase_agreement" / "a.pdf")
    second = _touch(tmp_path / "labelled_documents" / "purchase_agreement" / "b.pdf")
    last = _touch(tmp_path / "labelled_documents" / "hoa_docs" / "c.pdf")
    _touch(tmp_path / "labelled_documents" / "not_a_type" / "d.pdf")
    arrival = _touch(tmp_path / "documents" / "upload_1.pdf")

    order = reading_order(tmp_path, now_ns=time.time_ns() + 10**10)

    assert order == [last, second, first, arrival]


def test_an_arrival_still_being_written_is_left_to_its_run(tmp_path):
    _touch(tmp_path / "documents" / "upload_1.pdf")

    assert reading_order(tmp_path, now_ns=time.time_ns()) == []


def test_only_accepted_documents_the_cache_lacks_are_read(tmp_path):
    for index in range(40):
        doc = simulate_document(index, 11, dpi=72, file_format="pdf", degradation_level=0)
        if doc.has_text_layer:  # read without OCR, so the test stays fast
            break
    readable = _touch(tmp_path / "in" / doc.file_name, encode_document(doc))
    refused = _touch(tmp_path / "in" / "torn.pdf", b"%PDF-1.4 no pages, no end")
    cache = ReadingCache(tmp_path / "cache")

    assert read_into_cache([readable, refused], cache, dpi=72) == (1, [])
    assert cache.get(content_sha256(readable), dpi=72).ocr.text.strip()
    assert cache.get(content_sha256(refused), dpi=72) is None
    assert read_into_cache([readable, refused], cache, dpi=72) == (0, [])
