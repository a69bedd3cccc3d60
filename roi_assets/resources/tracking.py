"""MLflow tracking and registry helpers shared by every model asset (no Dagster inside).

Where runs go: `settings.mlflow_tracking_uri()` (a sqlite store under data/ by default, a tracking
server when MLFLOW_TRACKING_URI says so). With a local store, experiments keep their artifacts under
`settings.mlflow_artifact_location()`; a server decides its own artifact store. Call
`ensure_experiment` before dagster-mlflow's `mlflow_tracking` resource opens a run, so that the
experiment exists with the right artifact location.

Models: scikit-learn models are saved with skops (MLflow 3's safe default), which refuses to load
types it does not know; the product's own types (XGBoost's booster, `f_classif`, calibrators, ...)
are listed from the model itself when it is logged. Other flavours (torch, LightGBM, pyfunc) go
through `log_flavour_model` with their own log function.

Registry: versions are registered under a model name and promoted with aliases. The validation
gate gives a passing version `challenger` (the first version of a model also becomes `champion`);
promoting a new champion keeps the outgoing one behind `previous_champion`, for rollback.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from functools import lru_cache
from importlib.metadata import packages_distributions, version
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import mlflow
import mlflow.pyfunc
import mlflow.sklearn
import skops.io
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.models.model import ModelInfo
from sqlalchemy.engine import make_url

from roi_assets import settings

CANDIDATE = "candidate"  # the version the latest training registered, awaiting its gate
CHALLENGER = "challenger"
CHAMPION = "champion"
PREVIOUS_CHAMPION = "previous_champion"
_SKLEARN_RUNTIME = ("scikit-learn", "skops", "numpy", "pandas")
PICKLE_POLICY = "MLFLOW_ALLOW_PICKLE_DESERIALIZATION"


def _prepare_store(tracking_uri: str) -> None:
    if urlparse(tracking_uri).scheme == "sqlite":
        # sqlite creates the database file but not its folder. SQLAlchemy's reading of the URI
        # tells relative (sqlite:///data/x.db) from absolute (sqlite:////srv/x.db) paths.
        database = make_url(tracking_uri).database
        if database:
            Path(database).parent.mkdir(parents=True, exist_ok=True)


def ensure_experiment(
    experiment_name: str,
    *,
    tracking_uri: str | None = None,
    artifact_location: str | None = None,
) -> str:
    """The experiment's id in the product's store, creating the experiment when missing.

    A new experiment keeps its artifacts at `artifact_location`, by default the product's artifact
    folder when the store is local (a tracking server chooses its own).
    """
    uri = tracking_uri or settings.mlflow_tracking_uri()
    _prepare_store(uri)
    client = MlflowClient(tracking_uri=uri)
    existing = client.get_experiment_by_name(experiment_name)
    if existing is not None:
        return existing.experiment_id
    if artifact_location is None and urlparse(uri).scheme in ("sqlite", "file", ""):
        artifact_location = settings.mlflow_artifact_location()
    return client.create_experiment(experiment_name, artifact_location=artifact_location)


def configure_tracking(
    experiment_name: str,
    *,
    tracking_uri: str | None = None,
    artifact_location: str | None = None,
) -> str:
    """Point MLflow at the product's store and make `experiment_name` the active experiment.

    For code outside Dagster (notebooks, scripts, tests); returns the experiment id.
    """
    uri = tracking_uri or settings.mlflow_tracking_uri()
    experiment_id = ensure_experiment(
        experiment_name, tracking_uri=uri, artifact_location=artifact_location
    )
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def skops_trusted_types(model: Any) -> list[str]:
    """The types skops does not trust by default in this model, read from the model's own dump."""
    return sorted(skops.io.get_untrusted_types(data=skops.io.dumps(model)))


@lru_cache(maxsize=1)
def _installed_owners() -> dict[str, list[str]]:
    # The distributions providing each top-level module: a scan of every installed package (about
    # 2 s), the same for the life of the process.
    return packages_distributions()


def _pinned_requirements(trusted_types: list[str]) -> list[str]:
    # Pinned here rather than inferred: MLflow's inference loads the model in a subprocess, which
    # is slow and needs deserialisation allowed. The packages are the scikit-learn runtime plus
    # those defining the model's extra types (e.g. xgboost).
    owners = _installed_owners()
    packages = set(_SKLEARN_RUNTIME)
    for type_name in trusted_types:
        packages.update(owners.get(type_name.split(".")[0], ()))
    return sorted(f"{package}=={version(package)}" for package in packages)


def log_flavour_model(
    log_model: Callable[..., ModelInfo],
    *,
    name: str,
    input_example: Any,
    predict: Callable[[Any], Any],
    registered_model_name: str | None = None,
    **flavour_arguments: Any,
) -> ModelInfo:
    """Log a model with any MLflow flavour, its signature inferred from `predict(input_example)`.

    `flavour_arguments` go to `log_model` as they are, including the model itself under the
    flavour's own name, e.g. `log_flavour_model(mlflow.lightgbm.log_model, lgb_model=booster,
    ...)`, `mlflow.pytorch.log_model` with `pytorch_model=`, `mlflow.pyfunc.log_model` with
    `python_model=` and `artifacts=`. Registers a new version when `registered_model_name` is
    given (read it with `registered_version`).
    """
    return log_model(
        name=name,
        signature=infer_signature(input_example, predict(input_example)),
        input_example=input_example,
        registered_model_name=registered_model_name,
        **flavour_arguments,
    )


def log_sklearn_model(
    model: Any,
    *,
    name: str,
    input_example: Any,
    registered_model_name: str | None = None,
    predict_method: str = "predict_proba",
) -> ModelInfo:
    """Log a fitted scikit-learn estimator (skops format) into the active run.

    The pyfunc flavour answers with `predict_method`, probabilities by default, which is what the
    product's scorers serve.
    """
    trusted = skops_trusted_types(model)
    return log_flavour_model(
        mlflow.sklearn.log_model,
        name=name,
        input_example=input_example,
        predict=getattr(model, predict_method),
        registered_model_name=registered_model_name,
        sk_model=model,
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_SKOPS,
        skops_trusted_types=trusted,
        pyfunc_predict_fn=predict_method,
        pip_requirements=_pinned_requirements(trusted),
    )


def log_png(png: bytes, artifact_file: str) -> None:
    """Attach a PNG (e.g. the reliability plot) to the active run as `artifact_file`."""
    target = Path(artifact_file)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / target.name
        path.write_bytes(png)
        parent = target.parent.as_posix()
        mlflow.log_artifact(str(path), artifact_path=None if parent == "." else parent)


def registered_version(info: ModelInfo) -> str:
    """The registry version created by logging with `registered_model_name`."""
    if info.registered_model_version is None:
        raise ValueError(f"model {info.model_uri} was logged without registering it")
    return str(info.registered_model_version)


def _registry(client: MlflowClient | None) -> MlflowClient:
    # Without a client, MLflow's current store: the one the `ModelRegistry` resource (or
    # `configure_tracking`, or MLFLOW_TRACKING_URI) pointed it at.
    return client or MlflowClient()


def set_alias(
    model_name: str, alias: str, model_version: str, client: MlflowClient | None = None
) -> None:
    _registry(client).set_registered_model_alias(model_name, alias, str(model_version))


def version_behind_alias(
    model_name: str, alias: str, client: MlflowClient | None = None
) -> str | None:
    """The version an alias points at, or None when the alias (or the model) does not exist."""
    try:
        found = _registry(client).get_model_version_by_alias(model_name, alias)
    except MlflowException as error:
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise
    return str(found.version)


def params_behind_alias(
    model_name: str, alias: str, client: MlflowClient | None = None
) -> dict[str, str]:
    """The training parameters logged with the version an alias points at ({} when none)."""
    client = _registry(client)
    version = version_behind_alias(model_name, alias, client)
    if version is None:
        return {}
    run_id = client.get_model_version(model_name, version).run_id
    return dict(client.get_run(run_id).data.params) if run_id else {}


def champion_or_candidate(
    model_name: str, client: MlflowClient | None = None
) -> tuple[str, str] | None:
    """(alias, version) of the version monitoring explains and assesses: the champion, or while
    the model has none, the candidate its gate held back, so that what kept it back (and whether
    it would be fair) is on record before it can serve. None when neither exists."""
    client = _registry(client)
    for alias in (CHAMPION, CANDIDATE):
        version = version_behind_alias(model_name, alias, client)
        if version is not None:
            return alias, version
    return None


def promote_to_champion(
    model_name: str, model_version: str, client: MlflowClient | None = None
) -> str | None:
    """Move `champion` to this version; the outgoing champion (returned) becomes
    `previous_champion`."""
    client = _registry(client)
    outgoing = version_behind_alias(model_name, CHAMPION, client)
    if outgoing is not None and outgoing != str(model_version):
        set_alias(model_name, PREVIOUS_CHAMPION, outgoing, client)
    set_alias(model_name, CHAMPION, model_version, client)
    return outgoing


def promote_to_challenger(
    model_name: str, model_version: str, client: MlflowClient | None = None
) -> tuple[str, ...]:
    """Give a version that passed the validation gate the `challenger` alias, and `champion` too
    when the model has none yet. Returns the aliases set."""
    client = _registry(client)
    set_alias(model_name, CHALLENGER, model_version, client)
    if version_behind_alias(model_name, CHAMPION, client) is None:
        promote_to_champion(model_name, model_version, client)
        return (CHALLENGER, CHAMPION)
    return (CHALLENGER,)


def previous_champion(model_name: str, client: MlflowClient | None = None) -> str | None:
    """The version that was champion before the current one, if any (the rollback target)."""
    return version_behind_alias(model_name, PREVIOUS_CHAMPION, client)


def model_uri(model_name: str, alias: str) -> str:
    return f"models:/{model_name}@{alias}"


def load_model_by_alias(
    model_name: str,
    alias: str,
    loader: Callable[[str], Any] = mlflow.pyfunc.load_model,
) -> Any:
    """Load the version behind an alias with any flavour's loader (`mlflow.pyfunc.load_model` by
    default, `mlflow.sklearn.load_model` for the bare estimator).

    skops accepts only the types recorded when the model was logged. A deployment that sets
    MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false refuses every load, and this helper respects that.
    """
    found = MlflowClient().get_model_version_by_alias(model_name, alias)
    return load_model_version(model_name, str(found.version), loader)


def load_model_version(
    model_name: str,
    model_version: str,
    loader: Callable[[str], Any] = mlflow.pyfunc.load_model,
) -> Any:
    """Load one registered version by number (a shadow test loads both versions it compares)."""
    found = MlflowClient().get_model_version(model_name, str(model_version))
    registered = (
        mlflow.get_tracking_uri(),
        model_name,
        str(found.version),
        found.creation_timestamp,
    )
    return _load_version(registered, os.environ.get(PICKLE_POLICY), loader)


@lru_cache(maxsize=16)
def _load_version(
    registered: tuple[str, str, str, int], pickle_policy: str | None, loader: Callable[[str], Any]
) -> Any:
    # A registered version never changes, so a long-lived process (`make live` runs every job of
    # every day in one) loads each once: scoring and monitoring share the object and only read
    # it. The store, name, version and creation time identify it (a store re-created at the same
    # address numbers its versions anew); a change of the deserialisation policy loads again.
    _, model_name, version, _ = registered
    return loader(f"models:/{model_name}/{version}")
