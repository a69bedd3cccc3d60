"""Every request observed: an id (the X-Request-ID header, and the body of a 500), its latency in
the Prometheus metrics and a line in the request log, and an unexpected error answered as JSON and
logged with the id.

A plain ASGI middleware rather than FastAPI's `@app.middleware("http")`: Starlette's
`BaseHTTPMiddleware` runs each request's endpoint in a task of its own and streams the response
through memory channels, a fixed cost on every request that is a large share of a computed
score's few milliseconds.
"""

from __future__ import annotations

import logging
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from roi_assets.serving.metrics import ServingMetrics
from roi_assets.serving.request_log import RequestLog

logger = logging.getLogger("roi_assets.serving.app")
REQUEST_ID_HEADER = "X-Request-ID"


class RequestObserver:
    """Wraps the app; `request_log` is read from the app's state at each request (the lifespan
    opens it)."""

    def __init__(self, app: ASGIApp, metrics: ServingMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        start = time.perf_counter()
        status = 500
        answered = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                answered, status = True, message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception("request %s to %s failed", request_id, scope.get("path"))
            status = 500
            if not answered:
                response = JSONResponse(
                    {"detail": "internal error", "request_id": request_id},
                    status_code=500,
                    headers={REQUEST_ID_HEADER: request_id},
                )
                await response(scope, receive, send)
        seconds = time.perf_counter() - start
        endpoint = getattr(scope.get("route"), "path", "unmatched")
        self.metrics.observe(endpoint, status, seconds)
        request_log: RequestLog = scope["app"].state.request_log
        request_log.write(
            endpoint=endpoint,
            model_name=state.get("model_name"),
            model_version=state.get("model_version"),
            latency_ms=seconds * 1000.0,
            status_code=status,
        )
