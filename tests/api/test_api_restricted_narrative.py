"""A caller's own name and number written in the narrative, through the API on the real index.

Analysts' searches, highlights, facets, report views, links, entity views and exports never
contain them; the restricted role gets the narrative as written and what was masked in it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from api_support import Api, Corpus, Sample, index_samples
from elasticsearch import Elasticsearch

from pipeline.api.app import create_app
from pipeline.enrich.mentions import EntityType
from pipeline.ingest.sources import Source
from pipeline.settings import Settings

pytestmark = pytest.mark.integration

CALLER_PHONE = "+447700900456"
OWN_TEXT = (
    "Caller Fatima Khan said to ring her on 07700 900456. She saw Imran Hussain load the van "
    "AB12 CDE near the depot; KHAN Fatima will call again."
)
# Every form in which the caller's own values could leak.
SECRETS = ("fatima", "khan", "900456", "7700900456")

OWN = (
    Sample(
        "own",
        Source.HOTLINE_CALL,
        "hc-own",
        datetime(2026, 11, 5, 10, 0, tzinfo=UTC),
        OWN_TEXT,
        (
            (EntityType.PERSON, "Fatima Khan", "Fatima Khan"),
            (EntityType.PHONE, "07700 900456", CALLER_PHONE),
            (EntityType.PERSON, "Imran Hussain", "Imran Hussain"),
            (EntityType.VEHICLE, "AB12 CDE", "AB12CDE"),
        ),
        "North West",
        "cluster-own",
        restricted={"caller": {"name": "Fatima Khan", "phone": "07700 900456"}},
    ),
    # Shares the van with the caller's report; names a different number.
    Sample(
        "van",
        Source.PUBLIC_REPORT,
        "pr-van",
        datetime(2026, 11, 6, 11, 0, tzinfo=UTC),
        "The depot van AB12 CDE was back, loaded by Imran Hussain; his number is 07700 900777.",
        (
            (EntityType.VEHICLE, "AB12 CDE", "AB12CDE"),
            (EntityType.PERSON, "Imran Hussain", "Imran Hussain"),
            (EntityType.PHONE, "07700 900777", "+447700900777"),
        ),
        "North West",
        "cluster-van",
    ),
)


@pytest.fixture
def own(es: Elasticsearch, api_settings: Settings) -> tuple[Api, Corpus]:
    corpus = Corpus(api_settings, index_samples(es, api_settings, OWN))
    return Api(create_app(api_settings, es)), corpus


def assert_no_secret(body: str) -> None:
    lowered = body.lower()
    assert not [s for s in SECRETS if s in lowered], body


def test_analyst_search_cannot_find_the_report_by_the_callers_values(
    own: tuple[Api, Corpus],
) -> None:
    api, _ = own
    for q in ("Fatima", "Khan", "07700 900456", "+447700900456"):
        page = api.get("/api/search", params={"q": q}).json()
        assert page["total"] == 0, q
    filtered = api.get("/api/search", params={"entity": f"phone:{CALLER_PHONE}"}).json()
    assert filtered["total"] == 0
    by_name = api.get("/api/search", params={"entity": "person:Fatima Khan"}).json()
    assert by_name["total"] == 0


def test_analyst_results_highlights_and_facets_show_only_the_masked_text(
    own: tuple[Api, Corpus],
) -> None:
    api, corpus = own
    response = api.get("/api/search", params={"q": "Imran", "collapse": "false"})
    assert response.status_code == 200
    assert_no_secret(response.text)
    page = response.json()
    result = next(r for r in page["results"] if r["id"] == corpus.ids["own"])
    assert result["text"].startswith("Caller [caller name] said to ring her on [caller phone].")
    highlighted = "".join(s["text"] for f in result["highlights"] for s in f)
    assert "[caller name]" in highlighted
    assert [s["text"] for f in result["highlights"] for s in f if s["hit"]] == ["Imran"]
    for mention in result["entity_mentions"]:
        assert result["text"][mention["start"] : mention["end"]] == mention["text"]
    facets = page["facets"]
    assert {b["value"] for b in facets["entities.person"]} == {"Imran Hussain"}
    assert {b["value"] for b in facets["entities.phone"]} == {"+447700900777"}
    assert result["restricted"] is None
    assert result["restricted_text"] is None
    assert result["restricted_entities"] is None


def test_analyst_report_view_links_and_entity_view_never_use_the_callers_values(
    own: tuple[Api, Corpus],
) -> None:
    api, corpus = own
    view = api.get(f"/api/reports/{corpus.ids['own']}")
    assert view.status_code == 200
    assert_no_secret(view.text)
    body = view.json()
    assert body["report"]["entities"] == {"person": ["Imran Hussain"], "vehicle": ["AB12CDE"]}
    assert [(r["id"], r["shared"]) for r in body["linked"]] == [
        (corpus.ids["van"], {"vehicle": ["AB12CDE"]})
    ]
    entity = api.get("/api/entities/phone", params={"value": "07700 900456"}).json()
    assert (entity["total"], entity["reports"]) == (0, [])
    person = api.get("/api/entities/person", params={"value": "Fatima Khan"}).json()
    assert person["total"] == 0
    # the van's report view, which links back to the caller's report
    other = api.get(f"/api/reports/{corpus.ids['van']}")
    assert_no_secret(other.text)


def test_analyst_export_never_contains_the_callers_values(own: tuple[Api, Corpus]) -> None:
    api, _ = own
    export = api.get("/api/export", params={"q": "depot"})
    assert export.status_code == 200
    assert len(export.text.strip().splitlines()) == 2
    assert_no_secret(export.text)


def test_restricted_role_gets_the_narrative_as_written(own: tuple[Api, Corpus]) -> None:
    api, corpus = own
    report = api.get(f"/api/reports/{corpus.ids['own']}", role="restricted").json()["report"]
    assert report["text"].startswith("Caller [caller name]")  # the same searchable text
    assert report["restricted_text"] == OWN_TEXT
    assert report["restricted"] == {"caller": {"name": "Fatima Khan", "phone": "07700 900456"}}
    assert report["restricted_entities"] == {"person": ["Fatima Khan"], "phone": [CALLER_PHONE]}
    spans = [(m["field"], OWN_TEXT[m["start"] : m["end"]]) for m in report["restricted_mentions"]]
    assert spans == [
        ("caller.name", "Fatima Khan"),
        ("caller.phone", "07700 900456"),
        ("caller.name", "KHAN Fatima"),
    ]
    search = api.get("/api/search", params={"q": "Imran"}, role="restricted").json()
    found = next(r for r in search["results"] if r["id"] == corpus.ids["own"])
    assert found["restricted_text"] == OWN_TEXT
    assert json.dumps(search["facets"]).lower().count("fatima") == 0
