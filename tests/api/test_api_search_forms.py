"""Word forms and the most-words fallback, through the API on the real (analysis-less) node."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from api_support import Api, Corpus, Sample, audit_entries, index_samples
from elasticsearch import Elasticsearch

from pipeline.api.app import create_app
from pipeline.enrich.mentions import EntityType
from pipeline.ingest.sources import Source
from pipeline.settings import Settings

pytestmark = pytest.mark.integration


def sample(name: str, text: str, day: int, **more: object) -> Sample:
    return Sample(
        name,
        Source.PUBLIC_REPORT,
        f"pr-{name}",
        datetime(2026, 11, day, 9, 0, tzinfo=UTC),
        text,
        more.pop("mentions", ()),  # type: ignore[arg-type]
        "London",
        f"cluster-{name}",
        **more,  # type: ignore[arg-type]
    )


FORMS = (
    # newest, so "newest first" would list it first: relevance must put `exact` above it
    sample("forms", "Two bags were left unattended at the stations near the canal.", 9),
    sample("exact", "A bag was left at the station entrance overnight.", 2),
    sample("station", "Police cleared the station after a call about a parcel.", 3),
    sample("bags", "Three rucksacks and holdall bags were found by the river.", 4),
    sample(
        "own",
        "Caller Fatima Khan said two drones flew over the depot; KHAN Fatima will call.",
        5,
        mentions=((EntityType.PERSON, "Fatima Khan", "Fatima Khan"),),
        restricted={"caller": {"name": "Fatima Khan"}},
    ),
)


@pytest.fixture
def forms(es: Elasticsearch, api_settings: Settings) -> tuple[Api, Corpus]:
    corpus = Corpus(api_settings, index_samples(es, api_settings, FORMS))
    return Api(create_app(api_settings, es)), corpus


def names(page: dict[str, object], corpus: Corpus) -> list[str]:
    by_id = {doc_id: name for name, doc_id in corpus.ids.items()}
    return [by_id[r["id"]] for r in page["results"]]  # type: ignore[attr-defined]


def test_station_bag_finds_stations_and_bags_and_exact_words_rank_first(
    forms: tuple[Api, Corpus],
) -> None:
    api, corpus = forms
    page = api.get("/api/search", params={"q": "station bag"}).json()
    assert names(page, corpus) == ["exact", "forms"]
    assert page["partial_match"] is False
    # the word forms found only through their stems are marked in the fragment
    marked = {s["text"] for s in page["results"][1]["highlights"][0] if s["hit"]}
    assert marked == {"bags", "stations"}
    # any form of the query finds the same reports
    for q in ("stations bags", "Station's BAGS", '"bags were left"', '"bag were left"'):
        found = api.get("/api/search", params={"q": q}).json()
        assert set(names(found, corpus)) >= {"forms"}, q
    # a negated word form excludes every form of it
    excluded = api.get("/api/search", params={"q": "bag -stations"}).json()
    assert names(excluded, corpus) == ["bags"]
    assert "text_stems" not in str(page)


def test_no_report_with_every_word_shows_those_with_most_of_them_flagged(
    forms: tuple[Api, Corpus], es: Elasticsearch
) -> None:
    api, corpus = forms
    # three words: a report needs two of them (the ones with only `stations` are left out)
    page = api.get("/api/search", params={"q": "canal stations drones"}).json()
    assert page["partial_match"] is True
    assert names(page, corpus) == ["forms"]
    entry = audit_entries(es, corpus.settings)[0]
    assert entry.query["partial_match"] is True and entry.ids == [corpus.ids["forms"]]
    # two words: one of them will do
    page = api.get("/api/search", params={"q": "canal drone"}).json()
    assert page["partial_match"] is True
    assert set(names(page, corpus)) == {"forms", "own"}
    # an export holds only reports with every word
    assert api.get("/api/export", params={"q": "canal drone"}).content == b""

    # every word found: not flagged; nothing found even so: not flagged either
    assert api.get("/api/search", params={"q": "canal stations"}).json()["partial_match"] is False
    none = api.get("/api/search", params={"q": "zeppelin blimp"}).json()
    assert none["total"] == 0 and none["partial_match"] is False
    # operators say what the analyst meant: never relaxed
    strict = api.get("/api/search", params={"q": "canal -stations drones"}).json()
    assert strict["total"] == 0 and strict["partial_match"] is False


def test_the_stems_hold_no_restricted_value(forms: tuple[Api, Corpus], es: Elasticsearch) -> None:
    api, corpus = forms
    source = es.get(index=corpus.settings.index_alias, id=corpus.ids["own"])["_source"]
    assert "fatima" not in source["text_stems"] and "khan" not in source["text_stems"]
    assert "drone" in source["text_stems"].split()
    for q in ("khans", "fatimas", "Khan's", "khan"):
        assert api.get("/api/search", params={"q": q}).json()["total"] == 0, q
    assert api.get("/api/search", params={"q": "drone"}).json()["total"] == 1
