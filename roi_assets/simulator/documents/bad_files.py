"""Broken and hostile files of the kinds that reach a real landing zone, each with its defect.

Uploads get cut off, scanners write garbage, people rename spreadsheets to .png, banks send
password-protected PDFs, and an attacker may send a tiny file that declares a gigapixel image or a
name that hides its real extension behind a bidirectional override. The pipeline must quarantine
each with the right reason and carry on; these files let it prove that.
"""

from __future__ import annotations

import datetime as dt
import io
import struct
import zlib
from pathlib import Path

import numpy as np
from fpdf import FPDF
from PIL import Image

from roi_assets.simulator.landing import write_once

# defect -> the intake reason code it should end in
DEFECTS: dict[str, str] = {
    "empty_file": "empty_file",
    "truncated_image": "corrupt_image",
    "corrupt_image": "corrupt_image",
    "not_an_image": "not_an_image",
    "encrypted_pdf": "encrypted_pdf",
    "empty_pdf": "empty_pdf",
    "not_a_pdf": "not_a_pdf",
    "decompression_bomb": "image_too_large",
    "path_in_name": "unsafe_file_name",
    "bidi_override_name": "unsafe_file_name",
    "control_character_name": "unsafe_file_name",
    "unsupported_extension": "unsupported_extension",
}


def _sample_png(rng: np.random.Generator) -> bytes:
    page = np.full((400, 300), 255, np.uint8)
    for _ in range(12):  # a few "lines of text"
        y, x, w = int(rng.integers(20, 380)), int(rng.integers(10, 100)), int(rng.integers(60, 180))
        page[y : y + 6, x : x + w] = 30
    buffer = io.BytesIO()
    Image.fromarray(page).save(buffer, format="PNG")
    return buffer.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def decompression_bomb_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A few hundred bytes that declare a `width` x `height` 8-bit grayscale image.

    Written chunk by chunk because no image library will encode one; the pixel data is a short
    compressed run, as in a real bomb it would inflate to the declared size.
    """
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 65_536, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", pixels)
        + _png_chunk(b"IEND", b"")
    )


def encrypted_pdf() -> bytes:
    pdf = FPDF()
    pdf.set_creation_date(dt.datetime(2024, 1, 2, tzinfo=dt.UTC))
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.text(20, 20, "Closing statement")
    pdf.set_encryption(owner_password="owner-secret", user_password="user-secret")
    return bytes(pdf.output())


def empty_pdf() -> bytes:
    """A well-formed PDF whose page tree is empty (written by hand: PDF writers refuse to)."""
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[]/Count 0>>"]
    out = b"%PDF-1.7\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_at,
    )
    return out


def bad_file(defect: str, rng: np.random.Generator) -> tuple[str, bytes]:
    """(file name, content) for one defect of `DEFECTS`."""
    png = _sample_png(rng)
    if defect == "empty_file":
        return "empty.png", b""
    if defect == "truncated_image":
        return "truncated.png", png[: len(png) // 2]
    if defect == "corrupt_image":
        damaged = bytearray(png)
        start = len(damaged) // 3
        damaged[start : start + 64] = bytes(rng.integers(0, 256, 64, dtype=np.uint8))
        return "corrupt.png", bytes(damaged)
    if defect == "not_an_image":
        return "spreadsheet.jpg", b"client_id,amount\nC001,425000\nC002,315000\n"
    if defect == "encrypted_pdf":
        return "protected.pdf", encrypted_pdf()
    if defect == "empty_pdf":
        return "no_pages.pdf", empty_pdf()
    if defect == "not_a_pdf":
        return "statement.pdf", b"<html><body>Session expired</body></html>"
    if defect == "decompression_bomb":
        return "huge.png", decompression_bomb_png()
    if defect == "path_in_name":
        return "..\\..\\etc\\passwd.png", png
    if defect == "bidi_override_name":
        return "invoice\u202egnp.exe.png", png
    if defect == "control_character_name":
        return "scan\x07\x1b[31m.png", png
    if defect == "unsupported_extension":
        return "notes.docx", b"PK\x03\x04 not really a document"
    raise ValueError(f"unknown defect {defect!r}")


def write_bad_documents(documents_dir: Path, seed: int) -> list[dict]:
    """One file per defect in `documents_dir`; returns rows (file_name, defect, expected reason).

    Names carry the seed so two worlds never collide.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for defect, reason in DEFECTS.items():
        name, content = bad_file(defect, rng)
        name = f"bad_{seed}_{name}"
        write_once(Path(documents_dir) / name, lambda p, c=content: p.write_bytes(c))
        rows.append({"file_name": name, "defect": defect, "expected_reason": reason})
    return rows
