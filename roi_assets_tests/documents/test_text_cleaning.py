"""Post-OCR cleaning removes recognition artefacts and keeps every word the page printed."""

from __future__ import annotations

from roi_assets.documents.entities import entities_by_type, extract_entities
from roi_assets.documents.text_cleaning import clean_ocr_text, join_hyphenated, text_for_entities


def test_ligatures_and_typographic_quotes_become_plain_letters_and_ascii_quotes():
    assert clean_ocr_text("the \ufb01rst \ufb02oor’s “office”") == 'the first floor\'s "office"'


def test_table_rules_read_as_characters_are_removed():
    text = "Item | Condition\n|||||||||||||||\n|Roof covering Repair|\n______\nTotal = $40"
    assert clean_ocr_text(text) == "Item Condition\nRoof covering Repair\nTotal = $40"


def test_a_lower_case_word_hyphenated_across_lines_is_joined():
    assert join_hyphenated("the Pur-\nchaser agrees") == "the Purchaser agrees"
    assert join_hyphenated("a pre-\nselected value") == "a preselected value"


def test_hyphens_that_belong_to_the_text_are_kept():
    # a number range, a dash starting the next line, a capitalised continuation
    text = "APN 18-62-\n407-535\nrecording—\n—existing notes\nSELF-\nCONTAINED"
    assert join_hyphenated(text) == text


def test_an_entity_split_by_hyphenation_is_found_once_cleaned():
    text = "Seller shall pay the pur-\nchase price of $350,000 at closing."
    assert entities_by_type(extract_entities(text))["purchase_price"] == [350000.0]
    assert "purchase price" in text_for_entities(text)
