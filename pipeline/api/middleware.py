"""ASGI middleware: request metrics by route template, and security headers on every answer."""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.ops.metrics import observe_api_request

__all__ = ["SECURITY_HEADERS", "ApiMiddleware"]

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


class ApiMiddleware:
    """Observes each HTTP request in the shared API metrics and adds the security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"
                ]
                message["headers"] = headers + list(SECURITY_HEADERS)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            _observe(scope, status_code, time.perf_counter() - start)


def _observe(scope: Scope, status_code: int, seconds: float) -> None:
    route: Any = scope.get("route")
    # The route template (never the raw path) keeps label values bounded.
    template = getattr(route, "path", None) or "unmatched"
    observe_api_request(scope.get("method", "GET"), template, status_code, seconds)
