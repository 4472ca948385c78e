"""The CLI's way in: HTTP to the search API with PIPELINE_API_KEY, refusals as one clear line.

The CLI holds no rights of its own: the API authenticates the key, applies its role, rate
limit and audit, exactly as for any other caller. The CLI needs no Elasticsearch access.
"""

from __future__ import annotations

from typing import Any

import httpx

from pipeline.errors import PipelineError
from pipeline.ingest.dlq import printable
from pipeline.settings import Settings

__all__ = ["ApiCallError", "ApiClient", "api_base_url"]

TIMEOUT_S = 30.0
_ANY_ADDRESS = {"", "0.0.0.0", "::"}  # noqa: S104 - compared with, never bound to


class ApiCallError(PipelineError):
    """The API could not be reached or refused the request; the message says why."""


def api_base_url(settings: Settings) -> str:
    """PIPELINE_API_URL, else the local API at PIPELINE_API_HOST:PIPELINE_API_PORT."""
    if settings.api_url:
        return settings.api_url.rstrip("/")
    host = "127.0.0.1" if settings.api_host in _ANY_ADDRESS else settings.api_host
    return f"http://{f'[{host}]' if ':' in host else host}:{settings.api_port}"


class ApiClient:
    """A synchronous client of the search API for one CLI command (use it as a context)."""

    def __init__(self, settings: Settings, *, transport: httpx.BaseTransport | None = None):
        if settings.api_key is None or not settings.api_key.get_secret_value().strip():
            raise ApiCallError(
                "set PIPELINE_API_KEY to your API key: the CLI acts only as the API's key allows"
            )
        self.url = api_base_url(settings)
        self._http = httpx.Client(
            base_url=self.url,
            headers={
                "X-API-Key": settings.api_key.get_secret_value().strip(),
                "X-Audit-Channel": "cli",
                "Accept": "application/json",
            },
            timeout=TIMEOUT_S,
            transport=transport,
        )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        body: Any = None,
        justification: str | None = None,
    ) -> Any:
        """The JSON answer of `method path` (None when it has no body, as a 204), or
        ApiCallError saying why there is none."""
        headers = {"X-Justification": justification} if justification else {}
        try:
            response = self._http.request(
                method, path, params=tuple(params or ()), json=body, headers=headers
            )
        except httpx.TransportError as exc:
            raise ApiCallError(
                f"the search API at {self.url} is not reachable ({type(exc).__name__}): "
                "start it with `pipeline api`, or set PIPELINE_API_URL"
            ) from exc
        if response.status_code >= 400:
            raise ApiCallError(explain(response))
        return response.json() if response.content else None

    def get(
        self, path: str, params: list[tuple[str, str]], *, justification: str | None = None
    ) -> Any:
        """The JSON answer of GET `path`, or ApiCallError saying why there is none."""
        return self.call("GET", path, params=params, justification=justification)

    def post(self, path: str, body: Any, *, justification: str | None = None) -> Any:
        """The JSON answer of POST `path` with a JSON `body`."""
        return self.call("POST", path, body=body, justification=justification)

    def patch(self, path: str, body: Any, *, justification: str | None = None) -> Any:
        """The JSON answer of PATCH `path` with a JSON `body`."""
        return self.call("PATCH", path, body=body, justification=justification)

    def delete(self, path: str, *, justification: str | None = None) -> None:
        """DELETE `path`; ApiCallError if the API refused."""
        self.call("DELETE", path, justification=justification)


def explain(response: httpx.Response) -> str:
    """One line for a refused request; the API's own detail is escaped for the terminal."""
    status = response.status_code
    if status == 401:
        return "the API does not accept PIPELINE_API_KEY (401): ask for a key"
    if status == 429:
        wait = response.headers.get("Retry-After", "a few")
        return f"the API's rate limit for your key is reached (429): retry in {wait} s"
    try:
        detail: Any = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, list):
        detail = "; ".join(
            f"{'.'.join(str(p) for p in d.get('loc', []))}: {d.get('msg')}"
            for d in detail
            if isinstance(d, dict)
        )
    text = str(detail) if detail else response.reason_phrase
    return f"the API refused the request ({status}): {printable(text, 500)}"
