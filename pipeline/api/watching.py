"""Watchlist entries and their alerts for API callers: the shapes, the rules and the audit.

Entries are created, listed, changed and deleted by their owner alone: another user's entry
reads as missing (404), never as forbidden. Every entry goes through `WatchEntry`, so what one
entry holds can only change what that entry matches. Alerts are read by `alert_views`,
`list_alerts` and `alert_detail`, plain functions over `<alias>-alerts` that return only the
caller's own alerts and, to a caller who may not see restricted values, never one marked
`restricted`. `WatchService` runs each call and writes its audit record first: nothing is
stored, changed, deleted, acknowledged or shown without one.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema

from pipeline.api import deps
from pipeline.api.audit import Action, AuditTrail
from pipeline.api.auth import Principal
from pipeline.api.models import AuditEntry, MentionOut, Segment, split_fragment
from pipeline.enrich.watch.alerts import alerts_index
from pipeline.enrich.watch.entries import MAX_LIFETIME, Priority, SavedSearch, Target, WatchEntry
from pipeline.enrich.watch.publish import AlertRecord, update_record
from pipeline.enrich.watch.store import delete_entry, ensure_watch_index, put_entry, watch_index
from pipeline.errors import AccessDenied, RequestRejected, map_es_errors

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

__all__ = [
    "MAX_LIVE_ENTRIES",
    "MAX_VIEWS",
    "AckIn",
    "AlertOut",
    "AlertPage",
    "AlertSearch",
    "AlertView",
    "EntryChange",
    "EntryIn",
    "EntryList",
    "EntryOut",
    "EntryRejectedError",
    "HitOut",
    "Outcome",
    "WatchService",
    "alert_detail",
    "alert_views",
    "list_alerts",
]

log = logging.getLogger(__name__)

MAX_LIVE_ENTRIES = 1000
MAX_LISTED_ENTRIES = 10_000  # live ones are at most 1,000; the rest expired, newest first
MAX_HITS_SHOWN = 1000  # an alert's `count` counts them all
MAX_VIEWS = 10_000  # alerts rendered by one `alert_views` call (one search, one aggregation)
_PAGE = 1000
# What an entry id may be (WatchEntry's pattern; alert ids are hex): anything else is no id.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


class EntryRejectedError(RequestRejected):
    """An entry that cannot be stored as asked: answered 422 with the field (`None`: the body)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class Outcome(StrEnum):
    """What reading an alert found."""

    RELEVANT = "relevant"
    NOT_RELEVANT = "not_relevant"
    DUPLICATE = "duplicate"


# The written forms a target is given in; `key` is always computed, never taken.
TargetIn = Annotated[
    Target,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "examples": ["phone:07700 900123", "person:Fatima Khan"]},
                {
                    "type": "object",
                    "properties": {"type": {"type": "string"}, "value": {"type": "string"}},
                    "required": ["type", "value"],
                },
            ],
            "description": "`type:value`, or {type, value}: phone, vehicle, handle, url, "
            "email, postcode, person, org.",
        }
    ),
]


class EntryIn(BaseModel):
    """A new entry (POST /api/watch): a `target` or a saved `search`, and why."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    target: TargetIn | None = None
    search: SavedSearch | None = None
    justification: str = Field(
        min_length=1, max_length=deps.MAX_JUSTIFICATION, description="Why you watch this."
    )
    priority: Priority = Priority.NORMAL
    expiry: datetime | None = Field(None, description="Default 90 days from now, at most a year.")
    restricted: bool = Field(
        False,
        description="Also match reporters', callers' and subjects' details (restricted role).",
    )


class EntryChange(BaseModel):
    """A change to an entry (PATCH /api/watch/{id}): only the fields given change."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    justification: str | None = Field(None, min_length=1, max_length=deps.MAX_JUSTIFICATION)
    priority: Priority | None = None
    expiry: datetime | None = None
    target: TargetIn | None = Field(None, description="Replaces the target or the search.")
    search: SavedSearch | None = Field(None, description="Replaces the search or the target.")


class EntryOut(BaseModel):
    """One entry as its owner sees it; `live` is false once it expired."""

    id: str
    owner: str
    justification: str
    priority: Priority
    created: datetime
    expiry: datetime
    live: bool
    target: Target | None
    search: SavedSearch | None
    restricted: bool

    @classmethod
    def of(cls, entry: WatchEntry, now: datetime) -> EntryOut:
        """The view of `entry` at `now`."""
        fields = entry.model_dump(include={"id", "owner", "justification", "priority"})
        return cls(
            **fields,
            created=entry.created,
            expiry=entry.expiry,
            live=entry.live(now),
            target=entry.target,
            search=entry.search,
            restricted=entry.restricted,
        )


class EntryList(BaseModel):
    """The caller's entries, newest first."""

    entries: list[EntryOut]


class AlertTarget(BaseModel):
    """The target an alert's entry watches, in its normal form."""

    type: str
    key: str


class AlertSearch(BaseModel):
    """The saved search an alert's entry runs, as stored with the alert."""

    q: str
    sources: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)


class Acknowledgement(BaseModel):
    """Who read an alert, when, and what they found."""

    by: str
    at: datetime
    outcome: str
    note: str | None = None


class AckIn(BaseModel):
    """An acknowledgement (POST /api/alerts/{id}/ack)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: Outcome
    note: str | None = Field(None, max_length=2000)


class AlertOut(BaseModel):
    """One alert: an entry's first sighting in a cluster, and how many reports it counts."""

    id: str
    entry_id: str
    priority: str
    target: AlertTarget | None = None
    search: AlertSearch | None = None
    cluster_id: str
    report_id: str = Field(description="The first report it was seen in.")
    source: str
    mention: MentionOut | None = None
    highlight: list[Segment] | None = None
    first_seen: datetime
    last_seen: datetime
    count: int = Field(description="Reports of the cluster the entry was seen in.")
    restricted: bool = False
    acknowledged: Acknowledgement | None = None


class HitOut(BaseModel):
    """One report an alert counts."""

    report_id: str
    source: str
    seen_at: datetime
    mention: MentionOut | None = None
    highlight: list[Segment] | None = None


class AlertView(BaseModel):
    """One alert with its reports, newest first (at most 1,000; `count` counts them all)."""

    alert: AlertOut
    hits: list[HitOut]


class AlertPage(BaseModel):
    """A page of alerts, newest first, and the cursor of the next one."""

    alerts: list[AlertOut]
    next_cursor: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def plausible_id(value: str) -> bool:
    """Whether `value` could be an entry's or an alert's id (so a look-up is worth making)."""
    return _ID.fullmatch(value) is not None


@contextmanager
def _absent_is_empty(action: str) -> Iterator[None]:
    """Run Elasticsearch reads; a missing index ends the block quietly: nothing to read yet."""
    import elasticsearch

    try:
        with map_es_errors(action):
            yield
    except elasticsearch.NotFoundError:
        pass


# --- the alert read side: plain functions, no audit (the caller writes it) -----------------


def _visible(principal: Principal) -> list[dict[str, Any]]:
    """Filters every alert read carries: the caller's own, and restricted ones only for the
    restricted role (checked again on every document read, see `_shown`)."""
    filters: list[dict[str, Any]] = [{"term": {"owner": principal.user}}]
    if not principal.sees_restricted:
        filters.append({"bool": {"must_not": {"term": {"restricted": True}}}})
    return filters


def _shown(source: dict[str, Any], principal: Principal) -> bool:
    if source.get("owner") != principal.user:
        return False
    return principal.sees_restricted or source.get("restricted") is not True


def _mention(value: Any) -> MentionOut | None:
    return MentionOut.model_validate(value) if isinstance(value, dict) else None


def _highlight(value: Any) -> list[Segment] | None:
    return split_fragment(value) if isinstance(value, str) and value else None


def _alert(source: dict[str, Any], count: int, last_seen: datetime | None) -> AlertOut:
    first_seen = datetime.fromisoformat(str(source["seen_at"]))
    target = source.get("target")
    search = source.get("search")
    acknowledged = source.get("acknowledged")
    return AlertOut(
        id=str(source["alert_id"]),
        entry_id=str(source.get("entry_id", "")),
        priority=str(source.get("priority", Priority.NORMAL.value)),
        target=AlertTarget.model_validate(target) if isinstance(target, dict) else None,
        search=AlertSearch.model_validate(search) if isinstance(search, dict) else None,
        cluster_id=str(source.get("cluster_id", "")),
        report_id=str(source.get("report_id", "")),
        source=str(source.get("source", "")),
        mention=_mention(source.get("mention")),
        highlight=_highlight(source.get("highlight")),
        first_seen=first_seen,
        last_seen=max(first_seen, last_seen) if last_seen else first_seen,
        count=max(count, 1),
        restricted=source.get("restricted") is True,
        acknowledged=(
            Acknowledgement.model_validate(acknowledged) if isinstance(acknowledged, dict) else None
        ),
    )


def _tally(
    es: Elasticsearch, index: str, alert_ids: Sequence[str], principal: Principal
) -> dict[str, tuple[int, datetime | None]]:
    """Each alert's number of reports (its hits) and when the last was seen."""
    if not alert_ids:
        return {}
    query = {
        "bool": {
            "filter": [
                {"term": {"kind": "hit"}},
                {"terms": {"alert_id": list(alert_ids)}},
                *_visible(principal),
            ]
        }
    }
    aggs = {
        "alerts": {
            "terms": {"field": "alert_id", "size": len(alert_ids)},
            "aggs": {"last": {"max": {"field": "seen_at"}}},
        }
    }
    with _absent_is_empty("count alert hits"):
        response = es.search(index=index, query=query, aggs=aggs, size=0)
        tally: dict[str, tuple[int, datetime | None]] = {}
        for bucket in response["aggregations"]["alerts"]["buckets"]:
            last = bucket["last"].get("value_as_string")
            seen = datetime.fromisoformat(last) if last else None
            tally[str(bucket["key"])] = (int(bucket["doc_count"]), seen)
        return tally
    return {}


def _views(
    es: Elasticsearch, index: str, sources: Sequence[dict[str, Any]], principal: Principal
) -> list[AlertOut]:
    shown = [s for s in sources if s.get("kind") == "alert" and _shown(s, principal)]
    tally = _tally(es, index, [str(s.get("alert_id")) for s in shown], principal)
    views = []
    for source in shown:
        try:
            views.append(_alert(source, *tally.get(str(source["alert_id"]), (1, None))))
        except (KeyError, TypeError, ValueError):  # ValidationError is a ValueError
            # written by hand or by older code: it must not hide the caller's other alerts
            log.warning("alert %r cannot be shown; skipping it", source.get("alert_id"))
    return views


def alert_views(
    es: Elasticsearch, alias: str, alert_ids: Sequence[str], principal: Principal
) -> list[AlertOut]:
    """The alerts named, in the order named, that `principal` may see (its own; restricted ones
    only for the restricted role); the others are left out, as if they did not exist. At most
    the first `MAX_VIEWS` distinct ids are read."""
    wanted = list(dict.fromkeys(a for a in alert_ids if plausible_id(a)))[:MAX_VIEWS]
    if not wanted:
        return []
    index = alerts_index(alias)
    query = {
        "bool": {
            "filter": [
                {"term": {"kind": "alert"}},
                {"ids": {"values": wanted}},
                *_visible(principal),
            ]
        }
    }
    with _absent_is_empty("read alerts"):
        response = es.search(index=index, query=query, size=len(wanted))
        sources = [hit["_source"] for hit in response["hits"]["hits"]]
        by_id = {view.id: view for view in _views(es, index, sources, principal)}
        return [by_id[a] for a in wanted if a in by_id]
    return []


def _one_alert(
    es: Elasticsearch, alias: str, alert_id: str, principal: Principal
) -> AlertOut | None:
    views = alert_views(es, alias, [alert_id], principal)
    return views[0] if views else None


def _alerts_with_hits_since(
    es: Elasticsearch, index: str, principal: Principal, since: datetime
) -> list[str]:
    query = {
        "bool": {
            "filter": [
                {"term": {"kind": "hit"}},
                {"range": {"seen_at": {"gte": since.isoformat()}}},
                *_visible(principal),
            ]
        }
    }
    aggs = {"alerts": {"terms": {"field": "alert_id", "size": _PAGE}}}
    with _absent_is_empty("find alerts seen again"):
        response = es.search(index=index, query=query, aggs=aggs, size=0)
        return [str(b["key"]) for b in response["aggregations"]["alerts"]["buckets"]]
    return []


def encode_alert_cursor(sort: Sequence[Any]) -> str:
    """The opaque cursor after an alert with these sort values."""
    return base64.urlsafe_b64encode(json.dumps(list(sort)).encode()).decode()


def decode_alert_cursor(cursor: str) -> list[Any]:
    """The sort values of a cursor `encode_alert_cursor` made; EntryRejectedError otherwise."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, UnicodeError):
        values = None
    if (
        not isinstance(values, list)
        or len(values) != 2
        or type(values[0]) is not int
        or not 0 <= values[0] < 2**53  # epoch milliseconds
        or not isinstance(values[1], str)
        or not plausible_id(values[1])
    ):
        raise EntryRejectedError("cursor", "cursor: not a next_cursor this API gave")
    return values


def list_alerts(
    es: Elasticsearch,
    alias: str,
    principal: Principal,
    *,
    unacknowledged: bool = False,
    since: datetime | None = None,
    size: int = 20,
    cursor: str | None = None,
) -> AlertPage:
    """`principal`'s alerts, newest first: only unacknowledged ones, or only those that changed
    since `since` (new, acknowledged, or seen in another report since then)."""
    index = alerts_index(alias)
    filters: list[dict[str, Any]] = [{"term": {"kind": "alert"}}, *_visible(principal)]
    if unacknowledged:
        filters.append({"bool": {"must_not": {"exists": {"field": "acknowledged"}}}})
    if since is not None:
        changed: list[dict[str, Any]] = [
            {"range": {"seen_at": {"gte": since.isoformat()}}},
            {"range": {"updated_at": {"gte": since.isoformat()}}},
        ]
        seen_again = _alerts_with_hits_since(es, index, principal, since)
        if seen_again:
            changed.append({"ids": {"values": seen_again}})
        filters.append({"bool": {"should": changed, "minimum_should_match": 1}})
    after = decode_alert_cursor(cursor) if cursor else None
    with _absent_is_empty("list alerts"):
        response = es.search(
            index=index,
            query={"bool": {"filter": filters}},
            sort=[{"seen_at": "desc"}, {"alert_id": "desc"}],
            size=size,
            search_after=after,
        )
        hits = response["hits"]["hits"]
        views = _views(es, index, [hit["_source"] for hit in hits], principal)
        more = encode_alert_cursor(hits[-1]["sort"]) if len(hits) == size else None
        return AlertPage(alerts=views, next_cursor=more)
    return AlertPage(alerts=[])


def alert_detail(
    es: Elasticsearch, alias: str, alert_id: str, principal: Principal
) -> AlertView | None:
    """One of `principal`'s alerts with its reports, newest first; None if it may not see it."""
    alert = _one_alert(es, alias, alert_id, principal)
    if alert is None:
        return None
    query = {
        "bool": {
            "filter": [
                {"term": {"kind": "hit"}},
                {"term": {"alert_id": alert.id}},
                *_visible(principal),
            ]
        }
    }
    hits: list[HitOut] = []
    with _absent_is_empty("read alert hits"):
        response = es.search(
            index=alerts_index(alias),
            query=query,
            sort=[{"seen_at": "desc"}, {"report_id": "asc"}],
            size=MAX_HITS_SHOWN,
        )
        hits = [
            hit
            for doc in response["hits"]["hits"]
            if _shown(doc["_source"], principal) and (hit := _hit(doc["_source"])) is not None
        ]
    return AlertView(alert=alert, hits=hits)


def _hit(source: dict[str, Any]) -> HitOut | None:
    try:
        return HitOut(
            report_id=str(source.get("report_id", "")),
            source=str(source.get("source", "")),
            seen_at=datetime.fromisoformat(str(source["seen_at"])),
            mention=_mention(source.get("mention")),
            highlight=_highlight(source.get("highlight")),
        )
    except (KeyError, TypeError, ValueError):
        log.warning("a hit of alert %r cannot be shown; skipping it", source.get("alert_id"))
        return None


# --- entries, and the audited service over both ---------------------------------------------


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

    def _audit(
        self,
        principal: Principal,
        action: Action,
        query: dict[str, Any],
        ids: list[str],
        *,
        justification: str,
        channel: str,
    ) -> None:
        self.trail.write(
            AuditEntry(
                timestamp=_now(),
                user=principal.user,
                role=principal.role.value,
                action=action.value,
                justification=justification,
                query=query,
                ids=ids,
                channel=channel,
            )
        )

    # entries

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
        self._audit(
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
        with _absent_is_empty("list watchlist entries"):
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
        self._audit(
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
        self._audit(
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
            self._audit(
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
        self._audit(
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
        self._audit(
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
            self._audit(
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
        self._audit(
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
        alert = _one_alert(self.es, self.alias, alert_id, principal)
        query = {"id": alert_id[:128], "outcome": ack.outcome.value, "note": ack.note}
        self._audit(
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
