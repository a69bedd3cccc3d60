"""The churn models' shadow test: both ensembles score the client snapshots taken since the test
started whose window's label has matured (30, 60 or 90 days later); their per-snapshot log losses
are compared (`deployment.shadow`). A 60- or 90-day challenger therefore waits that long."""

from collections.abc import Callable

import polars as pl

from roi_assets.churn.daily_reads import sequences_for
from roi_assets.churn.features import label_column
from roi_assets.deployment.lifecycle import ShadowRequest
from roi_assets.deployment.shadow import (
    LOSS_CHALLENGER,
    LOSS_CHAMPION,
    log_loss_per_row,
    no_losses,
)
from roi_assets.resources.tracking import load_model_version
from roi_assets.resources.warehouse import table_exists

SNAPSHOTS_TABLE = "features.feat_client_churn"


def shadow_losses(window_days: int) -> Callable[[ShadowRequest], pl.DataFrame]:
    """The shadow scorer of the ensemble of one prediction window."""
    label = label_column(window_days)

    def losses(request: ShadowRequest) -> pl.DataFrame:
        if not table_exists(request.con, *SNAPSHOTS_TABLE.split(".")):
            return no_losses()
        rows = request.con.execute(
            f"select * from {SNAPSHOTS_TABLE} where {label} is not null "
            "and snapshot_date >= ? and snapshot_date < ?",
            [request.since, request.as_of],
        ).pl()
        if rows.is_empty():
            return no_losses()
        sequences = sequences_for(request.con, rows)
        labels = rows[label].to_numpy()
        frame = {}
        for column, version in (
            (LOSS_CHAMPION, request.champion_version),
            (LOSS_CHALLENGER, request.challenger_version),
        ):
            ensemble = load_model_version(request.model_name, version).unwrap_python_model()
            stack = ensemble.ensemble.member_probabilities(rows, sequences)["stack"]
            frame[column] = log_loss_per_row(labels, stack)
        return pl.DataFrame(frame)

    return losses
