"""OCR speed and accuracy on simulated scans: the product's pipeline against raw Tesseract.

For each damage level (0 none, 1 light, 2 medium, 3 heavy) the same page images go through
  - the pipeline: quality score, routing, preprocessing preset, Tesseract (`ocr.read_pages`);
    Textract is left out (no AWS here), so poor pages take the strong preset and review flag;
  - raw Tesseract: `pytesseract.image_to_string` on the page as loaded, default settings (handed
    over as an uncompressed TIFF like the pipeline does, so the comparison is of the engines).
Pages are decoded from the files as they land (JPEG, PNG, TIFF, scanned PDF), so both readers
see the same pixels. Tesseract runs single-threaded (OMP_THREAD_LIMIT=1), one page at a time.

Reported per level: seconds per page as wall time and as CPU time (this process plus the
tesseract child), and the character error rate (CER: Levenshtein edits / reference characters,
whitespace collapsed, pooled over the pages) against the simulator's clean text. CPU time is the
figure to compare with "one core" when the machine is shared; wall time is what a user waits.

Usage: .venv/bin/python benchmarks/ocr.py [--pages-per-level 8] [--seed 5] [--dpi 200]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytesseract
from PIL import Image
from rapidfuzz.distance import Levenshtein

from roi_assets.documents.ocr import read_pages
from roi_assets.documents.pages import load_pages
from roi_assets.documents.tesseract import limit_tesseract_threads
from roi_assets.simulator.documents.degrade import LEVELS
from roi_assets.simulator.documents.writer import encode_document, simulate_document

TARGET_SECONDS_PER_PAGE = 1.0
TARGET_CER = 0.02


def _normalise(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Tally:
    pages: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    edits: int = 0
    chars: int = 0
    routes: dict[str, int] = field(default_factory=dict)

    def add(self, hypothesis: str, reference: str, wall: float, cpu: float) -> None:
        ref = _normalise(reference)
        self.pages += 1
        self.wall += wall
        self.cpu += cpu
        self.edits += Levenshtein.distance(_normalise(hypothesis), ref)
        self.chars += len(ref)

    @property
    def cer(self) -> float:
        return self.edits / self.chars if self.chars else float("nan")


class Clock:
    """Wall time and CPU time of this process and its waited-for children (tesseract)."""

    def __enter__(self) -> Clock:
        self._wall = time.perf_counter()
        self._times = os.times()
        return self

    def __exit__(self, *exc: object) -> None:
        end = os.times()
        self.wall = time.perf_counter() - self._wall
        self.cpu = sum(
            getattr(end, k) - getattr(self._times, k)
            for k in ("user", "system", "children_user", "children_system")
        )


def scanned_pages(level: int, n_pages: int, seed: int, dpi: int, folder: Path) -> list[tuple]:
    """(page image, reference text) for `n_pages` pages of scans damaged at `level`."""
    pages: list[tuple] = []
    index = 0
    while len(pages) < n_pages:
        doc = simulate_document(index, seed, dpi=dpi, degradation_level=level)
        index += 1
        if doc.has_text_layer:
            continue
        path = folder / doc.file_name
        path.write_bytes(encode_document(doc))
        for image, layout in zip(load_pages(path, dpi), doc.layouts, strict=True):
            pages.append((image, layout.text))
    return pages[:n_pages]


def run(pages_per_level: int, seed: int, dpi: int) -> None:
    limit_tesseract_threads()
    load_before = os.getloadavg()
    pipeline = {level: Tally() for level in LEVELS}
    raw = {level: Tally() for level in LEVELS}
    with tempfile.TemporaryDirectory() as tmp:
        for level in LEVELS:
            for image, reference in scanned_pages(level, pages_per_level, seed, dpi, Path(tmp)):
                with Clock() as clock:
                    read = read_pages([image], environ={})
                tally = pipeline[level]
                tally.add(read.pages[0].text, reference, clock.wall, clock.cpu)
                tally.routes[read.preset] = tally.routes.get(read.preset, 0) + 1
                handover = Image.fromarray(image)
                handover.format = "TIFF"  # the same uncompressed handover the pipeline uses
                with Clock() as clock:
                    text = pytesseract.image_to_string(handover)
                raw[level].add(text, reference, clock.wall, clock.cpu)

    print(
        f"OCR benchmark: {pages_per_level} pages per level, seed {seed}, {dpi} dpi, "
        f"OMP_THREAD_LIMIT={os.environ['OMP_THREAD_LIMIT']}, "
        f"load average {load_before[0]:.1f} before / {os.getloadavg()[0]:.1f} after"
    )
    header = (
        f"{'level':<8}{'pages':>6}  {'route':<22}{'pipe s/pg':>10}{'pipe cpu':>9}"
        f"{'raw s/pg':>9}{'raw cpu':>8}{'cpu ratio':>10}{'pipe CER':>9}{'raw CER':>8}"
        f"{'CER raw/pipe':>13}"
    )
    print(header)
    print("-" * len(header))
    for level, name in LEVELS.items():
        p, r = pipeline[level], raw[level]
        routes = ", ".join(f"{k} {v}" for k, v in sorted(p.routes.items()))
        ratio = r.cer / p.cer if p.cer > 0 else float("inf")
        print(
            f"{f'{level} {name}':<8}{p.pages:>6}  {routes:<22}{p.wall / p.pages:>10.2f}"
            f"{p.cpu / p.pages:>9.2f}{r.wall / r.pages:>9.2f}{r.cpu / r.pages:>8.2f}"
            f"{(p.cpu / p.pages) / (r.cpu / r.pages):>10.2f}{p.cer:>9.2%}{r.cer:>8.2%}"
            f"{ratio:>13.1f}"
        )
    degraded = [level for level in LEVELS if level > 0]
    pooled_cer = sum(pipeline[lv].edits for lv in degraded) / sum(
        pipeline[lv].chars for lv in degraded
    )
    cpu_per_page = sum(t.cpu for t in pipeline.values()) / sum(t.pages for t in pipeline.values())
    print()
    print(
        f"pipeline CPU s/page, all levels: {cpu_per_page:.2f} "
        f"(target < {TARGET_SECONDS_PER_PAGE:.0f} s on one core)"
    )
    print(
        f"pipeline CER, degraded levels pooled: {pooled_cer:.2%} (target <= {TARGET_CER:.0%}); "
        f"accuracy {1 - pooled_cer:.2%} (specification 95 %)"
    )
    for level in degraded:
        verdict = "meets" if pipeline[level].cer <= TARGET_CER else "misses"
        print(
            f"  level {level} {LEVELS[level]}: CER {pipeline[level].cer:.2%} {verdict} the "
            f"{TARGET_CER:.0%} target"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages-per-level", type=int, default=8)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--dpi", type=int, default=200)
    args = parser.parse_args()
    run(args.pages_per_level, args.seed, args.dpi)


if __name__ == "__main__":
    main()
