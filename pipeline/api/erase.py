"""`POST /api/erasures`: the restricted role erases reports, with a justification, audited.

The route checks that every report exists (in some index generation), writes the audit
record, then appends one erasure per report to the ledger (`intake.erasures`). The API's
identities may not delete, so the workers remove the derived data: each reads the ledger
before every batch and every few seconds when idle, and purges what is new (README,
"Erasure"); from that moment no replay brings the reports back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field

from pipeline.api import deps
from pipeline.api.audit import Action
from pipeline.api.auth import Permission, Principal
from pipeline.errors import KafkaUnavailable

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from pipeline.api.audit import AuditTrail
    from pipeline.settings import Settings

__all__ = ["ErasureIn", "ErasureOut", "erase_router"]

Eraser = Annotated[Principal, Depends(deps.require(Permission.SEE_RESTRICTED))]
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Missing justification or a key that is not SOURCE:ID"},
    401: {"description": "Missing or unknown API key"},
    403: {"description": "Only the restricted role erases"},
    404: {"description": "A named report is unknown: nothing was erased"},
    503: {"description": "Elasticsearch, Kafka or the audit trail is unavailable"},
}


class ErasureIn(BaseModel):
    """Reports to erase, as `source:id`, and why."""

    reports: list[str] = Field(min_length=1, max_length=1000)
    justification: str | None = Field(default=None, max_length=deps.MAX_JUSTIFICATION)


class ErasureOut(BaseModel):
    """What was erased; the derived data goes at the workers' next ledger read."""

    erased: list[str]
    who: str
    when: datetime


def erase_router(settings: Settings, es: Elasticsearch, trail: AuditTrail) -> APIRouter:
    """The erasure route over the API's own client and audit trail."""
    from pipeline.enrich.erasure import Purger, append_erasures
    from pipeline.enrich.erasure.purge import UnknownReports, checked_keys
    from pipeline.ingest.erasure import Erasure

    router = APIRouter(tags=["erasure"])
    purger = Purger(es, settings)  # used read-only here: the API's identity may not delete

    @router.post("/api/erasures", status_code=status.HTTP_202_ACCEPTED, responses=ERRORS)
    def erase(request: Request, principal: Eraser, body: ErasureIn) -> ErasureOut:
        why = deps.require_justification(
            request.headers.get(deps.JUSTIFICATION_HEADER), body.justification
        )
        try:
            keys = checked_keys(purger, body.reports)
        except ValueError as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
        except UnknownReports as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
        trail.record(
            principal,
            Action.ERASE,
            ids=keys,
            justification=why,
            channel=deps.audit_channel(request),
        )
        now = datetime.now(UTC)
        erasures = [Erasure(key=k, who=principal.user, why=why, when=now) for k in keys]
        try:
            append_erasures(settings, erasures)
        except KafkaUnavailable as exc:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "the erasure ledger did not take the erasure; send it again",
                headers={"Retry-After": "5"},
            ) from exc
        return ErasureOut(erased=keys, who=principal.user, when=now)

    return router
