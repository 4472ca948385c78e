"""Alerts in Elasticsearch (`<alias>-alerts`): one alert per (entry, cluster), one hit per report.

Both are written with `create` under deterministic ids, so a redelivered or replayed record
writes nothing new (409 is success), and fifty reports of one incident make one alert with
fifty hits: how many reports an alert counts is the number of its hits. `create` needs no
script, so this works on the local node (no painless) as on a full cluster.

An alert is created with `published: false` and marked `published: true` once the `alerts`
topic has it (`pipeline.enrich.watch.publish`), so a batch redone after a crash publishes what
the crash left unpublished. An alert of a `restricted` entry says so (`restricted: true`) and
may carry a restricted value; no other alert can (pipeline/enrich/watch/matcher.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn, cast

import orjson

from pipeline.enrich.watch.indices import ensure_small_index
from pipeline.enrich.watch.matcher import Match, alert_id
from pipeline.errors import SearchUnavailable, es_failure_reason, map_es_errors

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

__all__ = [
    "AlertWriter",
    "Sighting",
    "alert_documents",
    "alerts_index",
    "ensure_alerts_index",
    "hit_id",
]

_MENTION = {
    "properties": {
        "type": {"type": "keyword"},
        "text": {"type": "keyword"},
        "value": {"type": "keyword"},
        "start": {"type": "integer"},
        "end": {"type": "integer"},
        "field": {"type": "keyword"},  # the restricted field it repeats (restricted alerts)
    }
}
_UNINDEXED_TEXT = {"type": "text", "index": False}
MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "kind": {"type": "keyword"},  # alert | hit
        "alert_id": {"type": "keyword"},
        "entry_id": {"type": "keyword"},
        "owner": {"type": "keyword"},
        "priority": {"type": "keyword"},
        "target": {"properties": {"type": {"type": "keyword"}, "key": {"type": "keyword"}}},
        "cluster_id": {"type": "keyword"},
        "report_id": {"type": "keyword"},
        "source": {"type": "keyword"},
        "mention": _MENTION,
        "highlight": _UNINDEXED_TEXT,  # a saved search's fragment, HIT_TAGS marking its words
        "search": {
            "properties": {
                "q": _UNINDEXED_TEXT,
                "sources": {"type": "keyword"},
                "regions": {"type": "keyword"},
            }
        },
        "seen_at": {"type": "date"},
        "restricted": {"type": "boolean"},
        "published": {"type": "boolean"},  # alerts only: on the `alerts` topic
        "acknowledged": {
            "properties": {
                "by": {"type": "keyword"},
                "at": {"type": "date"},
                "outcome": {"type": "keyword"},
                "note": _UNINDEXED_TEXT,
            }
        },
        "updated_at": {"type": "date"},
    },
}
_FILTER_PATH = "items.*.status,items.*.error,items.*._id"


def alerts_index(alias: str) -> str:
    """The alerts index of the deployment whose report alias is `alias`."""
    return f"{alias}-alerts"


def ensure_alerts_index(es: Elasticsearch, alias: str) -> str:
    """Create the alerts index unless it exists (idempotent, safe to race); its name."""
    return ensure_small_index(es, alerts_index(alias), MAPPING)


def hit_id(alert: str, report_id: str) -> str:
    """The one hit of a report on an alert."""
    return hashlib.sha256(f"{alert}\x1f{report_id}".encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Sighting:
    """One entry matched in one indexed report."""

    match: Match
    report_id: str  # the report's `_id`
    cluster_id: str
    source: str
    seen_at: datetime


def _mention(match: Match) -> dict[str, Any] | None:
    mention = match.mention
    if mention is None:
        return None
    found: dict[str, Any] = {
        "type": mention.type.value,
        "text": mention.text,
        "value": mention.value,
    }
    if match.in_narrative:
        found |= {"start": mention.start, "end": mention.end}
    if match.field is not None:
        found["field"] = match.field
    return found


def _documents(sighting: Sighting) -> list[tuple[str, dict[str, Any]]]:
    match = sighting.match
    entry = match.entry
    alert = alert_id(entry.id, sighting.cluster_id)
    common: dict[str, Any] = {
        "alert_id": alert,
        "entry_id": entry.id,
        "owner": entry.owner,
        "priority": entry.priority.value,
        "cluster_id": sighting.cluster_id,
        "report_id": sighting.report_id,
        "source": sighting.source,
        "seen_at": sighting.seen_at.isoformat(),
        "restricted": entry.restricted,
    }
    if entry.target is not None:
        common["target"] = {"type": entry.target.type.value, "key": entry.target.key}
    if entry.search is not None:
        common["search"] = entry.search.model_dump(mode="json")
    if (mention := _mention(match)) is not None:
        common["mention"] = mention
    if match.highlight is not None:
        common["highlight"] = match.highlight
    # the alert keeps its first report; each report adds a hit
    return [
        (alert, {"kind": "alert", **common, "published": False}),
        (hit_id(alert, sighting.report_id), {"kind": "hit", **common}),
    ]


def _by_id(sightings: Sequence[Sighting]) -> dict[str, dict[str, Any]]:
    """Every document of `sightings` by id; the first sighting of an id wins."""
    documents: dict[str, dict[str, Any]] = {}
    for sighting in sightings:
        for doc_id, body in _documents(sighting):
            documents.setdefault(doc_id, body)
    return documents


def alert_documents(sightings: Sequence[Sighting]) -> dict[str, dict[str, Any]]:
    """Alert id -> the alert document `AlertWriter.write` creates for it from `sightings`."""
    return {doc_id: body for doc_id, body in _by_id(sightings).items() if body["kind"] == "alert"}


def _raise_failed(action: str, status: int, result: dict[str, Any]) -> NoReturn:
    error = result.get("error") or {}
    reason = es_failure_reason(status, error.get("type"), error.get("reason"))
    raise SearchUnavailable(f"{action}: {status} {error}", reason=reason)


class AlertWriter:
    """Writes sightings as alerts and hits, and marks alerts published; raises
    `SearchUnavailable` if any write failed."""

    def __init__(self, es: Elasticsearch, alias: str) -> None:
        self._es = es
        self.index = alerts_index(alias)

    def write(self, sightings: Sequence[Sighting]) -> list[str]:
        """Write every sighting; the ids of the alerts that are new (created by this call)."""
        documents = _by_id(sightings)
        if not documents:
            return []
        lines = []
        for doc_id, body in documents.items():
            lines.append(orjson.dumps({"create": {"_index": self.index, "_id": doc_id}}))
            lines.append(orjson.dumps(body))
        created: list[str] = []
        # refreshed at once: an alert is worth reading the moment it exists, and only batches
        # that saw something pay for it (the index's own 1 s refresh was most of the latency)
        written = self._bulk("write alerts", lines, refresh=True)
        for result, body in zip(written, documents.values(), strict=True):
            status = int(result.get("status", 500))
            if status == 201 and body["kind"] == "alert":
                created.append(str(result["_id"]))
            elif status not in (201, 409):
                _raise_failed("writing alerts", status, result)
        return created

    def unpublished(self, alert_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The stored alerts among `alert_ids` still `published: false`, in that order (one
        mget, real time: no refresh needed). Alerts stored by older code, without the flag,
        count as published: they were never meant for the topic."""
        if not alert_ids:
            return []
        with map_es_errors("read alerts"):
            found = self._es.mget(index=self.index, ids=list(alert_ids))
        return [
            doc["_source"]
            for doc in found["docs"]
            if doc.get("found") and doc["_source"].get("published") is False
        ]

    def mark_published(self, alert_ids: Sequence[str]) -> None:
        """Mark the alerts on the `alerts` topic (one bulk request)."""
        if not alert_ids:
            return
        lines = []
        for doc_id in alert_ids:
            lines.append(orjson.dumps({"update": {"_index": self.index, "_id": doc_id}}))
            lines.append(orjson.dumps({"doc": {"published": True}}))
        for result in self._bulk("mark alerts published", lines):
            status = int(result.get("status", 500))
            # 404: the alert was deleted meanwhile, and a deleted alert needs no flag
            if status not in (200, 404):
                _raise_failed("marking alerts published", status, result)

    def _bulk(
        self, action: str, lines: list[bytes], *, refresh: bool = False
    ) -> list[dict[str, Any]]:
        with map_es_errors(action):
            response = self._es.bulk(
                operations=cast(Any, b"\n".join(lines) + b"\n"),
                filter_path=_FILTER_PATH,
                refresh=refresh,
            )
        return [next(iter(item.values())) for item in response["items"]]
