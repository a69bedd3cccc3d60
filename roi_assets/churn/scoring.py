"""The churn mart's rows: every active client's risk per window, with reasons and an action.

A client is scored on their latest snapshot in feat_client_churn, the freshest point-in-time
features the warehouse has (the sequence is the 30 days before it). Reasons and actions are given
where an account manager is expected to act: from the medium tier up, and on the window's watch
list, the riskiest WATCH_LIST_FRACTION of the clients whatever their tier (`on_watch_list`). The
tiers are absolute; on the default world no stack reaches the medium tier for more than a handful
of clients even where the true risk does (the observable data cannot single them out with that
confidence), so without the list the mart would name no one to call. Elsewhere both are empty.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from roi_assets.churn.actions import recommend_actions
from roi_assets.churn.ensemble import ChurnEnsemble
from roi_assets.churn.reasons import explain_reasons
from roi_assets.churn.tiers import MEDIUM_RISK, RISK_TIERS, risk_tier
from roi_assets.evaluation.risk_metrics import watch_list_mask

RISK_COLUMNS: tuple[str, ...] = (
    "client_id",
    "window_days",
    "snapshot_date",
    "probability",
    "tier",
    "on_watch_list",
    "top_reasons",
    "recommended_action",
    "model_version",
    "scored_at",
)


def latest_snapshot_rows(churn: pl.DataFrame, active_client_ids: pl.Series) -> pl.DataFrame:
    """Each active client's latest row of feat_client_churn, sorted by client."""
    return (
        churn.filter(pl.col("client_id").is_in(active_client_ids.implode()))
        .sort("snapshot_date")
        .group_by("client_id")
        .last()
        .sort("client_id")
    )


def risk_rows(
    ensemble: ChurnEnsemble,
    rows: pl.DataFrame,
    sequences: np.ndarray,
    *,
    model_version: str,
    scored_at: dt.datetime,
) -> pl.DataFrame:
    """One mart row per client of `rows` for the ensemble's window (columns: RISK_COLUMNS)."""
    probability = ensemble.predict_proba(rows, sequences)
    listed = watch_list_mask(probability)
    needs_attention = (probability >= MEDIUM_RISK) | listed
    reasons = explain_reasons(ensemble, rows, sequences=sequences, selected=needs_attention)
    return pl.DataFrame(
        {
            "client_id": rows["client_id"],
            "window_days": pl.Series([ensemble.window_days] * len(rows), dtype=pl.Int64),
            "snapshot_date": rows["snapshot_date"],
            "probability": probability,
            "tier": pl.Series(risk_tier(probability).tolist(), dtype=pl.String),
            "on_watch_list": pl.Series(listed, dtype=pl.Boolean),
            "top_reasons": pl.Series(
                [
                    found if keep else None
                    for found, keep in zip(reasons, needs_attention, strict=True)
                ],
                dtype=pl.List(pl.String),
            ),
            "recommended_action": pl.Series(
                recommend_actions(rows, needs_attention), dtype=pl.String
            ),
            "model_version": pl.Series([str(model_version)] * len(rows), dtype=pl.String),
            "scored_at": pl.Series([scored_at] * len(rows), dtype=pl.Datetime("us")),
        }
    )


def tier_distribution(risk: pl.DataFrame) -> pl.DataFrame:
    """Clients per window and tier, every tier present (zero when empty), low to critical."""
    grid = (
        risk.select("window_days")
        .unique()
        .join(pl.DataFrame({"tier": list(RISK_TIERS)}), how="cross")
    )
    counts = risk.group_by("window_days", "tier").agg(pl.len().alias("clients"))
    return (
        grid.join(counts, on=["window_days", "tier"], how="left")
        .with_columns(
            pl.col("clients").fill_null(0),
            pl.col("tier").replace_strict(RISK_TIERS, range(len(RISK_TIERS))).alias("order"),
        )
        .sort("window_days", "order")
        .drop("order")
    )


def tier_distribution_markdown(distribution: pl.DataFrame) -> str:
    """Windows as rows, tiers as columns, client counts in the cells."""
    wide = distribution.pivot(on="tier", index="window_days", values="clients")
    lines = [
        "| window | " + " | ".join(RISK_TIERS) + " |",
        "| --- |" + " ---: |" * len(RISK_TIERS),
    ]
    for row in wide.sort("window_days").iter_rows(named=True):
        counts = " | ".join(str(row[tier]) for tier in RISK_TIERS)
        lines.append(f"| {row['window_days']} days | {counts} |")
    return "\n".join(lines)
