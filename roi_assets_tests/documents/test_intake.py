"""Intake: every bad landing file ends with the right reason, and no file is ever touched."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib

import numpy as np
import pytest
from fpdf import FPDF
from PIL import Image

from roi_assets.documents.intake import (
    IntakeLimits,
    Rejection,
    check_file_name,
    content_sha256,
    is_in_flight,
    validate_document,
)
from roi_assets.simulator.documents.bad_files import DEFECTS, bad_file
from roi_assets.simulator.documents.writer import encode_document, simulate_document


def _snapshot(path):
    stat = path.stat()
    return path.read_bytes(), stat.st_mtime_ns, stat.st_mode


def _png(width=60, height=40) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((height, width), 200, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_each_bad_file_is_rejected_with_its_reason_and_left_byte_identical(tmp_path, defect):
    name, data = bad_file(defect, np.random.default_rng(0))
    path = tmp_path / name
    path.write_bytes(data)
    before = _snapshot(path)

    result = validate_document(path)

    assert not result.accepted
    assert result.reason == Rejection(DEFECTS[defect])
    assert result.message
    assert _snapshot(path) == before


@pytest.mark.parametrize("file_format", ["png", "jpeg", "tiff", "pdf"])
def test_simulated_documents_of_every_format_are_accepted_and_keyed_by_content(
    tmp_path, file_format
):
    doc = simulate_document(1, 3, dpi=72, file_format=file_format, doc_type="other")
    path = tmp_path / doc.file_name
    path.write_bytes(encode_document(doc))

    result = validate_document(path)

    assert result.accepted, result.message
    assert result.page_count == len(doc.pages)
    assert result.content_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.content_sha256 == content_sha256(path)


def test_a_bomb_is_judged_by_its_declared_size_before_any_pixel_is_decoded(tmp_path):
    header = struct.pack(">IIBBBBB", 30_000, 30_000, 8, 0, 0, 0, 0)

    def chunk(kind, body):
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    # the pixel data is not even valid zlib: decoding would fail as corrupt
    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", b"junk")
        + chunk(b"IEND", b"")
    )
    path = tmp_path / "bomb.png"
    path.write_bytes(data)

    result = validate_document(path, limits=IntakeLimits(max_pixels=10_000_000))

    assert result.reason is Rejection.IMAGE_TOO_LARGE


def test_the_pixel_limit_is_a_setting(tmp_path):
    path = tmp_path / "page.png"
    path.write_bytes(_png(60, 40))
    assert validate_document(path, limits=IntakeLimits(max_pixels=60 * 40)).accepted
    tight = validate_document(path, limits=IntakeLimits(max_pixels=60 * 40 - 1))
    assert tight.reason is Rejection.IMAGE_TOO_LARGE


def test_a_pdf_page_too_large_to_render_is_rejected(tmp_path):
    pdf = FPDF(unit="pt", format=(14_000, 14_000))
    pdf.add_page()
    path = tmp_path / "poster.pdf"
    path.write_bytes(bytes(pdf.output()))
    assert validate_document(path).reason is Rejection.PAGE_TOO_LARGE


def test_a_pdf_protected_only_against_editing_opens_and_is_accepted(tmp_path):
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.text(20, 20, "Closing disclosure")
    pdf.set_encryption(owner_password="owner-only")
    path = tmp_path / "restricted.pdf"
    path.write_bytes(bytes(pdf.output()))
    assert validate_document(path).accepted


def test_a_png_arriving_with_a_jpeg_extension_is_read_for_what_it_is(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(_png())
    result = validate_document(path)
    assert result.accepted and result.media_format == "PNG"


def test_file_names_are_nfc_normalised_and_accepted_when_harmless(tmp_path):
    decomposed = "cafe\u0301 closing.png"
    path = tmp_path / decomposed
    path.write_bytes(_png())
    result = validate_document(path)
    assert result.accepted
    assert result.file_name == "caf\u00e9 closing.png"


@pytest.mark.parametrize(
    "name",
    [
        "folder/scan.png",
        "..\\scan.png",
        "scan\u202egnp.exe",
        "zero\u200bwidth.png",
        "\x00.png",
        "..",
        "x" * 300 + ".png",
    ],
)
def test_names_with_separators_controls_or_bidi_overrides_are_unsafe(name):
    _, problem = check_file_name(name)
    assert problem


def test_an_object_key_with_a_path_is_rejected_even_when_the_local_copy_is_fine(tmp_path):
    path = tmp_path / "copy.png"
    path.write_bytes(_png())
    result = validate_document(path, name="../../etc/scan.png")
    assert result.reason is Rejection.UNSAFE_FILE_NAME


def test_a_file_over_the_byte_limit_is_rejected_before_it_is_read(tmp_path):
    path = tmp_path / "large.png"
    path.write_bytes(_png())
    result = validate_document(path, limits=IntakeLimits(max_bytes=10))
    assert result.reason is Rejection.FILE_TOO_LARGE


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_an_unreadable_file_is_rejected_not_raised(tmp_path):
    path = tmp_path / "locked.png"
    path.write_bytes(_png())
    path.chmod(0)
    try:
        assert validate_document(path).reason is Rejection.UNREADABLE_FILE
    finally:
        path.chmod(0o644)


def test_uploads_in_progress_are_recognised_so_they_can_be_skipped_not_quarantined():
    assert is_in_flight(".scan_0001.pdf.partial")
    assert is_in_flight("scan.pdf.crdownload")
    assert not is_in_flight("scan_0001.pdf")
