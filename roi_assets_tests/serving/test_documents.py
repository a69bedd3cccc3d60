"""Document uploads: classified, size-limited, and written only to a private folder under a
generated name that is deleted afterwards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from roi_assets.documents.classifier import DOCUMENT_TYPES
from roi_assets.documents.document_reading import DocumentReading
from roi_assets.documents.ocr import Engine, OcrResult
from roi_assets.serving.app import create_app
from roi_assets.serving.cache import EdgeCache, ScoreCache
from roi_assets.serving.models import ServedModels
from roi_assets.serving.service import ScoringService
from roi_assets_tests.hostile_inputs import pdf_of_page

from .conftest import API_KEY

TEXT = "PURCHASE AGREEMENT between Jane Doe and John Roe for 12 Elm Street, price $450,000."


class RecordingReader:
    """Reads nothing: records where the upload was saved and what was there."""

    def __init__(self) -> None:
        self.paths: list[Path] = []
        self.contents: list[bytes] = []

    def __call__(self, path: Path) -> DocumentReading:
        self.paths.append(path)
        self.contents.append(path.read_bytes())
        ocr = OcrResult(TEXT, Engine("tesseract"), 0.95, 0.9, 1, 0.1, needs_review=False)
        return DocumentReading(ocr, np.zeros((64, 64), dtype=np.float32))


@pytest.fixture
def reader() -> RecordingReader:
    return RecordingReader()


@pytest.fixture
def api(serving_config, reader):
    service = ScoringService(
        ServedModels(), EdgeCache(serving_config.bi_warehouse), ScoreCache(100, 60), reader
    )
    with TestClient(
        create_app(serving_config, service), headers={"X-API-Key": API_KEY}
    ) as test_client:
        yield test_client


def _upload(api, name: str, content: bytes):
    return api.post("/v1/documents/classify", files={"file": (name, content, "application/pdf")})


def test_a_document_is_classified_with_its_entities(api):
    document = pdf_of_page(612, 792)
    answer = _upload(api, "offer.pdf", document)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["predicted_type"], body["model_version"]) == (DOCUMENT_TYPES[0], "1")
    assert body["needs_review"] is False
    assert body["entities"]
    assert _upload(api, "again.pdf", document).json()["source"] == "cache"


def test_a_path_in_the_file_name_never_decides_where_the_upload_goes(api, reader, tmp_path):
    for width, name in enumerate(("../../escape.pdf", "..\\..\\escape.pdf", "/etc/cron.d/x.pdf")):
        assert _upload(api, name, pdf_of_page(600 + width, 800)).status_code == 200
    for path, name in zip(reader.paths, ("../../", "..\\", "/etc/"), strict=True):
        assert path.name == "document.pdf"
        assert path.parent.name.startswith("roi-serving-upload-")
        assert not path.parent.exists(), "the private folder is deleted after reading"
        assert name not in str(path)
    assert not list(tmp_path.parent.rglob("escape.pdf"))


def test_an_upload_over_the_limit_is_a_413(api, serving_config, reader):
    answer = _upload(api, "big.pdf", b"x" * (serving_config.max_upload_bytes + 1))
    assert answer.status_code == 413
    huge = _upload(api, "huge.pdf", b"x" * (serving_config.max_upload_bytes + 100_000))
    assert huge.status_code == 413
    assert reader.paths == []


def test_a_file_type_the_reader_cannot_read_is_a_415(api, reader):
    assert _upload(api, "notes.exe", b"MZ").status_code == 415
    assert reader.paths == []
