"""The answers of the serving API without HTTP: route, look up the caches, run a model.

Order per request: the client's arm decides the model version; a client-only request routed to
the champion is answered from the batch mart when the mart was scored by that version; otherwise
the TTL cache, keyed by model, version and input, is asked; otherwise the model runs and its
answer is cached. `refresh` follows the BI copy and the registry, and empties the TTL cache when
either changed, so nothing computed by an outgoing version is served after a reload.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np
import pandas as pd
import pypdfium2 as pdfium

from roi_assets.churn.actions import recommend_actions
from roi_assets.churn.features import tabular_matrix
from roi_assets.churn.pyfunc import pyfunc_input_frame
from roi_assets.churn.reasons import explain_reasons
from roi_assets.churn.tiers import MEDIUM_RISK
from roi_assets.deployment.split import CHAMPION_ARM
from roi_assets.documents.classifier import REVIEW_BELOW_CONFIDENCE
from roi_assets.documents.classifier_pyfunc import pyfunc_input
from roi_assets.documents.document_reading import DocumentReading, read_document
from roi_assets.documents.entities import entities_by_type, extract_entities
from roi_assets.engagement.model import predict_proba
from roi_assets.send_time.environment import HOURS_PER_WEEK
from roi_assets.serving.cache import (
    CHURN_30D,
    CONTENT_BANDIT,
    DOCUMENT_CLASSIFIER,
    ENGAGEMENT_OPEN,
    SEND_TIME,
    EdgeCache,
    ScoreCache,
)
from roi_assets.serving.models import LoadedModel, ServedModels
from roi_assets.serving.schemas import ChurnRequest, EngagementRequest, SendTimeRequest
from roi_assets.simulator.catalog import VARIANT_COLUMNS

logger = logging.getLogger(__name__)

# Suffixes the page loader reads (PDF, or an image Pillow opens); the saved file gets one of these
# and a generated name, never anything else the client sent.
DOCUMENT_SUFFIXES = frozenset({".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"})


class NotServed(Exception):
    """The model has no champion in the registry (yet): 503."""


class UnknownClient(Exception):
    """Nothing to score the client on: no batch row for the served version, no payload: 404."""


class UnsupportedDocument(Exception):
    """A file type the page loader does not read: 415."""


class UnreadableDocument(Exception):
    """A file of a supported type that cannot be read (damaged, not what its name says): 422."""


@dataclass(frozen=True)
class Answer:
    """A response body's content and where it came from."""

    served: LoadedModel | None
    source: str
    body: dict[str, Any]
    model_name: str = ""
    model_version: str = ""

    def fields(self) -> dict[str, Any]:
        name = self.served.name if self.served else self.model_name
        version = self.served.version if self.served else self.model_version
        arm = self.served.arm if self.served else CHAMPION_ARM
        return {
            "model_name": name,
            "model_version": version,
            "arm": arm,
            "source": self.source,
            **self.body,
        }


def upload_suffix(filename: str | None) -> str:
    """The allowed suffix of a client's file name (any folder part, POSIX or Windows, dropped)."""
    name = PureWindowsPath(PurePosixPath(filename or "").name).name
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in DOCUMENT_SUFFIXES:
        raise UnsupportedDocument(
            f"unsupported document type {suffix or '(none)'!r}; "
            f"send one of {', '.join(sorted(DOCUMENT_SUFFIXES))}"
        )
    return suffix


def _engagement_probability(
    served: LoadedModel, values: dict[str, Any] | None, frame: Any | None
) -> float:
    """One email's P(open): the compiled scorer on the request's values (or the mart's row), the
    logged pipeline when the version has no compiled form."""
    if served.compiled is not None:
        if values is not None:
            return served.compiled.predict_row(values)
        return float(served.compiled.predict_frame(frame)[0])
    return float(
        predict_proba(served.model, frame if frame is not None else pd.DataFrame([values]))[0]
    )


def _churn_probability(
    served: LoadedModel, tabular: pd.DataFrame, sequences: np.ndarray
) -> tuple[float, str]:
    if served.compiled is not None:
        probabilities, tiers = served.compiled.predict(tabular_matrix(tabular), sequences)
        return float(probabilities[0]), str(tiers[0])
    scored = served.model.predict(pyfunc_input_frame(tabular, sequences)).iloc[0]
    return float(scored["probability"]), str(scored["tier"])


def _best_send_hour(served: LoadedModel, states: np.ndarray) -> tuple[int, float]:
    if served.compiled is not None:
        hours, rewards = served.compiled.best_hours(states)
        return int(hours[0]), float(rewards[0])
    predicted = served.model.predict(states).iloc[0]
    return int(predicted["best_hour_of_week"]), float(predicted["expected_reward"])


class ScoringService:
    def __init__(
        self,
        models: ServedModels,
        edge: EdgeCache,
        cache: ScoreCache,
        reader: Callable[[Path], DocumentReading] = read_document,
    ) -> None:
        self.models = models
        self.edge = edge
        self.cache = cache
        self.reader = reader

    def refresh(self) -> dict[str, Any]:
        """Reload the BI copy when it changed and follow the registry; clears the TTL cache when
        anything moved."""
        batch_reloaded = self.edge.refresh()
        changed = self.models.refresh(self.edge.snapshot.experiments)
        if changed or batch_reloaded:
            self.cache.clear()
        return {"changed_models": sorted(changed), "batch_reloaded": batch_reloaded}

    def _served(self, model_name: str, client_id: str) -> LoadedModel:
        served = self.models.route(model_name, client_id)
        if served is None:
            raise NotServed(f"{model_name} has no champion in the registry")
        return served

    def _batch_row(self, served: LoadedModel, client_id: str) -> dict | None:
        if served.arm != CHAMPION_ARM:
            return None
        return self.edge.lookup(served.name, client_id, served.version)

    def _cached(
        self, served: LoadedModel, key: tuple, compute: Callable[[], dict[str, Any]]
    ) -> Answer:
        full_key = (served.name, served.version, *key)
        body = self.cache.get(full_key)
        if body is not None:
            return Answer(served, "cache", body)
        body = compute()
        self.cache.put(full_key, body)
        return Answer(served, "model", body)

    def engagement(self, request: EngagementRequest) -> Answer:
        served = self._served(ENGAGEMENT_OPEN, request.client_id)
        if request.features is None:
            row = self._batch_row(served, request.client_id)
            if row is not None:
                return Answer(served, "batch", {"p_open": row["p_open"], "p_click": row["p_click"]})
            frame = self.edge.snapshot.engagement_row(request.client_id)
            if frame is None:
                raise UnknownClient(f"no features for client {request.client_id}; send them")
            values = None
            key: tuple = ("scoring_row", request.client_id)
        else:
            values = request.features.model_dump()
            frame = None
            key = ("payload", *values.values())

        def compute() -> dict[str, Any]:
            return {"p_open": _engagement_probability(served, values, frame)}

        return self._cached(served, key, compute)

    def churn(self, request: ChurnRequest) -> Answer:
        served = self._served(CHURN_30D, request.client_id)
        if request.features is None or request.daily is None:
            row = self._batch_row(served, request.client_id)
            if row is None:
                raise UnknownClient(
                    f"no batch churn score for client {request.client_id} from "
                    f"{served.name} v{served.version}; send features and daily"
                )
            body = {k: row[k] for k in ("probability", "tier", "recommended_action")}
            return Answer(served, "batch", {**body, "top_reasons": row["top_reasons"] or []})
        tabular = pd.DataFrame([request.features.model_dump()])
        sequences = np.array(
            [[list(day.model_dump().values()) for day in request.daily]], dtype=np.float32
        )

        def compute() -> dict[str, Any]:
            probability, tier = _churn_probability(served, tabular, sequences)
            # One client alone has no rank among the others: the batch mart's watch list cannot
            # apply, so a computed answer explains from the medium tier up.
            at_risk = np.array([probability >= MEDIUM_RISK])
            ensemble = getattr(served.model.unwrap_python_model(), "ensemble", None)
            reasons = (
                explain_reasons(ensemble, tabular, sequences=sequences, selected=at_risk)
                if ensemble is not None
                else [[]]
            )
            return {
                "probability": probability,
                "tier": tier,
                "top_reasons": reasons[0],
                "recommended_action": recommend_actions(tabular, at_risk)[0],
            }

        return self._cached(
            served, ("payload", tabular.to_numpy().tobytes(), sequences.tobytes()), compute
        )

    def send_time(self, request: SendTimeRequest) -> Answer:
        served = self._served(SEND_TIME, request.client_id)
        if request.state is None:
            row = self._batch_row(served, request.client_id)
            if row is None:
                raise UnknownClient(
                    f"no batch send time for client {request.client_id} from "
                    f"{served.name} v{served.version}; send its state"
                )
            columns = ("best_hour_of_week_local", "best_hour_of_week_utc")
            body = {k: int(row[k]) for k in columns}
            body["expected_open_probability"] = float(row["expected_open_probability"])
            return Answer(served, "batch", body)
        state = tuple(request.state)

        def compute() -> dict[str, Any]:
            hour, reward = _best_send_hour(served, np.asarray([state], dtype=np.float32))
            return {
                "best_hour_of_week_local": hour % HOURS_PER_WEEK,
                "expected_open_probability": float(np.clip(reward, 0.0, 1.0)),
            }

        return self._cached(served, ("payload", state), compute)

    def content(self, client_id: str) -> Answer:
        """The client's variants from marts.content_assignments (the bandit's Thompson draw); the
        bandit's posteriors live in the warehouse, not in the registry, so there is no model run."""
        row = self.edge.snapshot.scores.get(CONTENT_BANDIT, {}).get(client_id)
        if row is None:
            raise UnknownClient(f"no content assignment for client {client_id}")
        body = {
            "segment": row["segment"],
            "variants": {family: row[column] for family, column in VARIANT_COLUMNS.items()},
            "posterior_means": {
                family: float(row[f"{family}_posterior_mean"]) for family in VARIANT_COLUMNS
            },
        }
        return Answer(None, "batch", body, CONTENT_BANDIT, str(row["model_version"]))

    def document(self, content: bytes, filename: str | None) -> Answer:
        """Classify an uploaded document. The bytes are written to a fresh private folder (mode
        0700) under a generated name with an allowed suffix, read, and deleted whatever happens."""
        suffix = upload_suffix(filename)
        served = self.models.pair(DOCUMENT_CLASSIFIER).champion
        if served is None:
            raise NotServed(f"{DOCUMENT_CLASSIFIER} has no champion in the registry")
        digest = hashlib.sha256(content).hexdigest()

        def compute() -> dict[str, Any]:
            reading = self._read(content, suffix)
            frame = pyfunc_input([reading.ocr.text], reading.thumbnail[np.newaxis])
            predicted = served.model.predict(frame).iloc[0]
            confidence = float(predicted["confidence"])
            return {
                "document_sha256": digest,
                "predicted_type": str(predicted["predicted_type"]),
                "confidence": confidence,
                "needs_review": bool(reading.ocr.needs_review)
                or confidence < REVIEW_BELOW_CONFIDENCE,
                "ocr_engine": str(reading.ocr.engine),
                "entities": entities_by_type(extract_entities(reading.ocr.text)),
            }

        return self._cached(served, ("document", digest), compute)

    def _read(self, content: bytes, suffix: str) -> DocumentReading:
        folder = Path(tempfile.mkdtemp(prefix="roi-serving-upload-"))
        try:
            path = folder / f"document{suffix}"
            path.write_bytes(content)
            try:
                return self.reader(path)
            except (OSError, ValueError, pdfium.PdfiumError) as error:
                raise UnreadableDocument(f"the document could not be read: {error}") from error
        finally:
            shutil.rmtree(folder, ignore_errors=True)
