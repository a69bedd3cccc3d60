"""The MLflow model registry as a Dagster resource: the one place the product's assets, checks
and sensors learn where the registry lives.

Injected wherever a step reads or moves an alias or loads a model. Setting it up points MLflow's
client at the product's store (`tracking_uri`, by default `settings.mlflow_tracking_uri()` read
when the run starts, never at import), so that models logged through dagster-mlflow's run and
versions read here are in the same registry. The alias logic itself lives in
`resources.tracking` (plain functions, tested without Dagster) and `deployment.lifecycle`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dagster as dg
import mlflow
import mlflow.pyfunc
from mlflow import MlflowClient

from roi_assets import settings
from roi_assets.resources.tracking import (
    load_model_by_alias,
    load_model_version,
    version_behind_alias,
)


class ModelRegistry(dg.ConfigurableResource):
    """The product's MLflow registry. `tracking_uri` empty: the product's own store."""

    tracking_uri: str = ""

    def resolved_uri(self) -> str:
        return self.tracking_uri or settings.mlflow_tracking_uri()

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.activate()

    def activate(self) -> None:
        """Point MLflow's fluent API (model logging and loading) at this registry."""
        mlflow.set_tracking_uri(self.resolved_uri())

    def client(self) -> MlflowClient:
        return MlflowClient(tracking_uri=self.resolved_uri())

    def version(self, model_name: str, alias: str) -> str | None:
        """The version behind an alias, None when the alias or the model does not exist."""
        return version_behind_alias(model_name, alias, self.client())

    def load(
        self,
        model_name: str,
        alias: str,
        loader: Callable[[str], Any] = mlflow.pyfunc.load_model,
    ) -> Any:
        self.activate()
        return load_model_by_alias(model_name, alias, loader)

    def load_version(
        self,
        model_name: str,
        model_version: str,
        loader: Callable[[str], Any] = mlflow.pyfunc.load_model,
    ) -> Any:
        self.activate()
        return load_model_version(model_name, model_version, loader)
