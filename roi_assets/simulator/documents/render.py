"""Lays blocks out on US-letter pages and draws them as grayscale page images.

Layout and drawing are separate so the writer can fit a document to a page budget cheaply and so
the positioned text can also become a PDF text layer. Each document style (legal, letter, form,
report, ledger) has its own typeface, title treatment, heading treatment and table rules, which
is what a page-image classifier gets to see. The text of every line, in reading order, is the OCR
ground truth.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from roi_assets.simulator.documents.content import (
    Block,
    Checkboxes,
    DocumentContent,
    Fields,
    Heading,
    Letterhead,
    PageBreak,
    Paragraph,
    Signatures,
    Table,
    Title,
)

PAGE_INCHES = (8.5, 11.0)
PAPER = 255
INK = 25


@dataclass(frozen=True)
class Style:
    family: str  # sans | serif | mono
    body_pt: float
    title_pt: float
    line_spacing: float
    margin_in: float
    inverse_title: bool  # white title on a dark band
    shaded_headings: bool  # headings on a light band instead of underlined
    table_grid: bool


STYLES: dict[str, Style] = {
    "legal": Style("serif", 11, 15, 1.3, 1.0, False, False, False),
    "letter": Style("sans", 10.5, 14, 1.35, 0.9, False, False, False),
    "form": Style("sans", 10.5, 13, 1.35, 0.75, True, True, True),
    "report": Style("sans", 10.5, 14, 1.3, 0.8, False, True, True),
    "ledger": Style("mono", 10, 13, 1.35, 0.8, True, False, True),
}

# DejaVu ships with matplotlib (a dependency of the product), so rendering needs no system fonts.
_FONT_FILES = {
    ("sans", False): "DejaVuSans.ttf",
    ("sans", True): "DejaVuSans-Bold.ttf",
    ("serif", False): "DejaVuSerif.ttf",
    ("serif", True): "DejaVuSerif-Bold.ttf",
    ("mono", False): "DejaVuSansMono.ttf",
    ("mono", True): "DejaVuSansMono-Bold.ttf",
}


def _font_dir() -> Path:
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        raise RuntimeError("matplotlib's bundled DejaVu fonts are needed to render documents")
    return Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"


@lru_cache(maxsize=64)
def load_font(family: str, bold: bool, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(_font_dir() / _FONT_FILES[(family, bold)]), size_px)


@lru_cache(maxsize=200_000)
def _text_width(family: str, bold: bool, size_px: int, text: str) -> float:
    """Rendered width in pixels; cached because wrapping measures the same words again and again."""
    return load_font(family, bold, size_px).getlength(text)


@dataclass(frozen=True)
class TextOp:
    x: int
    y: int  # top of the text box
    text: str
    family: str
    bold: bool
    size_px: int
    fill: int = INK


@dataclass(frozen=True)
class ShapeOp:
    kind: str  # line | rect | ellipse | polygon | scribble
    points: tuple[tuple[int, int], ...]
    width: int = 2
    fill: int | None = None
    outline: int | None = INK


@dataclass
class _Unit:
    """An unbreakable strip of a page: its height, what to draw (relative to its top), its text."""

    height: int
    texts: list[TextOp] = field(default_factory=list)
    shapes: list[ShapeOp] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    keep_with_next: bool = False
    page_break: bool = False  # start a new page with this unit


@dataclass
class PageLayout:
    """One page: what to draw and the page's text in reading order."""

    width: int
    height: int
    texts: list[TextOp] = field(default_factory=list)
    shapes: list[ShapeOp] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class _Layout:
    """Turns blocks into units for one style and resolution."""

    def __init__(self, style: Style, dpi: int, seed: int) -> None:
        self.style = style
        self.dpi = dpi
        self.rng = np.random.default_rng(seed)
        # pen marks draw from their own stream, so adding them left every layout as it was
        self.pen_rng = np.random.default_rng([seed, 1])
        self.page_w = int(PAGE_INCHES[0] * dpi)
        self.page_h = int(PAGE_INCHES[1] * dpi)
        self.margin = int(style.margin_in * dpi)
        self.content_w = self.page_w - 2 * self.margin
        self.body_px = self._px(style.body_pt)
        self.line_h = int(self.body_px * style.line_spacing)

    def _px(self, points: float) -> int:
        return round(points * self.dpi / 72)

    def width(self, text: str, bold: bool = False, size_px: int | None = None) -> float:
        return _text_width(self.style.family, bold, size_px or self.body_px, text)

    def wrap(self, text: str, width: int, bold: bool = False, size_px: int | None = None) -> list:
        """Greedy word wrap; explicit newlines start a new line."""
        space = self.width(" ", bold, size_px)
        lines: list[str] = []
        for paragraph in text.split("\n"):
            current: list[str] = []
            used = 0.0
            for word in paragraph.split():
                w = self.width(word, bold, size_px)
                if current and used + space + w > width:
                    lines.append(" ".join(current))
                    current, used = [word], w
                else:
                    used = used + space + w if current else w
                    current.append(word)
            lines.append(" ".join(current))
        return lines

    def text_unit(
        self,
        line: str,
        x: int = 0,
        bold: bool = False,
        size_px: int | None = None,
        gap_after: int = 0,
    ) -> _Unit:
        size = size_px or self.body_px
        height = int(size * self.style.line_spacing) + gap_after
        unit = _Unit(height, lines=[line] if line else [])
        if line:
            unit.texts.append(TextOp(self.margin + x, 0, line, self.style.family, bold, size))
        return unit

    def units(self, block: Block) -> list[_Unit]:
        handler = {
            Letterhead: self._letterhead,
            Title: self._title,
            Heading: self._heading,
            Paragraph: self._paragraph,
            Fields: self._fields,
            Table: self._table,
            Checkboxes: self._checkboxes,
            Signatures: self._signatures,
            PageBreak: lambda block: [_Unit(0, page_break=True)],
        }[type(block)]
        return handler(block)

    def _letterhead(self, block: Letterhead) -> list[_Unit]:
        logo = int(0.6 * self.dpi)
        name_px = self._px(16)
        small_px = self._px(9)
        x_text = logo + int(0.2 * self.dpi)
        height = max(logo, name_px + 2 * int(small_px * 1.4)) + int(0.25 * self.dpi)
        unit = _Unit(height, lines=[block.name, *block.lines])
        m = self.margin
        kind = int(self.rng.integers(3))
        if kind == 0:  # a house
            pts = (
                (m, logo // 2),
                (m + logo // 2, 0),
                (m + logo, logo // 2),
                (m + logo, logo),
                (m, logo),
            )
            unit.shapes.append(ShapeOp("polygon", pts, fill=90, outline=INK))
        elif kind == 1:
            unit.shapes.append(ShapeOp("ellipse", ((m, 0), (m + logo, logo)), width=6))
        else:
            unit.shapes.append(ShapeOp("rect", ((m, 0), (m + logo, logo)), fill=60))
        unit.texts.append(TextOp(m + x_text, 0, block.name, self.style.family, True, name_px))
        y = int(name_px * 1.35)
        for line in block.lines:
            unit.texts.append(TextOp(m + x_text, y, line, self.style.family, False, small_px))
            y += int(small_px * 1.4)
        rule_y = height - int(0.12 * self.dpi)
        unit.shapes.append(ShapeOp("line", ((m, rule_y), (m + self.content_w, rule_y)), width=3))
        return [unit]

    def _title(self, block: Title) -> list[_Unit]:
        size = self._px(self.style.title_pt)
        lines = self.wrap(block.text, self.content_w - int(0.4 * self.dpi), True, size)
        row_h = int(size * 1.5)
        unit = _Unit(row_h * len(lines) + int(0.2 * self.dpi), lines=list(lines))
        if self.style.inverse_title:
            unit.shapes.append(
                ShapeOp(
                    "rect",
                    ((self.margin, 0), (self.margin + self.content_w, row_h * len(lines))),
                    fill=INK,
                    outline=None,
                )
            )
        for i, line in enumerate(lines):
            x = self.margin + (self.content_w - int(self.width(line, True, size))) // 2
            fill = PAPER if self.style.inverse_title else INK
            unit.texts.append(
                TextOp(x, i * row_h + int(size * 0.2), line, self.style.family, True, size, fill)
            )
        return [unit]

    def _heading(self, block: Heading) -> list[_Unit]:
        size = self._px(self.style.body_pt + 1)
        unit = self.text_unit(
            block.text,
            x=int(0.05 * self.dpi),
            bold=True,
            size_px=size,
            gap_after=int(0.08 * self.dpi),
        )
        unit.keep_with_next = True
        bottom = int(size * 1.3)
        if self.style.shaded_headings:
            unit.shapes.insert(
                0,
                ShapeOp(
                    "rect",
                    ((self.margin, -int(size * 0.15)), (self.margin + self.content_w, bottom)),
                    fill=215,
                    outline=None,
                ),
            )
        else:
            unit.shapes.append(
                ShapeOp(
                    "line", ((self.margin, bottom), (self.margin + self.content_w, bottom)), width=2
                )
            )
        return [unit]

    def _paragraph(self, block: Paragraph) -> list[_Unit]:
        lines = self.wrap(block.text, self.content_w)
        units = [self.text_unit(line) for line in lines]
        units[-1].height += int(self.line_h * 0.5)
        return units

    def _fields(self, block: Fields) -> list[_Unit]:
        label_w = max(int(self.width(f"{label}:", True)) for label, _ in block.pairs)
        label_w = min(label_w + int(0.15 * self.dpi), self.content_w // 2)
        units = []
        for label, value in block.pairs:
            wrapped = self.wrap(value, self.content_w - label_w)
            unit = _Unit(self.line_h * len(wrapped), lines=[f"{label}: {wrapped[0]}".rstrip()])
            unit.texts.append(
                TextOp(self.margin, 0, f"{label}:", self.style.family, True, self.body_px)
            )
            for i, part in enumerate(wrapped):
                if part:
                    unit.texts.append(
                        TextOp(
                            self.margin + label_w,
                            i * self.line_h,
                            part,
                            self.style.family,
                            False,
                            self.body_px,
                        )
                    )
            unit.lines.extend(wrapped[1:])
            units.append(unit)
        units[-1].height += int(self.line_h * 0.6)
        return units

    def _table(self, block: Table) -> list[_Unit]:
        pad = int(0.08 * self.dpi)
        natural = [
            max([self.width(block.header[c], True)] + [self.width(r[c]) for r in block.rows])
            + 2 * pad
            + 4  # rounding slack, so a cell at its natural width does not wrap
            for c in range(len(block.header))
        ]
        scale = min(1.0, self.content_w / sum(natural))
        widths = [int(w * scale) for w in natural]
        if scale == 1.0:
            widths[-1] += self.content_w - sum(widths)
        units = []
        for r, row in enumerate((block.header, *block.rows)):
            is_header = r == 0
            cells = [self.wrap(text, widths[c] - 2 * pad, is_header) for c, text in enumerate(row)]
            n_lines = max(len(cell) for cell in cells)
            height = n_lines * self.line_h + pad
            unit = _Unit(height)
            if is_header and self.style.table_grid:
                unit.shapes.append(
                    ShapeOp(
                        "rect",
                        ((self.margin, 0), (self.margin + sum(widths), height)),
                        fill=220,
                        outline=None,
                    )
                )
            x = self.margin
            for c, cell in enumerate(cells):
                for i, part in enumerate(cell):
                    unit.texts.append(
                        TextOp(
                            x + pad,
                            pad // 2 + i * self.line_h,
                            part,
                            self.style.family,
                            is_header,
                            self.body_px,
                        )
                    )
                if self.style.table_grid:
                    unit.shapes.append(ShapeOp("rect", ((x, 0), (x + widths[c], height)), width=2))
                x += widths[c]
            if not self.style.table_grid and is_header:
                unit.shapes.append(
                    ShapeOp(
                        "line",
                        (
                            (self.margin, height - pad // 2),
                            (self.margin + sum(widths), height - pad // 2),
                        ),
                    )
                )
            for i in range(n_lines):
                parts = [cell[i] for cell in cells if i < len(cell) and cell[i]]
                unit.lines.append(" ".join(parts))
            units.append(unit)
        units[0].keep_with_next = True
        units[-1].height += int(self.line_h * 0.6)
        return units

    def _checkboxes(self, block: Checkboxes) -> list[_Unit]:
        box = int(self.body_px * 0.8)
        indent = box + int(0.15 * self.dpi)
        units = []
        for label, checked in block.items:
            unit = self.text_unit(label, x=indent)
            top = int(self.body_px * 0.15)
            x0, y0 = self.margin, top
            unit.shapes.append(ShapeOp("rect", ((x0, y0), (x0 + box, y0 + box)), width=2))
            if checked:
                inset = box // 5
                unit.shapes.append(
                    ShapeOp(
                        "line", ((x0 + inset, y0 + inset), (x0 + box - inset, y0 + box - inset)), 3
                    )
                )
                unit.shapes.append(
                    ShapeOp(
                        "line", ((x0 + box - inset, y0 + inset), (x0 + inset, y0 + box - inset)), 3
                    )
                )
            units.append(unit)
        units[-1].height += int(self.line_h * 0.5)
        return units

    def _signatures(self, block: Signatures) -> list[_Unit]:
        units = []
        line_w = int(self.content_w * 0.45)
        sign_h = int(0.45 * self.dpi)
        for role, name in block.signers:
            caption = f"{role}: {name}" if name else role
            unit = _Unit(sign_h + self.line_h * 2, lines=[caption])
            if name and self.rng.random() < 0.8:
                unit.shapes.append(self._scribble(sign_h, line_w))
            unit.shapes.append(
                ShapeOp("line", ((self.margin, sign_h), (self.margin + line_w, sign_h)), width=2)
            )
            unit.texts.append(
                TextOp(
                    self.margin,
                    sign_h + int(0.05 * self.dpi),
                    caption,
                    self.style.family,
                    False,
                    self.body_px,
                )
            )
            units.append(unit)
        return units

    def _scribble(self, baseline: int, width: int) -> ShapeOp:
        """A pen signature: a smooth random stroke above the signature line."""
        n = 40
        xs = np.linspace(0, width * float(self.rng.uniform(0.4, 0.8)), n)
        phase = self.rng.uniform(0, 2 * np.pi, 3)
        ys = (
            np.sin(xs / 25 + phase[0]) * 0.5
            + np.sin(xs / 9 + phase[1]) * 0.3
            + np.sin(xs / 4 + phase[2]) * 0.2
        )
        ys = baseline - int(0.15 * self.dpi) - ys * 0.12 * self.dpi
        pts = tuple(
            (self.margin + int(0.2 * self.dpi) + int(x), int(y))
            for x, y in zip(xs, ys, strict=True)
        )
        return ShapeOp("scribble", pts, width=3)


# How often a page carries each kind of pen mark a reader leaves on a printed form.
PEN_MARK_SHARES = {"initials": 0.35, "tick": 0.3, "circle": 0.15, "note": 0.2}


def _pen_marks(lay: _Layout, page: PageLayout) -> None:
    """Handwriting-like marks that are not text: initials in the bottom margin, a tick or a
    squiggle in the left margin, a ring drawn around a passage. They are ink the OCR meets and
    must not read as words, so they add nothing to the page's true text."""
    rng = lay.pen_rng
    dpi, w, h, m = lay.dpi, lay.page_w, lay.page_h, lay.margin
    if rng.random() < PEN_MARK_SHARES["initials"]:
        x0 = w - m - int(1.2 * dpi)
        y0 = h - m + int(0.05 * dpi)
        page.shapes.append(_pen_stroke(rng, x0, y0, int(0.7 * dpi), int(0.12 * dpi), 18))
    if rng.random() < PEN_MARK_SHARES["tick"]:
        x0 = max(4, m // 2 - int(0.1 * dpi))
        y0 = int(rng.uniform(m, h - 2 * m))
        s = int(0.12 * dpi)
        page.shapes.append(
            ShapeOp("line", ((x0, y0), (x0 + s // 2, y0 + s), (x0 + 2 * s, y0 - s)), 3)
        )
    if rng.random() < PEN_MARK_SHARES["circle"]:
        cx, cy = int(rng.uniform(0.3, 0.7) * w), int(rng.uniform(0.25, 0.75) * h)
        rx, ry = int(rng.uniform(0.6, 1.4) * dpi), int(rng.uniform(0.12, 0.25) * dpi)
        page.shapes.append(ShapeOp("ellipse", ((cx - rx, cy - ry), (cx + rx, cy + ry)), 2))
    if rng.random() < PEN_MARK_SHARES["note"]:
        x0 = w - m + int(0.1 * dpi)
        y0 = int(rng.uniform(m, h - 2 * m))
        page.shapes.append(_pen_stroke(rng, x0, y0, int(0.5 * m), int(0.1 * dpi), 12))


def _pen_stroke(
    rng: np.random.Generator, x0: int, y0: int, width: int, amplitude: int, n: int
) -> ShapeOp:
    """A quick cursive-like stroke: a wavy line with a random rhythm."""
    xs = np.sort(rng.uniform(0, width, n))
    ys = np.sin(np.linspace(0, rng.uniform(3, 8) * np.pi, n)) * amplitude * rng.uniform(0.5, 1.0, n)
    points = tuple((x0 + int(x), y0 + int(y)) for x, y in zip(xs, ys, strict=True))
    return ShapeOp("scribble", points, width=3)


def _paginate(lay: _Layout, units: list[_Unit]) -> list[PageLayout]:
    """Flow units onto pages (a heading stays with what follows it) and add page numbers."""
    footer_h = int(0.5 * lay.dpi)
    bottom = lay.page_h - lay.margin - footer_h
    pages: list[PageLayout] = []
    page = PageLayout(lay.page_w, lay.page_h)
    y = lay.margin
    for i, unit in enumerate(units):
        needed = unit.height
        if unit.keep_with_next and i + 1 < len(units):
            needed += units[i + 1].height
        if (y + needed > bottom or unit.page_break) and page.lines:
            pages.append(page)
            page = PageLayout(lay.page_w, lay.page_h)
            y = lay.margin
        page.texts.extend(
            TextOp(t.x, t.y + y, t.text, t.family, t.bold, t.size_px, t.fill) for t in unit.texts
        )
        page.shapes.extend(
            ShapeOp(s.kind, tuple((px, py + y) for px, py in s.points), s.width, s.fill, s.outline)
            for s in unit.shapes
        )
        page.lines.extend(unit.lines)
        y += unit.height
    pages.append(page)
    for page in pages:
        _pen_marks(lay, page)
    footer_px = lay._px(9)
    for number, page in enumerate(pages, start=1):
        footer = f"Page {number} of {len(pages)}"
        x = (lay.page_w - int(_text_width(lay.style.family, False, footer_px, footer))) // 2
        page.texts.append(
            TextOp(
                x, lay.page_h - lay.margin - footer_px, footer, lay.style.family, False, footer_px
            )
        )
        page.lines.append(footer)
    return pages


def fit_pages(content: DocumentContent, budget: int, dpi: int = 200, seed: int = 0) -> tuple:
    """Keep as many optional clauses as fit `budget` pages (the opening and closing always stay).

    Returns (the blocks kept, their pages). Each block is laid out once; only pagination is
    repeated while clauses are added.
    """
    lay = _Layout(STYLES[content.style], dpi, seed)
    head = [u for block in content.head for u in lay.units(block)]
    optional = [lay.units(block) for block in content.optional]
    tail = [u for block in content.tail for u in lay.units(block)]
    kept = 0
    pages = _paginate(lay, head + tail)
    for k in range(1, len(optional) + 1):
        candidate = _paginate(lay, head + [u for units in optional[:k] for u in units] + tail)
        if len(candidate) > budget:
            break
        kept, pages = k, candidate
    return content.blocks(kept), pages


def draw_page(page: PageLayout) -> Image.Image:
    """The clean page image (8-bit grayscale) of a laid-out page."""
    image = Image.new("L", (page.width, page.height), PAPER)
    draw = ImageDraw.Draw(image)
    for shape in page.shapes:
        if shape.kind == "rect":
            draw.rectangle(shape.points, fill=shape.fill, outline=shape.outline, width=shape.width)
        elif shape.kind == "ellipse":
            draw.ellipse(shape.points, fill=shape.fill, outline=shape.outline, width=shape.width)
        elif shape.kind == "polygon":
            draw.polygon(shape.points, fill=shape.fill, outline=shape.outline)
        else:  # line or scribble
            draw.line(shape.points, fill=shape.outline, width=shape.width, joint="curve")
    for op in page.texts:
        draw.text(
            (op.x, op.y), op.text, fill=op.fill, font=load_font(op.family, op.bold, op.size_px)
        )
    return image
