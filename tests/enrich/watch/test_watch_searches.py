"""Saved searches over a batch's reports, against the real Elasticsearch node and real documents."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from pipeline.api.queries import SearchParams, search_body
from pipeline.enrich.exact import extract_exact
from pipeline.enrich.mentions import Enrichment
from pipeline.enrich.watch import SavedSearch, WatchEntry
from pipeline.enrich.watch.searches import MAX_CHUNK, BatchSearches
from pipeline.errors import SearchUnavailable, Unavailability
from pipeline.index.document import build_document, doc_id
from pipeline.index.mapping import ensure_index
from pipeline.index.query import HIT_TAGS
from pipeline.ingest.report import Origin, Report
from pipeline.ingest.sources import TOPIC_BY_SOURCE, Source
from pipeline.settings import Settings
from tests.enrich.watch.factory import NOW

pytestmark = pytest.mark.integration

PRE, POST = HIT_TAGS


@dataclass(frozen=True)
class Written:
    """A report to index: its source, narrative, region and restricted details."""

    source: Source
    text: str
    region: str | None = None
    restricted: dict[str, Any] | None = None


REPORTS = {
    "van": Written(
        Source.HOTLINE_CALL,
        "A white van with false plates was parked by the mosque on Cheetham Hill Road at 2am.",
        "North West",
    ),
    "van-wales": Written(
        Source.PUBLIC_REPORT,
        "Two men unloaded a white van behind the chapel and carried in heavy crates.",
        "Wales",
    ),
    "van-online": Written(
        Source.ONLINE_REFERRAL,
        "A channel posted photos of a white van outside the depot with a countdown.",
        "North West",
    ),
    "drone": Written(
        Source.HOTLINE_CALL,
        "Caller saw a drone hovering over the stadium during the match, flown from a car park.",
        "London",
    ),
    "caller": Written(
        Source.HOTLINE_CALL,
        "My neighbour keeps buying fertiliser in bulk and burning receipts in the garden.",
        "Eastern",
        restricted={"caller": {"name": "Ottoline Vexworth", "phone": "+441614960123"}},
    ),
}


def report(name: str, written: Written, offset: int) -> Report:
    return Report(
        source=written.source,
        source_id=name,
        received_at=datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
        text=written.text,
        restricted=written.restricted or {},
        origin=Origin(topic=TOPIC_BY_SOURCE[written.source], partition=0, offset=offset),
    )


def index_reports(es: Elasticsearch, alias: str, reports: dict[str, Written]) -> dict[str, str]:
    """Index the reports as the index step builds them, unrefreshed; their `_id`s by name."""
    ids: dict[str, str] = {}
    lines: list[dict[str, Any]] = []
    for offset, (name, written) in enumerate(reports.items()):
        built = report(name, written, offset)
        enrichment = Enrichment.from_mentions(extract_exact(written.text), written.region)
        ids[name] = doc_id(built.source.value, built.source_id)
        lines.append({"index": {"_index": alias, "_id": ids[name]}})
        lines.append(build_document(built, enrichment, None, ingested_at=NOW))
    answer = es.bulk(operations=lines)
    assert not answer["errors"]
    return ids


@pytest.fixture
def alias(es: Elasticsearch, settings: Settings, index_factory: Callable[[str], str]) -> str:
    """A fresh report alias whose index never refreshes on its own: only `matches` makes the
    batch searchable, as a busy index would not have done yet either."""
    deployed = settings.model_copy(update={"index_alias": index_factory("searches")})
    index = ensure_index(es, deployed)
    es.indices.put_settings(index=index, settings={"index.refresh_interval": "-1"})
    return deployed.index_alias


@pytest.fixture
def ids(es: Elasticsearch, alias: str) -> dict[str, str]:
    return index_reports(es, alias, REPORTS)


def saved(entry_id: str, q: str, **narrowing: Any) -> WatchEntry:
    return WatchEntry(
        id=entry_id,
        owner="analyst1",
        justification="operation TEST",
        created=NOW,
        search=SavedSearch(q=q, **narrowing),
    )


def matched(found: dict[str, list[Any]], ids: dict[str, str]) -> dict[str, list[str]]:
    """Report name -> the ids of the entries that matched it."""
    names = {report_id: name for name, report_id in ids.items()}
    return {names[rid]: [m.entry.id for m in matches] for rid, matches in found.items()}


def test_a_saved_search_matches_the_reports_with_all_its_words_and_no_others(
    es: Elasticsearch, alias: str, ids: dict[str, str]
) -> None:
    found = BatchSearches(es, alias).matches([saved("s1", "white van")], list(ids.values()))
    assert matched(found, ids) == {"van": ["s1"], "van-wales": ["s1"], "van-online": ["s1"]}
    assert all(m.mention is None for matches in found.values() for m in matches)


def test_it_finds_what_the_same_search_through_the_api_lists(
    es: Elasticsearch, alias: str, ids: dict[str, str]
) -> None:
    queries = [
        ('van -chapel "white van"', (), ()),
        ("drone | fertiliser", (Source.HOTLINE_CALL,), ()),
        ("van", (), ("North West",)),
        ("cheetham~1 hill", (), ()),
    ]
    for q, sources, regions in queries:
        entry = saved("s", q, sources=sources, regions=regions)
        found = BatchSearches(es, alias).matches([entry], list(ids.values()))
        params = SearchParams(
            q=q, sources=tuple(s.value for s in sources), regions=regions, collapse=False, size=50
        )
        listed = es.search(index=alias, body=search_body(params, restricted=False))
        assert set(found) == {hit["_id"] for hit in listed["hits"]["hits"]}, q
        assert found, q


def test_source_and_region_filters_narrow_it(
    es: Elasticsearch, alias: str, ids: dict[str, str]
) -> None:
    entries = [
        saved("by-source", "white van", sources=(Source.HOTLINE_CALL, Source.PUBLIC_REPORT)),
        saved("by-region", "white van", regions=("North West",)),
        saved("by-both", "white van", sources=(Source.ONLINE_REFERRAL,), regions=("North West",)),
    ]
    found = BatchSearches(es, alias).matches(entries, list(ids.values()))
    assert matched(found, ids) == {
        "van": ["by-region", "by-source"],
        "van-wales": ["by-source"],
        "van-online": ["by-both", "by-region"],
    }


def test_the_fragment_marks_the_matched_words_of_its_own_entry(
    es: Elasticsearch, alias: str, ids: dict[str, str]
) -> None:
    entries = [saved("a-plates", "false plates"), saved("b-mosque", "mosque")]
    found = BatchSearches(es, alias).matches(entries, [ids["van"]])
    plates, mosque = found[ids["van"]]
    assert plates.highlight is not None and mosque.highlight is not None
    assert f"{PRE}false{POST} {PRE}plates{POST}" in plates.highlight
    assert PRE not in plates.highlight.replace(f"{PRE}false{POST} {PRE}plates{POST}", "")
    assert f"{PRE}mosque{POST}" in mosque.highlight and "false plates" in mosque.highlight
    plain = plates.highlight.replace(PRE, "").replace(POST, "")
    assert plain in REPORTS["van"].text


def test_two_entries_on_one_report_come_back_in_id_order(
    es: Elasticsearch, alias: str, ids: dict[str, str]
) -> None:
    entries = [saved("zulu", "drone"), saved("alpha", "stadium match"), saved("mike", "crates")]
    found = BatchSearches(es, alias).matches(entries, list(ids.values()))
    assert matched(found, ids) == {"drone": ["alpha", "zulu"], "van-wales": ["mike"]}
    assert list(found) == [ids["van-wales"], ids["drone"]]  # the order of the ids given


def test_a_query_that_matches_nothing_returns_nothing(
    es: Elasticsearch, alias: str, ids: dict[str, str]
) -> None:
    searches = BatchSearches(es, alias)
    assert searches.matches([saved("none", "submarine periscope")], list(ids.values())) == {}
    assert searches.matches([], list(ids.values())) == {}
    assert searches.matches([saved("s", "van")], []) == {}


def test_restricted_values_are_never_matched_or_shown(
    es: Elasticsearch, alias: str, ids: dict[str, str]
) -> None:
    searches = BatchSearches(es, alias)
    for q in ("Vexworth", "Ottoline", "441614960123", "+441614960123"):
        assert searches.matches([saved("r", q, sources=())], list(ids.values())) == {}, q
    [match] = searches.matches([saved("f", "fertiliser")], [ids["caller"]])[ids["caller"]]
    assert match.highlight is not None and "Vexworth" not in match.highlight


def test_the_refresh_is_what_makes_the_batch_searchable(
    es: Elasticsearch, alias: str, ids: dict[str, str]
) -> None:
    unrefreshed = BatchSearches(es, alias, refresh=False)
    assert unrefreshed.matches([saved("s", "drone")], list(ids.values())) == {}
    assert list(BatchSearches(es, alias).matches([saved("s", "drone")], list(ids.values()))) == [
        ids["drone"]
    ]


def test_more_than_a_chunk_of_ids_is_asked_in_chunks(es: Elasticsearch, alias: str) -> None:
    many = {
        f"bag-{n:03d}": Written(
            Source.PUBLIC_REPORT, f"Bag number {n} left unattended at a bus stop."
        )
        for n in range(MAX_CHUNK * 2 + 30)
    }
    ids = index_reports(es, alias, many)
    wanted = [ids[name] for name in sorted(many, reverse=True)]
    entries = [saved("bags", "unattended bag"), saved("seven", "7")]
    found = BatchSearches(es, alias).matches(entries, [*wanted, wanted[0]])
    assert list(found) == wanted
    assert {rid: [m.entry.id for m in ms] for rid, ms in found.items() if len(ms) > 1} == {
        ids["bag-007"]: ["bags", "seven"]
    }


def test_an_index_that_cannot_answer_fails_the_batch_for_a_retry(
    es: Elasticsearch, index_factory: Callable[[str], str]
) -> None:
    missing = BatchSearches(es, index_factory("missing"))
    with pytest.raises(SearchUnavailable) as info:
        missing.matches([saved("s", "van")], ["some-id"])
    assert info.value.reason is Unavailability.INDEX_UNAVAILABLE
