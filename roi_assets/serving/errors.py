"""Request validation and error answers of the serving API.

Every failure a caller can cause is a 4xx whose JSON body names a machine-readable `reason`, a
sentence (`detail`) and the `request_id`; a 5xx is our own fault and is logged with its request
id. Three layers:

- `RequestGuard`, an ASGI middleware in front of the routes: the body's size (the declared
  Content-Length first, then the bytes actually received, so a chunked upload cannot stream past
  the limit either) and its content type (JSON for the scoring endpoints, multipart/form-data
  for documents), before FastAPI parses anything;
- `check_upload`: an uploaded document's bytes go through the landing zone's own intake check
  (`documents.intake.check_content`) before any decoder sees them: decompression bombs, absurd
  dimensions, encrypted or page-less PDFs, files that are not what their name says;
- exception handlers that turn the service's and FastAPI's errors into those answers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from PIL import Image
from starlette.exceptions import HTTPException as StarletteHTTPException

from roi_assets.documents.intake import IntakeLimits, Rejection, check_content
from roi_assets.serving.service import (
    NotServed,
    UnknownClient,
    UnreadableDocument,
    UnsupportedDocument,
)

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# The largest scoring request is a churn payload (20 features and 30 days of 15 metrics), a few
# kilobytes; 256 KiB leaves room for any legitimate body and refuses a JSON flood unread.
MAX_JSON_BYTES = 256 * 1024
# Room for the multipart framing (boundaries, part headers) around an uploaded file.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
JSON_MEDIA_TYPES = frozenset({"application/json"})
MULTIPART_MEDIA_TYPE = "multipart/form-data"

# The HTTP status of each intake rejection: the type is not one we read (415), the content is
# over a limit (413), or it is of a supported type but unusable (422).
UPLOAD_STATUS: dict[Rejection, int] = {
    Rejection.UNSUPPORTED_EXTENSION: 415,
    Rejection.NOT_AN_IMAGE: 415,
    Rejection.NOT_A_PDF: 415,
    Rejection.FILE_TOO_LARGE: 413,
    Rejection.IMAGE_TOO_LARGE: 413,
    Rejection.PAGE_TOO_LARGE: 413,
    Rejection.TOO_MANY_PAGES: 413,
}
SERVICE_ERRORS: dict[type[Exception], tuple[int, str]] = {
    UnknownClient: (404, "unknown_client"),
    UnsupportedDocument: (415, "unsupported_document_type"),
    UnreadableDocument: (422, "unreadable_document"),
    NotServed: (503, "not_served"),
}
HTTP_REASONS = {
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
}


class ClientError(Exception):
    """A request we refuse: its status, reason code and the sentence the caller reads."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail


def request_id(scope_or_request: Scope | Request) -> str | None:
    """The id `RequestObserver` gave the request (None outside it)."""
    scope = scope_or_request.scope if isinstance(scope_or_request, Request) else scope_or_request
    return scope.get("state", {}).get("request_id")


def error_body(status: int, reason: str, detail: Any, rid: str | None) -> JSONResponse:
    if status >= 500:
        logger.error("request %s answered %s %s: %s", rid, status, reason, detail)
    return JSONResponse({"detail": detail, "reason": reason, "request_id": rid}, status)


def media_type(headers: list[tuple[bytes, bytes]]) -> tuple[str, dict[str, str]]:
    """The Content-Type's media type (lower case) and its parameters."""
    raw = next((v for k, v in headers if k.lower() == b"content-type"), b"")
    media, *params = raw.decode("latin-1").split(";")
    parameters = {}
    for param in params:
        name, _, value = param.strip().partition("=")
        parameters[name.lower()] = value.strip().strip('"')
    return media.strip().lower(), parameters


def content_type_problem(path: str, upload_path: str, headers: list[tuple[bytes, bytes]]) -> str:
    """Why a non-empty body's content type is wrong for `path` ("" when it is right)."""
    media, parameters = media_type(headers)
    if path == upload_path:
        if media != MULTIPART_MEDIA_TYPE:
            return f"send the document as {MULTIPART_MEDIA_TYPE} (a `file` part), not {media!r}"
        if not parameters.get("boundary"):
            return f"the {MULTIPART_MEDIA_TYPE} content type names no boundary"
        return ""
    if media not in JSON_MEDIA_TYPES and not media.endswith("+json"):
        return f"send a JSON body (Content-Type: application/json), not {media or 'none'!r}"
    return ""


class RequestGuard:
    """Refuses oversized bodies and wrong content types before the app reads a byte of them.

    The body is read here, up to the limit, and handed on to the app; past the limit the request
    is answered 413 at once, so neither a false Content-Length nor a chunked stream makes the
    server hold more than the limit."""

    def __init__(
        self, app: Any, *, upload_path: str, max_upload_bytes: int, max_json_bytes: int
    ) -> None:
        self.app = app
        self.upload_path = upload_path
        self.max_upload_bytes = max_upload_bytes
        self.max_json_bytes = max_json_bytes

    def _limit(self, path: str) -> tuple[int, str, str]:
        if path == self.upload_path:
            limit = self.max_upload_bytes + MULTIPART_OVERHEAD_BYTES
            mb = self.max_upload_bytes / 2**20
            detail = f"the document exceeds the {mb:g} MB limit ({self.max_upload_bytes} bytes)"
            return limit, "file_too_large", detail
        return (
            self.max_json_bytes,
            "body_too_large",
            (f"the request body exceeds {self.max_json_bytes} bytes"),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit, reason, detail = self._limit(scope["path"])
        headers = scope.get("headers", [])
        declared = next((v for k, v in headers if k.lower() == b"content-length"), None)
        if declared is not None:
            if not declared.strip().isdigit():
                refusal = ClientError(400, "invalid_content_length", "invalid Content-Length")
                await self._refuse(scope, receive, send, refusal)
                return
            if int(declared) > limit:
                await self._refuse(scope, receive, send, ClientError(413, reason, detail))
                return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left: nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, receive, send, ClientError(413, reason, detail))
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body:
            problem = content_type_problem(scope["path"], self.upload_path, headers)
            if problem:
                refusal = ClientError(415, "unsupported_content_type", problem)
                await self._refuse(scope, receive, send, refusal)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, error: ClientError) -> None:
        response = error_body(error.status, error.reason, error.detail, request_id(scope))
        await response(scope, receive, send)


def check_upload(content: bytes, filename: str | None, limits: IntakeLimits) -> None:
    """Raise a ClientError unless the landing zone's intake would accept these bytes. Only the
    name's extension is used (any folder part, POSIX or Windows, dropped)."""
    name = PureWindowsPath(PurePosixPath(filename or "").name).name
    verdict = check_content(content, PurePosixPath(name).suffix, limits)
    if not verdict.accepted:
        status = UPLOAD_STATUS.get(verdict.reason, 422)
        raise ClientError(status, str(verdict.reason), verdict.message)


def _validation_reason(error: RequestValidationError) -> str:
    kinds = {problem.get("type") for problem in error.errors()}
    return "malformed_json" if "json_invalid" in kinds else "invalid_request"


def install_error_handling(
    app: FastAPI, *, upload_path: str, max_upload_bytes: int, max_json_bytes: int = MAX_JSON_BYTES
) -> None:
    """Add the request guard and the error handlers to `app`. Call it before the app's own
    `observe` middleware is added, so that middleware wraps the guard: a refused request still
    gets its request id, its metrics and its request-log line."""
    app.add_middleware(
        RequestGuard,
        upload_path=upload_path,
        max_upload_bytes=max_upload_bytes,
        max_json_bytes=max_json_bytes,
    )

    @app.exception_handler(ClientError)
    async def client_error(request: Request, error: ClientError) -> JSONResponse:
        return error_body(error.status, error.reason, error.detail, request_id(request))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [{"field": _field(e["loc"]), "reason": e["msg"]} for e in error.errors()]
        return error_body(422, _validation_reason(error), problems, request_id(request))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        # FastAPI's own refusals: a body it cannot parse (400: bad UTF-8, nesting too deep, a
        # multipart body without a valid boundary or part headers), a missing key, a wrong path.
        if error.status_code == 400:
            upload = request.url.path == upload_path
            reason = "malformed_multipart" if upload else "malformed_body"
        else:
            reason = HTTP_REASONS.get(error.status_code, f"http_{error.status_code}")
        response = error_body(error.status_code, reason, error.detail, request_id(request))
        response.headers.update(error.headers or {})
        return response

    @app.exception_handler(Image.DecompressionBombError)
    async def decompression_bomb(request: Request, error: Exception) -> JSONResponse:
        # Intake refuses bombs before any decoder runs; this catches one that a future reader
        # might open some other way, so it is still the caller's 413 and not our 500.
        return error_body(413, str(Rejection.IMAGE_TOO_LARGE), str(error), request_id(request))

    for error_type, (status, reason) in SERVICE_ERRORS.items():

        async def service_error(
            request: Request, error: Exception, status: int = status, reason: str = reason
        ) -> JSONResponse:
            return error_body(status, reason, str(error), request_id(request))

        app.add_exception_handler(error_type, service_error)


def _field(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location]
    return ".".join(parts[1:] if parts and parts[0] in ("body", "query", "header") else parts)
