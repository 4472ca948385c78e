"""Incident assignment against the real Elasticsearch state: kNN neighbours, replays, workers."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from elasticsearch import Elasticsearch

from pipeline.enrich.clusters import ClusterAssignment
from pipeline.enrich.dedup.keys import report_key
from pipeline.enrich.embed import DIMS, Embedder
from pipeline.enrich.extract import Enricher
from pipeline.enrich.incidents import state
from pipeline.enrich.incidents.assigner import IncidentAssigner
from pipeline.enrich.incidents.decide import IncidentAssignment
from pipeline.errors import SearchUnavailable
from pipeline.ingest.report import Origin, Report
from pipeline.ingest.sources import TOPIC_BY_SOURCE, Source
from pipeline.settings import Settings

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 14, 8, 0, tzinfo=UTC)
_OFFSETS = itertools.count()

EUSTON = [
    "A man in a grey hoodie left a rucksack by the ticket barriers at Euston and walked off.",
    "bag abandoned near the gates at euston station, bloke in a hoodie walked away from it",
    "Caller states an unattended black backpack was left beside the barriers at Euston station "
    "by a male in a grey hooded top who then left towards the taxi rank.",
]
OTHER = [
    "White Transit van parked outside the mosque on Harehills Lane in Leeds for three nights, "
    "two men carrying heavy bags into a lock-up at 2am.",
    "My nephew has started sharing videos from an extremist preacher and says he wants to go "
    "abroad to fight, his school in Cardiff is worried too.",
]


def report(text: str, minutes: int = 0, source_id: str | None = None) -> Report:
    offset = next(_OFFSETS)
    return Report(
        source=Source.PUBLIC_REPORT,
        source_id=source_id or f"r-{offset}",
        received_at=START + timedelta(minutes=minutes),
        text=text,
        origin=Origin(topic=TOPIC_BY_SOURCE[Source.PUBLIC_REPORT], partition=0, offset=offset),
    )


def opener(r: Report) -> ClusterAssignment:
    return ClusterAssignment(report_key(r.source.value, r.source_id), duplicate=False)


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder.load()


@pytest.fixture
def incident_settings(settings: Settings, index_factory: Callable[[str], str]) -> Settings:
    return settings.model_copy(update={"index_alias": index_factory("inc")})


@pytest.fixture
def assigner(
    es: Elasticsearch, incident_settings: Settings, embedder: Embedder
) -> IncidentAssigner:
    made = IncidentAssigner(es, incident_settings, embedder)
    made.ensure()
    return made


_ENRICHER: list[Enricher] = []


@pytest.fixture(autouse=True)
def _workers_enricher(enricher: Enricher) -> None:
    _ENRICHER[:] = [enricher]  # the session's (tests/enrich/conftest.py), for `assign`


def assign(
    assigner: IncidentAssigner,
    reports: Sequence[Report],
    clusters: Sequence[ClusterAssignment] | None = None,
) -> list[IncidentAssignment]:
    """The batch as the path gives it: enriched by the workers' enricher (places count)."""
    enrichments = _ENRICHER[0].enrich(reports)
    return assigner.assign(reports, enrichments, clusters or [opener(r) for r in reports])


def test_paraphrases_in_later_batches_join_the_first_reports_incident(
    assigner: IncidentAssigner,
) -> None:
    first = assign(assigner, [report(EUSTON[0]), report(OTHER[0], 5)])
    later = assign(assigner, [report(EUSTON[1], 30), report(OTHER[1], 40)])
    last = assign(assigner, [report(EUSTON[2], 600)])
    assert first[0].opened and first[1].opened
    assert later[0] == IncidentAssignment(first[0].incident_id, opened=False)
    assert later[1].opened and later[1].incident_id not in {a.incident_id for a in first}
    assert last[0].incident_id == first[0].incident_id


def test_a_report_days_outside_the_window_opens_its_own(assigner: IncidentAssigner) -> None:
    [first] = assign(assigner, [report(EUSTON[0])])
    [late] = assign(assigner, [report(EUSTON[1], minutes=73 * 60)])
    assert late.opened and late.incident_id != first.incident_id


def test_reports_in_one_batch_see_each_other(assigner: IncidentAssigner) -> None:
    found = assign(assigner, [report(EUSTON[0]), report(OTHER[0]), report(EUSTON[1], 3)])
    assert found[2].incident_id == found[0].incident_id != found[1].incident_id


def test_a_replay_gets_the_stored_answers_and_embeds_nothing(
    es: Elasticsearch, assigner: IncidentAssigner, incident_settings: Settings
) -> None:
    batch = [report(EUSTON[0]), report(EUSTON[1], 10), report(OTHER[0], 20)]
    first = assign(assigner, batch)

    class Refuses:
        def embed(self, texts: Sequence[str]) -> None:
            raise AssertionError(f"a replay embedded {len(texts)} text(s)")

    replayer = IncidentAssigner(es, incident_settings, Refuses())  # type: ignore[arg-type]
    assert assign(replayer, batch) == first
    index = state.partitions(incident_settings.index_alias)
    es.indices.refresh(index=index)
    assert es.count(index=index, query={"exists": {"field": "incident"}})["count"] == 3


def test_a_near_duplicate_joins_its_cluster_without_a_vector(
    es: Elasticsearch, assigner: IncidentAssigner, incident_settings: Settings
) -> None:
    first = report(EUSTON[0])
    copy = report(EUSTON[0] + " ", 2)
    [a] = assign(assigner, [first])
    [b] = assign(assigner, [copy], [ClusterAssignment(opener(first).cluster_id, duplicate=True)])
    assert b == IncidentAssignment(a.incident_id, opened=False)
    week = state.partition(incident_settings.index_alias, copy.received_at.timestamp())
    doc = es.get(index=week, id=opener(copy).cluster_id)
    assert "vec" not in doc["_source"]


def test_two_workers_at_once_decide_as_one_would(
    es: Elasticsearch, incident_settings: Settings, embedder: Embedder
) -> None:
    reports = [report(text, minutes=i) for i, text in enumerate(EUSTON * 4 + OTHER * 4)]
    workers = [IncidentAssigner(es, incident_settings, embedder) for _ in range(2)]
    workers[0].ensure()
    found: dict[str, str] = {}
    errors: list[BaseException] = []

    def run(worker: IncidentAssigner, share: Sequence[Report]) -> None:
        try:
            for start in range(0, len(share), 2):
                batch = list(share[start : start + 2])
                for r, a in zip(batch, assign(worker, batch), strict=True):
                    found[r.source_id] = a.incident_id
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(workers[0], reports[0::2])),
        threading.Thread(target=run, args=(workers[1], reports[1::2])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    by_text: dict[str, set[str]] = {}
    for r in reports:
        by_text.setdefault("euston" if r.text in EUSTON else r.text, set()).add(found[r.source_id])
    assert len(by_text["euston"]) == 1  # every Euston report in one incident
    incidents = [next(iter(v)) for v in by_text.values()]
    assert len(set(incidents)) == len(incidents) == 1 + len(OTHER)
    # what each worker was told is what the state holds: a replay by either agrees
    again = assign(workers[1], reports)
    assert {r.source_id: a.incident_id for r, a in zip(reports, again, strict=True)} == found


# --- weekly partitions -----------------------------------------------------------------------

SUNDAY_NIGHT = datetime(2026, 3, 15, 23, 30, tzinfo=UTC)  # ISO week 2026-W11 ends at midnight


def at(moment: datetime, text: str, source_id: str | None = None) -> Report:
    return report(text, minutes=int((moment - START).total_seconds() // 60), source_id=source_id)


def test_each_report_is_stored_in_its_weeks_index_and_joins_across_the_boundary(
    es: Elasticsearch, assigner: IncidentAssigner, incident_settings: Settings
) -> None:
    alias = incident_settings.index_alias
    before = at(SUNDAY_NIGHT, EUSTON[0])
    after = at(SUNDAY_NIGHT + timedelta(hours=1), EUSTON[1])  # Monday, week 12
    [a] = assign(assigner, [before])
    [b] = assign(assigner, [after])
    assert b == IncidentAssignment(a.incident_id, opened=False)  # the window spans both weeks
    weeks = state.locate(es, alias, [opener(before).cluster_id, opener(after).cluster_id])
    assert weeks == {
        opener(before).cluster_id: f"{alias}-incidents-2026w11",
        opener(after).cluster_id: f"{alias}-incidents-2026w12",
    }
    # each week merges eagerly (fewer HNSW graphs for a kNN to search) and maps the vector
    week = f"{alias}-incidents-2026w12"
    merge = es.indices.get_settings(index=week)[week]["settings"]["index"]["merge"]["policy"]
    assert merge["segments_per_tier"] == "4"
    mapping = es.indices.get_mapping(index=week)[week]["mappings"]["properties"]["vec"]
    assert mapping["dims"] == DIMS and mapping["index_options"]["type"] == "int8_hnsw"


def test_a_revision_in_a_later_week_keeps_its_answer_and_one_document(
    es: Elasticsearch, assigner: IncidentAssigner, incident_settings: Settings
) -> None:
    first = at(SUNDAY_NIGHT, EUSTON[0], source_id="rev-1")
    [a] = assign(assigner, [first])
    revised = at(SUNDAY_NIGHT + timedelta(days=9), OTHER[1], source_id="rev-1")  # other text
    [b] = assign(assigner, [revised])
    assert b == a
    key = opener(first).cluster_id
    assert list(state.locate(es, incident_settings.index_alias, [key]).values()) == [
        state.partition(incident_settings.index_alias, first.received_at.timestamp())
    ]


def test_opening_a_week_settles_the_weeks_no_window_reaches(
    es: Elasticsearch, assigner: IncidentAssigner, incident_settings: Settings
) -> None:
    alias = incident_settings.index_alias
    for weeks_on in range(4):  # four weeks, one report each, oldest first
        assign(assigner, [at(SUNDAY_NIGHT + timedelta(weeks=weeks_on), OTHER[weeks_on % 2])])
    names = sorted(es.indices.get(index=state.partitions(alias)))
    assert len(names) == 4
    assert state.settle(es, alias) == names[:2]  # the newest two are still written to


def test_a_week_that_cannot_be_read_stops_the_batch_instead_of_deciding_again(
    es: Elasticsearch, assigner: IncidentAssigner, incident_settings: Settings
) -> None:
    alias = incident_settings.index_alias
    first = at(SUNDAY_NIGHT, EUSTON[0])
    assign(assigner, [first])
    week = state.partition(alias, first.received_at.timestamp())
    es.indices.put_settings(index=week, settings={"index.blocks.read": True})
    try:
        with pytest.raises(SearchUnavailable):  # a replay: read as "not found" it would re-decide
            assign(assigner, [first])
    finally:
        es.indices.put_settings(index=week, settings={"index.blocks.read": False})
