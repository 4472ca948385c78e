"""Analysts' corrections of incidents: merge two, move a report's cluster out of one, undo.

The API records a correction as `pending` in `<alias>-incident-corrections` (its identities may
not write reports); the workers apply pending corrections, oldest first, under the incident
state's lease, before each batch and every few seconds when idle (`Incidents`, the worker's
timer). Applying one changes the incident of every state document it concerns, and of their
reports' documents, and stores on the correction which reports moved from where, so an undo
puts exactly those back. Because the state documents carry the corrected incident, a replay
(a reindex from Kafka, a resend) gives the corrected answer; new reports near a merged
incident's reports join the merged one.

A move takes the report's whole cluster (a cluster lies inside one incident) into an incident of
its own, named `<report key>~<correction id>`. Each correction is a labelled judgement for the
evaluation too: `pairs` turns the applied ones into same-incident and different-incident pairs.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError, helpers

from pipeline.clients import create_index_if_missing
from pipeline.enrich.incidents import state
from pipeline.errors import map_es_errors

__all__ = [
    "Correction",
    "CorrectionKind",
    "CorrectionStatus",
    "Corrections",
    "corrections_index",
]

log = logging.getLogger(__name__)

_MOST = 10_000  # the most reports one correction moves (Elasticsearch's default result window)


def corrections_index(alias: str) -> str:
    """The corrections index of the pipeline whose analysts' alias is `alias`."""
    return f"{alias}-incident-corrections"


class CorrectionKind(StrEnum):
    """What an analyst asked for."""

    MERGE = "merge"  # every report of `incident` into `into`
    MOVE = "move"  # the cluster of `report` out of `incident`, into an incident of its own
    UNDO = "undo"  # put back what correction `undoes` moved


class CorrectionStatus(StrEnum):
    """Where a correction is: waiting for a worker, applied, or applied and then undone."""

    PENDING = "pending"
    APPLIED = "applied"
    UNDONE = "undone"
    REFUSED = "refused"  # could not apply (e.g. an undo of an undo): says why in `outcome`


@dataclass(frozen=True, slots=True)
class Correction:
    """One correction as stored; `moved` is (state key, report doc id, incident before)."""

    id: str
    kind: CorrectionKind
    status: CorrectionStatus
    by: str
    at: str
    why: str
    incident: str | None = None
    into: str | None = None
    report: str | None = None  # the report's state key (moves)
    undoes: str | None = None
    moved: tuple[tuple[str, str, str], ...] = ()
    outcome: str | None = None

    @staticmethod
    def parse(doc_id: str, source: Mapping[str, Any]) -> Correction:
        """From a stored document."""
        return Correction(
            id=doc_id,
            kind=CorrectionKind(source["kind"]),
            status=CorrectionStatus(source["status"]),
            by=str(source.get("by", "")),
            at=str(source.get("at", "")),
            why=str(source.get("why", "")),
            incident=source.get("incident"),
            into=source.get("into"),
            report=source.get("report"),
            undoes=source.get("undoes"),
            moved=tuple((m["key"], m["doc"], m["from"]) for m in source.get("moved") or []),
            outcome=source.get("outcome"),
        )

    def summary(self) -> dict[str, Any]:
        """JSON-ready, as the API and the CLI show it."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "status": self.status.value,
            "by": self.by,
            "at": self.at,
            "why": self.why,
            "incident": self.incident,
            "into": self.into,
            "report": self.report,
            "undoes": self.undoes,
            "moved": len(self.moved),
            "outcome": self.outcome,
        }


_TEMPLATE_MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "kind": {"type": "keyword"},
        "status": {"type": "keyword"},
        "by": {"type": "keyword"},
        "at": {"type": "date"},
        "incident": {"type": "keyword"},
        "into": {"type": "keyword"},
        "report": {"type": "keyword"},
        "undoes": {"type": "keyword"},
    },
}


class Corrections:
    """The corrections of one deployment: recorded by the API, applied by the workers."""

    def __init__(self, es: Elasticsearch, alias: str) -> None:
        self.es = es
        self.alias = alias
        self.index = corrections_index(alias)

    # --- recording (the API) ------------------------------------------------------------------

    def ensure(self) -> None:
        """Create the index if missing (idempotent; the workers and the API both call it)."""
        with map_es_errors("ensure incident corrections"):
            create_index_if_missing(
                self.es,
                self.index,
                settings={"number_of_shards": 1, "auto_expand_replicas": "0-1"},
                mappings=_TEMPLATE_MAPPINGS,
            )

    def record(self, kind: CorrectionKind, by: str, why: str, **fields: str) -> Correction:
        """Store a pending correction; a worker applies it."""
        self.ensure()
        doc = {
            "kind": kind.value,
            "status": CorrectionStatus.PENDING.value,
            "by": by,
            "at": datetime.now(UTC).isoformat(),
            "why": why,
            **fields,
        }
        correction_id = uuid.uuid4().hex[:16]
        with map_es_errors("record an incident correction"):
            self.es.create(index=self.index, id=correction_id, document=doc, refresh="wait_for")
        return Correction.parse(correction_id, doc)

    def get(self, correction_id: str) -> Correction | None:
        """One correction, or None."""
        with map_es_errors("read an incident correction"):
            try:
                found = self.es.get(index=self.index, id=correction_id)
            except NotFoundError:
                return None
        return Correction.parse(found["_id"], found["_source"])

    def recent(self, *, incident: str | None = None, limit: int = 100) -> list[Correction]:
        """Corrections newest first, all or those naming `incident`."""
        query: dict[str, Any] = {"match_all": {}}
        if incident:
            query = {"multi_match": {"query": incident, "fields": ["incident", "into"]}}
        with map_es_errors("list incident corrections"):
            if not self.es.indices.exists(index=self.index):
                return []
            hits = self.es.search(index=self.index, query=query, sort=[{"at": "desc"}], size=limit)[
                "hits"
            ]["hits"]
        return [Correction.parse(h["_id"], h["_source"]) for h in hits]

    # --- applying (the workers, under the incident lease) -------------------------------------

    def pending(self) -> list[Correction]:
        """Pending corrections, oldest first."""
        with map_es_errors("read pending incident corrections"):
            if not self.es.indices.exists(index=self.index):
                return []
            hits = self.es.search(
                index=self.index,
                query={"term": {"status": CorrectionStatus.PENDING.value}},
                sort=[{"at": "asc"}],
                size=100,
            )["hits"]["hits"]
        return [Correction.parse(h["_id"], h["_source"]) for h in hits]

    def apply(self, correction: Correction) -> Correction:
        """Apply one pending correction; what it became."""
        with map_es_errors("apply an incident correction"):
            if correction.kind is CorrectionKind.UNDO:
                return self._undo(correction)
            if correction.kind is CorrectionKind.MERGE:
                members = self._members({"term": {"incident": correction.incident}})
                target = str(correction.into)
                moves = [(key, doc, before, target) for key, doc, before in members]
            else:
                moves = self._move_out(correction)
            self._reassign(moves)
            done = self._settle(
                correction,
                CorrectionStatus.APPLIED,
                f"{len(moves)} report(s) moved",
                moved=tuple((key, doc, before) for key, doc, before, _ in moves),
            )
        log.info("applied incident correction %s (%s): %s", done.id, done.kind, done.outcome)
        return done

    def _settle(
        self,
        correction: Correction,
        status: CorrectionStatus,
        outcome: str,
        moved: tuple[tuple[str, str, str], ...] | None = None,
    ) -> Correction:
        """Store what became of `correction` (and which reports moved from where); it as now."""
        update: dict[str, Any] = {"status": status.value, "outcome": outcome}
        if moved is not None:
            update["moved"] = [{"key": k, "doc": d, "from": f} for k, d, f in moved]
        self.es.update(index=self.index, id=correction.id, doc=update, refresh="wait_for")
        return replace(correction, status=status, outcome=outcome, moved=moved or correction.moved)

    def _move_out(self, correction: Correction) -> list[tuple[str, str, str, str]]:
        found = state.fetch(self.es, self.alias, [str(correction.report)]).get(
            str(correction.report)
        )
        if found is None:
            return []
        cluster = found.get("cluster") or correction.report
        incident = correction.incident or found["incident"]
        members = self._members(
            {"bool": {"filter": [{"term": {"cluster": cluster}}, {"term": {"incident": incident}}]}}
        )
        target = f"{correction.report}~{correction.id}"
        return [(key, doc, before, target) for key, doc, before in members]

    def _undo(self, correction: Correction) -> Correction:
        earlier = self.get(str(correction.undoes))
        if earlier is None or earlier.status is not CorrectionStatus.APPLIED:
            state = "missing" if earlier is None else earlier.status.value
            outcome = f"nothing to undo: correction {correction.undoes} is {state}"
            return self._settle(correction, CorrectionStatus.REFUSED, outcome)
        now = self._members({"ids": {"values": [key for key, _, _ in earlier.moved]}})
        current = {key: before for key, _, before in now}
        moves = [
            (key, doc, current[key], before)
            for key, doc, before in earlier.moved
            if key in current  # an erased report stays erased
        ]
        self._reassign(moves)
        self.es.update(
            index=self.index,
            id=earlier.id,
            doc={"status": CorrectionStatus.UNDONE.value},
            refresh="wait_for",
        )
        return self._settle(
            correction, CorrectionStatus.APPLIED, f"{len(moves)} report(s) put back"
        )

    def _members(self, query: Mapping[str, Any]) -> list[tuple[str, str, str]]:
        """(state key, report doc id, incident) of every state document `query` selects."""
        hits = self.es.search(
            index=state.partitions(self.alias),
            query=dict(query),
            size=_MOST,
            source_includes=["incident", "doc"],
            ignore_unavailable=True,
            allow_no_indices=True,
        )["hits"]["hits"]
        return [
            (h["_id"], str(h["_source"].get("doc", "")), h["_source"]["incident"]) for h in hits
        ]

    def _reassign(self, moves: Sequence[tuple[str, str, str, str]]) -> None:
        """Give each (key, doc, from, to) its new incident in the state and in the index."""
        if not moves:
            return
        weeks = state.locate(self.es, self.alias, [key for key, _, _, _ in moves])
        state_ops = (
            {"_op_type": "update", "_index": weeks[key], "_id": key, "doc": {"incident": to}}
            for key, _, _, to in moves
            if key in weeks  # erased meanwhile: stays erased
        )
        helpers.bulk(self.es, state_ops, refresh=True)
        # every generation of the index that holds the report: the alias's and a reindex's
        docs = {doc: to for _, doc, _, to in moves if doc}
        report_ops = (
            {
                "_op_type": "update",
                "_index": hit["_index"],
                "_id": hit["_id"],
                "retry_on_conflict": 3,
                "doc": {"incident_id": docs[hit["_id"]]},
            }
            for hit in self._documents(docs)
        )
        helpers.bulk(self.es, report_ops)
        self.es.indices.refresh(index=f"{self.alias}-v*", ignore_unavailable=True)

    def _documents(self, docs: Mapping[str, str]) -> Iterator[Mapping[str, Any]]:
        ids = sorted(docs)
        for start in range(0, len(ids), 1_000):
            hits = self.es.search(
                index=f"{self.alias}-v*",
                query={"ids": {"values": ids[start : start + 1_000]}},
                size=10_000,
                source=False,
                ignore_unavailable=True,
            )["hits"]["hits"]
            yield from hits


def pairs(corrections: Iterable[Correction]) -> Iterator[dict[str, Any]]:
    """Applied corrections as labelled judgements: a merge says its reports tell one event
    (`same`), a move that the moved reports and those left behind do not (`apart`)."""
    for c in corrections:
        if c.status is not CorrectionStatus.APPLIED or not c.moved:
            continue
        if c.kind is CorrectionKind.MERGE:
            yield {"correction": c.id, "judgement": "same", "incidents": [c.incident, c.into]}
        elif c.kind is CorrectionKind.MOVE:
            moved = sorted(key for key, _, _ in c.moved)
            yield {"correction": c.id, "judgement": "apart", "reports": moved, "from": c.incident}
