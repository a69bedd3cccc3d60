"""Simulated real-estate documents with known truth: text, layout, scan damage, bad files.

`write_documents(landing_dir / "documents", n, seed)` writes the first `n` documents of a world
and returns their truth rows (type, page count, damage level, text layer, clean text as the OCR
ground truth, true entities as JSON); `write_bad_documents` adds one broken or hostile file per
defect the intake must quarantine.
"""

from roi_assets.simulator.documents.bad_files import DEFECTS, write_bad_documents
from roi_assets.simulator.documents.content import DOCUMENT_TYPES, ENTITY_TYPES
from roi_assets.simulator.documents.writer import (
    SimulatedDocument,
    simulate_document,
    simulate_documents,
    write_documents,
)

__all__ = [
    "DEFECTS",
    "DOCUMENT_TYPES",
    "ENTITY_TYPES",
    "SimulatedDocument",
    "simulate_document",
    "simulate_documents",
    "write_bad_documents",
    "write_documents",
]
