"""Checks a landed document before anything decodes it: accepted, or rejected with a reason.

The landing zone belongs to the sources, so the checks only read (the file is opened read-only
and never moved or rewritten). They run cheapest first and decode nothing that has not passed the
size checks: an image's declared pixel dimensions and a PDF's page sizes are read from headers
before a single pixel is decompressed, which is what stops decompression bombs. Every rejection
carries a machine-readable reason code for `raw.quarantine` and a sentence for the people who
read it.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, UnidentifiedImageError

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})
PDF_EXTENSIONS = frozenset({".pdf"})
SUPPORTED_EXTENSIONS = IMAGE_EXTENSIONS | PDF_EXTENSIONS
# Unicode categories that have no business in a file name: control characters, format characters
# (bidirectional overrides, zero-width joiners), surrogates, private use and unassigned code points.
FORBIDDEN_NAME_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
MAX_NAME_BYTES = 255
_ENCRYPT_KEY = re.compile(rb"/Encrypt\b")
_PAGES_NODE = re.compile(rb"/Type\s*/Pages\b")
_PAGE_NODE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")


class Rejection(StrEnum):
    UNSAFE_FILE_NAME = "unsafe_file_name"
    UNSUPPORTED_EXTENSION = "unsupported_extension"
    UNREADABLE_FILE = "unreadable_file"
    EMPTY_FILE = "empty_file"
    FILE_TOO_LARGE = "file_too_large"
    NOT_AN_IMAGE = "not_an_image"
    CORRUPT_IMAGE = "corrupt_image"
    IMAGE_TOO_LARGE = "image_too_large"
    NOT_A_PDF = "not_a_pdf"
    CORRUPT_PDF = "corrupt_pdf"
    ENCRYPTED_PDF = "encrypted_pdf"
    EMPTY_PDF = "empty_pdf"
    TOO_MANY_PAGES = "too_many_pages"
    PAGE_TOO_LARGE = "page_too_large"


@dataclass(frozen=True)
class IntakeLimits:
    """What the pipeline agrees to read. 40 megapixels is a legal-size page at 600 dpi; no page
    side is longer than 30,000 pixels (a 50-inch receipt at 600 dpi), whatever the pixel count."""

    max_bytes: int = 50 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_side_pixels: int = 30_000
    max_pages: int = 50
    render_dpi: int = 200  # the resolution PDF pages are rendered at, for the page-size check


@dataclass(frozen=True)
class IntakeResult:
    """The verdict on one landed file; `content_sha256` keys the document downstream."""

    file_name: str  # NFC-normalised
    path: Path
    accepted: bool
    reason: Rejection | None
    message: str
    content_sha256: str | None
    size_bytes: int
    kind: str | None = None  # image | pdf
    media_format: str | None = None  # PNG, JPEG, TIFF, PDF: what the bytes are, not the extension
    page_count: int | None = None


class _Rejected(Exception):
    def __init__(self, reason: Rejection, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def content_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes: the document's identity, so a file landing twice is one."""
    with Path(path).open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def is_in_flight(name: str) -> bool:
    """Hidden and partial files are uploads in progress: skip them now, look again later."""
    return name.startswith(".") or name.endswith((".partial", ".part", ".tmp", ".crdownload"))


def check_file_name(name: str) -> tuple[str, str | None]:
    """The NFC-normalised name and, when it cannot be trusted, why not (None when it can)."""
    normalised = unicodedata.normalize("NFC", name)
    if normalised in ("", ".", ".."):
        return normalised, "the file name is empty or a relative directory reference"
    if "/" in normalised or "\\" in normalised:
        return normalised, "the file name contains a path separator"
    odd = [c for c in normalised if unicodedata.category(c) in FORBIDDEN_NAME_CATEGORIES]
    if odd:
        codes = ", ".join(sorted({f"U+{ord(c):04X}" for c in odd}))
        return normalised, f"the file name contains control or formatting characters ({codes})"
    if len(normalised.encode("utf-8")) > MAX_NAME_BYTES:
        return normalised, f"the file name is longer than {MAX_NAME_BYTES} bytes"
    return normalised, None


# Pillow's decoders answer fuzzed bytes with many exception types (struct.error, IndexError,
# ZeroDivisionError, EOFError, ...); whichever it is, bytes that cannot be decoded are a corrupt
# image, never a crash of the caller.
_DECODE_ERRORS = (Exception,)


def _image_geometry(image: Image.Image, limits: IntakeLimits) -> int:
    """The frame count, after every frame's declared size passed the limits (no pixel decoded)."""
    n_frames = int(getattr(image, "n_frames", 1))
    if n_frames > limits.max_pages:
        raise _Rejected(
            Rejection.TOO_MANY_PAGES,
            f"the image has {n_frames} pages; the limit is {limits.max_pages}",
        )
    for frame in range(n_frames):
        image.seek(frame)
        width, height = image.size
        if min(width, height) < 1 or max(width, height) > limits.max_side_pixels:
            raise _Rejected(
                Rejection.IMAGE_TOO_LARGE,
                f"page {frame + 1} declares {width}x{height} pixels; a side must be 1 to "
                f"{limits.max_side_pixels:,} pixels",
            )
        if width * height > limits.max_pixels:
            raise _Rejected(
                Rejection.IMAGE_TOO_LARGE,
                f"page {frame + 1} declares {width}x{height} pixels; the limit is "
                f"{limits.max_pixels:,} pixels",
            )
    return n_frames


def _check_image(data: bytes, limits: IntakeLimits) -> tuple[str, int]:
    """Format and frame count of an image, after size checks on the header and a full decode."""
    try:
        with warnings.catch_warnings():
            # PIL's own bomb guard only warns below twice its limit; ours is stricter and explicit
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:
        raise _Rejected(
            Rejection.IMAGE_TOO_LARGE, f"the image declares too many pixels: {error}"
        ) from None
    except UnidentifiedImageError:
        raise _Rejected(
            Rejection.NOT_AN_IMAGE,
            "the file has an image extension but its content "
            "is not an image format the pipeline reads",
        ) from None
    except _DECODE_ERRORS as error:
        raise _Rejected(
            Rejection.CORRUPT_IMAGE, f"the image header cannot be read: {error}"
        ) from None
    with image:
        media_format = image.format or "unknown"
        try:
            n_frames = _image_geometry(image, limits)
        except _Rejected:
            raise
        except _DECODE_ERRORS as error:
            raise _Rejected(
                Rejection.CORRUPT_IMAGE, f"the image's frames cannot be read: {error}"
            ) from None
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()  # checksums and structure, without decoding
        with Image.open(io.BytesIO(data)) as image:
            for frame in range(n_frames):
                image.seek(frame)
                image.load()  # a full decode: truncated or damaged pixel data fails here
    except _DECODE_ERRORS as error:
        raise _Rejected(
            Rejection.CORRUPT_IMAGE, f"the image is truncated or corrupt: {error}"
        ) from None
    return media_format, n_frames


def _check_pdf(data: bytes, limits: IntakeLimits) -> int:
    """Page count of a PDF that opens without a password and has pages of a sane size."""
    if b"%PDF-" not in data[:1024]:
        raise _Rejected(Rejection.NOT_A_PDF, "the file has a .pdf extension but is not a PDF")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        # PDFium's error code lives in a process-wide slot that a document without pages does not
        # set (it may still hold an earlier document's code), so the reason is read from the file.
        if _ENCRYPT_KEY.search(data):
            raise _Rejected(
                Rejection.ENCRYPTED_PDF, "the PDF is password-protected and cannot be read"
            ) from None
        if _PAGES_NODE.search(data) and not _PAGE_NODE.search(data):
            raise _Rejected(Rejection.EMPTY_PDF, "the PDF has no pages") from None
        raise _Rejected(Rejection.CORRUPT_PDF, f"the PDF cannot be opened: {error}") from None
    try:
        n_pages = len(pdf)
        if n_pages == 0:
            raise _Rejected(Rejection.EMPTY_PDF, "the PDF has no pages")
        if n_pages > limits.max_pages:
            raise _Rejected(
                Rejection.TOO_MANY_PAGES,
                f"the PDF has {n_pages} pages; the limit is {limits.max_pages}",
            )
        scale = limits.render_dpi / 72
        for index in range(n_pages):
            try:
                width_pt, height_pt = pdf.get_page_size(index)
            except pdfium.PdfiumError as error:
                raise _Rejected(
                    Rejection.CORRUPT_PDF, f"page {index + 1} cannot be read: {error}"
                ) from None
            pixels = width_pt * scale * height_pt * scale
            if pixels > limits.max_pixels:
                raise _Rejected(
                    Rejection.PAGE_TOO_LARGE,
                    f"page {index + 1} is {width_pt:.0f}x{height_pt:.0f} points, "
                    f"{pixels:,.0f} pixels at {limits.render_dpi} dpi",
                )
    finally:
        pdf.close()
    return n_pages


@dataclass(frozen=True)
class ContentVerdict:
    """What the bytes of a document are, or why they are refused (no file, no name involved)."""

    accepted: bool
    reason: Rejection | None
    message: str
    kind: str | None = None  # image | pdf
    media_format: str | None = None
    page_count: int | None = None


def check_content(
    data: bytes, extension: str, limits: IntakeLimits | None = None
) -> ContentVerdict:
    """Judge a document's bytes by the extension it came with: the landing zone's check and the
    serving API's upload check are this one function, so both refuse the same files for the same
    reasons. Never raises for bad bytes."""
    limits = limits or IntakeLimits()
    extension = extension.lower()
    try:
        if extension not in SUPPORTED_EXTENSIONS:
            raise _Rejected(
                Rejection.UNSUPPORTED_EXTENSION,
                f"'{extension or 'no extension'}' is not one of "
                f"{', '.join(sorted(SUPPORTED_EXTENSIONS))}",
            )
        if not data:
            raise _Rejected(Rejection.EMPTY_FILE, "the file is empty (0 bytes)")
        if len(data) > limits.max_bytes:
            raise _Rejected(
                Rejection.FILE_TOO_LARGE,
                f"the file is {len(data):,} bytes; the limit is {limits.max_bytes:,}",
            )
        if extension in PDF_EXTENSIONS:
            return ContentVerdict(True, None, "accepted", "pdf", "PDF", _check_pdf(data, limits))
        media_format, frames = _check_image(data, limits)
        return ContentVerdict(True, None, "accepted", "image", media_format, frames)
    except _Rejected as rejected:
        return ContentVerdict(False, rejected.reason, rejected.message)


def validate_document(
    path: Path, name: str | None = None, limits: IntakeLimits | None = None
) -> IntakeResult:
    """Check one landed file; `name` is the name it arrived under (default: the path's name).

    Never raises for a bad file and never modifies it: a bad file is a rejected result.
    """
    path = Path(path)
    limits = limits or IntakeLimits()
    file_name, name_problem = check_file_name(name if name is not None else path.name)
    size = 0
    digest: str | None = None
    try:
        if name_problem:
            raise _Rejected(Rejection.UNSAFE_FILE_NAME, name_problem)
        extension = Path(file_name).suffix.lower()
        if extension not in SUPPORTED_EXTENSIONS:
            verdict = check_content(b"", extension, limits)
            raise _Rejected(verdict.reason, verdict.message)
        try:
            size = path.stat().st_size
            if size > limits.max_bytes:
                # refused before reading: the size alone decides
                raise _Rejected(
                    Rejection.FILE_TOO_LARGE,
                    f"the file is {size:,} bytes; the limit is {limits.max_bytes:,}",
                )
            data = path.read_bytes()
        except OSError as error:
            raise _Rejected(
                Rejection.UNREADABLE_FILE, f"the file cannot be read: {error}"
            ) from None
        size = len(data)
        digest = hashlib.sha256(data).hexdigest() if data else None
        verdict = check_content(data, extension, limits)
        if not verdict.accepted:
            raise _Rejected(verdict.reason, verdict.message)
    except _Rejected as rejected:
        return IntakeResult(file_name, path, False, rejected.reason, rejected.message, digest, size)
    return IntakeResult(
        file_name,
        path,
        True,
        None,
        "accepted",
        digest,
        size,
        verdict.kind,
        verdict.media_format,
        verdict.page_count,
    )
