"""Alerts in Elasticsearch (`<alias>-alerts`): one alert per (entry, cluster), one hit per report.

Both are written with `create` under deterministic ids, so a redelivered or replayed record
writes nothing new (409 is success), and fifty reports of one incident make one alert with
fifty hits: how many reports an alert counts is the number of its hits. `create` needs no
script, so this works on the local node (no painless) as on a full cluster.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import orjson

from pipeline.enrich.watch.indices import ensure_small_index
from pipeline.enrich.watch.matcher import Match, alert_id
from pipeline.errors import SearchUnavailable, es_failure_reason, map_es_errors

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

__all__ = ["AlertWriter", "Sighting", "alerts_index", "ensure_alerts_index", "hit_id"]

_MENTION = {
    "properties": {
        "type": {"type": "keyword"},
        "text": {"type": "keyword"},
        "value": {"type": "keyword"},
        "start": {"type": "integer"},
        "end": {"type": "integer"},
    }
}
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
        "seen_at": {"type": "date"},
    },
}


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


def _documents(sighting: Sighting) -> list[tuple[str, dict[str, Any]]]:
    entry, mention = sighting.match.entry, sighting.match.mention
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
    }
    if entry.target is not None:
        common["target"] = {"type": entry.target.type.value, "key": entry.target.key}
    if mention is not None:
        common["mention"] = {
            "type": mention.type.value,
            "text": mention.text,
            "value": mention.value,
            "start": mention.start,
            "end": mention.end,
        }
    # the alert keeps its first report; each report adds a hit
    return [
        (alert, {"kind": "alert", **common}),
        (hit_id(alert, sighting.report_id), {"kind": "hit", **common}),
    ]


class AlertWriter:
    """Writes sightings as alerts and hits; raises `SearchUnavailable` if any write failed."""

    def __init__(self, es: Elasticsearch, alias: str) -> None:
        self._es = es
        self.index = alerts_index(alias)

    def write(self, sightings: Sequence[Sighting]) -> list[str]:
        """Write every sighting; the ids of the alerts that are new (created by this call)."""
        documents = {doc_id: body for s in sightings for doc_id, body in _documents(s)}
        if not documents:
            return []
        lines = []
        for doc_id, body in documents.items():
            lines.append(orjson.dumps({"create": {"_index": self.index, "_id": doc_id}}))
            lines.append(orjson.dumps(body))
        with map_es_errors("write alerts"):
            response = self._es.bulk(
                operations=cast(Any, b"\n".join(lines) + b"\n"),
                filter_path="items.*.status,items.*.error,items.*._id",
            )
        created: list[str] = []
        for item, (doc_id, body) in zip(response["items"], documents.items(), strict=True):
            result = item["create"]
            status = int(result.get("status", 500))
            if status == 201 and body["kind"] == "alert":
                created.append(doc_id)
            elif status not in (201, 409):
                error = result.get("error") or {}
                reason = es_failure_reason(status, error.get("type"), error.get("reason"))
                raise SearchUnavailable(f"writing alerts: {status} {error}", reason=reason)
        return created
