"""The document simulator: deterministic, typed, truthful about what it wrote."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from roi_assets.documents.classifier import DOCUMENT_TYPES
from roi_assets.documents.entities import ENTITY_TYPES
from roi_assets.simulator.documents import content
from roi_assets.simulator.documents.writer import (
    encode_document,
    simulate_document,
    write_documents,
)

TRUTH_COLUMNS = {
    "document_id",
    "file_name",
    "content_sha256",
    "doc_type",
    "file_format",
    "page_count",
    "degradation_level",
    "has_text_layer",
    "dpi",
    "clean_text",
    "entities_json",
}


def test_the_product_and_the_simulator_agree_on_the_types_and_entity_names():
    assert content.DOCUMENT_TYPES == DOCUMENT_TYPES
    assert content.ENTITY_TYPES == ENTITY_TYPES


def test_the_same_seed_gives_the_same_document_pixels_text_and_file_bytes():
    first = simulate_document(4, seed=11, dpi=72)
    second = simulate_document(4, seed=11, dpi=72)
    assert first.clean_text == second.clean_text
    assert all(np.array_equal(a, b) for a, b in zip(first.pages, second.pages, strict=True))
    assert encode_document(first) == encode_document(second)
    assert simulate_document(4, seed=12, dpi=72).clean_text != first.clean_text


def test_every_type_can_be_drawn_and_its_layout_differs_from_the_others():
    firsts = {
        t: simulate_document(0, 3, dpi=72, doc_type=t, degradation_level=0) for t in DOCUMENT_TYPES
    }
    assert {d.doc_type for d in firsts.values()} == set(DOCUMENT_TYPES)
    assert len({d.pages[0].tobytes() for d in firsts.values()}) == len(DOCUMENT_TYPES)
    ink = {t: float((d.pages[0] < 128).mean()) for t, d in firsts.items()}
    assert max(ink.values()) > 1.5 * min(ink.values())  # forms and ledgers are far inkier


def test_true_entities_are_stated_in_the_clean_text():
    for index in range(12):
        doc = simulate_document(index, 5, dpi=72)
        flat = " ".join(doc.clean_text.split())
        for entity_type in (
            "buyer",
            "seller",
            "borrower",
            "lender",
            "property_address",
            "parcel_number",
        ):
            for value in doc.entities[entity_type]:
                assert value in flat, (doc.doc_type, entity_type, value)


def test_damage_grows_with_the_degradation_level():
    clean = simulate_document(2, 9, dpi=72, degradation_level=0).pages[0].astype(float)
    differences = [
        np.abs(simulate_document(2, 9, dpi=72, degradation_level=level).pages[0] - clean).mean()
        for level in (1, 2, 3)
    ]
    assert differences == sorted(differences)
    assert differences[0] > 0


def test_text_layer_documents_are_undamaged_pdfs_and_multi_page_documents_are_pdfs():
    docs = [simulate_document(i, 7, dpi=72) for i in range(40)]
    assert any(d.has_text_layer for d in docs)
    for doc in docs:
        if doc.has_text_layer:
            assert doc.file_format == "pdf" and doc.degradation_level == 0
        if len(doc.pages) > 1:
            assert doc.file_format == "pdf"
    assert {len(d.pages) for d in docs} >= {1, 2}


def test_written_files_match_their_truth_rows_and_are_never_rewritten(tmp_path):
    rows = write_documents(tmp_path, 3, seed=21, dpi=72)
    assert [set(row) for row in rows] == [TRUTH_COLUMNS] * 3
    for row in rows:
        data = (tmp_path / row["file_name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["content_sha256"]
        assert set(json.loads(row["entities_json"])) == set(ENTITY_TYPES)
    victim = tmp_path / rows[0]["file_name"]
    victim.write_bytes(b"changed by the source")
    again = write_documents(tmp_path, 3, seed=21, dpi=72)
    assert victim.read_bytes() == b"changed by the source"
    assert again == rows


@pytest.mark.parametrize("dpi", [71, 301])
def test_resolution_outside_72_to_300_dpi_is_refused(dpi):
    with pytest.raises(ValueError, match="dpi"):
        simulate_document(0, 1, dpi=dpi)
