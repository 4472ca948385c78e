"""Analysts' corrections applied by the worker's assigner against the real Elasticsearch node:
merge, move out, undo, and what a replay then gets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from elasticsearch import Elasticsearch, helpers

from pipeline.enrich.dedup.keys import report_key
from pipeline.enrich.embed import Embedder
from pipeline.enrich.extract import Enricher
from pipeline.enrich.incidents import state
from pipeline.enrich.incidents.assigner import IncidentAssigner
from pipeline.enrich.incidents.corrections import (
    CorrectionKind,
    Corrections,
    CorrectionStatus,
    pairs,
)
from pipeline.index.document import build_document, doc_id
from pipeline.index.mapping import ensure_index
from pipeline.ingest.report import Report
from pipeline.settings import Settings
from tests.enrich.incidents.test_incident_state import EUSTON, OTHER, opener, report

pytestmark = pytest.mark.integration


@pytest.fixture
def deployment(
    es: Elasticsearch, settings: Settings, index_factory: Callable[[str], str]
) -> tuple[Settings, IncidentAssigner, Corrections]:
    alias = index_factory("corr")
    local = settings.model_copy(update={"index_alias": alias})
    ensure_index(es, local)
    corrections = Corrections(es, alias)
    assigner = IncidentAssigner(es, local, Embedder.load(), corrections=corrections)
    assigner.ensure()
    return local, assigner, corrections


def ingest(
    es: Elasticsearch,
    enricher: Enricher,
    assigner: IncidentAssigner,
    alias: str,
    batch: list[Report],
) -> dict[str, str]:
    """The batch path's enrich, incidents and index steps for `batch`; incidents by source_id."""
    enrichments = enricher.enrich(batch)
    clusters = [opener(r) for r in batch]
    found = assigner.assign(batch, enrichments, clusters)
    now = datetime.now(UTC)
    actions = [
        {
            "_index": alias,
            "_id": doc_id(r.source.value, r.source_id),
            "_source": build_document(r, e, c, ingested_at=now, incident=a.incident_id),
        }
        for r, e, c, a in zip(batch, enrichments, clusters, found, strict=True)
    ]
    helpers.bulk(es, actions, refresh="wait_for")
    return {r.source_id: a.incident_id for r, a in zip(batch, found, strict=True)}


def indexed(es: Elasticsearch, alias: str) -> dict[str, str]:
    hits = es.search(index=alias, size=100)["hits"]["hits"]
    return {h["_source"]["source_id"]: h["_source"]["incident_id"] for h in hits}


def test_merge_move_out_and_undo_change_state_and_index_and_a_replay_keeps_them(
    es: Elasticsearch,
    enricher: Enricher,
    deployment: tuple[Settings, IncidentAssigner, Corrections],
) -> None:
    settings, assigner, corrections = deployment
    alias = settings.index_alias
    batch = [report(EUSTON[0], 0, "e0"), report(EUSTON[1], 5, "e1"), report(OTHER[0], 6, "l0")]
    first = ingest(es, enricher, assigner, alias, batch)
    euston, leeds = first["e0"], first["l0"]
    assert first["e1"] == euston != leeds

    merge = corrections.record(
        CorrectionKind.MERGE, "alice", "same event", incident=leeds, into=euston
    )
    assert merge.status is CorrectionStatus.PENDING
    assert assigner.apply_corrections(now=True) == 1
    assert indexed(es, alias) == {"e0": euston, "e1": euston, "l0": euston}
    assert corrections.get(merge.id).status is CorrectionStatus.APPLIED  # type: ignore[union-attr]

    key = report_key("public_report", "e1")
    move = corrections.record(
        CorrectionKind.MOVE, "alice", "another bag", incident=euston, report=key
    )
    assigner.apply_corrections(now=True)
    moved = indexed(es, alias)["e1"]
    assert moved == f"{key}~{move.id}" and indexed(es, alias)["e0"] == euston

    # a replay of the batch (redelivery, reindex from Kafka) gets the corrected incidents
    again = assigner.assign(batch, enricher.enrich(batch), [opener(r) for r in batch])
    assert [a.incident_id for a in again] == [euston, moved, euston]

    undo = corrections.record(CorrectionKind.UNDO, "alice", "wrong call", undoes=merge.id)
    assigner.apply_corrections(now=True)
    assert indexed(es, alias) == {"e0": euston, "e1": moved, "l0": leeds}
    assert corrections.get(merge.id).status is CorrectionStatus.UNDONE  # type: ignore[union-attr]
    assert corrections.get(undo.id).outcome == "1 report(s) put back"  # type: ignore[union-attr]

    twice = corrections.record(CorrectionKind.UNDO, "alice", "again", undoes=merge.id)
    assigner.apply_corrections(now=True)
    assert corrections.get(twice.id).status is CorrectionStatus.REFUSED  # type: ignore[union-attr]
    assert indexed(es, alias)["l0"] == leeds

    judged = list(pairs(corrections.recent()))
    assert {"correction": move.id, "judgement": "apart", "reports": [key], "from": euston} in judged


def test_a_merge_and_its_undo_reach_reports_in_other_weeks(
    es: Elasticsearch,
    enricher: Enricher,
    deployment: tuple[Settings, IncidentAssigner, Corrections],
) -> None:
    """The state is by week: a correction finds each report in the week that holds it."""
    settings, assigner, corrections = deployment
    alias = settings.index_alias
    week = 7 * 24 * 60
    first = ingest(es, enricher, assigner, alias, [report(EUSTON[0], 0, "w0")])
    later = ingest(es, enricher, assigner, alias, [report(EUSTON[1], 2 * week, "w2")])
    assert first["w0"] != later["w2"]  # two weeks apart: outside the window
    assert len(es.indices.get(index=state.partitions(alias))) == 2
    merge = corrections.record(
        CorrectionKind.MERGE, "alice", "one long campaign", incident=later["w2"], into=first["w0"]
    )
    assigner.apply_corrections(now=True)
    assert indexed(es, alias) == {"w0": first["w0"], "w2": first["w0"]}
    stored = state.fetch(es, alias, [report_key("public_report", "w2")])
    assert stored[report_key("public_report", "w2")]["incident"] == first["w0"]
    corrections.record(CorrectionKind.UNDO, "alice", "not after all", undoes=merge.id)
    assigner.apply_corrections(now=True)
    assert indexed(es, alias) == {"w0": first["w0"], "w2": later["w2"]}
