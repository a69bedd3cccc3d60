"""Compile a fitted model into files, log them with its MLflow model, read them back.

The files sit under `compiled_scoring/` in the logged model's own artifacts, next to the flavour's
files, so `models:/<name>/<version>` carries both and a version can never be served with another
version's compiled form. `scorer.json` names the kind and format; everything else is plain data
(JSON, XGBoost's UBJSON, ONNX): no pickles.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Any, Protocol

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models.model import ModelInfo

from roi_assets.compiled_scoring.encoding import NotCompilable

logger = logging.getLogger(__name__)

COMPILED_ARTIFACT_PATH = "compiled_scoring"
MANIFEST = "scorer.json"
FORMAT_VERSION = 1


class CompiledScorer(Protocol):
    kind: str

    @classmethod
    def load(cls, directory: Path, threads: int = 1) -> CompiledScorer: ...


def _compiler_for(model: Any) -> type:
    # Imported here: each compiler pulls in its domain (torch for the networks), and a scorer
    # process loads only the kinds it serves.
    from roi_assets.churn.ensemble import ChurnEnsemble
    from roi_assets.send_time.dqn import DQNAgent

    if isinstance(model, ChurnEnsemble):
        from roi_assets.compiled_scoring.churn import CompiledChurnEnsemble

        return CompiledChurnEnsemble
    if isinstance(model, DQNAgent):
        from roi_assets.compiled_scoring.send_time import CompiledSendTimePolicy

        return CompiledSendTimePolicy
    from roi_assets.compiled_scoring.tabular import CompiledTabularClassifier

    return CompiledTabularClassifier


def _scorer_class(kind: str) -> type:
    if kind == "churn_ensemble":
        from roi_assets.compiled_scoring.churn import CompiledChurnEnsemble

        return CompiledChurnEnsemble
    if kind == "send_time_dqn":
        from roi_assets.compiled_scoring.send_time import CompiledSendTimePolicy

        return CompiledSendTimePolicy
    if kind == "boosted_tabular_classifier":
        from roi_assets.compiled_scoring.tabular import CompiledTabularClassifier

        return CompiledTabularClassifier
    raise NotCompilable(f"unknown compiled scorer kind {kind!r}")


def compile_model(model: Any, directory: Path) -> Any:
    """Write the compiled form of a fitted model into `directory` and return it loaded.
    Raises NotCompilable for a model (or step) the compiler does not know."""
    directory.mkdir(parents=True, exist_ok=True)
    compiler = _compiler_for(model)
    compiler.write(model, directory)
    (directory / MANIFEST).write_text(
        json.dumps({"kind": compiler.kind, "format_version": FORMAT_VERSION})
    )
    return read_compiled(directory)


def read_compiled(directory: Path, threads: int = 1) -> Any:
    """A compiled scorer from the files `compile_model` wrote."""
    manifest = json.loads((directory / MANIFEST).read_text())
    if manifest.get("format_version") != FORMAT_VERSION:
        raise NotCompilable(f"unsupported compiled format {manifest.get('format_version')}")
    return _scorer_class(manifest["kind"]).load(directory, threads)


def log_compiled(info: ModelInfo, model: Any, client: MlflowClient | None = None) -> Any:
    """Compile `model` and add it to the logged model `info` (same run, same registry version).

    The seam between training and serving: call it right after the flavour's `log_model`. A
    model the compiler does not know fails here, at training time, rather than serving slowly.
    """
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder) / COMPILED_ARTIFACT_PATH
        compiled = compile_model(model, directory)
        (client or MlflowClient()).log_model_artifacts(
            info.model_id, str(directory), COMPILED_ARTIFACT_PATH
        )
    return compiled


def load_compiled(model_uri: str, threads: int = 1) -> Any | None:
    """The compiled scorer logged with `model_uri` (e.g. models:/roi-engagement-open/3), or None
    when that model has none (logged before compiling existed)."""
    try:
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=f"{model_uri.rstrip('/')}/{COMPILED_ARTIFACT_PATH}"
        )
    except (MlflowException, OSError) as error:
        logger.info("%s has no compiled scorer (%s)", model_uri, error)
        return None
    return read_compiled(Path(local), threads)
