"""Analysts correct incidents: merge two, move a report (its cluster) out of one, undo.

Each route checks what the caller names exists and is visible to them, writes the audit record
with the justification, then records the correction as pending; a worker applies it within
seconds (`pipeline.enrich.incidents.corrections`: the API's identities may not write reports),
and `GET /api/incident-corrections/{id}` says when it has. Corrections are kept across replays
and undone only by an undo, which is a correction too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from pipeline.api import deps, queries
from pipeline.api.audit import Action
from pipeline.api.auth import Permission, Principal
from pipeline.enrich.dedup.keys import report_key
from pipeline.enrich.incidents.corrections import Correction, CorrectionKind, Corrections
from pipeline.errors import map_es_errors

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from pipeline.api.audit import AuditTrail
    from pipeline.settings import Settings

__all__ = ["CorrectionOut", "MergeIn", "incidents_router"]

Corrector = Annotated[Principal, Depends(deps.require(Permission.SEARCH))]
IncidentId = Annotated[str, PathParam(max_length=200)]
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Missing justification, or a merge of an incident into itself"},
    401: {"description": "Missing or unknown API key"},
    403: {"description": "Only analysts correct incidents"},
    404: {"description": "No such incident, report or correction"},
    503: {"description": "Elasticsearch or the audit trail is unavailable"},
}


class MergeIn(BaseModel):
    """Merge the path's incident into `into`."""

    into: str = Field(min_length=1, max_length=200)
    justification: str | None = Field(default=None, max_length=deps.MAX_JUSTIFICATION)


class WhyIn(BaseModel):
    """A correction that needs only a reason."""

    justification: str | None = Field(default=None, max_length=deps.MAX_JUSTIFICATION)


class CorrectionOut(BaseModel):
    """A correction as recorded: `status` is pending until a worker applies it."""

    id: str
    kind: str
    status: str
    by: str
    at: str
    why: str
    incident: str | None = None
    into: str | None = None
    report: str | None = None
    undoes: str | None = None
    moved: int = Field(0, description="Reports it moved (once applied).")
    outcome: str | None = None

    @staticmethod
    def of(correction: Correction) -> CorrectionOut:
        return CorrectionOut.model_validate(correction.summary())


def incidents_router(settings: Settings, es: Elasticsearch, trail: AuditTrail) -> APIRouter:
    """The correction routes over the API's own client and audit trail."""
    router = APIRouter(tags=["incidents"])
    corrections = Corrections(es, settings.index_alias)
    alias = settings.index_alias

    def exists(incident: str) -> bool:
        with map_es_errors("find an incident"):
            body = {"query": {"term": {"incident_id": incident}}, "size": 0}
            found = es.search(index=alias, body=body, ignore_unavailable=True)
        return int(found["hits"]["total"]["value"]) > 0

    def audited(
        request: Request, principal: Principal, why: str, query: dict[str, Any], ids: list[str]
    ) -> None:
        trail.record(
            principal,
            Action.CORRECT_INCIDENT,
            query,
            ids,
            justification=why,
            channel=deps.audit_channel(request),
        )

    @router.post(
        "/api/incidents/{incident_id}/merge",
        status_code=status.HTTP_202_ACCEPTED,
        responses=ERRORS,
    )
    def merge(
        request: Request, principal: Corrector, incident_id: IncidentId, body: MergeIn
    ) -> CorrectionOut:
        """Merge this incident into `into`: every report of it joins `into` (reversible)."""
        why = deps.require_justification(
            request.headers.get(deps.JUSTIFICATION_HEADER), body.justification
        )
        if body.into == incident_id:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "an incident cannot merge into itself")
        for incident in (incident_id, body.into):
            if not exists(incident):
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"no incident {incident}")
        audited(request, principal, why, {"merge": incident_id, "into": body.into}, [])
        return CorrectionOut.of(
            corrections.record(
                CorrectionKind.MERGE, principal.user, why, incident=incident_id, into=body.into
            )
        )

    @router.post(
        "/api/reports/{report_id}/move-out", status_code=status.HTTP_202_ACCEPTED, responses=ERRORS
    )
    def move_out(
        request: Request,
        principal: Corrector,
        report_id: Annotated[str, PathParam(max_length=512)],
        body: WhyIn,
    ) -> CorrectionOut:
        """Move this report, with its cluster, out of its incident into one of its own."""
        why = deps.require_justification(
            request.headers.get(deps.JUSTIFICATION_HEADER), body.justification
        )
        with map_es_errors("find a report"):
            found = es.search(
                index=alias,
                body=queries.report_body(report_id, restricted=False),
                ignore_unavailable=True,
            )["hits"]["hits"]
        source = found[0]["_source"] if found else {}
        if not source.get("incident_id"):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such report in an incident")
        key = report_key(str(source["source"]), str(source["source_id"]))
        incident = str(source["incident_id"])
        audited(request, principal, why, {"move_out": report_id, "incident": incident}, [report_id])
        return CorrectionOut.of(
            corrections.record(
                CorrectionKind.MOVE, principal.user, why, incident=incident, report=key
            )
        )

    @router.post(
        "/api/incident-corrections/{correction_id}/undo",
        status_code=status.HTTP_202_ACCEPTED,
        responses=ERRORS,
    )
    def undo(
        request: Request,
        principal: Corrector,
        correction_id: Annotated[str, PathParam(max_length=64)],
        body: WhyIn,
    ) -> CorrectionOut:
        """Undo an applied merge or move: the reports it moved go back."""
        why = deps.require_justification(
            request.headers.get(deps.JUSTIFICATION_HEADER), body.justification
        )
        earlier = corrections.get(correction_id)
        if earlier is None or earlier.kind is CorrectionKind.UNDO:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such merge or move")
        audited(request, principal, why, {"undo": correction_id}, [])
        return CorrectionOut.of(
            corrections.record(CorrectionKind.UNDO, principal.user, why, undoes=correction_id)
        )

    @router.get("/api/incident-corrections/{correction_id}", responses=ERRORS)
    def correction(
        principal: Corrector, correction_id: Annotated[str, PathParam(max_length=64)]
    ) -> CorrectionOut:
        """One correction and its status (no reports shown: not audited)."""
        found = corrections.get(correction_id)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such correction")
        return CorrectionOut.of(found)

    @router.get("/api/incident-corrections", responses=ERRORS)
    def recent(
        principal: Corrector,
        incident: Annotated[str | None, Query(max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[CorrectionOut]:
        """Corrections newest first, all or those naming `incident`."""
        return [CorrectionOut.of(c) for c in corrections.recent(incident=incident, limit=limit)]

    return router
