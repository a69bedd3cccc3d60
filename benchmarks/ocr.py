"""OCR accuracy and speed: the product's route against raw Tesseract, on real and simulated scans.

Two sets of pages, each read twice in the same run:
  - the product's route (`ocr.read_pages`): quality score, routing, the clean-up the page's
    measurements call for, Tesseract's own layout analysis at the page's resolution, orientation
    check, text cleaning; Textract is left out (no AWS here), so poor pages take the `strong`
    route and the review flag;
  - raw Tesseract: its plain text of the page as loaded, default settings, told the resolution the
    file declares (none for an image that declares none).

Real pages: the scans OCRmyPDF ships as test resources (`roi_assets_tests/documents/real_scans`,
see its README for source, version and licence): a two-column 300-dpi product sheet as a PNG that
declares no resolution, as a PDF, as a bilevel CCITT PDF, skewed, turned 90, 180 and 270 degrees,
and the PDF with the simulator's light and medium damage applied. Their ground truth is
`linn.gt.txt`. Simulated pages: documents drawn at each damage level (0 none .. 3 heavy), their
truth the simulator's clean text.

Reported: character error rate (CER: Levenshtein edits / reference characters, whitespace
collapsed, pooled over pages), order-free word recall (the share of the reference's words found,
as a multiset, wherever they are: reading order does not count), CPU seconds per page and per
document (this process plus the tesseract children), Spearman's rank correlation between the
quality score and the page's CER, and entity precision and recall per type on the simulated
documents (on the OCR text and on the true text). `--steps` also measures every clean-up step
on its own: each step switched against the page's plan, the CER change it causes.

Usage: .venv/bin/python benchmarks/ocr.py [--docs-per-level 6] [--seed 5] [--dpi 200] [--steps]
"""

from __future__ import annotations

import argparse
import functools
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tesserocr
from PIL import Image
from rapidfuzz.distance import Levenshtein
from scipy.stats import spearmanr

from roi_assets import settings
from roi_assets.documents import ocr as ocr_route
from roi_assets.documents.entities import ENTITY_TYPES
from roi_assets.documents.entity_evaluation import evaluate_entities
from roi_assets.documents.ocr import read_pages
from roi_assets.documents.pages import ScannedPage, load_scanned_pages
from roi_assets.documents.preprocess import STEPS, CleanUpPlan
from roi_assets.documents.quality import score_quality
from roi_assets.documents.tesseract import tesseract_version
from roi_assets.simulator.documents.degrade import LEVELS, apply_damage, draw_damage
from roi_assets.simulator.documents.writer import encode_document, simulate_document

REAL_SCANS = Path(__file__).resolve().parents[1] / "roi_assets_tests" / "documents" / "real_scans"
TARGET_SECONDS_PER_DOCUMENT = 2.0
TARGET_CER = {1: 0.02, 2: 0.02, 3: 0.04}


def normalise(text: str) -> str:
    return " ".join(text.split())


def word_recall(hypothesis: str, reference: str) -> float:
    """Share of the reference's words (as a multiset) that the hypothesis has, in any order."""
    want = Counter(reference.split())
    return sum((want & Counter(hypothesis.split())).values()) / max(1, sum(want.values()))


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


@dataclass
class Tally:
    """Pooled errors, word recall and time of one reader over a set of pages."""

    pages: int = 0
    cpu: float = 0.0
    edits: int = 0
    chars: int = 0
    words_found: int = 0
    words: int = 0
    page_cers: list[float] = field(default_factory=list)

    def add(self, hypothesis: str, reference: str, cpu: float) -> float:
        hyp, ref = normalise(hypothesis), normalise(reference)
        edits = Levenshtein.distance(hyp, ref)
        want = Counter(ref.split())
        self.pages += 1
        self.cpu += cpu
        self.edits += edits
        self.chars += len(ref)
        self.words_found += sum((want & Counter(hyp.split())).values())
        self.words += sum(want.values())
        self.page_cers.append(edits / max(1, len(ref)))
        return self.page_cers[-1]

    @property
    def cer(self) -> float:
        return self.edits / self.chars if self.chars else float("nan")

    @property
    def recall(self) -> float:
        return self.words_found / self.words if self.words else float("nan")


@functools.cache
def _raw_engine() -> tesserocr.PyTessBaseAPI:
    # loaded once, as the product's engine is (documents.tesseract)
    return tesserocr.PyTessBaseAPI(path=f"{settings.tessdata_dir()}/", lang="eng")


def raw_tesseract(page: ScannedPage, declared_dpi: int | None) -> str:
    engine = _raw_engine()
    engine.SetImage(Image.fromarray(page.image))
    if declared_dpi:
        engine.SetSourceResolution(declared_dpi)
    return engine.GetUTF8Text()


def real_pages(dpi: int, seed: int) -> list[tuple[str, ScannedPage, int | None]]:
    """(name, page, resolution the file declares) of every real test page."""
    pages = [("linn.png (no dpi declared)", load_scanned_pages(REAL_SCANS / "linn.png")[0], None)]
    for name in ("linn.pdf", "ccitt.pdf", "skew.pdf"):
        pages.append((name, load_scanned_pages(REAL_SCANS / name, dpi)[0], dpi))
    for i, page in enumerate(load_scanned_pages(REAL_SCANS / "cardinal.pdf", dpi)):
        pages.append((f"cardinal.pdf p{i + 1} (turned {90 * i})", page, dpi))
    clean = load_scanned_pages(REAL_SCANS / "linn.pdf", dpi)[0]
    for level in (1, 2):
        rng = np.random.default_rng([seed, level])
        damaged = apply_damage(clean.image, draw_damage(level, rng), rng)
        pages.append((f"linn.pdf, {LEVELS[level]} damage", ScannedPage(damaged, dpi), dpi))
    return pages


@dataclass
class SimulatedDoc:
    level: int
    pages: list[ScannedPage]
    references: list[str]
    true_text: str
    entities: dict


def simulated_docs(level: int, n_docs: int, seed: int, dpi: int, folder: Path) -> list:
    """Scanned (no text layer) documents at one damage level, decoded from the landed file."""
    docs, index = [], 0
    while len(docs) < n_docs:
        doc = simulate_document(index, seed, dpi=dpi, degradation_level=level)
        index += 1
        if doc.has_text_layer:
            continue
        path = folder / doc.file_name
        path.write_bytes(encode_document(doc))
        pages = load_scanned_pages(path, dpi)
        references = [layout.text for layout in doc.layouts]
        docs.append(SimulatedDoc(level, pages, references, doc.clean_text, doc.entities))
    return docs


def step_effects(pages: list[tuple[ScannedPage, str]], base: Tally) -> dict[str, tuple[str, float]]:
    """Each clean-up step switched against every page's own plan (added where the plan lacks it,
    removed where it has it): (what was done, CER change in points against `base`)."""
    effects = {}
    # the route looks its plan up in the `ocr` module; swapping it there is how one step is
    # switched without a second copy of the route
    original = ocr_route.plan_clean_up
    for step in STEPS:

        def switched(skew: float, noise: float, margin: float, step: str = step) -> CleanUpPlan:
            plan = original(skew, noise, margin)
            steps = (
                tuple(s for s in plan.steps if s != step)
                if step in plan.steps
                else (
                    step,
                    *plan.steps,
                )
            )
            return CleanUpPlan(steps, plan.heavy_noise)

        ocr_route.plan_clean_up = switched
        try:
            tally = Tally()
            for page, reference in pages:
                tally.add(read_pages([page], environ={}).pages[0].text, reference, 0.0)
        finally:
            ocr_route.plan_clean_up = original
        effects[step] = ("toggled", 100 * (tally.cer - base.cer))
    return effects


def rank_correlation(qualities: list[float], cers: list[float]) -> float:
    if len(set(qualities)) < 2 or len(set(cers)) < 2:
        return float("nan")
    return float(spearmanr(qualities, cers).statistic)


def run(docs_per_level: int, seed: int, dpi: int, with_steps: bool) -> None:
    load_before = os.getloadavg()
    reference = (REAL_SCANS / "linn.gt.txt").read_text(encoding="utf-8")
    print(
        f"OCR benchmark: real test scans + {docs_per_level} simulated documents per damage level, "
        f"seed {seed}, PDFs rendered at {dpi} dpi, {tesseract_version()}"
    )
    print()
    print("Real scans (ground truth linn.gt.txt):")
    header = (
        f"{'page':<34}{'quality':>8}  {'route':<9}{'turned':>7}{'CER':>8}{'raw CER':>9}"
        f"{'recall':>8}{'raw rec':>8}{'cpu s':>7}{'raw cpu':>8}"
    )
    print(header)
    print("-" * len(header))
    real = real_pages(dpi, seed)
    real_product, real_raw = Tally(), Tally()
    for name, page, declared in real:
        with Clock() as clock:
            read = read_pages([page], environ={})
        cer = real_product.add(read.pages[0].text, reference, clock.cpu)
        recall = word_recall(normalise(read.pages[0].text), normalise(reference))
        with Clock() as raw_clock:
            text = raw_tesseract(page, declared)
        raw_cer = real_raw.add(text, reference, raw_clock.cpu)
        raw_recall = word_recall(normalise(text), normalise(reference))
        verdict = "" if cer <= raw_cer + 1e-9 else "  WORSE than raw"
        print(
            f"{name:<34}{read.qualities[0]:>8.2f}  {read.preset:<9}{read.rotations[0]:>7}"
            f"{cer:>8.2%}{raw_cer:>9.2%}{recall:>8.3f}{raw_recall:>8.3f}{clock.cpu:>7.1f}"
            f"{raw_clock.cpu:>8.1f}{verdict}",
            flush=True,
        )
    real_qualities = [score_quality(page.image).score for _, page, _ in real]
    print(
        f"real pages pooled: CER {real_product.cer:.2%} (raw {real_raw.cer:.2%}), word recall "
        f"{real_product.recall:.3f} (raw {real_raw.recall:.3f}); quality-CER rank correlation "
        f"{rank_correlation(real_qualities, real_product.page_cers):+.2f}"
    )

    print()
    print("Simulated scans:")
    header = (
        f"{'level':<9}{'pages':>6}  {'routes':<22}{'cpu s/pg':>9}{'raw cpu':>8}{'cpu s/doc':>10}"
        f"{'CER':>8}{'raw CER':>9}{'recall':>8}{'raw rec':>8}"
    )
    print(header)
    print("-" * len(header))
    all_qualities, all_cers, sim_pages_for_steps = [], [], {}
    ocr_texts, true_texts, truths = [], [], []
    doc_cpu, n_docs = 0.0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for level in LEVELS:
            docs = simulated_docs(level, docs_per_level, seed, dpi, Path(tmp))
            routes: Counter = Counter()
            product, raw = Tally(), Tally()
            for doc in docs:
                with Clock() as clock:
                    read = read_pages(doc.pages, environ={})
                doc_cpu += clock.cpu
                n_docs += 1
                routes[read.preset] += len(doc.pages)
                per_page_cpu = clock.cpu / len(doc.pages)
                for page, ref in zip(read.pages, doc.references, strict=True):
                    product.add(page.text, ref, per_page_cpu)
                for page, ref in zip(doc.pages, doc.references, strict=True):
                    with Clock() as raw_clock:
                        raw_text = raw_tesseract(page, dpi)
                    raw.add(raw_text, ref, raw_clock.cpu)
                all_qualities += list(read.qualities)
                ocr_texts.append("\n\n".join(page.text for page in read.pages))
                true_texts.append(doc.true_text)
                truths.append(doc.entities)
            all_cers += product.page_cers
            sim_pages_for_steps[level] = (
                [(p, r) for doc in docs for p, r in zip(doc.pages, doc.references, strict=True)],
                product,
            )
            route_text = ", ".join(f"{k} {v}" for k, v in sorted(routes.items()))
            target = TARGET_CER.get(level)
            verdict = "" if target is None else (" meets" if product.cer <= target else " MISSES")
            print(
                f"{f'{level} {LEVELS[level]}':<9}{product.pages:>6}  {route_text:<22}"
                f"{product.cpu / product.pages:>9.2f}{raw.cpu / raw.pages:>8.2f}"
                f"{product.cpu / len(docs):>10.2f}{product.cer:>8.2%}{raw.cer:>9.2%}"
                f"{product.recall:>8.3f}{raw.recall:>8.3f}"
                + (f"  target {target:.0%}{verdict}" if target else ""),
                flush=True,
            )
    correlation = rank_correlation(all_qualities, all_cers)
    print(
        f"simulated pages: quality-CER rank correlation {correlation:+.2f} "
        f"over {len(all_cers)} pages; CPU s per document {doc_cpu / n_docs:.2f} "
        f"(target < {TARGET_SECONDS_PER_DOCUMENT:.0f} s)"
    )

    evaluation = evaluate_entities(ocr_texts, true_texts, truths)
    print()
    print(f"Entities on the {len(truths)} simulated documents (OCR text | true text):")
    print(
        f"{'type':<18}{'support':>8}{'precision':>10}{'recall':>8}{'prec true':>10}{'rec true':>9}"
    )
    for name in ENTITY_TYPES:
        o, t = evaluation.on_ocr_text[name], evaluation.on_true_text[name]
        print(
            f"{name:<18}{o.true_positives + o.false_negatives:>8}{o.precision:>10.3f}"
            f"{o.recall:>8.3f}{t.precision:>10.3f}{t.recall:>9.3f}"
        )

    if with_steps:
        print()
        print("Each clean-up step switched against the page's own plan (CER change, points):")
        rows = {"real": ([(page, reference) for _, page, _ in real], real_product)}
        rows |= {
            f"sim {level} {LEVELS[level]}": value for level, value in sim_pages_for_steps.items()
        }
        print(f"{'pages':<16}" + "".join(f"{step:>18}" for step in STEPS))
        for name, (pages, base) in rows.items():
            effects = step_effects(pages, base)
            print(
                f"{name:<16}" + "".join(f"{effects[step][1]:>+18.2f}" for step in STEPS),
                flush=True,
            )
    load_after = os.getloadavg()
    print()
    print(f"load average {load_before[0]:.1f} at the start, {load_after[0]:.1f} at the end")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs-per-level", type=int, default=6)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--dpi", type=int, default=200)
    parser.add_argument("--steps", action="store_true", help="measure each clean-up step")
    args = parser.parse_args()
    run(args.docs_per_level, args.seed, args.dpi, args.steps)


if __name__ == "__main__":
    main()
