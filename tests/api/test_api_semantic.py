"""Semantic search and "more like this" through the API, over reports ingested the workers'
way (enriched, given incidents and vectors, indexed) on the real Elasticsearch node."""

from __future__ import annotations

import pytest
from api_support import Api
from elasticsearch import Elasticsearch
from fastapi import FastAPI

from pipeline.api.app import create_app
from pipeline.enrich.embed import Embedder
from pipeline.enrich.extract import Enricher
from pipeline.enrich.incidents.assigner import IncidentAssigner
from pipeline.index.document import doc_id
from pipeline.index.mapping import ensure_index
from pipeline.settings import Settings
from tests.enrich.incidents.test_incident_corrections import ingest
from tests.enrich.incidents.test_incident_state import EUSTON, OTHER, report

pytestmark = pytest.mark.integration


@pytest.fixture
def semantic_api(es: Elasticsearch, api_settings: Settings) -> Api:
    ensure_index(es, api_settings)
    assigner = IncidentAssigner(es, api_settings, Embedder.load())
    assigner.ensure()
    batch = [report(text, i, f"s{i}") for i, text in enumerate([*EUSTON, *OTHER])]
    secret = report(OTHER[1] + " Reporter Quillon Vantablack.", 9, "secret")
    secret = secret.model_copy(update={"restricted": {"reporter": {"name": "Quillon Vantablack"}}})
    ingest(es, Enricher.load(), assigner, api_settings.index_alias, [*batch, secret])
    app: FastAPI = create_app(api_settings, es)
    return Api(app)


def test_a_semantic_search_finds_the_event_in_other_words(semantic_api: Api) -> None:
    words = "someone dumped their luggage at the railway turnstiles and vanished"
    keyword = semantic_api.get("/api/search", params={"q": words}).json()
    meaning = semantic_api.get("/api/search", params={"q": words, "mode": "semantic"}).json()
    assert keyword["total"] == 0 or keyword["partial_match"]  # not these words, all of them
    top = [r["source_id"] for r in meaning["results"][:3]]
    assert sorted(top) == ["s0", "s1", "s2"], meaning["results"]
    assert meaning["results"][0]["likeness"] >= meaning["results"][-1]["likeness"]
    only = semantic_api.get(
        "/api/search", params={"q": words, "mode": "semantic", "source": "hotline_call"}
    ).json()
    assert only["total"] == 0  # the filters apply to a semantic search too


def test_more_like_this_lists_the_same_event_first_and_never_itself(semantic_api: Api) -> None:
    first = doc_id("public_report", "s0")
    found = semantic_api.get(f"/api/reports/{first}/similar", params={"size": 3}).json()
    ids = [r["source_id"] for r in found["results"]]
    assert "s0" not in ids and sorted(ids[:2]) == ["s1", "s2"], found
    assert semantic_api.get("/api/reports/nope/similar").status_code == 404


def test_no_restricted_value_reaches_an_analyst_by_meaning(semantic_api: Api) -> None:
    for response in (
        semantic_api.get("/api/search", params={"q": "nephew extremist", "mode": "semantic"}),
        semantic_api.get(f"/api/reports/{doc_id('public_report', 's4')}/similar"),
    ):
        assert response.status_code == 200
        assert "secret" in response.text  # the report is found ...
        assert "Vantablack" not in response.text  # ... with the reporter's name masked
