"""Light writers the crash tests kill: `python -m roi_assets_tests.crash_writers <writer> ARGS`.

Each calls the product's own writing function on a deployment folder, after printing WRITING
(see `crash_harness`): the landing-zone loader, the content bandit's posterior update and the BI
publication. They import no Dagster, so a kill point costs seconds, not a job's start-up.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from roi_assets.resources.warehouse import connect

WRITING = "WRITING"


def ingest(warehouse: Path, landing: Path) -> None:
    """Every landed file of every source, as one backfill per source."""
    from roi_assets.ingestion.contracts import CONTRACTS
    from roi_assets.ingestion.loader import ingest_source

    with connect(warehouse) as con:
        print(WRITING, flush=True)
        for contract in CONTRACTS.values():
            ingest_source(con, landing, contract)


def posteriors(warehouse: Path) -> None:
    """The content bandit's posteriors absorb every labelled send not absorbed yet."""
    from roi_assets.personalization.store import update_posteriors
    from roi_assets.simulator.catalog import CONTENT_VARIANTS, SEGMENTS, VARIANT_COLUMNS

    with connect(warehouse) as con:
        print(WRITING, flush=True)
        now = dt.datetime(2024, 1, 1)
        update_posteriors(con, CONTENT_VARIANTS, SEGMENTS, VARIANT_COLUMNS, now)


def publish(warehouse: Path, target: Path) -> None:
    from roi_assets.resources.bi_publication import publish_bi_copy

    with connect(warehouse) as con:
        print(WRITING, flush=True)
        publish_bi_copy(con, target)


if __name__ == "__main__":
    writer, *paths = sys.argv[1:]
    {"ingest": ingest, "posteriors": posteriors, "publish": publish}[writer](*map(Path, paths))
