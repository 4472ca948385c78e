"""ASGI middleware: the API's boundary, request metrics and security headers on every answer.

Before any route runs, and before one byte of the body is read, a request is admitted or
refused: a token from its key's (or, without a valid key, its client address's) bucket, else
429 with Retry-After; a valid key on every route but the open ones, else 401; a body of at most
PIPELINE_API_MAX_BODY_BYTES, else 413 (a larger Content-Length is refused unread, a larger
stream as soon as it passes the limit). Refused requests (401/403/413/429) are logged and
audited through `RefusalLog`, which keeps a flood to a few records a minute.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.responses import JSONResponse, Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.api.auth import Principal, authenticate
from pipeline.api.ratelimit import RateLimiter
from pipeline.api.refusals import REFUSED_STATUSES, Refusal, RefusalLog
from pipeline.errors import PipelineError
from pipeline.ops.metrics import observe_api_request

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pipeline.api.audit import AuditTrail
    from pipeline.api.models import AuditEntry

__all__ = ["OPEN_PATHS", "SECURITY_HEADERS", "ApiMiddleware", "Boundary", "write_refusals"]

log = logging.getLogger(__name__)

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    # The web page loads only its own script and style: an injected inline script cannot run.
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        b"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    # Answers hold report text: keep them out of shared and browser caches.
    (b"cache-control", b"no-store"),
)
# Served without a key: the web page (it asks for the key), liveness and the API description.
OPEN_PATHS = frozenset({"/", "/healthz", "/openapi.json"})
_OPEN_PREFIX = "/static/"
# Any other method is the one metrics label OTHER, so made-up methods add no series.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@dataclass
class Boundary:
    """What the middleware admits with: keys, rate limiter, body limit, refusal audit."""

    keys: tuple[Any, ...]
    limiter: RateLimiter
    max_body_bytes: int
    refusals: RefusalLog
    trail: AuditTrail | None = None


class ApiMiddleware:
    """Admits or refuses each HTTP request, observes it in the metrics, adds security headers."""

    def __init__(self, app: ASGIApp, boundary: Boundary) -> None:
        self.app = app
        self.boundary = boundary

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status_code = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = int(message["status"])
                if status_code in REFUSED_STATUSES:
                    # On the record before the caller hears of it, as results are.
                    await self._audit_refusal(scope, status_code)
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"
                ]
                message["headers"] = headers + list(SECURITY_HEADERS)
            await send(message)

        try:
            refusal, receive = await self._admit(scope, receive)
            if refusal is not None:
                await refusal(scope, receive, send_wrapper)
            else:
                await self.app(scope, receive, send_wrapper)
        finally:
            route = _route(scope)
            observe_api_request(_method(scope), route, status_code, time.perf_counter() - start)
            if status_code not in REFUSED_STATUSES:
                await self._write(self.boundary.refusals.due())

    async def _admit(self, scope: Scope, receive: Receive) -> tuple[Response | None, Receive]:
        """(a refusal to send, or None) and the receive the app must use."""
        boundary = self.boundary
        path = str(scope.get("path", ""))
        protected = path not in OPEN_PATHS and not path.startswith(_OPEN_PREFIX)
        principal = authenticate(boundary.keys, _header(scope, b"x-api-key")) if protected else None
        if principal is not None:
            scope.setdefault("state", {})["principal"] = principal
        who = f"key:{principal.user}:{principal.role}" if principal else f"client:{_client(scope)}"
        wait = boundary.limiter.take(who)
        if wait is not None:
            return _refuse(429, "too many requests", {"Retry-After": RateLimiter.retry_after(wait)})
        if protected and principal is None:
            return _refuse(
                401,
                "missing or unknown API key (send it in the X-API-Key header)",
                {"WWW-Authenticate": "X-API-Key"},
            )
        limit = boundary.max_body_bytes
        declared = (_header(scope, b"content-length") or "").strip()
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            return _refuse(413, f"request body over {limit} bytes")
        body: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away: the app sees the same message and stops.
                return None, _replay([], message, receive)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return _refuse(413, f"request body over {limit} bytes")
            body.append(chunk)
            more = bool(message.get("more_body", False))
        return None, _replay(body, None, receive)

    async def _audit_refusal(self, scope: Scope, status_code: int) -> None:
        principal: Principal | None = scope.get("state", {}).get("principal")
        refusal = Refusal(
            client=_client(scope),
            user=principal.user if principal else None,
            role=principal.role.value if principal else None,
            status=status_code,
            route=_route(scope),
        )
        await self._write(self.boundary.refusals.note(refusal))

    async def _write(self, entries: list[AuditEntry]) -> None:
        if entries:
            await anyio.to_thread.run_sync(write_refusals, self.boundary, entries)


def write_refusals(boundary: Boundary, entries: list[AuditEntry]) -> None:
    """Log and audit refusal records; a failed write is logged, never raised (the requests
    were refused either way)."""
    for entry in entries:
        log.warning(
            "refused API requests",
            extra={"user": entry.user, "role": entry.role, "refused": entry.query},
        )
        if boundary.trail is None:
            continue
        try:
            boundary.trail.write(entry)
        except PipelineError as exc:
            log.error("could not audit refused API requests", extra={"error": str(exc)})


def _refuse(
    status: int, detail: str, headers: dict[str, str] | None = None
) -> tuple[Response, Receive]:
    async def nothing() -> Message:
        # Never called: a refusal is answered without reading the request any further.
        return {"type": "http.disconnect"}

    return JSONResponse({"detail": detail}, status_code=status, headers=headers), nothing


def _replay(body: list[bytes], last: Message | None, receive: Receive) -> Receive:
    """A receive that gives the app the body already read, then the client's own messages."""
    pending: list[Message] = (
        [last] if last is not None else [{"type": "http.request", "body": b"".join(body)}]
    )

    async def replay() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replay


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _method(scope: Scope) -> str:
    method = str(scope.get("method", "GET")).upper()
    return method if method in _METHODS else "OTHER"


def _route(scope: Scope) -> str:
    """The route template (never the raw path, so label values stay bounded) or `unmatched`."""
    route: Any = scope.get("route")
    template = getattr(route, "path", None)
    if template:
        return str(template)
    app: Any = scope.get("app")
    # A request refused before routing: find the template it would have reached.
    return _template(getattr(getattr(app, "router", None), "routes", ()), scope) or "unmatched"


def _template(routes: Iterable[Any], scope: Scope) -> str | None:
    for candidate in routes:
        match, _ = candidate.matches(scope)
        if match is Match.NONE:
            continue
        included = getattr(candidate, "original_router", None)  # an include_router's routes
        if included is not None:
            found = _template(included.routes, scope)
            if found is not None:
                return found
            continue
        return str(getattr(candidate, "path", "unmatched"))
    return None
