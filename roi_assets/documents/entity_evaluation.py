"""How the entity extractor is judged: precision and recall per entity type against the
simulator's truth, on the text the pipeline read and on the documents' true text.

The extractor is a set of rules, trained on nothing, so every labelled document can judge it. Two
readings of the same documents are scored: the OCR text (what production sees) and the clean text
the documents were printed from (perfect recognition). The gap between them is what recognition
errors cost the entities; the clean-text score is the ceiling of the rules themselves. Rows go to
`monitoring.model_evaluations` under `ENTITY_MODEL_NAME`, versioned by `EXTRACTOR_VERSION`, with
the oracle at 1.0 (the truth is exact) and the clean-text score in the baseline column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from roi_assets.documents.entities import (
    ENTITY_TYPES,
    EntityScore,
    entities_by_type,
    extract_entities,
    score_entities,
)
from roi_assets.evaluation.model_evaluations import evaluation_rows

ENTITY_MODEL_NAME = "roi-document-entities"
# Bump when the rules or the text cleaning before them change what is extracted.
EXTRACTOR_VERSION = "2"


@dataclass(frozen=True)
class EntityEvaluation:
    on_ocr_text: dict[str, EntityScore]
    on_true_text: dict[str, EntityScore]
    documents: int

    def metrics(self) -> list[tuple[str, float, float, float]]:
        """(metric, value on OCR text, oracle, value on true text) per type and pooled."""
        rows = []
        for name in (*ENTITY_TYPES, "all"):
            ocr, true = _score(self.on_ocr_text, name), _score(self.on_true_text, name)
            rows.append((f"precision_{name}", ocr.precision, 1.0, true.precision))
            rows.append((f"recall_{name}", ocr.recall, 1.0, true.recall))
            rows.append(
                (f"support_{name}", float(ocr.true_positives + ocr.false_negatives), None, None)
            )
        return rows

    def rows(self, *, evaluated_at: datetime, evaluation_window: str) -> pl.DataFrame:
        return evaluation_rows(
            self.metrics(),
            model_name=ENTITY_MODEL_NAME,
            model_version=EXTRACTOR_VERSION,
            evaluated_at=evaluated_at,
            evaluation_window=evaluation_window,
        )

    def markdown(self) -> str:
        lines = [
            f"Entity extraction on {self.documents} labelled documents "
            "(precision / recall; OCR text, and the documents' true text):",
            "",
            "| type | true entities | precision | recall | precision, true text "
            "| recall, true text |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name in (*ENTITY_TYPES, "all"):
            ocr, true = _score(self.on_ocr_text, name), _score(self.on_true_text, name)
            lines.append(
                f"| {name} | {ocr.true_positives + ocr.false_negatives} | {ocr.precision:.3f} | "
                f"{ocr.recall:.3f} | {true.precision:.3f} | {true.recall:.3f} |"
            )
        return "\n".join(lines)


def _score(scores: Mapping[str, EntityScore], name: str) -> EntityScore:
    if name != "all":
        return scores[name]
    return EntityScore(
        sum(s.true_positives for s in scores.values()),
        sum(s.false_positives for s in scores.values()),
        sum(s.false_negatives for s in scores.values()),
    )


def evaluate_entities(
    ocr_texts: Sequence[str], true_texts: Sequence[str], truth: Sequence[Mapping[str, list]]
) -> EntityEvaluation:
    """Score the extractor on each document's OCR text and on its true text."""
    found_ocr = [entities_by_type(extract_entities(text)) for text in ocr_texts]
    found_true = [entities_by_type(extract_entities(text)) for text in true_texts]
    return EntityEvaluation(
        score_entities(found_ocr, truth), score_entities(found_true, truth), len(truth)
    )
