"""Recognised text of a page with one confidence for it, whatever engine read it.

Engines report a confidence per word; a page's (and a document's) confidence is the mean of the
word confidences weighted by word length, so a confidently read paragraph is not outvoted by a
few doubtful punctuation marks, and a page of long words read with doubt is not hidden by them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PageText:
    text: str
    confidence: float  # 0..1; 0 when nothing was read
    n_chars: int  # characters in the words the confidence was computed over

    @classmethod
    def from_words(
        cls, text: str, words: Iterable[tuple[str, float]], confidence_scale: float = 100.0
    ) -> PageText:
        """`words` are (word, confidence) with confidence in 0..`confidence_scale`."""
        weighted = 0.0
        chars = 0
        for word, confidence in words:
            length = len(word.strip())
            if length == 0 or confidence < 0:  # engines mark non-word boxes with negative scores
                continue
            weighted += length * confidence / confidence_scale
            chars += length
        return cls(text, weighted / chars if chars else 0.0, chars)


def document_confidence(pages: Sequence[PageText]) -> float:
    """Character-weighted mean of the pages' confidences."""
    chars = sum(page.n_chars for page in pages)
    if chars == 0:
        return 0.0
    return sum(page.confidence * page.n_chars for page in pages) / chars
