"""How the API answers failures: clear messages that never echo request input or documents."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from pipeline.api.queries import BadCursorError
from pipeline.api.service import QueryRejectedError
from pipeline.errors import AccessDenied, SearchUnavailable

__all__ = ["install_error_handlers"]


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    # FastAPI's default answer quotes the rejected input back; ours names only the field.
    assert isinstance(exc, RequestValidationError)
    detail = [
        {"loc": [str(part) for part in error.get("loc", ())], "msg": error.get("msg", "invalid")}
        for error in exc.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _bad_cursor(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_400_BAD_REQUEST)


async def _rejected(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": "Elasticsearch did not accept this request; check filters and cursor"},
        status_code=status.HTTP_400_BAD_REQUEST,
    )


async def _denied(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_403_FORBIDDEN)


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    # No result is returned when search or the audit trail is down: nothing is unaudited.
    return JSONResponse(
        {"detail": "search or the audit trail is unavailable; try again later"},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "5"},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the API's exception handlers on `app`."""
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(BadCursorError, _bad_cursor)
    app.add_exception_handler(QueryRejectedError, _rejected)
    app.add_exception_handler(SearchUnavailable, _unavailable)
    app.add_exception_handler(AccessDenied, _denied)
