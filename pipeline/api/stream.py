"""Live alerts: `GET /api/alerts/stream`, the caller's own alerts as server-sent events.

Every `POLL_S` the stream asks `<alias>-alerts` which of the caller's alerts have a document
(the alert, or one of its hits) seen or updated inside a sliding window, renders those that
changed since the last look, and sends each whose state differs from what this stream last
sent as `event: alert` with the whole alert (`AlertOut`) as `data`. So a new alert, a new
report raising a count and an acknowledgement all arrive the same way.

A position is a time in epoch milliseconds: the moment of the look that found the change.
The window reaches `OVERLAP_MS` behind the previous look, because a hit becomes searchable a
moment after the worker stamps its `seen_at` (the bulk write, then the index refresh); a hit
that takes longer than that to become searchable is missed by a live stream. `Last-Event-ID`
resumes from a position: the alerts changed in the window before it come again (each event is
the alert's whole state, so a repeat changes nothing), and nothing after it is lost. A stream
without one starts now. Every block carries its `id:`, a heartbeat too, so a quiet stream
resumes from its last heartbeat rather than from its last alert.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse

from pipeline.api import deps
from pipeline.api.alert_reads import alert_views
from pipeline.api.audit import Action
from pipeline.api.auth import Permission, Principal
from pipeline.api.watch_models import AlertOut
from pipeline.enrich.watch.alerts import alerts_index
from pipeline.errors import PipelineError, map_es_errors

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from pipeline.api.audit import AuditTrail
    from pipeline.settings import Settings

__all__ = [
    "AlertFeed",
    "Change",
    "ChangeTracker",
    "EsAlertFeed",
    "alert_events",
    "alert_stream_router",
    "changes_body",
    "parse_position",
    "read_changes",
    "sse_block",
]

log = logging.getLogger(__name__)

POLL_S = 0.5
HEARTBEAT_S = 15.0
OVERLAP_MS = 30_000
# A stream ends after this long and the page resumes it: an API shutting down waits for open
# responses, and each stream opened is one audit record.
MAX_STREAM_S = 900.0
# At most this many alerts per look; a stream resumed from long ago catches up over several.
MAX_CHANGES = 1_000
# Far enough ahead for any clock between the API and its clients; later is clamped to now.
_MAX_POSITION = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
ERRORS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "The stream, until disconnected"},
    400: {"description": "Missing justification"},
    401: {"description": "Missing or unknown API key"},
    403: {"description": "The key's role may not read alerts"},
    422: {"description": "A Last-Event-ID this stream did not give"},
    503: {"description": "Elasticsearch or the audit trail is unavailable"},
}


@dataclass(frozen=True, slots=True)
class Change:
    """An alert with documents seen or updated in the window: how many, and the latest time."""

    alert_id: str
    documents: int
    changed_ms: int
    order_ms: int  # its latest `seen_at`: what Elasticsearch ordered the alerts by


def changes_body(owner: str, floor_ms: int, size: int = MAX_CHANGES) -> dict[str, Any]:
    """The request for `owner`'s alerts with a document seen or updated at or after `floor_ms`."""
    since = {"gte": floor_ms, "format": "epoch_millis"}
    return {
        "size": 0,
        "query": {
            "bool": {
                "filter": [
                    {"term": {"owner": owner}},
                    {
                        "bool": {
                            "should": [
                                {"range": {"seen_at": since}},
                                {"range": {"updated_at": since}},
                            ],
                            "minimum_should_match": 1,
                        }
                    },
                ]
            }
        },
        "aggs": {
            "alerts": {
                "terms": {"field": "alert_id", "size": size, "order": {"seen": "asc"}},
                "aggs": {
                    "seen": {"max": {"field": "seen_at"}},
                    "updated": {"max": {"field": "updated_at"}},
                },
            }
        },
    }


def read_changes(response: dict[str, Any]) -> tuple[list[Change], bool]:
    """The changes in a `changes_body` answer, and whether more alerts changed than it holds."""
    terms = (response.get("aggregations") or {}).get("alerts") or {}
    changes = []
    for bucket in terms.get("buckets", []):
        seen = bucket["seen"].get("value")
        updated = bucket["updated"].get("value")
        times = [int(v) for v in (seen, updated) if v is not None]
        changes.append(
            Change(
                alert_id=str(bucket["key"]),
                documents=int(bucket["doc_count"]),
                changed_ms=max(times, default=0),
                order_ms=int(seen) if seen is not None else 0,
            )
        )
    return changes, int(terms.get("sum_other_doc_count") or 0) > 0


class ChangeTracker:
    """What one stream has seen and sent: which alerts to render after a look, which to send.

    Pure bookkeeping over plain data; the stream does the I/O.
    """

    def __init__(self, position_ms: int, *, overlap_ms: int = OVERLAP_MS) -> None:
        self.position = position_ms
        self.overlap_ms = overlap_ms
        self._catching_up = False
        self._marks: dict[str, tuple[int, int]] = {}
        self._sent: dict[str, str] = {}

    def floor(self) -> int:
        """Where the next look starts."""
        if self._catching_up:
            return self.position
        return max(0, self.position - self.overlap_ms)

    def look(self, changes: Sequence[Change], truncated: bool, now_ms: int) -> list[str]:
        """Take one look's changes; the ids of the alerts that changed since the previous look.

        The position moves to `now_ms`, or, when the look held only the oldest `MAX_CHANGES`
        alerts, to the newest of those (and the next look starts exactly there).
        """
        due = [c.alert_id for c in changes if self._marks.get(c.alert_id) != _mark(c)]
        self._marks = {c.alert_id: _mark(c) for c in changes}
        self._sent = {k: v for k, v in self._sent.items() if k in self._marks}
        self._catching_up = truncated and bool(changes)
        if self._catching_up:
            self.position = max(self.position, changes[-1].order_ms)
        else:
            self.position = max(self.position, now_ms)
        return due

    def unsent(self, alerts: Sequence[AlertOut]) -> list[tuple[str, str]]:
        """(id, JSON) of the rendered alerts whose state this stream has not sent yet."""
        fresh = []
        for alert in alerts:
            body = alert.model_dump_json()
            if self._sent.get(alert.id) != body:
                self._sent[alert.id] = body
                fresh.append((alert.id, body))
        return fresh


def _mark(change: Change) -> tuple[int, int]:
    return change.documents, change.changed_ms


def parse_position(last_event_id: str | None, now_ms: int) -> int:
    """The position to resume from: `Last-Event-ID`, or now without one; ValueError if bad."""
    if last_event_id is None or not last_event_id.strip():
        return now_ms
    text = last_event_id.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 15 or int(text) > _MAX_POSITION:
        raise ValueError("Last-Event-ID is not a position this stream gave")
    return min(int(text), now_ms)


def sse_block(position: int, event: str | None = None, data: str | None = None) -> bytes:
    """One server-sent-events block; `data` must be one line (compact JSON is)."""
    lines = [f"id: {position}"]
    if event is not None:
        lines.insert(0, f"event: {event}")
    lines.append(f"data: {data}" if data is not None else ": keepalive")
    return ("\n".join(lines) + "\n\n").encode()


class AlertFeed(Protocol):
    """Where a stream reads: which alerts changed, and how they look to a caller."""

    def changes(self, owner: str, floor_ms: int) -> tuple[list[Change], bool]: ...

    def views(self, alert_ids: list[str], principal: Principal) -> list[AlertOut]: ...


@dataclass(frozen=True)
class EsAlertFeed:
    """The alerts index of one deployment."""

    es: Elasticsearch
    alias: str

    def changes(self, owner: str, floor_ms: int) -> tuple[list[Change], bool]:
        """The owner's alerts changed at or after `floor_ms`, oldest first."""
        with map_es_errors("read alert changes"):
            response = self.es.search(
                index=alerts_index(self.alias),
                ignore_unavailable=True,  # no alert written yet
                **changes_body(owner, floor_ms),
            )
        return read_changes(dict(response))

    def views(self, alert_ids: list[str], principal: Principal) -> list[AlertOut]:
        """The alerts as `principal` may see them (never a restricted value to an analyst)."""
        return alert_views(self.es, self.alias, alert_ids, principal)


async def alert_events(
    feed: AlertFeed,
    principal: Principal,
    position_ms: int,
    *,
    poll_s: float = POLL_S,
    heartbeat_s: float = HEARTBEAT_S,
    max_s: float = MAX_STREAM_S,
    clock: Callable[[], float] = time.time,
) -> AsyncIterator[bytes]:
    """The stream's blocks until `max_s` has passed, Elasticsearch fails, or the client goes.

    Elasticsearch is called in a worker thread, so a stream never holds up other requests; a
    client that disconnects cancels the generator at its next await.
    """
    tracker = ChangeTracker(position_ms)
    started = last_block = time.monotonic()
    yield b"retry: 2000\n" + sse_block(tracker.position)
    try:
        while time.monotonic() - started < max_s:
            looked_at = int(clock() * 1000)
            found, truncated = await anyio.to_thread.run_sync(
                feed.changes, principal.user, tracker.floor()
            )
            due = tracker.look(found, truncated, looked_at)
            if due:
                views = await anyio.to_thread.run_sync(feed.views, due, principal)
                # The owner filter chose them; this keeps a restricted entry's alert (should
                # an analyst ever own one) from an analyst whatever the views returned.
                visible = [v for v in views if principal.sees_restricted or not v.restricted]
                for _, body in tracker.unsent(visible):
                    yield sse_block(tracker.position, "alert", body)
                    last_block = time.monotonic()
            if time.monotonic() - last_block >= heartbeat_s:
                yield sse_block(tracker.position)
                last_block = time.monotonic()
            await anyio.sleep(poll_s)
    except PipelineError as exc:
        log.warning("alert stream of %s ended: %s", principal.user, exc)
        yield sse_block(tracker.position, "error", '{"detail": "alerts are unavailable"}')


Alerted = Annotated[Principal, Depends(deps.require(Permission.SEARCH))]


def alert_stream_router(settings: Settings, es: Elasticsearch, trail: AuditTrail) -> APIRouter:
    """The stream's route over `settings.index_alias`'s alerts, audited in `trail`."""
    alias = settings.index_alias
    router = APIRouter(tags=["watch"])

    @router.get("/api/alerts/stream", response_class=StreamingResponse, responses=ERRORS)
    def alert_stream(
        request: Request,
        principal: Alerted,
        last_event_id: Annotated[str | None, Header(max_length=64)] = None,
        justification: Annotated[str | None, Query(max_length=deps.MAX_JUSTIFICATION)] = None,
    ) -> StreamingResponse:
        """Your own alerts live (server-sent events): each new or changed alert as
        `event: alert`, `data` the alert; a heartbeat every 15 s; `Last-Event-ID` resumes.
        Opening a stream is audited."""
        why = deps.require_justification(
            request.headers.get(deps.JUSTIFICATION_HEADER), justification
        )
        now_ms = int(time.time() * 1000)
        try:
            position = parse_position(last_event_id, now_ms)
        except ValueError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
        trail.record(
            principal,
            Action.ALERT_STREAM,
            {"stream": "alerts", "from": position},
            justification=why,
            channel=deps.audit_channel(request),
        )
        feed = EsAlertFeed(es, alias)
        return StreamingResponse(
            alert_events(feed, principal, position),
            media_type="text/event-stream",
            # a proxy that buffers (nginx does by default) would hold the events back
            headers={"X-Accel-Buffering": "no"},
        )

    return router
