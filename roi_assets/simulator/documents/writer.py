"""Simulated documents as files in the landing zone, with their ground truth.

A document is drawn (type, page budget, damage level, file format), written, laid out, drawn and
damaged, then encoded the way it would arrive: single-page PNG, JPEG or TIFF scans, and PDFs that
are either scans (page images only) or born digital (a clean page with its text layer). Document i
of a seed is the same whatever the batch size, so a larger world extends a smaller one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from fpdf import FPDF
from PIL import Image

from roi_assets.simulator.documents.content import (
    DOCUMENT_TYPES,
    PageBreak,
    collect_entities,
    entities_json,
)
from roi_assets.simulator.documents.degrade import apply_damage, draw_damage
from roi_assets.simulator.documents.render import (
    PAGE_INCHES,
    PageLayout,
    draw_page,
    fit_pages,
    load_font,
)
from roi_assets.simulator.documents.text import write_content
from roi_assets.simulator.landing import write_once

# How often each type reaches the platform: contracts and loan paperwork dominate.
TYPE_SHARES = {
    "purchase_agreement": 0.14,
    "listing_agreement": 0.10,
    "disclosure_form": 0.12,
    "inspection_report": 0.10,
    "mortgage_docs": 0.14,
    "title_docs": 0.10,
    "tax_records": 0.10,
    "hoa_docs": 0.08,
    "other": 0.12,
}
LEVEL_SHARES = (0.35, 0.30, 0.20, 0.15)  # damage levels 0..3 of scanned documents
PAGE_BUDGET_SHARES = (0.45, 0.35, 0.20)  # 1, 2 or 3 pages
SINGLE_PAGE_FORMATS = (("png", 0.25), ("jpeg", 0.25), ("tiff", 0.15), ("pdf", 0.35))
BORN_DIGITAL_SHARE = 0.3  # of PDFs: a clean page with a text layer, as exported by software
FILE_PREFIXES = ("scan", "IMG", "upload", "Document")
PDF_CREATION_DATE = dt.datetime(2024, 1, 2, 9, 30, tzinfo=dt.UTC)
EXTENSIONS = {"png": "png", "jpeg": "jpg", "tiff": "tif", "pdf": "pdf"}


@dataclass(frozen=True)
class SimulatedDocument:
    """One document in memory: its damaged page images, its layout and its truth."""

    document_id: str
    doc_type: str
    file_format: str
    file_name: str
    degradation_level: int
    has_text_layer: bool
    dpi: int
    pages: tuple[np.ndarray, ...]
    layouts: tuple[PageLayout, ...]
    entities: dict[str, list[str | float]]

    @property
    def clean_text(self) -> str:
        """The OCR ground truth: each page's lines in reading order, pages split by a blank line."""
        return "\n\n".join(layout.text for layout in self.layouts)


def simulated_document_id(index: int, seed: int) -> str:
    """The simulator's name for document `index` of world `seed` (known before it is drawn)."""
    return f"DOC-{seed}-{index:05d}"


def simulate_document(
    index: int,
    seed: int,
    *,
    dpi: int = 200,
    doc_type: str | None = None,
    degradation_level: int | None = None,
    file_format: str | None = None,
) -> SimulatedDocument:
    """Document `index` of the world `seed`; keyword arguments pin what is otherwise drawn."""
    if not 72 <= dpi <= 300:
        raise ValueError("dpi must be between 72 and 300")
    seq = np.random.SeedSequence([seed, index])
    content_seed, layout_seed, damage_seed = (int(s.generate_state(1)[0]) for s in seq.spawn(3))
    rng = np.random.default_rng(seq)
    drawn_type = DOCUMENT_TYPES[rng.choice(len(DOCUMENT_TYPES), p=list(TYPE_SHARES.values()))]
    budget = int(rng.choice(3, p=PAGE_BUDGET_SHARES)) + 1
    level = int(rng.choice(4, p=LEVEL_SHARES))
    fmt_names, fmt_shares = zip(*SINGLE_PAGE_FORMATS, strict=True)
    drawn_format = str(rng.choice(fmt_names, p=fmt_shares))
    born_digital = bool(rng.random() < BORN_DIGITAL_SHARE)
    prefix = FILE_PREFIXES[int(rng.integers(len(FILE_PREFIXES)))]

    doc_type = doc_type or drawn_type
    content = write_content(doc_type, content_seed, companions=file_format in (None, "pdf"))
    # a bundled cover sheet or an addendum brings pages of its own on top of the budget
    breaks = sum(isinstance(block, PageBreak) for block in (*content.head, *content.tail))
    blocks, layouts = fit_pages(content, budget + breaks, dpi, layout_seed)
    file_format = file_format or ("pdf" if len(layouts) > 1 else drawn_format)
    if file_format != "pdf" and len(layouts) > 1:
        raise ValueError(f"a {len(layouts)}-page document can only be written as a PDF")
    has_text_layer = file_format == "pdf" and born_digital and degradation_level in (None, 0)
    level = 0 if has_text_layer else (level if degradation_level is None else degradation_level)

    damage_rng = np.random.default_rng(damage_seed)
    pages = []
    for layout in layouts:
        clean = np.asarray(draw_page(layout))
        pages.append(apply_damage(clean, draw_damage(level, damage_rng), damage_rng))
    return SimulatedDocument(
        document_id=simulated_document_id(index, seed),
        doc_type=doc_type,
        file_format=file_format,
        file_name=f"{prefix}_{seed}_{index:05d}.{EXTENSIONS[file_format]}",
        degradation_level=level,
        has_text_layer=has_text_layer,
        dpi=dpi,
        pages=tuple(pages),
        layouts=tuple(layouts),
        entities=collect_entities(blocks),
    )


def simulate_documents(n: int, seed: int, *, dpi: int = 200) -> list[SimulatedDocument]:
    """The first `n` documents of the world `seed`, in memory."""
    return [simulate_document(i, seed, dpi=dpi) for i in range(n)]


def _pdf_bytes(doc: SimulatedDocument) -> bytes:
    width_pt, height_pt = PAGE_INCHES[0] * 72, PAGE_INCHES[1] * 72
    pdf = FPDF(unit="pt", format=(width_pt, height_pt))
    pdf.set_auto_page_break(False)
    pdf.set_creator("ROI Assets document simulator")
    pdf.set_creation_date(PDF_CREATION_DATE)  # a fixed date keeps the bytes, hence the hash, stable
    to_pt = 72 / doc.dpi
    for page, layout in zip(doc.pages, doc.layouts, strict=True):
        pdf.add_page()
        buffer = io.BytesIO()
        # scanners store pages as JPEG; software exports keep the clean page lossless
        image_format = "PNG" if doc.has_text_layer else "JPEG"
        Image.fromarray(page).save(buffer, format=image_format, quality=85, compress_level=1)
        pdf.image(buffer, x=0, y=0, w=width_pt, h=height_pt)
        if doc.has_text_layer:
            with pdf.local_context(text_mode="INVISIBLE"):
                # top-to-bottom, left-to-right, as text extraction reads a page
                for op in sorted(layout.texts, key=lambda t: (t.y, t.x)):
                    ascent = load_font(op.family, op.bold, op.size_px).getmetrics()[0]
                    pdf.set_font("helvetica", "B" if op.bold else "", op.size_px * to_pt)
                    text = op.text.encode("latin-1", errors="replace").decode("latin-1")
                    pdf.text(op.x * to_pt, (op.y + ascent) * to_pt, text)
    return bytes(pdf.output())


def encode_document(doc: SimulatedDocument) -> bytes:
    """The file as it lands: image formats hold one page, PDFs any number."""
    if doc.file_format == "pdf":
        return _pdf_bytes(doc)
    buffer = io.BytesIO()
    image = Image.fromarray(doc.pages[0])
    dpi = (doc.dpi, doc.dpi)
    if doc.file_format == "png":
        image.save(buffer, format="PNG", dpi=dpi, compress_level=1)
    elif doc.file_format == "jpeg":
        image.save(buffer, format="JPEG", dpi=dpi, quality=90)
    else:
        image.save(buffer, format="TIFF", dpi=dpi, compression="tiff_lzw")
    return buffer.getvalue()


def truth_row(doc: SimulatedDocument, content: bytes) -> dict:
    """What the simulator knows about a landed document (for `truth`, never for a model)."""
    return {
        "document_id": doc.document_id,
        "file_name": doc.file_name,
        "content_sha256": hashlib.sha256(content).hexdigest(),
        "doc_type": doc.doc_type,
        "file_format": doc.file_format,
        "page_count": len(doc.pages),
        "degradation_level": doc.degradation_level,
        "has_text_layer": doc.has_text_layer,
        "dpi": doc.dpi,
        "clean_text": doc.clean_text,
        "entities_json": entities_json(doc.entities),
    }


def write_documents(documents_dir: Path, n: int, seed: int, *, dpi: int = 200) -> list[dict]:
    """Write the first `n` documents of world `seed` into `documents_dir`; returns truth rows.

    Files are written once and atomically; a file already present (the same document of the same
    world) is left as it is.
    """
    rows = []
    for index in range(n):
        doc = simulate_document(index, seed, dpi=dpi)
        content = encode_document(doc)
        write_once(Path(documents_dir) / doc.file_name, lambda p, c=content: p.write_bytes(c))
        rows.append(truth_row(doc, content))
    return rows
