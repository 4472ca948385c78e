"""The alert read side: a caller's own alerts from `<alias>-alerts`, with their hits and cursor."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pipeline.api.auth import Principal
from pipeline.api.models import MentionOut, Segment, split_fragment
from pipeline.api.watch_models import (
    Acknowledgement,
    AlertOut,
    AlertPage,
    AlertSearch,
    AlertTarget,
    AlertView,
    EntryRejectedError,
    HitOut,
)
from pipeline.enrich.watch.alerts import alerts_index
from pipeline.enrich.watch.entries import Priority
from pipeline.errors import map_es_errors

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

__all__ = [
    "MAX_VIEWS",
    "absent_is_empty",
    "alert_detail",
    "alert_views",
    "decode_alert_cursor",
    "encode_alert_cursor",
    "list_alerts",
    "one_alert",
    "plausible_id",
]

log = logging.getLogger(__name__)

MAX_HITS_SHOWN = 1000  # an alert's `count` counts them all
MAX_VIEWS = 10_000  # alerts rendered by one `alert_views` call (one search, one aggregation)
_PAGE = 1000
# What an entry id may be (WatchEntry's pattern; alert ids are hex): anything else is no id.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def plausible_id(value: str) -> bool:
    """Whether `value` could be an entry's or an alert's id (so a look-up is worth making)."""
    return _ID.fullmatch(value) is not None


@contextmanager
def absent_is_empty(action: str) -> Iterator[None]:
    """Run Elasticsearch reads; a missing index ends the block quietly: nothing to read yet."""
    import elasticsearch

    try:
        with map_es_errors(action):
            yield
    except elasticsearch.NotFoundError:
        pass


# Plain functions, no audit (the caller writes it: `WatchService`, the alert stream). They
# return only the caller's own alerts and, to a caller who may not see restricted values, never
# one marked `restricted`.


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
    with absent_is_empty("count alert hits"):
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
    with absent_is_empty("read alerts"):
        response = es.search(index=index, query=query, size=len(wanted))
        sources = [hit["_source"] for hit in response["hits"]["hits"]]
        by_id = {view.id: view for view in _views(es, index, sources, principal)}
        return [by_id[a] for a in wanted if a in by_id]
    return []


def one_alert(
    es: Elasticsearch, alias: str, alert_id: str, principal: Principal
) -> AlertOut | None:
    """One of `principal`'s alerts, without its hits; None if it may not see it."""
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
    with absent_is_empty("find alerts seen again"):
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
    with absent_is_empty("list alerts"):
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
    alert = one_alert(es, alias, alert_id, principal)
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
    with absent_is_empty("read alert hits"):
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
