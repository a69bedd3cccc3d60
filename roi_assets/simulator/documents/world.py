"""The documents of a simulated world, as they reach its landing zone, with their ground truth.

Two folders, two purposes:

- `documents/`: documents arriving for the product to read (the arrival sensor's folder), drawn as
  the platform sees them (types in their usual shares), plus one broken or hostile file per intake
  defect.
- `labelled_documents/<type>/`: an archive the records team has already filed by type, balanced
  over the nine types. The folder names are the labels the classifier is trained on, as a real
  archive's would be; the `truth` schema is never needed for training.

Half the scale's `n_documents` arrive; the archive holds `LABELLED_PER_TYPE_BY_SCALE` documents
per type (the classifier's evaluation holds out half of them, at least 50 per type at the default
scale), or the other half of `n_documents` at scales not listed there. Files are written once
(an existing file is never rewritten), and a document whose truth row and file both exist is not
drawn again, so a re-run costs nothing.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import duckdb
import pandas as pd

from roi_assets.process_pool import map_in_processes
from roi_assets.simulator.documents.bad_files import write_bad_documents
from roi_assets.simulator.documents.content import DOCUMENT_TYPES
from roi_assets.simulator.documents.writer import (
    SimulatedDocument,
    encode_document,
    simulate_document,
    simulated_document_id,
    truth_row,
)
from roi_assets.simulator.landing import write_once
from roi_assets.simulator.scales import Scale

INCOMING_FOLDER = "documents"
LABELLED_FOLDER = "labelled_documents"
INCOMING = "incoming"
LABELLED = "labelled"
# Archive documents are other documents than the arrivals: their indices start here.
LABELLED_INDEX_OFFSET = 1_000_000
SCAN_DPI = 200
# The tiny world scans at 100 dpi so that tests read its pages in a fraction of the time.
SCAN_DPI_BY_SCALE = {"tiny": 100}
# Archive documents per type: 104 leaves 52 held-out documents per type for the evaluation.
LABELLED_PER_TYPE_BY_SCALE = {"default": 104, "large": 104}
LABELS_TABLE = "truth.document_labels"
DEFECTS_TABLE = "truth.document_defects"


@dataclass(frozen=True)
class DocumentPlan:
    """Which documents a world holds: arrivals 0..n_incoming-1 and a balanced labelled archive."""

    seed: int
    n_incoming: int
    labelled_per_type: int
    dpi: int

    @property
    def n_labelled(self) -> int:
        return self.labelled_per_type * len(DOCUMENT_TYPES)

    def planned(self) -> list[tuple[int, str | None, str]]:
        """(index, pinned type or None, corpus) of every document of the world."""
        arrivals = [(index, None, INCOMING) for index in range(self.n_incoming)]
        archive = [
            (LABELLED_INDEX_OFFSET + i, DOCUMENT_TYPES[i % len(DOCUMENT_TYPES)], LABELLED)
            for i in range(self.n_labelled)
        ]
        return arrivals + archive


def document_plan(scale: Scale, seed: int) -> DocumentPlan:
    """Half of the scale's documents arrive; the archive holds the scale's share per type, or the
    other half (at least two per type, so that every type can be both trained on and held out)."""
    n_incoming = scale.n_documents // 2
    per_type = LABELLED_PER_TYPE_BY_SCALE.get(
        scale.name, max(2, math.ceil((scale.n_documents - n_incoming) / len(DOCUMENT_TYPES)))
    )
    return DocumentPlan(seed, n_incoming, per_type, SCAN_DPI_BY_SCALE.get(scale.name, SCAN_DPI))


@dataclass
class DocumentLanding:
    """What one call wrote: truth rows of the documents drawn, defects, and the new files."""

    labels: pd.DataFrame
    defects: pd.DataFrame
    files_written: list[Path] = field(default_factory=list)


def landing_path(doc: SimulatedDocument, corpus: str) -> str:
    """Where a document lands, relative to the landing zone's root."""
    if corpus == LABELLED:
        return f"{LABELLED_FOLDER}/{doc.doc_type}/{doc.file_name}"
    return f"{INCOMING_FOLDER}/{doc.file_name}"


def daily_arrivals(plan: DocumentPlan, live_day: int, per_day: int) -> list[tuple[int, None, str]]:
    """The documents arriving on the `live_day`-th day after the bootstrap history (0-based):
    further arrivals after the plan's, `per_day` a day."""
    first = plan.n_incoming + live_day * per_day
    return [(index, None, INCOMING) for index in range(first, first + per_day)]


def _draw_and_write(
    seed: int, dpi: int, landing_dir: Path, planned: tuple[int, str | None, str]
) -> tuple[dict, str | None]:
    """Draw one planned document and write its file once; its truth row and the relative path
    written (None when the file was there)."""
    index, doc_type, corpus = planned
    doc = simulate_document(index, seed, dpi=dpi, doc_type=doc_type)
    content = encode_document(doc)
    relative = landing_path(doc, corpus)
    written = write_once(landing_dir / relative, lambda p: p.write_bytes(content))
    return {**truth_row(doc, content), "corpus": corpus, "landing_path": relative}, (
        relative if written else None
    )


def write_document_landing(
    plan: DocumentPlan,
    landing_dir: Path,
    known: Mapping[str, str] | None = None,
    documents: list[tuple[int, str | None, str]] | None = None,
    workers: int = 1,
) -> DocumentLanding:
    """Draw and write the plan's documents that are not there yet (or only `documents`, without
    the bad files), in up to `workers` processes: drawing and encoding a scanned page is most of
    the bootstrap's time, and each document is drawn from its own seed.

    `known` maps simulator document ids to their landing paths (from `truth.document_labels`): a
    document known and present is skipped.
    """
    known = known or {}
    landing_dir = Path(landing_dir)
    to_draw = [
        planned
        for planned in (plan.planned() if documents is None else documents)
        if not _present(simulated_document_id(planned[0], plan.seed), known, landing_dir)
    ]
    drawn = map_in_processes(
        partial(_draw_and_write, plan.seed, plan.dpi, landing_dir),
        to_draw,
        workers,
    )
    rows = [row for row, _ in drawn]
    written = [landing_dir / relative for _, relative in drawn if relative is not None]
    defects = (
        []
        if documents is not None
        else write_bad_documents(landing_dir / INCOMING_FOLDER, plan.seed)
    )
    for defect in defects:
        defect["landing_path"] = f"{INCOMING_FOLDER}/{defect['file_name']}"
        content = (landing_dir / defect["landing_path"]).read_bytes()
        defect["content_sha256"] = hashlib.sha256(content).hexdigest()
    return DocumentLanding(
        pd.DataFrame(rows, columns=_LABEL_COLUMNS), pd.DataFrame(defects), written
    )


def _present(document_id: str, known: Mapping[str, str], landing_dir: Path) -> bool:
    return document_id in known and (landing_dir / known[document_id]).exists()


_LABEL_COLUMNS = [
    "document_id",
    "corpus",
    "landing_path",
    "file_name",
    "content_sha256",
    "doc_type",
    "file_format",
    "page_count",
    "degradation_level",
    "has_text_layer",
    "dpi",
    "clean_text",
    "entities_json",
]
_CREATE_LABELS = f"""
create table if not exists {LABELS_TABLE} (
    document_id varchar primary key,
    corpus varchar not null,
    landing_path varchar not null,
    file_name varchar not null,
    content_sha256 varchar not null,
    doc_type varchar not null,
    file_format varchar not null,
    page_count integer not null,
    degradation_level integer not null,
    has_text_layer boolean not null,
    dpi integer not null,
    clean_text varchar not null,
    entities_json varchar not null
)
"""


def known_documents(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Simulator document id → landing path, for the documents `truth` already describes."""
    con.execute("create schema if not exists truth")
    con.execute(_CREATE_LABELS)
    return dict(con.execute(f"select document_id, landing_path from {LABELS_TABLE}").fetchall())


def write_document_truth(
    con: duckdb.DuckDBPyConnection, landing: DocumentLanding
) -> dict[str, int]:
    """Upsert the drawn documents' truth rows, replace the defects table; returns table sizes."""
    con.execute("create schema if not exists truth")
    con.execute(_CREATE_LABELS)
    if len(landing.labels):
        con.register("document_label_rows", landing.labels)
        con.execute(
            f"insert or replace into {LABELS_TABLE} by name select * from document_label_rows"
        )
        con.unregister("document_label_rows")
    if len(landing.defects):  # days after the first add documents, not defects
        con.register("document_defect_rows", landing.defects)
        con.execute(
            f"create or replace table {DEFECTS_TABLE} as select * from document_defect_rows"
        )
        con.unregister("document_defect_rows")
    existing = {
        f"truth.{name}"
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'truth'"
        ).fetchall()
    }
    return {
        table: con.execute(f"select count(*) from {table}").fetchone()[0]
        for table in (LABELS_TABLE, DEFECTS_TABLE)
        if table in existing  # a landing of later days alone has no defects table yet
    }
