"""The simulated archive is not separable by a few words: documents share boilerplate, some have
no telling title, some come bundled behind a cover sheet that names other types or carry an
addendum naming another contract, and pen marks add ink that is not text."""

from __future__ import annotations

import numpy as np

from roi_assets.documents.entity_evaluation import evaluate_entities
from roi_assets.simulator.documents.content import DOCUMENT_TYPES, PageBreak, Title
from roi_assets.simulator.documents.render import draw_page
from roi_assets.simulator.documents.text import (
    DOCUMENT_NAMES,
    GENERIC_TITLES,
    SHARED_BOILERPLATE,
    write_content,
)
from roi_assets.simulator.documents.writer import simulate_document

CONTENTS = [(t, write_content(t, seed)) for t in DOCUMENT_TYPES for seed in range(40)]


def _text(content) -> str:
    return " ".join(
        getattr(block, "text", "")
        for block in content.blocks()
        if isinstance(getattr(block, "text", None), str)
    )


def test_the_same_boilerplate_appears_in_documents_of_every_type():
    types_with = {t for t, c in CONTENTS if any(p in _text(c) for p in SHARED_BOILERPLATE)}
    assert types_with == set(DOCUMENT_TYPES)


def test_some_documents_of_every_type_carry_only_a_generic_title_or_none():
    generic = {
        t
        for t, c in CONTENTS
        if not any(isinstance(b, Title) and b.text not in GENERIC_TITLES for b in c.head)
    }
    assert len(generic) >= 7


def test_bundled_cover_sheets_and_addenda_name_other_types_on_pages_of_their_own():
    bundled = [(t, c) for t, c in CONTENTS if any(isinstance(b, PageBreak) for b in c.blocks())]
    assert 0.15 * len(CONTENTS) < len(bundled) < 0.5 * len(CONTENTS)
    names_other_type = [
        t
        for t, c in bundled
        if any(name in _text(c) for key, name in DOCUMENT_NAMES.items() if key != t)
    ]
    assert len(names_other_type) == len(bundled)


def test_a_bundled_document_starts_its_companion_on_a_new_page():
    doc = next(
        d
        for d in (simulate_document(i, 11, dpi=72, doc_type="tax_records") for i in range(60))
        if any("FAX COVER SHEET" in line or "TRANSMITTAL" in line for line in d.layouts[0].lines)
    )
    assert len(doc.layouts) >= 2
    assert not any("Parcel Number" in line for line in doc.layouts[0].lines)


def test_pen_marks_add_ink_but_no_text():
    doc = simulate_document(2, 3, dpi=100, degradation_level=0, doc_type="disclosure_form")
    layout = doc.layouts[0]
    scribbles = [s for s in layout.shapes if s.kind in ("scribble", "ellipse")]
    assert scribbles  # signatures, initials, rings: at least one on this page
    without = type(layout)(layout.width, layout.height, layout.texts, [], layout.lines)
    assert np.asarray(draw_page(layout)).mean() < np.asarray(draw_page(without)).mean()
    assert layout.text == without.text


def test_entity_evaluation_on_true_text_finds_the_true_entities_of_the_harder_documents():
    docs = [simulate_document(i, 5, dpi=72) for i in range(30)]
    evaluation = evaluate_entities(
        [d.clean_text for d in docs], [d.clean_text for d in docs], [d.entities for d in docs]
    )
    for name in ("purchase_price", "loan_amount", "property_address", "key_date"):
        score = evaluation.on_true_text[name]
        assert score.recall > 0.85 and score.precision > 0.85, (name, score)
    assert evaluation.on_ocr_text == evaluation.on_true_text
    metrics = {m: v for m, v, _, _ in evaluation.metrics()}
    assert {"precision_buyer", "recall_buyer", "precision_all", "support_all"} <= set(metrics)


def test_some_documents_are_receipt_pages_naming_their_type_in_a_few_words():
    receipts = [
        (t, c)
        for t, c in CONTENTS
        if any(
            "RECEIPT" in b.text or "ACKNOWLEDGEMENT" in b.text
            for b in c.head
            if isinstance(b, Title)
        )
    ]
    assert 0.03 * len(CONTENTS) < len(receipts) < 0.25 * len(CONTENTS)
    for doc_type, content in receipts:
        assert DOCUMENT_NAMES[doc_type] in _text(content)
        assert not any(isinstance(b, PageBreak) for b in content.blocks())
