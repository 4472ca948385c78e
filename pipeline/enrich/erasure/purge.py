"""Remove erased reports from everywhere derived data lives in Elasticsearch.

For each `source:id`: its document in every generation behind the alias (`<alias>-v*`,
whatever reindex left, the reindex target included), its dedup answer and claims (repaired
for the cluster's remaining members, pipeline/enrich/erasure/clusters.py), its incident state
(vector, trace and answer in its week's `<alias>-incidents-<week>`; the incident goes on with
its other reports, under the same id), and its alert hits in `<alias>-alerts` (an alert
first raised by it is handed to its next hit, or deleted when it has none). Idempotent:
purging twice, or from two workers at once, ends the same.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pipeline.enrich.dedup import state
from pipeline.enrich.dedup.keys import DedupParams, ReportKeys, report_key, report_keys
from pipeline.enrich.erasure.clusters import repair_cluster
from pipeline.enrich.incidents import state as incident_state
from pipeline.enrich.watch.alerts import alerts_index
from pipeline.errors import PipelineError, map_es_errors
from pipeline.index.document import doc_id
from pipeline.ingest.erasure import parse_key
from pipeline.ingest.report import Origin, Report
from pipeline.ingest.sources import Source
from pipeline.settings import Settings

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

__all__ = ["PurgeResult", "Purger", "UnknownReports", "checked_keys"]

log = logging.getLogger(__name__)

_MEMBERS = 1_000
_FIELDS = ["source", "source_id", "@timestamp", "text", "url", "cluster_id", "duplicate"]


@dataclass
class PurgeResult:
    """What one purge removed (counts; never a report's content)."""

    documents: int = 0
    dedup: int = 0
    promoted: list[str] = field(default_factory=list)
    alerts: int = 0
    incidents: int = 0


def _report(hit: Mapping[str, Any]) -> Report:
    """Enough of a report, rebuilt from its document, to compute its dedup keys."""
    source = hit["_source"]
    return Report(
        source=Source(source["source"]),
        source_id=str(source["source_id"]),
        received_at=datetime.fromisoformat(source["@timestamp"]),
        text=str(source.get("text") or ""),
        url=source.get("url"),
        origin=Origin(topic="", partition=0, offset=0),
    )


class Purger:
    """Purges erased reports of one deployment (the alias `settings.index_alias`)."""

    def __init__(self, es: Elasticsearch, settings: Settings) -> None:
        self.es = es
        self.alias = settings.index_alias
        self.params = DedupParams.from_settings(settings)
        self.state = state.state_index(self.alias)
        self.lock_ttl_s = settings.dedup_lock_ttl_s
        self.lock_wait_s = settings.dedup_lock_wait_s

    def generations(self) -> list[str]:
        """Every report index of the deployment: all `<alias>-v*` and what the alias names."""
        with map_es_errors(f"list {self.alias} generations"):
            found = set(self.es.indices.get(index=f"{self.alias}-v*", expand_wildcards="all"))
            if self.es.indices.exists_alias(name=self.alias):
                found |= set(self.es.indices.get_alias(name=self.alias).body)
        return sorted(found)

    def _documents(self, ids: Collection[str], *, refresh: bool = False) -> list[dict[str, Any]]:
        indices = self.generations()
        if not indices or not ids:
            return []
        with map_es_errors("find erased reports"):
            if refresh:  # a document written a moment ago (mid-batch) must be found too
                self.es.indices.refresh(index=",".join(indices), ignore_unavailable=True)
            body = self.es.search(
                index=",".join(indices),
                query={"ids": {"values": sorted(ids)}},
                size=10 * len(ids),
                source_includes=_FIELDS,
                ignore_unavailable=True,
            ).body
        return list(body["hits"]["hits"])

    def known(self, keys: Iterable[str]) -> set[str]:
        """The keys among `keys` whose report some generation of the index holds."""
        by_id = {doc_id(*_pair(key)): key for key in keys}
        return {by_id[hit["_id"]] for hit in self._documents(by_id) if hit["_id"] in by_id}

    def select(self, field: str, value: str, *, limit: int = 5_000) -> list[str]:
        """The keys of every report whose `field` holds exactly `value` (a `term` query over
        the alias, e.g. `entities.phone=+447700900123` or `restricted.reporter.email=...`);
        raises ValueError over `limit` matches rather than erase part of them."""
        if not self.es.indices.exists_alias(name=self.alias):
            return []
        with map_es_errors("select reports to erase"):
            body = self.es.search(
                index=self.alias,
                query={"term": {field: value}},
                size=limit + 1,
                source_includes=["source", "source_id"],
                sort=[{"@timestamp": "asc"}, {"source_id": "asc"}],
            ).body
        hits = body["hits"]["hits"]
        if len(hits) > limit:
            raise ValueError(f"{field}={value} selects over {limit} reports; narrow it")
        return [f"{h['_source']['source']}:{h['_source']['source_id']}" for h in hits]

    def purge(self, keys: Collection[str]) -> None:
        """`purge_all`, for the batch path's erasure steps."""
        self.purge_all(keys)

    def purge_all(self, keys: Collection[str]) -> PurgeResult:
        """Remove every key's report from the index, dedup state and alerts."""
        result = PurgeResult()
        pairs = {doc_id(*_pair(key)): _pair(key) for key in keys}
        if not pairs:
            return result
        hits = self._documents(pairs, refresh=True)
        latest = {hit["_id"]: hit for hit in hits}  # any generation: same narrative
        for did, (source, source_id) in pairs.items():
            self._repair_dedup(report_key(source, source_id), latest.get(did), result)
        result.documents = self._delete_documents(hits)
        result.incidents = self._purge_incidents([report_key(*pair) for pair in pairs.values()])
        result.alerts = self._purge_alerts(list(pairs))
        log.info(
            "erased %d report(s): %d documents, %d dedup records, %d incident records, "
            "%d alert records",
            len(pairs),
            result.documents,
            result.dedup,
            result.incidents,
            result.alerts,
        )
        return result

    def _delete_documents(self, hits: list[dict[str, Any]]) -> int:
        if not hits:
            return 0
        operations = [{"delete": {"_index": hit["_index"], "_id": hit["_id"]}} for hit in hits]
        with map_es_errors("delete erased reports"):
            response = self.es.bulk(operations=operations, refresh=True)
        return sum(1 for item in response["items"] if item["delete"]["status"] == 200)

    def _purge_incidents(self, keys: list[str]) -> int:
        with map_es_errors("delete erased incident state"):
            weeks = incident_state.locate(self.es, self.alias, keys)
            if not weeks:
                return 0
            operations = [{"delete": {"_index": week, "_id": key}} for key, week in weeks.items()]
            response = self.es.bulk(operations=operations, refresh=True)
        return sum(1 for item in response["items"] if item["delete"]["status"] == 200)

    def _members(self, cluster: str, erased: str) -> list[tuple[str, ReportKeys]]:
        """(doc id, keys) of the cluster's other reports, earliest first."""
        if not self.es.indices.exists_alias(name=self.alias):
            return []
        with map_es_errors("find cluster members"):
            body = self.es.search(
                index=self.alias,
                query={
                    "bool": {
                        "filter": {"term": {"cluster_id": cluster}},
                        "must_not": [{"ids": {"values": [erased]}}] if erased else [],
                    }
                },
                sort=[{"@timestamp": "asc"}, {"source_id": "asc"}],
                size=_MEMBERS,
                source_includes=_FIELDS,
            ).body
        return [
            (hit["_id"], report_keys(_report(hit), self.params)) for hit in body["hits"]["hits"]
        ]

    def _repair_dedup(self, erased: str, hit: dict[str, Any] | None, result: PurgeResult) -> None:
        with map_es_errors("erase from dedup state"):
            if not self.es.indices.exists(index=self.state):
                return
            with state.locked(self.es, self.state, self.lock_ttl_s, self.lock_wait_s):
                stored = state.fetch(self.es, self.state, [f"r:{erased}"]).get(f"r:{erased}")
                answer = state.parse_report(stored) if stored is not None else None
                keys = report_keys(_report(hit), self.params) if hit is not None else None
                claims = {
                    k: state.parse_claim(v)
                    for k, v in state.fetch(
                        self.es, self.state, keys.claims() if keys else []
                    ).items()
                }
                members: list[tuple[str, ReportKeys]] = []
                if answer is not None:
                    members = self._members(answer.assignment.cluster_id, doc_id_of(hit))
                repair = repair_cluster(erased, answer, keys, claims, [m for _, m in members])
                operations: list[dict[str, Any]] = []
                for doc in sorted(repair.deletes):
                    operations.append({"delete": {"_index": self.state, "_id": doc}})
                for key, claim in repair.claims.items():
                    operations.append({"index": {"_index": self.state, "_id": key}})
                    operations.append(state.claim_doc(claim))
                if repair.promoted is not None:
                    operations += self._promote_state(repair.promoted)
                response = self.es.bulk(operations=operations, refresh=True)
                result.dedup += sum(
                    1 for item in response["items"] for r in item.values() if r["status"] < 300
                )
        if repair.promoted is not None:
            promoted_doc = next(did for did, m in members if m.report == repair.promoted)
            self._promote_documents(promoted_doc)
            result.promoted.append(promoted_doc)

    def _promote_state(self, report: str) -> list[dict[str, Any]]:
        stored = state.fetch(self.es, self.state, [f"r:{report}"]).get(f"r:{report}")
        if stored is None:
            return []
        return [{"index": {"_index": self.state, "_id": f"r:{report}"}}, {**stored, "d": False}]

    def _promote_documents(self, did: str) -> None:
        """The promoted member is its cluster's first now, in every generation."""
        import elasticsearch

        for index in self.generations():
            with map_es_errors(f"promote {did} in {index}"):
                try:
                    self.es.update(index=index, id=did, doc={"duplicate": False}, refresh=True)
                except elasticsearch.NotFoundError:
                    continue

    def _purge_alerts(self, dids: list[str]) -> int:
        """Delete the reports' hits; hand an alert they raised to its next hit, or delete it."""
        index = alerts_index(self.alias)
        with map_es_errors("erase from alerts"):
            if not self.es.indices.exists(index=index):
                return 0
            found = self.es.search(
                index=index, query={"terms": {"report_id": dids}}, size=10_000
            ).body["hits"]["hits"]
            operations: list[dict[str, Any]] = []
            for doc in found:
                body = doc["_source"]
                heir = (
                    self._next_hit(index, body["alert_id"], dids)
                    if body["kind"] == "alert"
                    else None
                )
                if heir is None:
                    operations.append({"delete": {"_index": index, "_id": doc["_id"]}})
                    continue
                handed = {
                    f: heir.get(f)
                    for f in ("report_id", "source", "seen_at", "mention", "highlight")
                }
                operations += [{"update": {"_index": index, "_id": doc["_id"]}}, {"doc": handed}]
            if not operations:
                return 0
            response = self.es.bulk(operations=operations, refresh=True)
        return sum(1 for item in response["items"] for r in item.values() if r["status"] < 300)

    def _next_hit(self, index: str, alert: str, dids: list[str]) -> dict[str, Any] | None:
        hits = self.es.search(
            index=index,
            query={
                "bool": {
                    "filter": [{"term": {"kind": "hit"}}, {"term": {"alert_id": alert}}],
                    "must_not": {"terms": {"report_id": dids}},
                }
            },
            sort=[{"seen_at": "asc"}],
            size=1,
        ).body["hits"]["hits"]
        return dict(hits[0]["_source"]) if hits else None


def doc_id_of(hit: Mapping[str, Any] | None) -> str:
    """The `_id` of a hit, or one that matches nothing."""
    return str(hit["_id"]) if hit is not None else ""


def _pair(key: str) -> tuple[str, str]:
    source, source_id = parse_key(key)
    return source.value, source_id


class UnknownReports(PipelineError):
    """An erasure named reports no generation of the index holds: nothing was erased."""


def checked_keys(purger: Purger, keys: Iterable[str]) -> list[str]:
    """`keys`, each `source:id`, de-duplicated in order; raises ValueError for a malformed
    key and `UnknownReports` when any report is unknown, before anything is changed."""
    wanted = list(dict.fromkeys(k.strip() for k in keys))
    if not wanted:
        raise ValueError("name at least one report as SOURCE:ID")
    for key in wanted:
        parse_key(key)
    known = purger.known(wanted)
    unknown = [key for key in wanted if key not in known]
    if unknown:
        raise UnknownReports(
            f"no such report: {', '.join(unknown)}; nothing was erased (an erasure names "
            "reports the index holds, as SOURCE:ID)"
        )
    return wanted
