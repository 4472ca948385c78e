"""The search API: `create_app(settings)` gives a FastAPI app over the reports alias.

Routes: `/api/search` (GET and POST), `/api/reports/{id}`, `/api/entities/{type}`,
`/api/export`, `/api/whoami`, `/api/watch` (POST, GET) and `/api/watch/{id}` (GET, PATCH,
DELETE), `/api/alerts`, `/api/alerts/stream` (server-sent events), `/api/alerts/{id}` and
`/api/alerts/{id}/ack` (POST), `/api/audit` (auditor), `/healthz` (open), `/metrics`
(operator), `/` (web page). `ApiMiddleware` admits or refuses every request first.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from pipeline.api import deps
from pipeline.api.audit import Action, AuditTrail, audit_index
from pipeline.api.auth import Permission, Principal, load_keys
from pipeline.api.erase import erase_router
from pipeline.api.errors import install_error_handlers
from pipeline.api.incidents import incidents_router
from pipeline.api.middleware import ApiMiddleware, Boundary, write_refusals
from pipeline.api.models import (
    AuditEntry,
    EntityView,
    IncidentView,
    ReportView,
    SearchPage,
    SimilarView,
)
from pipeline.api.ratelimit import RateLimiter
from pipeline.api.refusals import RefusalLog
from pipeline.api.request import SearchRequest
from pipeline.api.service import SearchService
from pipeline.api.stream import alert_stream_router
from pipeline.api.watch import watch_router
from pipeline.clients import elasticsearch_client, local_identity_in_use
from pipeline.enrich.mentions import EntityType
from pipeline.ops.metrics import render
from pipeline.settings import Settings

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

__all__ = ["create_app"]

log = logging.getLogger(__name__)

Searcher = Annotated[Principal, Depends(deps.require(Permission.SEARCH))]
Operator = Annotated[Principal, Depends(deps.require(Permission.METRICS))]
Auditor = Annotated[Principal, Depends(deps.require(Permission.READ_AUDIT))]
Justification = deps.Justification
MAX_EXPORT = 1000
# The analysts' web page: static HTML, JS and CSS, no build step.
WEB_DIR = Path(__file__).resolve().parent / "static"
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Missing justification or a malformed request"},
    401: {"description": "Missing or unknown API key"},
    403: {"description": "The key's role may not do this"},
    413: {"description": "The request body is over PIPELINE_API_MAX_BODY_BYTES"},
    429: {"description": "Over the key's (or client's) request rate; see Retry-After"},
    503: {"description": "Elasticsearch or the audit trail is unavailable"},
}


def create_app(settings: Settings, es: Elasticsearch | None = None) -> FastAPI:
    """The API over `settings.index_alias`, auditing into `audit_index(settings)`."""
    analyst_es = None
    if es is None:
        es = elasticsearch_client(settings)
        # On the local stack with security on, analysts' requests go through ct-api, whose
        # role cannot read restricted.* at all (field-level security, README "Security").
        if local_identity_in_use(settings, "api-restricted"):
            analyst_es = elasticsearch_client(settings, identity="api")
    trail = AuditTrail(es, audit_index(settings))
    common = settings.common_selector_clusters
    service = SearchService(es, settings.index_alias, trail, common_clusters=common)
    analyst_service = (
        service
        if analyst_es is None
        else SearchService(analyst_es, settings.index_alias, trail, common_clusters=common)
    )

    def serving(principal: Principal) -> SearchService:
        return service if principal.sees_restricted else analyst_service

    keys = load_keys(settings)
    if not keys:
        log.warning("PIPELINE_API_KEYS is empty or unset: every request that needs a key gets 401")
    boundary = Boundary(
        keys=keys,
        limiter=RateLimiter(settings.api_rate_per_s, settings.api_rate_burst),
        max_body_bytes=settings.api_max_body_bytes,
        refusals=RefusalLog(),
        trail=trail,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        # Refusals still being counted are written before the process goes.
        write_refusals(boundary, boundary.refusals.due(everything=True))

    app = FastAPI(
        title="CT intake search API",
        version="1",
        description="Search, report and entity views over the reports index, by role, audited.",
        # Swagger UI and ReDoc load from a CDN, which neither the CSP nor an offline site allows;
        # the OpenAPI document itself stays at /openapi.json.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.keys = keys
    app.state.boundary = boundary
    app.add_middleware(ApiMiddleware, boundary=boundary)
    install_error_handlers(app)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Liveness: the API process answers (no key needed)."""
        return {"status": "ok"}

    @app.get(
        "/metrics",
        tags=["operations"],
        response_class=Response,
        responses={**ERRORS, 200: {"content": {"text/plain": {}}}},
    )
    def metrics(principal: Operator) -> Response:
        """Prometheus metrics (operator role)."""
        body, content_type = render()
        return Response(body, media_type=content_type)

    @app.get("/api/whoami", tags=["search"], responses=ERRORS)
    def whoami(principal: Annotated[Principal, Depends(deps.current_principal)]) -> dict[str, str]:
        """The caller's user and role (not audited: it shows no report)."""
        return {"user": principal.user, "role": principal.role.value}

    @app.get("/api/search", tags=["search"], responses=ERRORS)
    def search_get(
        request: Request,
        principal: Searcher,
        query: Annotated[SearchRequest, Query()],
    ) -> SearchPage:
        """Search reports: free text, filters, facets, highlights, folded clusters, paging."""
        why = deps.require_justification(
            request.headers.get(deps.JUSTIFICATION_HEADER), query.justification
        )
        return serving(principal).search(
            principal, query.params(), why, channel=deps.audit_channel(request)
        )

    @app.post("/api/search", tags=["search"], responses=ERRORS)
    def search_post(request: Request, principal: Searcher, query: SearchRequest) -> SearchPage:
        """The same search with a JSON body."""
        why = deps.require_justification(
            request.headers.get(deps.JUSTIFICATION_HEADER), query.justification
        )
        return serving(principal).search(
            principal, query.params(), why, channel=deps.audit_channel(request)
        )

    @app.get(
        "/api/export",
        tags=["search"],
        response_class=Response,
        responses={**ERRORS, 200: {"content": {"application/x-ndjson": {}}}},
    )
    def export(
        request: Request,
        principal: Searcher,
        query: Annotated[SearchRequest, Query()],
        limit: Annotated[int, Query(ge=1, le=MAX_EXPORT)] = 100,
    ) -> Response:
        """Export matching reports as NDJSON, one report per line, uncollapsed (audited)."""
        why = deps.require_justification(
            request.headers.get(deps.JUSTIFICATION_HEADER), query.justification
        )
        page = serving(principal).search(
            principal,
            query.params(size=limit, collapse=False),
            why,
            action=Action.EXPORT,
            channel=deps.audit_channel(request),
        )
        lines = [orjson.dumps(r.model_dump(mode="json")) for r in page.results]
        headers = {"X-Next-Cursor": page.next_cursor} if page.next_cursor else {}
        return Response(
            b"\n".join(lines) + b"\n" if lines else b"",
            media_type="application/x-ndjson",
            headers=headers,
        )

    @app.get(
        "/api/reports/{report_id}",
        tags=["search"],
        responses={**ERRORS, 404: {"description": "No such report"}},
    )
    def report(
        request: Request,
        principal: Searcher,
        report_id: str,
        justification: Justification = None,
    ) -> ReportView:
        """One report, the other members of its cluster, and reports linked by a shared selector."""
        why = deps.require_justification(
            request.headers.get(deps.JUSTIFICATION_HEADER), justification
        )
        if len(report_id) > 512:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such report")
        view = serving(principal).report(
            principal, report_id, why, channel=deps.audit_channel(request)
        )
        if view is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such report")
        return view

    @app.get("/api/entities/{entity_type}", tags=["search"], responses=ERRORS)
    def entity(
        request: Request,
        principal: Searcher,
        entity_type: EntityType,
        value: Annotated[str, Query(min_length=1, max_length=500)],
        justification: Justification = None,
    ) -> EntityView:
        """One selector: its reports, sources, regions, first and last seen."""
        why = deps.require_justification(
            request.headers.get(deps.JUSTIFICATION_HEADER), justification
        )
        return serving(principal).entity(
            principal, entity_type, value, why, channel=deps.audit_channel(request)
        )

    @app.get(
        "/api/reports/{report_id}/similar",
        tags=["search"],
        responses={**ERRORS, 404: {"description": "No such report"}},
    )
    def similar(
        request: Request,
        principal: Searcher,
        report_id: Annotated[str, PathParam(max_length=512)],
        size: Annotated[int, Query(ge=1, le=50)] = 10,
        justification: Justification = None,
    ) -> SimilarView:
        """More like this: the reports told most like this one, in any words (by meaning)."""
        why = deps.require_justification(
            request.headers.get(deps.JUSTIFICATION_HEADER), justification
        )
        view = serving(principal).similar(
            principal, report_id, why, size=size, channel=deps.audit_channel(request)
        )
        if view is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such report")
        return view

    @app.get("/api/incidents/{incident_id}", tags=["search"], responses=ERRORS)
    def incident(
        request: Request,
        principal: Searcher,
        incident_id: Annotated[str, PathParam(max_length=200)],
        justification: Justification = None,
    ) -> IncidentView:
        """One incident: its reports on a timeline, sources, regions, merged entities."""
        why = deps.require_justification(
            request.headers.get(deps.JUSTIFICATION_HEADER), justification
        )
        return serving(principal).incident(
            principal, incident_id, why, channel=deps.audit_channel(request)
        )

    @app.get("/api/audit", tags=["audit"], responses=ERRORS)
    def audit_trail(
        *,
        request: Request,
        principal: Auditor,
        user: Annotated[str | None, Query(max_length=256)] = None,
        action: Action | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
        justification: Justification = None,
    ) -> list[AuditEntry]:
        """The audit trail, newest first (auditor role); reading it is audited too."""
        since, until = deps.to_utc(since, "since"), deps.to_utc(until, "until")
        entries = trail.list(
            user=user,
            action=action.value if action else None,
            since=since,
            until=until,
            limit=limit,
        )
        why = request.headers.get(deps.JUSTIFICATION_HEADER) or justification or ""
        filters = {"user": user, "action": action, "since": since, "until": until, "limit": limit}
        trail.record(
            principal,
            Action.READ_AUDIT,
            {k: v for k, v in filters.items() if v is not None},
            justification=why.strip()[: deps.MAX_JUSTIFICATION],
            channel=deps.audit_channel(request),
        )
        return entries

    app.include_router(alert_stream_router(settings, es, trail))  # before /api/alerts/{id}
    app.include_router(watch_router(settings, es, trail))
    app.include_router(erase_router(settings, es, trail))
    app.include_router(incidents_router(settings, es, trail))

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    return app
