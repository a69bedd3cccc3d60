"""The real-time serving API (FastAPI): scores from the registry's champion (or an experiment's
challenger), batch answers from the marts, a TTL cache, an API key, Prometheus metrics and a
request log.

Endpoints (JSON unless said otherwise; all but /healthz need the API key):
- POST /v1/engagement/score      probability of opening (client_id, optional features)
- POST /v1/churn/risk            30-day churn probability, tier, reasons and retention action
- POST /v1/send-time/best        best hour of week in the client's local time
- POST /v1/content/choose        the client's subject line, template and call-to-action variants
- POST /v1/documents/classify    multipart `file`: document type, entities, needs_review
- POST /admin/reload             follow the registry and the BI copy now (also done periodically)
- GET  /healthz                  open: the versions loaded, for load balancers and operators
- GET  /metrics                  Prometheus text; behind the key, since it tells traffic volumes

Every answer names the model, its version, the experiment arm and the source (batch, cache or
model). Every refusal is a 4xx with a `reason` code and a sentence (`serving.errors`: invalid
fields are a 422 listing each field and why, oversized bodies a 413, wrong content types and file
types a 415); an unexpected error is a JSON 500 with the request id, which is also in the
X-Request-ID header and the server's log.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from roi_assets.documents.intake import IntakeLimits
from roi_assets.serving.cache import EdgeCache, ScoreCache
from roi_assets.serving.config import ServingConfig
from roi_assets.serving.errors import check_upload, install_error_handling
from roi_assets.serving.metrics import CONTENT_TYPE, ServingMetrics
from roi_assets.serving.models import ServedModels
from roi_assets.serving.observe import RequestObserver
from roi_assets.serving.request_log import RequestLog
from roi_assets.serving.schemas import (
    ChurnRequest,
    ChurnResponse,
    ContentRequest,
    ContentResponse,
    DocumentResponse,
    EngagementRequest,
    EngagementResponse,
    Health,
    SendTimeRequest,
    SendTimeResponse,
)
from roi_assets.serving.security import API_KEY_HEADER, key_matches, presented_key
from roi_assets.serving.service import Answer, ScoringService

logger = logging.getLogger(__name__)

DOCUMENT_PATH = "/v1/documents/classify"


def create_app(config: ServingConfig, service: ScoringService | None = None) -> FastAPI:
    """The API for `config`; `service` defaults to the registry and BI copy of the settings."""
    if not config.api_key:
        raise ValueError("the serving API needs an API key")
    service = service or ScoringService(
        ServedModels(),
        EdgeCache(config.bi_warehouse),
        ScoreCache(config.cache_max_entries, config.cache_ttl_seconds),
    )
    metrics = ServingMetrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.request_log = RequestLog(config.request_log_dir)
        await run_in_threadpool(refresh_and_settle, service)
        refresher = (
            asyncio.create_task(_refresh_periodically(service, config.refresh_seconds))
            if config.refresh_seconds > 0
            else None
        )
        try:
            yield
        finally:
            if refresher is not None:
                refresher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await refresher
            app.state.request_log.close()

    app = FastAPI(title="ROI Assets scoring API", lifespan=lifespan)
    app.state.service = service
    app.state.metrics = metrics
    upload_limits = IntakeLimits(max_bytes=config.max_upload_bytes)
    install_error_handling(app, upload_path=DOCUMENT_PATH, max_upload_bytes=config.max_upload_bytes)

    app.add_middleware(RequestObserver, metrics=metrics)

    # async: a sync dependency would be run in a worker thread, for a constant-time compare
    async def require_key(request: Request) -> None:
        presented = presented_key(
            request.headers.get(API_KEY_HEADER), request.headers.get("authorization")
        )
        if not key_matches(presented, config.api_key):
            raise HTTPException(
                status_code=401,
                detail=f"missing or wrong API key (send it in {API_KEY_HEADER})",
                headers={"WWW-Authenticate": "Bearer"},
            )

    keyed = [Depends(require_key)]

    def respond(request: Request, answer: Answer, client_id: str | None) -> dict[str, Any]:
        fields = answer.fields()
        request.state.model_name = fields["model_name"]
        request.state.model_version = fields["model_version"]
        metrics.answers.labels(fields["model_name"], answer.source).inc()
        return {**fields, "client_id": client_id, "request_id": request.state.request_id}

    # The platform's send path calls this one: an answer is an in-memory lookup or a compiled
    # score of a fraction of a millisecond, so it runs on the event loop rather than paying the
    # hand-over to a worker thread and back on every request (12.4x MLflow's throughput under 16
    # clients against 9.7-10.0x before, docs/benchmarks.md). A version registered without a
    # compiled form is scored by its pipeline, about 15 ms that the loop then waits for.
    @app.post("/v1/engagement/score", response_model=EngagementResponse, dependencies=keyed)
    async def score_engagement(request: Request, body: EngagementRequest) -> dict[str, Any]:
        """Probability that the client opens an email (the features' one, or the next default
        slot's); from the batch mart when it holds the client for the serving version."""
        return respond(request, service.engagement(body), body.client_id)

    @app.post("/v1/churn/risk", response_model=ChurnResponse, dependencies=keyed)
    def churn_risk(request: Request, body: ChurnRequest) -> dict[str, Any]:
        """30-day churn probability, risk tier, top reasons and the recommended action."""
        return respond(request, service.churn(body), body.client_id)

    @app.post("/v1/send-time/best", response_model=SendTimeResponse, dependencies=keyed)
    def best_send_time(request: Request, body: SendTimeRequest) -> dict[str, Any]:
        """The hour of the week (client's local time) with the highest expected open rate."""
        return respond(request, service.send_time(body), body.client_id)

    @app.post("/v1/content/choose", response_model=ContentResponse, dependencies=keyed)
    def choose_content(request: Request, body: ContentRequest) -> dict[str, Any]:
        """The content variants the bandit assigned to the client."""
        return respond(request, service.content(body.client_id), body.client_id)

    @app.post(DOCUMENT_PATH, response_model=DocumentResponse, dependencies=keyed)
    async def classify_document(
        request: Request, file: Annotated[UploadFile, File()]
    ) -> dict[str, Any]:
        """Document type, confidence, entities and whether a person should check it."""
        content = await file.read(config.max_upload_bytes + 1)
        await run_in_threadpool(check_upload, content, file.filename, upload_limits)
        answer = await run_in_threadpool(service.document, content, file.filename)
        return respond(request, answer, None)

    @app.post("/admin/reload", dependencies=keyed)
    def reload_models() -> dict[str, Any]:
        """Follow the registry's aliases and the BI copy now; the caches are emptied when a
        served version or the batch scores changed."""
        return {**refresh_and_settle(service), "models": service.models.versions()}

    @app.get("/healthz", response_model=Health)
    def health() -> dict[str, Any]:
        batch = service.edge.snapshot.scores
        return {
            "status": "ok",
            "models": service.models.versions(),
            "batch_clients": {name: len(rows) for name, rows in batch.items()},
        }

    @app.get("/metrics", dependencies=keyed)
    def prometheus_metrics() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    return app


def refresh_and_settle(service: ScoringService) -> dict[str, Any]:
    """`service.refresh()`, then, when it loaded something, one full collection and everything
    alive moved out of the cyclic collector's reach (`gc.freeze`).

    The libraries, models and batch marts are millions of long-lived objects: left in the oldest
    generation, every full collection walks them all in the middle of some request, the tail of
    the latency distribution. Unfreezing first lets the collection free what a reload replaced."""
    outcome = service.refresh()
    if gc.get_freeze_count() == 0 or outcome["changed_models"] or outcome["batch_reloaded"]:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
    return outcome


async def _refresh_periodically(service: ScoringService, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await run_in_threadpool(refresh_and_settle, service)
        except Exception:
            logger.exception("periodic refresh failed; serving the loaded versions")
