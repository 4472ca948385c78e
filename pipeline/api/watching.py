"""The audited watch service: a caller's own entries and alerts, each call audited first."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from pipeline.api import deps
from pipeline.api.alert_reads import (
    absent_is_empty,
    alert_detail,
    list_alerts,
    one_alert,
    plausible_id,
)
from pipeline.api.audit import Action, AuditTrail
from pipeline.api.auth import Principal
from pipeline.api.watch_models import (
    AckIn,
    Acknowledgement,
    AlertOut,
    AlertPage,
    AlertView,
    EntryChange,
    EntryIn,
    EntryList,
    EntryOut,
    EntryRejectedError,
)
from pipeline.enrich.watch.alerts import alerts_index
from pipeline.enrich.watch.entries import MAX_LIFETIME, WatchEntry
from pipeline.enrich.watch.publish import AlertRecord, update_record
from pipeline.enrich.watch.store import delete_entry, ensure_watch_index, put_entry, watch_index
from pipeline.errors import AccessDenied, map_es_errors

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

__all__ = ["MAX_LIVE_ENTRIES", "WatchService"]

MAX_LIVE_ENTRIES = 1000
MAX_LISTED_ENTRIES = 10_000  # live ones are at most 1,000; the rest expired, newest first
_PAGE = 1000


def _now() -> datetime:
    return datetime.now(UTC)


def _rejected(error: ValidationError) -> EntryRejectedError:
    """The first of a WatchEntry's validation errors, with the field it names."""
    first = error.errors()[0]
    loc = [str(part) for part in first.get("loc", ())]
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    return EntryRejectedError(".".join(loc) or None, message)


def _check_expiry(expiry: datetime, created: datetime, now: datetime) -> None:
    if expiry <= now:
        raise EntryRejectedError("expiry", f"expiry {expiry:%Y-%m-%d %H:%M} UTC is in the past")
    if expiry - created > MAX_LIFETIME:
        raise EntryRejectedError(
            "expiry",
            f"expiry {expiry:%Y-%m-%d} is more than a year after the entry was created "
            f"({created:%Y-%m-%d}); an entry lives {MAX_LIFETIME.days} days at most",
        )


def _utc(value: datetime | None) -> datetime | None:
    return deps.to_utc(value, "expiry")


class WatchService:
    """Entries and alerts over one alias, for their owners, every call audited in one trail.

    Entries are created, listed, changed and deleted by their owner alone: another user's entry
    reads as missing (404), never as forbidden. Every entry goes through `WatchEntry`, so what
    one entry holds can only change what that entry matches. Each call writes its audit record
    first: nothing is stored, changed, deleted, acknowledged or shown without one.

    `publish` sends records to the `alerts` topic: an acknowledgement, once stored, goes out
    as an `update` record.
    """

    def __init__(
        self,
        es: Elasticsearch,
        alias: str,
        trail: AuditTrail,
        *,
        publish: Callable[[Sequence[AlertRecord]], None] | None = None,
    ) -> None:
        self.es = es
        self.alias = alias
        self.trail = trail
        self.publish = publish
        self._ready = False
        self._lock = threading.Lock()

    def _ensure(self) -> None:
        if not self._ready:
            with self._lock:
                if not self._ready:
                    ensure_watch_index(self.es, self.alias)
                    self._ready = True

    def _load(self, principal: Principal, entry_id: str) -> WatchEntry | None:
        """The caller's entry with this id, or None (missing, deleted, another's, unreadable)."""
        import elasticsearch

        if not plausible_id(entry_id):
            return None
        with map_es_errors("read a watchlist entry"):
            try:
                doc = self.es.get(index=watch_index(self.alias), id=entry_id)
            except elasticsearch.NotFoundError:
                return None
        return self._entry(doc["_source"], principal)

    @staticmethod
    def _entry(source: dict[str, Any], principal: Principal) -> WatchEntry | None:
        if source.get("owner") != principal.user or source.get("deleted"):
            return None
        if source.get("restricted") is True and not principal.sees_restricted:
            return None  # the caller's role no longer sees restricted values
        try:
            return WatchEntry.model_validate(
                {k: v for k, v in source.items() if k not in ("updated_at", "deleted")}
            )
        except ValidationError:
            return None  # stored by older code: it matches nothing and is not shown

    def _live_count(self, owner: str, now: datetime) -> int:
        query = {
            "bool": {
                "filter": [
                    {"term": {"owner": owner}},
                    {"range": {"expiry": {"gt": now.isoformat()}}},
                ],
                "must_not": [{"term": {"deleted": True}}],
            }
        }
        with map_es_errors("count watchlist entries"):
            return int(self.es.count(index=watch_index(self.alias), query=query)["count"])

    def _within_quota(self, owner: str, now: datetime) -> None:
        if self._live_count(owner, now) >= MAX_LIVE_ENTRIES:
            raise EntryRejectedError(
                None,
                f"you have {MAX_LIVE_ENTRIES:,} live entries, the most one user may hold: "
                "delete some, or let them expire",
            )

    def create(self, principal: Principal, new: EntryIn, *, channel: str = "api") -> EntryOut:
        """Store a new entry owned by the caller (EntryRejectedError, AccessDenied)."""
        if new.restricted and not principal.sees_restricted:
            raise AccessDenied(
                f"the {principal.role.value} role may not watch restricted values "
                "(restricted: true); only the restricted role may"
            )
        self._ensure()
        now = _now()
        expiry = _utc(new.expiry)
        if expiry is not None:
            _check_expiry(expiry, now, now)
        try:
            entry = WatchEntry(
                id=uuid.uuid4().hex,
                owner=principal.user,
                justification=new.justification,
                priority=new.priority,
                created=now,
                expiry=expiry,
                target=new.target,
                search=new.search,
                restricted=new.restricted,
            )
        except ValidationError as exc:
            raise _rejected(exc) from exc
        self._within_quota(principal.user, now)
        self.trail.record(
            principal,
            Action.WATCH_CREATE,
            _described(entry),
            [entry.id],
            justification=entry.justification,
            channel=channel,
        )
        put_entry(self.es, self.alias, entry, refresh=True)
        return EntryOut.of(entry, now)

    def entries(
        self, principal: Principal, justification: str, *, channel: str = "api"
    ) -> EntryList:
        """The caller's entries that are not deleted, newest first, live or expired."""
        now = _now()
        query = {
            "bool": {
                "filter": [{"term": {"owner": principal.user}}],
                "must_not": [{"term": {"deleted": True}}],
            }
        }
        found: list[EntryOut] = []
        after: list[Any] | None = None
        with absent_is_empty("list watchlist entries"):
            while len(found) < MAX_LISTED_ENTRIES:
                page = self.es.search(
                    index=watch_index(self.alias),
                    query=query,
                    sort=[{"created": "desc"}, {"id": "asc"}],
                    size=_PAGE,
                    search_after=after,
                )
                hits = page["hits"]["hits"]
                for hit in hits:
                    entry = self._entry(hit["_source"], principal)
                    if entry is not None:
                        found.append(EntryOut.of(entry, now))
                if len(hits) < _PAGE:
                    break
                after = hits[-1]["sort"]
        found = found[:MAX_LISTED_ENTRIES]
        self.trail.record(
            principal,
            Action.WATCH_LIST,
            {},
            [e.id for e in found],
            justification=justification,
            channel=channel,
        )
        return EntryList(entries=found)

    def entry(
        self, principal: Principal, entry_id: str, justification: str, *, channel: str = "api"
    ) -> EntryOut | None:
        """One of the caller's entries; None if it has none with this id."""
        entry = self._load(principal, entry_id)
        ids = [] if entry is None else [entry.id]
        self.trail.record(
            principal,
            Action.WATCH_VIEW,
            {"id": entry_id[:128]},
            ids,
            justification=justification,
            channel=channel,
        )
        return None if entry is None else EntryOut.of(entry, _now())

    def change(
        self,
        principal: Principal,
        entry_id: str,
        change: EntryChange,
        justification: str,
        *,
        channel: str = "api",
    ) -> EntryOut | None:
        """Apply `change` to one of the caller's entries; None if it has none with this id."""
        if change.target is not None and change.search is not None:
            raise EntryRejectedError("target", "give a `target` or a saved `search`, not both")
        entry = self._load(principal, entry_id)
        if entry is None:
            self.trail.record(
                principal,
                Action.WATCH_CHANGE,
                {"id": entry_id[:128]},
                [],
                justification=justification,
                channel=channel,
            )
            return None
        now = _now()
        fields = entry.model_dump()
        given = change.model_dump(exclude_none=True, exclude={"target", "search", "expiry"})
        fields.update(given)
        expiry = _utc(change.expiry)
        if expiry is not None:
            _check_expiry(expiry, entry.created, now)
            fields["expiry"] = expiry
        if change.target is not None:
            fields.update(target=change.target, search=None)
        if change.search is not None:
            fields.update(search=change.search, target=None)
        try:
            changed = WatchEntry.model_validate(fields)
        except ValidationError as exc:
            raise _rejected(exc) from exc
        if changed.live(now) and not entry.live(now):
            self._within_quota(principal.user, now)  # an expired entry given a new expiry
        self.trail.record(
            principal,
            Action.WATCH_CHANGE,
            {
                "id": entry.id,
                "changed": sorted(change.model_dump(exclude_none=True)),
                **_described(changed),
            },
            [entry.id],
            justification=justification,
            channel=channel,
        )
        put_entry(self.es, self.alias, changed, refresh=True)
        return EntryOut.of(changed, now)

    def delete(
        self, principal: Principal, entry_id: str, justification: str, *, channel: str = "api"
    ) -> bool:
        """Delete one of the caller's entries (it stops matching); False if it has none so."""
        entry = self._load(principal, entry_id)
        self.trail.record(
            principal,
            Action.WATCH_DELETE,
            {"id": entry_id[:128]} if entry is None else _described(entry),
            [] if entry is None else [entry.id],
            justification=justification,
            channel=channel,
        )
        return entry is not None and delete_entry(self.es, self.alias, entry.id, refresh=True)

    # alerts

    def alerts(
        self,
        principal: Principal,
        justification: str,
        *,
        unacknowledged: bool = False,
        since: datetime | None = None,
        size: int = 20,
        cursor: str | None = None,
        channel: str = "api",
    ) -> AlertPage:
        """A page of the caller's alerts (`list_alerts`), audited; a poll (`since`) that finds
        nothing showed nothing and writes no record, so a client following new alerts every
        second records only what it is shown."""
        page = list_alerts(
            self.es,
            self.alias,
            principal,
            unacknowledged=unacknowledged,
            since=since,
            size=size,
            cursor=cursor,
        )
        if page.alerts or since is None:
            filters = {"unacknowledged": unacknowledged, "since": since, "size": size}
            self.trail.record(
                principal,
                Action.ALERT_LIST,
                {k: v.isoformat() if isinstance(v, datetime) else v for k, v in filters.items()},
                _shown_ids(page.alerts),
                justification=justification,
                channel=channel,
            )
        return page

    def alert(
        self, principal: Principal, alert_id: str, justification: str, *, channel: str = "api"
    ) -> AlertView | None:
        """One of the caller's alerts with its reports; None if it has none with this id."""
        view = alert_detail(self.es, self.alias, alert_id, principal)
        ids = (
            [] if view is None else [view.alert.id, *dict.fromkeys(h.report_id for h in view.hits)]
        )
        self.trail.record(
            principal,
            Action.ALERT_VIEW,
            {"id": alert_id[:128]},
            ids,
            justification=justification,
            channel=channel,
        )
        return view

    def acknowledge(
        self,
        principal: Principal,
        alert_id: str,
        ack: AckIn,
        justification: str,
        *,
        channel: str = "api",
    ) -> AlertOut | None:
        """Record who read one of the caller's alerts, when and with what outcome, then publish
        it; None if the caller has no alert with this id. A second ack replaces the first on
        the alert (the audit trail keeps both), so acknowledging again after a failed publish
        (AlertsUnavailable) sends the update again."""
        alert = one_alert(self.es, self.alias, alert_id, principal)
        query = {"id": alert_id[:128], "outcome": ack.outcome.value, "note": ack.note}
        self.trail.record(
            principal,
            Action.ALERT_ACK,
            query,
            [] if alert is None else [alert.id, alert.report_id],
            justification=justification,
            channel=channel,
        )
        if alert is None:
            return None
        now = _now()
        acknowledged = Acknowledgement(
            by=principal.user, at=now, outcome=ack.outcome, note=ack.note
        )
        with map_es_errors("acknowledge an alert"):
            self.es.update(
                index=alerts_index(self.alias),
                id=alert.id,
                doc={
                    "acknowledged": acknowledged.model_dump(mode="json"),
                    "updated_at": now.isoformat(),
                },
                refresh=True,
                retry_on_conflict=3,
            )
        if self.publish is not None:
            stored = {
                "alert_id": alert.id,
                "entry_id": alert.entry_id,
                "owner": principal.user,
                "restricted": alert.restricted,
            }
            self.publish([update_record(stored, acknowledged.model_dump(mode="json"), at=now)])
        return alert.model_copy(update={"acknowledged": acknowledged})


def _described(entry: WatchEntry) -> dict[str, Any]:
    """What the audit record says an entry watches: who watches whom is itself sensitive."""
    return {
        "id": entry.id,
        "target": str(entry.target) if entry.target is not None else None,
        "search": entry.search.model_dump(mode="json") if entry.search is not None else None,
        "priority": entry.priority.value,
        "expiry": entry.expiry.isoformat(),
        "restricted": entry.restricted,
    }


def _shown_ids(alerts: Sequence[AlertOut]) -> list[str]:
    """The alerts shown and the reports they name, for the audit record."""
    return list(dict.fromkeys([a.id for a in alerts] + [a.report_id for a in alerts]))
