"""The watchlist and alert routes: `/api/watch` (entries) and `/api/alerts`, for their owners.

Any role that searches may watch; every call is audited (`pipeline.api.watching`). Creating
an entry takes its justification from the entry; every other call needs one like a search
(X-Justification or `justification`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status

from pipeline.api import deps
from pipeline.api.auth import Permission, Principal
from pipeline.api.watch_models import (
    AckIn,
    AlertOut,
    AlertPage,
    AlertView,
    EntryChange,
    EntryIn,
    EntryList,
    EntryOut,
    EntryRejectedError,
)
from pipeline.api.watching import WatchService
from pipeline.enrich.watch.publish import AlertPublisher, AlertRecord, AlertsUnavailable

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from pipeline.api.audit import AuditTrail
    from pipeline.settings import Settings

__all__ = ["watch_router"]

Watcher = Annotated[Principal, Depends(deps.require(Permission.SEARCH))]
Justification = deps.Justification
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Missing justification or a malformed request"},
    401: {"description": "Missing or unknown API key"},
    403: {"description": "The key's role may not do this"},
    404: {"description": "You have no entry or alert with this id"},
    422: {"description": "A field that cannot be used as given; `loc` names it"},
    429: {"description": "Over the key's (or client's) request rate; see Retry-After"},
    503: {"description": "Elasticsearch or the audit trail is unavailable"},
}
T = TypeVar("T")


def _why(request: Request, *candidates: str | None) -> str:
    return deps.require_justification(request.headers.get(deps.JUSTIFICATION_HEADER), *candidates)


@contextmanager
def _as_422() -> Iterator[None]:
    """An entry the rules refuse is a 422 naming its field, as request validation answers."""
    try:
        yield
    except EntryRejectedError as exc:
        loc = ["body", *exc.field.split(".")] if exc.field else ["body"]
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": loc, "msg": exc.message}]
        ) from exc


def _found(value: T | None, what: str) -> T:
    if value is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"you have no {what} with this id")
    return value


def _publisher(settings: Settings) -> Callable[[Sequence[AlertRecord]], None]:
    """Publish to the `alerts` topic with a producer of its own each time: acknowledgements
    come at a reader's pace, and nothing is left open when the app goes."""

    def publish(records: Sequence[AlertRecord]) -> None:
        publisher = AlertPublisher(settings)
        try:
            publisher.publish(records)
        finally:
            publisher.close()

    return publish


def watch_router(settings: Settings, es: Elasticsearch, trail: AuditTrail) -> APIRouter:
    """The routes over `settings.index_alias`'s watchlist and alerts, audited in `trail`."""
    service = WatchService(es, settings.index_alias, trail, publish=_publisher(settings))
    router = APIRouter(tags=["watch"], responses=ERRORS)

    @router.post("/api/watch", status_code=status.HTTP_201_CREATED)
    def create_entry(request: Request, principal: Watcher, entry: EntryIn) -> EntryOut:
        """Watch a selector, a name or a saved search; you own the entry (audited with its
        justification). `restricted: true` is for the restricted role only."""
        with _as_422():
            return service.create(principal, entry, channel=deps.audit_channel(request))

    @router.get("/api/watch")
    def list_entries(
        request: Request, principal: Watcher, justification: Justification = None
    ) -> EntryList:
        """Your entries, newest first, live and expired (`live`), not the deleted ones."""
        why = _why(request, justification)
        return service.entries(principal, why, channel=deps.audit_channel(request))

    @router.get("/api/watch/{entry_id}")
    def show_entry(
        request: Request, principal: Watcher, entry_id: str, justification: Justification = None
    ) -> EntryOut:
        """One of your entries."""
        why = _why(request, justification)
        return _found(
            service.entry(principal, entry_id, why, channel=deps.audit_channel(request)), "entry"
        )

    @router.patch("/api/watch/{entry_id}")
    def change_entry(
        request: Request,
        principal: Watcher,
        entry_id: str,
        change: EntryChange,
        justification: Justification = None,
    ) -> EntryOut:
        """Change an entry's justification, priority, expiry, target or search (the new
        justification, if given, also justifies the change)."""
        why = _why(request, justification, change.justification)
        with _as_422():
            changed = service.change(
                principal, entry_id, change, why, channel=deps.audit_channel(request)
            )
        return _found(changed, "entry")

    @router.delete("/api/watch/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
    def delete_entry(
        request: Request, principal: Watcher, entry_id: str, justification: Justification = None
    ) -> Response:
        """Stop watching: the entry stops matching within seconds; its alerts stay."""
        why = _why(request, justification)
        if not service.delete(principal, entry_id, why, channel=deps.audit_channel(request)):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "you have no entry with this id")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get("/api/alerts")
    def list_alerts(
        *,
        request: Request,
        principal: Watcher,
        unacknowledged: bool = False,
        since: Annotated[
            datetime | None, Query(description="Only alerts new, acknowledged or seen again since.")
        ] = None,
        size: Annotated[int, Query(ge=1, le=100)] = 20,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
        justification: Justification = None,
    ) -> AlertPage:
        """Your alerts, newest first; `count` is the number of reports each was seen in."""
        why = _why(request, justification)
        with _as_422():
            return service.alerts(
                principal,
                why,
                unacknowledged=unacknowledged,
                since=deps.to_utc(since, "since"),
                size=size,
                cursor=cursor,
                channel=deps.audit_channel(request),
            )

    @router.get("/api/alerts/{alert_id}")
    def show_alert(
        request: Request, principal: Watcher, alert_id: str, justification: Justification = None
    ) -> AlertView:
        """One of your alerts with its reports (ids, sources, when, the mention matched)."""
        why = _why(request, justification)
        return _found(
            service.alert(principal, alert_id, why, channel=deps.audit_channel(request)), "alert"
        )

    @router.post("/api/alerts/{alert_id}/ack")
    def acknowledge_alert(
        request: Request,
        principal: Watcher,
        alert_id: str,
        ack: AckIn,
        justification: Justification = None,
    ) -> AlertOut:
        """Acknowledge one of your alerts: who, when, the outcome and a note (audited)."""
        why = _why(request, justification)
        try:
            acked = service.acknowledge(
                principal, alert_id, ack, why, channel=deps.audit_channel(request)
            )
        except AlertsUnavailable as exc:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "the acknowledgement is stored, but the alerts topic did not take the update; "
                "acknowledge again to send it",
                headers={"Retry-After": "5"},
            ) from exc
        return _found(acked, "alert")

    return router
