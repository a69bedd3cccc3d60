"""The document classifier judged on enough documents: ≥ 50 held-out documents per type, with
95 % intervals, next to TF-IDF alone, the page CNN alone and the majority class.

The labelled archive is the simulated world's (`simulator.documents.world`: documents
1,000,000 + i of the seed, nine types in turn, damage drawn as for arrivals), `--per-type` of each
type; half is held out, stratified by type, as the product's `document_classifier_evaluation`
does. With `--text ocr` every document is read by the product's OCR route through the product's
reading cache (`<data dir>/cache/document_readings`, keyed by content hash): the archive is read
once and every later run, of this script or of the graph on the same world, reuses the readings.
`--text true` uses each document's true text instead (perfect recognition) and the thumbnail of
its first page as drawn: the classifier's own ceiling, and a run that costs minutes rather than an
hour of OCR (`--dpi 100` halves it again; the text and the 128-pixel thumbnail barely change).

Reported: accuracy, macro F1 and each type's F1 with 95 % bootstrap intervals (held-out
documents resampled), per variant; OCR CPU seconds per document when read here, and the
classifier's seconds per document.

Usage: .venv/bin/python benchmarks/document_classifier.py [--per-type 104] [--seed 7]
       [--text ocr|true] [--workers 2]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl

from roi_assets import settings
from roi_assets.documents.assets import HELD_OUT_FRACTION, SPLIT_SEED, reading_cache
from roi_assets.documents.classifier import DOCUMENT_TYPES, ClassifierConfig, DocumentClassifier
from roi_assets.documents.classifier import fit_cnn as fit_page_cnn
from roi_assets.documents.classifier_evaluation import bootstrap_intervals
from roi_assets.documents.document_reading import DocumentReading, read_documents
from roi_assets.documents.image_features import page_thumbnail, torch_threads
from roi_assets.documents.labelled_corpus import classifier_inputs, corpus_frame, held_out_split
from roi_assets.documents.ocr import Engine, OcrResult
from roi_assets.evaluation.multiclass_metrics import multiclass_metrics
from roi_assets.simulator.documents.world import DocumentPlan
from roi_assets.simulator.documents.writer import encode_document, simulate_document

TARGETS = {"accuracy": 0.92, "per_class_f1": 0.85, "seconds_per_document": 2.0}


def archive(
    per_type: int, seed: int, dpi: int, folder: Path, write_files: bool
) -> list[tuple[str, str, Path, str, str, np.ndarray]]:
    """(location, label, file, content hash, true text, first page) of the world's labelled
    archive; files are written (and hashed as they land) only when they are to be read."""
    rows = []
    for index, doc_type, _ in DocumentPlan(seed, 0, per_type, dpi).planned():
        doc = simulate_document(index, seed, dpi=dpi, doc_type=doc_type)
        path = folder / doc.file_name
        if write_files:
            content = encode_document(doc)
            path.write_bytes(content)
            sha = hashlib.sha256(content).hexdigest()
        else:  # not read: the document's id identifies it for the held-out split
            sha = hashlib.sha256(doc.document_id.encode()).hexdigest()
        location = f"labelled_documents/{doc_type}/{doc.file_name}"
        rows.append((location, doc_type, path, sha, doc.clean_text, doc.pages[0]))
    return rows


def true_text_reading(text: str, first_page: np.ndarray) -> DocumentReading:
    """A reading with the document's true text (perfect recognition) and its real thumbnail."""
    ocr = OcrResult(text, Engine.TEXT_LAYER, 1.0, None, 1, 0.0, needs_review=False)
    return DocumentReading(ocr, page_thumbnail(first_page))


def _fmt(value: float, interval: tuple[float, float] | None) -> str:
    if interval is None:
        return f"{value:.3f}"
    return f"{value:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"


def run(per_type: int, seed: int, dpi: int, text_source: str, workers: int) -> None:
    load_before = os.getloadavg()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        docs = archive(per_type, seed, dpi, Path(tmp), write_files=text_source == "ocr")
        simulate_seconds = time.perf_counter() - start
        cpu_before = os.times()
        if text_source == "ocr":
            readings = read_documents(
                [(path, sha) for _, _, path, sha, _, _ in docs],
                reading_cache(),
                dpi=dpi,
                workers=workers,
            )
        else:
            readings = [true_text_reading(text, page) for *_, text, page in docs]
        cpu_after = os.times()
    read_cpu = sum(
        getattr(cpu_after, k) - getattr(cpu_before, k)
        for k in ("user", "system", "children_user", "children_system")
    )
    corpus = corpus_frame(
        [(location, label, sha) for location, label, _, sha, *_ in docs], readings
    )
    training, held_out = held_out_split(corpus, HELD_OUT_FRACTION, SPLIT_SEED)
    train_texts, train_thumbs, train_labels = classifier_inputs(training)
    texts, thumbs, labels = classifier_inputs(held_out)
    config = ClassifierConfig(seed=SPLIT_SEED)
    predictions: dict[str, list[str]] = {
        "majority class": [Counter(train_labels).most_common(1)[0][0]] * held_out.height
    }
    fit_start = time.perf_counter()
    with torch_threads(1):
        cnn = fit_page_cnn(train_thumbs, train_labels, config)
        models = {}
        for variant, features in (
            ("TF-IDF alone", "text"),
            ("image alone", "image"),
            ("combined (product)", "combined"),
        ):
            models[variant] = DocumentClassifier(config, features).fit(
                train_texts, train_thumbs, train_labels, cnn=cnn
            )
        fit_seconds = time.perf_counter() - fit_start
        predict_start = time.perf_counter()
        for variant, model in models.items():
            predictions[variant] = model.predict(texts, thumbs)[0]
        predict_seconds = (time.perf_counter() - predict_start) / (len(models) * held_out.height)

    support = Counter(labels)
    print(
        f"Document classifier benchmark: world seed {seed}, {per_type} archive documents per type "
        f"({len(docs)}), {HELD_OUT_FRACTION:.0%} held out: {held_out.height} documents, "
        f"per type {min(support.values())}-{max(support.values())}; text: "
        + ("the product's OCR route (reading cache)" if text_source == "ocr" else "true text")
    )
    pages = Counter(corpus["page_count"].to_list()) if text_source == "ocr" else None
    print(
        f"simulating and writing the archive {simulate_seconds:.0f} s; reading it {read_cpu:.0f} "
        f"CPU s ({read_cpu / len(docs):.2f} CPU s per document this run; cached readings cost "
        f"nothing); training all variants {fit_seconds:.0f} s; classifying "
        f"{predict_seconds * 1000:.1f} ms per document"
        + (f"; pages per document {dict(sorted(pages.items()))}" if pages else "")
    )
    if text_source == "ocr":
        ocr_seconds = [r.ocr.seconds for r in readings if r.ocr.engine != Engine.TEXT_LAYER]
        print(
            f"OCR wall seconds per scanned document when first read: mean "
            f"{np.mean(ocr_seconds):.2f}, 95th percentile {np.percentile(ocr_seconds, 95):.2f}"
        )
    print()
    header = (
        f"{'variant':<20}{'accuracy [95 % CI]':>28}{'macro F1 [95 % CI]':>28}{'min type F1':>13}"
    )
    print(header)
    print("-" * len(header))
    intervals = {}
    for variant, predicted in predictions.items():
        report = multiclass_metrics(labels, predicted, DOCUMENT_TYPES)
        intervals[variant] = bootstrap_intervals(labels, predicted, DOCUMENT_TYPES, seed=SPLIT_SEED)
        print(
            f"{variant:<20}{_fmt(report.accuracy, intervals[variant]['accuracy']):>28}"
            f"{_fmt(report.macro_f1, intervals[variant]['macro_f1']):>28}"
            f"{min(report.per_class_f1.values()):>13.3f}"
        )
    print()
    shown = ("combined (product)", "TF-IDF alone", "image alone")
    print(f"{'type F1 [95 % CI]':<20}{'n':>4}" + "".join(f"{v:>28}" for v in shown))
    reports = {v: multiclass_metrics(labels, predictions[v], DOCUMENT_TYPES) for v in shown}
    for label in DOCUMENT_TYPES:
        cells = "".join(
            f"{_fmt(reports[v].per_class_f1[label], intervals[v].get(f'f1_{label}')):>28}"
            for v in shown
        )
        print(f"{label:<20}{support[label]:>4}{cells}")
    product = reports["combined (product)"]
    print()
    accuracy_met = product.accuracy >= TARGETS["accuracy"]
    f1_met = min(product.per_class_f1.values()) > TARGETS["per_class_f1"]
    print(
        f"targets: accuracy ≥ {TARGETS['accuracy']} ({'met' if accuracy_met else 'missed'}), "
        f"every type's F1 > {TARGETS['per_class_f1']} ({'met' if f1_met else 'missed'})"
    )
    print()
    print("confusion of the product (rows true, columns predicted):")
    with pl.Config(tbl_cols=12, tbl_width_chars=200, tbl_hide_dataframe_shape=True):
        print(product.confusion)
    print()
    print(
        f"data dir {settings.data_dir()}; load average {load_before[0]:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-type", type=int, default=104)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dpi", type=int, default=200)
    parser.add_argument("--text", choices=("ocr", "true"), default="ocr")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    run(args.per_type, args.seed, args.dpi, args.text, args.workers)


if __name__ == "__main__":
    main()
