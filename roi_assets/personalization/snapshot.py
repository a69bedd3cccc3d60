"""The content bandit's posteriors at one moment, as a registered MLflow model.

The posteriors keep learning in the warehouse (personalization.content_posteriors absorbs every
day's labelled sends); what serves is a snapshot of them registered in the MLflow registry, one
version per day, so that the bandit goes through the same lifecycle as every other model (gate,
champion, rollback). Each snapshot is tagged with the sampler's configuration: a snapshot of the
champion's configuration is its online update and serves in the same day's assignments, while a
snapshot that changes the policy goes through the A/B test on landed clicks and the rollout.
The snapshot travels as a parquet table of (family, segment, variant, alpha, beta, n_updates);
`predict` answers the posterior-mean best variant of each family for each row's `segment`, and
`personalizer()` rebuilds the sampler the marts draw from.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import mlflow.exceptions
import mlflow.pyfunc
import pandas as pd
from mlflow import MlflowClient
from mlflow.models import infer_signature
from mlflow.models.model import ModelInfo

from roi_assets.deployment.lifecycle import CONFIGURATION_TAG
from roi_assets.personalization.bandit import POSTERIOR_COLUMNS, ContentPersonalizer
from roi_assets.personalization.store import PosteriorUpdate
from roi_assets.resources.tracking import registered_version

ARTIFACT_KEY = "posteriors"
FEEDBACK_TAG = "feedback_version"  # the feedback a snapshot's posteriors absorbed


class PosteriorSnapshot(mlflow.pyfunc.PythonModel):
    """Beta posteriors per segment × variant of each variant family."""

    def load_context(self, context: Any) -> None:
        self.posteriors = pd.read_parquet(context.artifacts[ARTIFACT_KEY])

    def personalizer(
        self,
        families: Mapping[str, Sequence[str]],
        segments: Sequence[str],
        variant_columns: Mapping[str, str],
    ) -> ContentPersonalizer:
        """A personalizer over the catalogue holding this snapshot's posteriors."""
        personalizer = ContentPersonalizer(families, segments, variant_columns)
        personalizer.load_posteriors(self.posteriors[list(POSTERIOR_COLUMNS)])
        return personalizer

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict | None = None):
        return best_variants(self.posteriors, model_input["segment"])


def best_variants(posteriors: pd.DataFrame, segments: Sequence[str]) -> pd.DataFrame:
    """Per segment, the variant of each family with the highest posterior mean."""
    mean = posteriors.assign(mean=posteriors["alpha"] / (posteriors["alpha"] + posteriors["beta"]))
    best = mean.loc[mean.groupby(["family", "segment"])["mean"].idxmax()]
    table = best.pivot(index="segment", columns="family", values="variant")
    return table.reindex(list(segments)).reset_index(drop=True)


def log_snapshot(personalizer: ContentPersonalizer, registered_model_name: str) -> ModelInfo:
    """Log the personalizer's posteriors into the active MLflow run as a new registered version."""
    posteriors, _ = personalizer.to_tables()
    example = pd.DataFrame({"segment": sorted(posteriors["segment"].unique())[:2]})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "posteriors.parquet"
        posteriors.to_parquet(path)
        return mlflow.pyfunc.log_model(
            name="model",
            python_model=PosteriorSnapshot(),
            artifacts={ARTIFACT_KEY: str(path)},
            signature=infer_signature(example, best_variants(posteriors, example["segment"])),
            registered_model_name=registered_model_name,
            pip_requirements=["pandas", "pyarrow"],
        )


def register_snapshot(
    client: MlflowClient, update: PosteriorUpdate, registered_model_name: str, alias: str
) -> str:
    """The version holding the update's posteriors: the one behind `alias` when the update
    absorbed nothing new and that version holds the same feedback (a morning run again after a
    kill must not register the same posteriors twice), else a newly registered one."""
    if update.new_feedback == 0:
        reused = _version_of_feedback(client, registered_model_name, alias, update.version)
        if reused is not None:
            return reused
    registered = registered_version(log_snapshot(update.personalizer, registered_model_name))
    client.set_model_version_tag(registered_model_name, registered, FEEDBACK_TAG, update.version)
    client.set_model_version_tag(
        registered_model_name,
        registered,
        CONFIGURATION_TAG,
        update.personalizer.configuration(),
    )
    return registered


def _version_of_feedback(
    client: MlflowClient, registered_model_name: str, alias: str, feedback_version: str
) -> str | None:
    try:
        version = client.get_model_version_by_alias(registered_model_name, alias)
    except mlflow.exceptions.MlflowException:
        return None
    return version.version if version.tags.get(FEEDBACK_TAG) == feedback_version else None
