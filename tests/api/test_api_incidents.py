"""The incident view and fold-by-incident against the real Elasticsearch node, by role."""

from __future__ import annotations

import pytest
from api_support import RESTRICTED_VALUES, Api, Corpus, audit_entries
from elasticsearch import Elasticsearch

pytestmark = pytest.mark.integration

INCIDENT = "inc-cluster-bridge"  # pr1 and pr2 (one cluster) and hc1 (another), one event


@pytest.mark.parametrize("role", ["analyst", "restricted"])
def test_the_incident_view_lists_its_reports_sources_regions_and_merged_entities(
    api: Api, corpus: Corpus, role: str
) -> None:
    response = api.get(f"/api/incidents/{INCIDENT}", role=role)
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["total"] == 3 and view["clusters"] == 2
    assert [r["id"] for r in view["reports"]] == [corpus.ids[n] for n in ("pr1", "pr2", "hc1")]
    assert {r["incident_id"] for r in view["reports"]} == {INCIDENT}
    assert {b["value"]: b["count"] for b in view["sources"]} == {
        "public_report": 2,
        "hotline_call": 1,
    }
    assert {b["value"]: b["count"] for b in view["regions"]} == {"London": 2, "North West": 1}
    [phone] = view["entities"]["phone"]
    assert (phone["value"], phone["count"]) == ("+447700900123", 3)
    assert phone["first_seen"].startswith("2026-11-01T09:00")
    assert phone["last_seen"].startswith("2026-11-02T14:00")
    assert view["first_seen"].startswith("2026-11-01T09:00")
    leaked = [v for v in RESTRICTED_VALUES if v.lower() in response.text.lower()]
    assert (leaked == []) if role == "analyst" else leaked


def test_an_unknown_incident_is_empty_and_the_view_is_audited(
    api: Api, corpus: Corpus, es: Elasticsearch
) -> None:
    assert api.get("/api/incidents/no-such-incident").json()["total"] == 0
    api.get(f"/api/incidents/{INCIDENT}", why="incident review 7")
    [entry] = [e for e in audit_entries(es, corpus.settings) if e.action == "view_incident"][:1]
    assert entry.query == {"id": INCIDENT} and entry.justification == "incident review 7"
    assert sorted(entry.ids) == sorted(corpus.ids[n] for n in ("pr1", "pr2", "hc1"))


def test_the_incident_view_needs_a_justification_and_a_searcher(api: Api, corpus: Corpus) -> None:
    assert api.get(f"/api/incidents/{INCIDENT}", why=None).status_code == 400
    assert api.get(f"/api/incidents/{INCIDENT}", role="operator").status_code == 403


def test_search_folds_by_incident_or_by_cluster(api: Api, corpus: Corpus) -> None:
    by_cluster = api.get("/api/search", params={"q": "07700 900123"}).json()
    by_incident = api.get("/api/search", params={"q": "07700 900123", "fold": "incident"}).json()
    assert by_cluster["total"] == by_incident["total"] == 3
    assert (by_cluster["clusters"], len(by_cluster["results"])) == (2, 2)
    assert (by_incident["clusters"], len(by_incident["results"])) == (1, 1)
    assert by_incident["results"][0]["similar"] == 2
    only = api.get("/api/search", params={"incident": INCIDENT, "collapse": "false"}).json()
    assert sorted(r["id"] for r in only["results"]) == sorted(
        corpus.ids[n] for n in ("pr1", "pr2", "hc1")
    )


def test_corrections_are_recorded_pending_audited_and_checked(
    api: Api, corpus: Corpus, es: Elasticsearch
) -> None:
    other = "inc-cluster-school"
    merged = api.post(
        f"/api/incidents/{INCIDENT}/merge", json={"into": other}, why="one event, two names"
    )
    assert merged.status_code == 202, merged.text
    body = merged.json()
    assert (body["kind"], body["status"], body["incident"], body["into"]) == (
        "merge",
        "pending",
        INCIDENT,
        other,
    )
    assert api.get(f"/api/incident-corrections/{body['id']}").json()["status"] == "pending"
    assert [c["id"] for c in api.get("/api/incident-corrections").json()] == [body["id"]]
    moved = api.post(f"/api/reports/{corpus.ids['hc1']}/move-out", json={}, why="another event")
    assert moved.status_code == 202 and moved.json()["incident"] == INCIDENT
    undo = api.post(f"/api/incident-corrections/{body['id']}/undo", json={}, why="wrong")
    assert undo.status_code == 202 and undo.json()["undoes"] == body["id"]
    entries = [e for e in audit_entries(es, corpus.settings) if e.action == "correct_incident"]
    assert {e.justification for e in entries} == {"one event, two names", "another event", "wrong"}

    assert api.post(f"/api/incidents/{INCIDENT}/merge", json={"into": INCIDENT}).status_code == 400
    assert api.post(f"/api/incidents/{INCIDENT}/merge", json={"into": "nope"}).status_code == 404
    assert api.post("/api/reports/nope/move-out", json={}).status_code == 404
    assert api.post("/api/incident-corrections/nope/undo", json={}).status_code == 404
    assert (
        api.post(f"/api/incidents/{INCIDENT}/merge", json={"into": other}, why=None).status_code
        == 400
    )
    assert (
        api.post(
            f"/api/incidents/{INCIDENT}/merge", json={"into": other}, role="operator"
        ).status_code
        == 403
    )
