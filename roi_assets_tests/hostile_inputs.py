"""Hostile inputs, one table for the serving API and the landing zone.

A row is either a file (its name and bytes: posted to /v1/documents/classify as the multipart
`file` part, and landed in landing/documents/) or a raw HTTP request (API only: content types,
multipart framing, JSON bodies). Each row names the 4xx status the API answers with and the
reason code both the API and, for files, the landing zone's quarantine give.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pypdfium2 as pdfium
from PIL import Image

from roi_assets.simulator.documents.bad_files import (
    decompression_bomb_png,
    empty_pdf,
    encrypted_pdf,
)

DOCUMENT_PATH = "/v1/documents/classify"
SCORE_PATH = "/v1/engagement/score"


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares `width` x `height` grayscale pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 4096, 9))
        + _png_chunk(b"IEND", b"")
    )


def small_png(size: int = 40) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((size, size), 200, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def truncated_png() -> bytes:
    whole = small_png(400)
    return whole[: len(whole) // 2]


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real 20x20 JPEG whose start-of-frame header is rewritten to declare another size."""
    buffer = io.BytesIO()
    Image.fromarray(np.full((20, 20), 200, np.uint8)).save(buffer, format="JPEG")
    data = bytearray(buffer.getvalue())
    frame = data.index(b"\xff\xc0")
    data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def tiff_of_pages(pages: int) -> bytes:
    buffer = io.BytesIO()
    frames = [Image.fromarray(np.full((10, 10), 200, np.uint8)) for _ in range(pages)]
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


def pdf_of_page(width_pt: float, height_pt: float) -> bytes:
    pdf = pdfium.PdfDocument.new()
    pdf.new_page(width_pt, height_pt)
    buffer = io.BytesIO()
    pdf.save(buffer)
    pdf.close()
    return buffer.getvalue()


@dataclass(frozen=True)
class HostileFile:
    """A file a caller uploads or a source lands."""

    case: str
    name: str
    content: Callable[[], bytes]
    status: int
    reason: str


@dataclass(frozen=True)
class HostileRequest:
    """A raw request to the API (no landing-zone counterpart)."""

    case: str
    path: str
    body: bytes | Callable[[], object]
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 400
    reason: str = ""


HOSTILE_FILES = [
    HostileFile("decompression bomb (60,000 x 60,000 PNG)", "bomb.png",
                lambda: decompression_bomb_png(60_000, 60_000), 413, "image_too_large"),
    HostileFile("image of absurd shape (1 x 1,000,000 PNG)", "strip.png",
                lambda: png_declaring(1, 1_000_000), 413, "image_too_large"),
    HostileFile("image with a zero side", "flat.png", lambda: png_declaring(0, 10), 415,
                "not_an_image"),
    HostileFile("JPEG header declaring 65,500 x 65,500", "photo.jpg",
                lambda: jpeg_declaring(65_500, 65_500), 413, "image_too_large"),
    HostileFile("TIFF of 60 pages", "fax.tiff", lambda: tiff_of_pages(60), 413, "too_many_pages"),
    HostileFile("PDF page of 200 x 200 inches", "poster.pdf", lambda: pdf_of_page(14_400, 14_400),
                413, "page_too_large"),
    HostileFile("encrypted PDF", "protected.pdf", encrypted_pdf, 422, "encrypted_pdf"),
    HostileFile("PDF with no pages", "no_pages.pdf", empty_pdf, 422, "empty_pdf"),
    HostileFile("HTML named .pdf", "statement.pdf",
                lambda: b"<html><body>Session expired</body></html>", 415, "not_a_pdf"),
    HostileFile("PNG named .pdf", "scan.pdf", small_png, 415, "not_a_pdf"),
    HostileFile("CSV named .jpg", "sheet.jpg", lambda: b"client_id,amount\nC1,425000\n", 415,
                "not_an_image"),
    HostileFile("truncated PNG", "cut.png", truncated_png, 422, "corrupt_image"),
    HostileFile("empty file", "empty.png", lambda: b"", 422, "empty_file"),
    HostileFile("unsupported type", "notes.docx", lambda: b"PK\x03\x04 not a document", 415,
                "unsupported_extension"),
]  # fmt: skip

_MULTIPART = "multipart/form-data; boundary=XYZ"
_JSON = {"content-type": "application/json"}
HOSTILE_REQUESTS = [
    HostileRequest("JSON sent as text/plain", SCORE_PATH, b'{"client_id": "c0001"}',
                   {"content-type": "text/plain"}, 415, "unsupported_content_type"),
    HostileRequest("XML body", SCORE_PATH, b"<client>c0001</client>",
                   {"content-type": "application/xml"}, 415, "unsupported_content_type"),
    HostileRequest("document sent as JSON", DOCUMENT_PATH, b'{"file": "JVBERi0="}', _JSON, 415,
                   "unsupported_content_type"),
    HostileRequest("multipart without a boundary", DOCUMENT_PATH, b"--XYZ\r\n",
                   {"content-type": "multipart/form-data"}, 415, "unsupported_content_type"),
    HostileRequest("multipart of garbage", DOCUMENT_PATH, b"\x00\x01 not multipart at all",
                   {"content-type": _MULTIPART}, 400, "malformed_multipart"),
    HostileRequest("multipart part without headers", DOCUMENT_PATH,
                   b"--XYZ\r\nGarbage header\r\n\r\nhello\r\n--XYZ--\r\n",
                   {"content-type": _MULTIPART}, 400, "malformed_multipart"),
    HostileRequest("multipart cut off before its end", DOCUMENT_PATH,
                   b'--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
                   b"\r\n%PDF-1.7 and then noth",
                   {"content-type": _MULTIPART}, 422, "invalid_request"),
    HostileRequest("file sent as a plain form field", DOCUMENT_PATH,
                   b'--XYZ\r\nContent-Disposition: form-data; name="file"\r\n\r\n'
                   b"hello\r\n--XYZ--\r\n",
                   {"content-type": _MULTIPART}, 422, "invalid_request"),
    HostileRequest("oversize JSON (declared length)", SCORE_PATH,
                   b'{"client_id": "c0001", "pad": "' + b"x" * 400_000 + b'"}', _JSON, 413,
                   "body_too_large"),
    HostileRequest("oversize JSON (chunked, no length)", SCORE_PATH,
                   lambda: (b"[" * 1024 for _ in range(400)), _JSON, 413, "body_too_large"),
    HostileRequest("malformed JSON", SCORE_PATH, b'{"client_id": ', _JSON, 422, "malformed_json"),
    HostileRequest("JSON that is not UTF-8", SCORE_PATH, b'{"client_id": "\xff\xfe"}', _JSON, 400,
                   "malformed_body"),
    HostileRequest("JSON nested 100,000 deep", SCORE_PATH, b"[" * 100_000 + b"]" * 100_000, _JSON,
                   400, "malformed_body"),
    HostileRequest("invalid Content-Length", SCORE_PATH, b"{}",
                   {**_JSON, "content-length": "12abc"}, 400, "invalid_content_length"),
]  # fmt: skip
