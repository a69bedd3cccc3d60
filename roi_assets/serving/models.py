"""The model versions the API serves, loaded from the MLflow registry by alias.

Per registered model: the version behind `champion`, and the version behind `challenger` while an
experiment gives it a share. The alias is resolved to a version number first and the model loaded
by that number, so an alias moving during a load cannot leave a version label on another model.
A challenger is served only when the registry's `challenger` is the version the experiment names:
otherwise the A/B analysis would count clients for a version they never saw.

The models the API computes (engagement, churn, send time) also load the compiled scorer logged with
their version (`roi_assets.compiled_scoring`); a version logged without one is served through its
flavour, as before.

`refresh` is cheap when nothing moved (two registry look-ups per model) and keeps serving the
loaded versions when the registry cannot be reached.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import mlflow
import mlflow.pyfunc
import mlflow.sklearn
from mlflow import MlflowClient

from roi_assets.compiled_scoring import load_compiled
from roi_assets.deployment.split import CHALLENGER_ARM, CHAMPION_ARM, Arm
from roi_assets.resources.registry import ModelRegistry
from roi_assets.resources.tracking import CHALLENGER, CHAMPION, version_behind_alias
from roi_assets.serving.cache import (
    CHURN_30D,
    DOCUMENT_CLASSIFIER,
    ENGAGEMENT_OPEN,
    SEND_TIME,
)
from roi_assets.serving.routing import Experiment

logger = logging.getLogger(__name__)

Loader = Callable[[str], Any]

# The flavour each served model is loaded with: the engagement pipeline as the bare estimator
# (the marts score it that way, input validation included), the others as their pyfunc.
SERVED_MODELS: dict[str, Loader] = {
    ENGAGEMENT_OPEN: mlflow.sklearn.load_model,
    CHURN_30D: mlflow.pyfunc.load_model,
    SEND_TIME: mlflow.pyfunc.load_model,
    DOCUMENT_CLASSIFIER: mlflow.pyfunc.load_model,
}
# The models whose requests are computed one row at a time: served through their compiled form.
COMPILED_MODELS = frozenset({ENGAGEMENT_OPEN, CHURN_30D, SEND_TIME})


@dataclass(frozen=True)
class LoadedModel:
    name: str
    version: str
    arm: Arm
    model: Any
    # The compiled scorer logged with this version; None when it was logged without one.
    compiled: Any = None


@dataclass(frozen=True)
class ModelPair:
    champion: LoadedModel | None = None
    challenger: LoadedModel | None = None
    experiment: Experiment | None = None


class ServedModels:
    """Champion and challenger per model name, swapped atomically on refresh."""

    def __init__(
        self,
        loaders: Mapping[str, Loader] | None = None,
        client: MlflowClient | None = None,
        compiled_loader: Loader = load_compiled,
    ) -> None:
        if client is None:
            # The product's registry, as the graph's assets see it (MLFLOW_TRACKING_URI or the
            # store under the data folder); model loading goes through MLflow's fluent API.
            registry = ModelRegistry()
            registry.activate()
            client = registry.client()
        self.loaders = dict(SERVED_MODELS if loaders is None else loaders)
        self.client = client
        self.compiled_loader = compiled_loader
        self._pairs: dict[str, ModelPair] = {name: ModelPair() for name in self.loaders}
        self._lock = threading.Lock()

    def pair(self, model_name: str) -> ModelPair:
        return self._pairs.get(model_name, ModelPair())

    def versions(self) -> dict[str, dict[str, Any]]:
        """What /healthz shows: the versions loaded per model and the challenger's share."""
        return {
            name: {
                "champion": pair.champion.version if pair.champion else None,
                "challenger": pair.challenger.version if pair.challenger else None,
                "challenger_share": pair.experiment.challenger_share if pair.experiment else 0.0,
            }
            for name, pair in self._pairs.items()
        }

    def route(self, model_name: str, client_id: str) -> LoadedModel | None:
        """The model that answers this client: the challenger for the clients the experiment's
        split gives it, the champion otherwise; None while the model has no champion."""
        pair = self.pair(model_name)
        experiment = pair.experiment
        challenged = pair.challenger is not None and experiment is not None
        if challenged and experiment.arm(client_id) == CHALLENGER_ARM:
            return pair.challenger
        return pair.champion

    def _load(self, name: str, version: str, arm: Arm, current: LoadedModel | None) -> LoadedModel:
        if current is not None and current.version == version:
            return LoadedModel(name, version, arm, current.model, current.compiled)
        logger.info("loading %s version %s as %s", name, version, arm)
        uri = f"models:/{name}/{version}"
        compiled = self.compiled_loader(uri) if name in COMPILED_MODELS else None
        return LoadedModel(name, version, arm, self.loaders[name](uri), compiled)

    def _refreshed(self, name: str, experiment: Experiment | None) -> ModelPair:
        pair = self.pair(name)
        champion_version = version_behind_alias(name, CHAMPION, self.client)
        if champion_version is None:
            return ModelPair()
        known = {m.version: m for m in (pair.champion, pair.challenger) if m is not None}
        champion = self._load(name, champion_version, CHAMPION_ARM, known.get(champion_version))
        if experiment is None or experiment.challenger_version == champion_version:
            return ModelPair(champion)
        challenger_version = version_behind_alias(name, CHALLENGER, self.client)
        if challenger_version != experiment.challenger_version:
            logger.warning(
                "%s: the experiment names version %s but `challenger` is %s; serving the "
                "champion to everyone",
                name,
                experiment.challenger_version,
                challenger_version,
            )
            return ModelPair(champion)
        challenger = self._load(
            name, challenger_version, CHALLENGER_ARM, known.get(challenger_version)
        )
        return ModelPair(champion, challenger, experiment)

    def refresh(self, experiments: Mapping[str, Experiment]) -> set[str]:
        """Follow the registry and the experiments; the names whose served versions changed."""
        changed: set[str] = set()
        with self._lock:
            for name in self.loaders:
                before = self.versions()[name]
                try:
                    pair = self._refreshed(name, experiments.get(name))
                except Exception:
                    # A registry outage must not take the API down: keep serving what is loaded.
                    logger.exception("could not refresh %s; keeping the loaded versions", name)
                    continue
                self._pairs = {**self._pairs, name: pair}
                if self.versions()[name] != before:
                    changed.add(name)
        return changed
