"""Request plumbing for the API: authentication, role checks, justification, channel, parameters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import APIKeyHeader

from pipeline.api.auth import Permission, Principal, authenticate
from pipeline.enrich.mentions import EntityType
from pipeline.errors import AccessDenied

__all__ = [
    "CHANNEL_HEADER",
    "JUSTIFICATION_HEADER",
    "Justification",
    "api_key_header",
    "audit_channel",
    "parse_entity_filters",
    "require",
    "require_justification",
    "to_utc",
]

JUSTIFICATION_HEADER = "X-Justification"
MAX_JUSTIFICATION = 1000
# A route's `justification` query parameter (the header is read beside it).
Justification = Annotated[
    str | None,
    Query(
        max_length=MAX_JUSTIFICATION,
        description="Why you need this; or send the X-Justification header. Required.",
    ),
]
# A client may say which of our front ends it is (recorded in the audit trail, nothing more).
CHANNEL_HEADER = "X-Audit-Channel"
CHANNELS = frozenset({"api", "cli", "web"})

api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="Your API key; its configured role decides what you may do and see.",
)


def current_principal(
    request: Request, key: Annotated[str | None, Depends(api_key_header)]
) -> Principal:
    """The authenticated caller, or 401 (never saying whether a key is close to a real one).

    The middleware has already authenticated the key (before reading any body); `key` is
    declared here so that OpenAPI documents the header.
    """
    principal: Principal | None = request.scope.get("state", {}).get("principal")
    if principal is None:
        principal = authenticate(request.app.state.keys, key)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or unknown API key (send it in the X-API-Key header)",
            headers={"WWW-Authenticate": "X-API-Key"},
        )
    return principal


def require(permission: Permission) -> Callable[[Principal], Principal]:
    """A dependency that lets in callers whose role holds `permission`, else 403."""

    def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.can(permission):
            raise AccessDenied(f"the {principal.role.value} role may not {permission.value}")
        return principal

    return dependency


def require_justification(*candidates: str | None) -> str:
    """The first non-blank justification given, or 400 explaining how to give one."""
    for candidate in candidates:
        if candidate is not None and candidate.strip():
            text = candidate.strip()
            if len(text) > MAX_JUSTIFICATION:
                raise HTTPException(
                    status.HTTP_400_BAD_REQUEST,
                    f"justification longer than {MAX_JUSTIFICATION} characters",
                )
            return text
    raise HTTPException(
        status.HTTP_400_BAD_REQUEST,
        "a justification is required: say why you need this, in the X-Justification header "
        "or the `justification` field; it is stored in the audit trail",
    )


def audit_channel(request: Request) -> str:
    """The front end the client says it is (`CHANNEL_HEADER`), `api` unless one of `CHANNELS`."""
    claimed = (request.headers.get(CHANNEL_HEADER) or "api").strip().lower()
    return claimed if claimed in CHANNELS else "api"


def to_utc(value: datetime | None, name: str) -> datetime | None:
    """A timestamp in UTC (naive means UTC), or 422 if it cannot be expressed in UTC."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"{name} is out of range"
        ) from exc


def parse_entity_filters(values: list[str]) -> tuple[tuple[EntityType, str], ...]:
    """`TYPE:VALUE` (or `TYPE=VALUE`) strings as (EntityType, value) pairs, or 422."""
    pairs: list[tuple[EntityType, str]] = []
    for raw in values:
        sep = min((i for i in (raw.find(":"), raw.find("=")) if i >= 0), default=-1)
        name, value = (raw[:sep], raw[sep + 1 :]) if sep >= 0 else ("", "")
        try:
            entity_type = EntityType(name.strip().lower())
        except ValueError as exc:
            choices = ", ".join(t.value for t in EntityType)
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"entity filters look like TYPE:VALUE with TYPE one of {choices}",
            ) from exc
        if not value.strip():
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "entity filter without a value"
            )
        pairs.append((entity_type, value))
    return tuple(pairs)
