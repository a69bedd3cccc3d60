"""The engagement models' shadow test: both versions score the sends whose 7-day label matured
since the test started; their per-send log losses are compared (`deployment.shadow`)."""

from collections.abc import Callable

import mlflow.sklearn
import polars as pl

from roi_assets.deployment.lifecycle import ShadowRequest
from roi_assets.deployment.shadow import (
    LOSS_CHALLENGER,
    LOSS_CHAMPION,
    log_loss_per_row,
    no_losses,
)
from roi_assets.engagement.features import LABEL_COMPLETE, TIME_COLUMN
from roi_assets.engagement.model import predict_proba
from roi_assets.resources.tracking import load_model_version
from roi_assets.resources.warehouse import table_exists

FEATURES_TABLE = "features.feat_email_engagement"


def matured_sends(request: ShadowRequest, target: str) -> pl.DataFrame:
    """Sends from the test's first day on whose `target` label is complete."""
    return request.con.execute(
        f"select * from {FEATURES_TABLE} where {LABEL_COMPLETE} and {TIME_COLUMN} >= ? "
        f"and {TIME_COLUMN} < ?",
        [request.since, request.as_of],
    ).pl()


def shadow_losses(target: str) -> Callable[[ShadowRequest], pl.DataFrame]:
    """The shadow scorer of the model of one target column (opened_within_7d, ...)."""

    def losses(request: ShadowRequest) -> pl.DataFrame:
        if not table_exists(request.con, *FEATURES_TABLE.split(".")):
            return no_losses()
        rows = matured_sends(request, target)
        if rows.is_empty():
            return no_losses()
        labels = rows[target].to_numpy()
        frame = {}
        for column, version in (
            (LOSS_CHAMPION, request.champion_version),
            (LOSS_CHALLENGER, request.challenger_version),
        ):
            model = load_model_version(request.model_name, version, mlflow.sklearn.load_model)
            frame[column] = log_loss_per_row(labels, predict_proba(model, rows))
        return pl.DataFrame(frame)

    return losses
