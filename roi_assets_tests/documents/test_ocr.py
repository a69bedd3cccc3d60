"""OCR routing: text layers are read, good scans go to Tesseract, poor scans to Textract when it is
configured and to Tesseract plus human review when it is not."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.stub import ANY, Stubber
from rapidfuzz.distance import Levenshtein

from roi_assets.documents import ocr
from roi_assets.documents.ocr import (
    Engine,
    OcrResult,
    choose_engine,
    document_quality,
    ocr_document,
)
from roi_assets.documents.page_text import PageText, document_confidence
from roi_assets.documents.quality import QualityReport
from roi_assets.documents.textract import textract_configured
from roi_assets.simulator.documents.writer import encode_document, simulate_document

NO_AWS: dict[str, str] = {}


def _cer(text: str, reference: str) -> float:
    got, want = " ".join(text.split()), " ".join(reference.split())
    return Levenshtein.distance(got, want) / len(want)


def _write(tmp_path, doc):
    path = tmp_path / doc.file_name
    path.write_bytes(encode_document(doc))
    return path


@pytest.fixture(scope="module")
def heavy_scan():
    """A one-page scan damaged at the heaviest level, at 100 dpi to keep Tesseract quick."""
    return simulate_document(
        3, 8, dpi=100, doc_type="other", degradation_level=3, file_format="png"
    )


def _textract_response(lines: list[tuple[str, float]]) -> dict:
    """A DetectDocumentText response with one page, the given lines and their words."""
    geometry = {
        "BoundingBox": {"Width": 0.5, "Height": 0.02, "Left": 0.1, "Top": 0.1},
        "Polygon": [
            {"X": 0.1, "Y": 0.1},
            {"X": 0.6, "Y": 0.1},
            {"X": 0.6, "Y": 0.12},
            {"X": 0.1, "Y": 0.12},
        ],
    }
    page = {
        "BlockType": "PAGE",
        "Id": str(uuid.uuid4()),
        "Geometry": geometry,
        "Relationships": [{"Type": "CHILD", "Ids": []}],
    }
    blocks = [page]
    for row, (text, confidence) in enumerate(lines):
        line_geometry = json.loads(json.dumps(geometry))
        line_geometry["BoundingBox"]["Top"] = 0.1 + 0.05 * row
        words = []
        for word in text.split():
            words.append(
                {
                    "BlockType": "WORD",
                    "Id": str(uuid.uuid4()),
                    "Text": word,
                    "TextType": "PRINTED",
                    "Confidence": confidence,
                    "Geometry": line_geometry,
                }
            )
        line = {
            "BlockType": "LINE",
            "Id": str(uuid.uuid4()),
            "Text": text,
            "Confidence": confidence,
            "Geometry": line_geometry,
            "Relationships": [{"Type": "CHILD", "Ids": [w["Id"] for w in words]}],
        }
        page["Relationships"][0]["Ids"].append(line["Id"])
        blocks += [line, *words]
    return {
        "DocumentMetadata": {"Pages": 1},
        "Blocks": blocks,
        "DetectDocumentTextModelVersion": "1.0",
    }


def _stubbed_textract():
    client = boto3.client(
        "textract",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return client, Stubber(client)


@pytest.mark.parametrize(
    ("quality", "textract", "engine", "preset", "review"),
    [
        (0.95, False, Engine.TESSERACT, "standard", False),
        (0.95, True, Engine.TESSERACT, "standard", False),
        (0.80, True, Engine.TESSERACT, "standard", False),
        (0.79, True, Engine.TEXTRACT, "none", False),
        (0.30, True, Engine.TEXTRACT, "none", False),
        (0.79, False, Engine.TESSERACT, "strong", True),
        (0.10, False, Engine.TESSERACT, "strong", True),
    ],
)
def test_the_engine_is_chosen_by_quality_and_textract_availability(
    quality, textract, engine, preset, review
):
    plan = choose_engine(quality, textract)
    assert (plan.engine, plan.preset, plan.needs_review) == (engine, preset, review)


@pytest.mark.parametrize(
    ("environ", "configured"),
    [
        ({"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}, True),
        ({"AWS_DEFAULT_REGION": "eu-west-1", "AWS_PROFILE": "ocr"}, True),
        ({"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}, False),
        ({"AWS_REGION": "us-east-1"}, False),
        ({"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "a"}, False),
        ({}, False),
    ],
)
def test_textract_counts_as_configured_only_with_a_region_and_credentials(environ, configured):
    assert textract_configured(environ) is configured


def test_a_pdf_with_a_text_layer_is_read_without_ocr(tmp_path, monkeypatch):
    doc = next(d for d in (simulate_document(i, 7, dpi=72) for i in range(60)) if d.has_text_layer)
    path = _write(tmp_path, doc)

    def no_ocr(*args, **kwargs):
        raise AssertionError("a text-layer PDF must not be rendered or OCR'd")

    monkeypatch.setattr(ocr, "load_scanned_pages", no_ocr)
    monkeypatch.setattr(ocr, "tesseract_page", no_ocr)
    result = ocr_document(path, environ=NO_AWS)

    assert result.engine is Engine.TEXT_LAYER
    assert result.page_count == len(doc.pages)
    assert _cer(result.text, doc.clean_text) < 0.01
    assert not result.needs_review


def test_a_clean_scan_is_read_by_tesseract_with_a_low_error_rate(tmp_path):
    doc = simulate_document(1, 8, doc_type="other", degradation_level=0, file_format="png")
    result = ocr_document(_write(tmp_path, doc), environ=NO_AWS)

    assert result.engine is Engine.TESSERACT and result.preset == "standard"
    assert result.quality >= 0.8
    assert _cer(result.text, doc.clean_text) < 0.02
    assert result.confidence > 0.8
    assert not result.needs_review


def test_a_poor_scan_goes_to_textract_when_it_is_configured(tmp_path, heavy_scan):
    client, stubber = _stubbed_textract()
    lines = [("HOME WARRANTY SERVICE AGREEMENT", 99.0), ("Plan: Gold", 80.0)]
    stubber.add_response(
        "detect_document_text", _textract_response(lines), {"Document": {"Bytes": ANY}}
    )
    with stubber:
        result = ocr_document(_write(tmp_path, heavy_scan), textract=client)
        stubber.assert_no_pending_responses()

    assert result.quality < 0.8
    assert result.engine is Engine.TEXTRACT
    assert result.text == "HOME WARRANTY SERVICE AGREEMENT\nPlan: Gold"
    # character-weighted: 28 characters at 0.99, 9 at 0.80
    assert result.confidence == pytest.approx((28 * 0.99 + 9 * 0.80) / 37)
    assert not result.needs_review


def test_a_poor_scan_without_textract_is_read_locally_and_left_for_review(tmp_path, heavy_scan):
    # heavy damage at 100 dpi: up-sampled and despeckled, the page still yields almost nothing
    # Tesseract trusts, which is exactly why a person reads it
    result = ocr_document(_write(tmp_path, heavy_scan), environ=NO_AWS)
    assert (result.engine, result.preset, result.needs_review) == (Engine.TESSERACT, "strong", True)
    assert result.confidence < ocr.REVIEW_CONFIDENCE


def test_when_textract_fails_the_pages_are_read_locally_and_flagged(tmp_path, heavy_scan):
    client, stubber = _stubbed_textract()
    stubber.add_client_error("detect_document_text", "ProvisionedThroughputExceededException")
    with stubber:
        result = ocr_document(_write(tmp_path, heavy_scan), textract=client)
    assert (result.engine, result.preset, result.needs_review) == (Engine.TESSERACT, "strong", True)


def test_a_nearly_empty_page_does_not_decide_the_quality_of_a_document_full_of_text():
    def report(score, ink):
        return QualityReport(score, 0.3, 0.7, 0.5, 0.0, ink, 50.0, {})

    full_page, signature_page = report(0.95, 0.08), report(0.4, 0.002)
    assert document_quality([full_page, signature_page]) >= 0.8
    assert document_quality([full_page, report(0.4, 0.08)]) < 0.8


def test_word_confidences_roll_up_weighted_by_word_length():
    page = PageText.from_words("ab cdef", [("ab", 50.0), ("cdef", 100.0), ("", -1.0)])
    assert page.confidence == pytest.approx((2 * 0.5 + 4 * 1.0) / 6)
    assert page.n_chars == 6
    empty = PageText.from_words("", [])
    assert document_confidence([page, empty]) == pytest.approx(page.confidence)


def test_an_ocr_result_survives_a_json_round_trip():
    result = OcrResult(
        "text", Engine.TEXTRACT, 0.91, 0.42, 2, 1.5, False, "none", (0.9, 0.92), (0.42, 0.6)
    )
    record = json.loads(json.dumps(result.to_record()))
    assert OcrResult.from_record(record) == result
