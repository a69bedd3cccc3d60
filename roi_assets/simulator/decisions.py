"""The product's published decisions, read from the BI copy the way the platform would read them.

The world acts on what the product published and on nothing else: the send hour of
`marts.send_time_recommendations`, the variants of `marts.content_assignments`, and the retention
action of each client the 30-day `marts.churn_risk` asks someone to act on (watch list, or medium
tier and above). A missing copy or table means no decision: the legacy policy applies.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

from roi_assets.simulator import catalog
from roi_assets.simulator.policies import FAMILIES, NOT_DECIDED, Decisions

ACTED_ON_TIERS = ("high", "medium")


def read_decisions(bi_path: Path, client_ids: np.ndarray) -> Decisions:
    """Decisions per client index (client ids in the world's order)."""
    decisions = Decisions.none(len(client_ids))
    if not Path(bi_path).exists():
        return decisions
    position = {client_id: i for i, client_id in enumerate(client_ids)}
    with duckdb.connect(str(bi_path), read_only=True) as con:
        tables = {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        if "marts.send_time_recommendations" in tables:
            rows = con.execute(
                "select client_id, best_hour_of_week_local from marts.send_time_recommendations"
            ).fetchall()
            _fill(decisions.hour_of_week_local, rows, position, lambda hour: int(hour) % 168)
        if "marts.content_assignments" in tables:
            for family in FAMILIES:
                column = catalog.VARIANT_COLUMNS[family]
                index = {v: i for i, v in enumerate(catalog.CONTENT_VARIANTS[family])}
                rows = con.execute(
                    f"select client_id, {column} from marts.content_assignments"
                ).fetchall()
                _fill(decisions.variants[family], rows, position, index.get)
        if "marts.churn_risk" in tables:
            rows = con.execute(
                """select client_id, recommended_action from marts.churn_risk
                   where window_days = 30 and recommended_action is not null
                     and (on_watch_list or tier in ?)""",
                [list(ACTED_ON_TIERS)],
            ).fetchall()
            decisions.retention.update({position[c]: action for c, action in rows if c in position})
    return decisions


def _fill(target: np.ndarray, rows, position: dict[str, int], convert) -> None:
    for client_id, value in rows:
        converted = None if value is None else convert(value)
        if client_id in position and converted is not None:
            target[position[client_id]] = converted
    target[target < NOT_DECIDED] = NOT_DECIDED
