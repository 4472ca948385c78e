"""The search API against the real Elasticsearch node: search, views, roles, audit, leaks."""

from __future__ import annotations

import json

import pytest
from api_support import KEYS, RESTRICTED_VALUES, USERS, Api, Corpus, audit_entries
from elasticsearch import Elasticsearch

pytestmark = pytest.mark.integration

PHONE = "+447700900123"


def leaks(text: str) -> list[str]:
    lowered = text.lower()
    return [value for value in RESTRICTED_VALUES if value.lower() in lowered]


def endpoints(corpus: Corpus) -> list[tuple[str, str, dict[str, object]]]:
    return [
        ("GET", "/api/search", {"params": {"q": "bridge"}}),
        ("POST", "/api/search", {"json": {"q": "bridge"}}),
        ("GET", f"/api/reports/{corpus.ids['pr1']}", {}),
        ("GET", "/api/entities/phone", {"params": {"value": PHONE}}),
        ("GET", "/api/export", {"params": {"q": "bridge"}}),
    ]


@pytest.mark.parametrize(
    ("role", "key", "expected"),
    [
        ("analyst", None, 200),
        ("restricted", None, 200),
        ("operator", None, 403),
        (None, "not-a-key-at-all-xxxx", 401),
        (None, None, 401),
    ],
)
def test_each_role_on_each_search_endpoint(
    api: Api, corpus: Corpus, role: str | None, key: str | None, expected: int
) -> None:
    for method, path, kwargs in endpoints(corpus):
        response = api.request(method, path, role=role, key=key, **kwargs)
        assert response.status_code == expected, (method, path, response.text)


@pytest.mark.parametrize(
    ("role", "expected"), [("analyst", 403), ("restricted", 403), ("operator", 200), (None, 401)]
)
def test_metrics_are_for_operators_only(
    api: Api, corpus: Corpus, role: str | None, expected: int
) -> None:
    api.get("/api/search", params={"q": "bridge"})
    response = api.get("/metrics", role=role)
    assert response.status_code == expected
    if expected == 200:
        assert 'ct_pipeline_api_requests_total{method="GET",route="/api/search"' in response.text


def test_healthz_needs_no_key(api: Api) -> None:
    response = api.get("/healthz", role=None, why=None)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert api.get("/openapi.json", role=None).status_code == 200


def test_whoami_names_user_and_role(api: Api) -> None:
    assert api.get("/api/whoami", role="restricted").json() == {
        "user": "rita",
        "role": "restricted",
    }


def test_analyst_never_sees_restricted_values(api: Api, corpus: Corpus) -> None:
    bodies = []
    for method, path, kwargs in endpoints(corpus):
        response = api.request(method, path, role="analyst", **kwargs)
        assert response.status_code == 200
        bodies.append(response.text)
    for name in corpus.ids:
        bodies.append(api.get(f"/api/reports/{corpus.ids[name]}").text)
    # Searching for a restricted value finds nothing and echoes nothing back.
    for value in RESTRICTED_VALUES:
        response = api.get("/api/search", params={"q": value})
        assert response.json()["total"] == 0
        bodies.append(response.text)
    assert leaks("\n".join(bodies)) == []
    assert all('"restricted":null' in body.replace(" ", "") for body in bodies[2:4])


def test_restricted_role_sees_reporter_details(api: Api, corpus: Corpus) -> None:
    view = api.get(f"/api/reports/{corpus.ids['pr1']}", role="restricted").json()
    assert view["report"]["restricted"]["reporter"]["name"] == "Zebedee Quarrington"
    page = api.get("/api/search", params={"q": "depot"}, role="restricted").json()
    assert page["results"][0]["restricted"]["caller"]["name"] == "Ottoline Vexworth"


def test_missing_justification_is_refused_and_nothing_is_returned(
    api: Api, corpus: Corpus, es: Elasticsearch
) -> None:
    for method, path, kwargs in endpoints(corpus):
        for why in (None, "   "):
            response = api.request(method, path, why=why, **kwargs)
            assert response.status_code == 400, (method, path)
            assert "justification" in response.json()["detail"]
            assert corpus.ids["pr1"] not in response.text
    assert audit_entries(es, corpus.settings) == []


def test_justification_may_be_a_field(api: Api, corpus: Corpus, es: Elasticsearch) -> None:
    assert (
        api.get("/api/search", why=None, params={"q": "x", "justification": "op A"}).status_code
        == 200
    )
    assert (
        api.post("/api/search", why=None, json={"q": "x", "justification": "op B"}).status_code
        == 200
    )
    assert sorted(e.justification for e in audit_entries(es, corpus.settings)) == ["op A", "op B"]


def test_every_search_and_view_is_audited_with_returned_ids(
    api: Api, corpus: Corpus, es: Elasticsearch
) -> None:
    search = api.get(
        "/api/search", params={"q": "bridge", "collapse": "false"}, why="case 1"
    ).json()
    view = api.get(f"/api/reports/{corpus.ids['hc1']}", role="restricted", why="case 2").json()
    entity = api.get("/api/entities/vehicle", params={"value": "ab12 cde"}, why="case 3").json()
    export = api.get("/api/export", params={"q": "bridge"}, why="case 4")
    missing = api.get("/api/reports/no-such-report", why="case 5")
    assert missing.status_code == 404

    entries = {e.justification: e for e in audit_entries(es, corpus.settings)}
    assert set(entries) == {"case 1", "case 2", "case 3", "case 4", "case 5"}
    assert entries["case 1"].action == "search"
    assert entries["case 1"].user == USERS["analyst"] and entries["case 1"].role == "analyst"
    assert entries["case 1"].query["q"] == "bridge"
    assert entries["case 1"].ids == [r["id"] for r in search["results"]]
    assert entries["case 2"].action == "view_report" and entries["case 2"].role == "restricted"
    assert entries["case 2"].ids[0] == view["report"]["id"] == corpus.ids["hc1"]
    assert entries["case 3"].action == "view_entity"
    assert entries["case 3"].query == {"type": "vehicle", "value": "AB12CDE"}
    assert entries["case 3"].ids == [r["id"] for r in entity["reports"]] == [corpus.ids["hc1"]]
    exported = [json.loads(line)["id"] for line in export.text.splitlines()]
    assert entries["case 4"].action == "export" and entries["case 4"].ids == exported
    assert entries["case 5"].action == "view_report" and entries["case 5"].ids == []


def test_no_results_without_an_audit_record(api: Api, corpus: Corpus, es: Elasticsearch) -> None:
    index = f"{corpus.settings.index_alias}-audit"
    api.get("/api/search", params={"q": "bridge"})  # creates the audit index
    es.indices.put_settings(index=index, settings={"index.blocks.write": True})
    try:
        response = api.get("/api/search", params={"q": "bridge"})
        assert response.status_code == 503
        assert all(doc_id not in response.text for doc_id in corpus.ids.values())
        assert "bridge" not in response.text
    finally:
        es.indices.put_settings(index=index, settings={"index.blocks.write": False})


@pytest.mark.parametrize(
    "garbage",
    [
        '"unclosed phrase',
        "((((",
        "a AND OR NOT",
        '+-|*~"()\\',
        "field:value restricted.reporter.name:Zebedee",
        "/regex.*/",
        "\x00\x01 null bytes",
        "😀 émoji ∑",
        "a" * 1000,
        "<script>alert(1)</script>",
        "*",
        "~10",
    ],
)
def test_garbage_query_text_is_never_a_server_error(api: Api, corpus: Corpus, garbage: str) -> None:
    response = api.get("/api/search", params={"q": garbage})
    assert response.status_code == 200, response.text
    assert leaks(response.text) == []


def test_tampered_cursor_is_a_client_error(api: Api, corpus: Corpus) -> None:
    for cursor in ("!!!", "eyJzIjoibmV3ZXN0IiwiYSI6WyJ4IiwieSIsInoiXX0", "e30"):
        response = api.get(
            "/api/search", params={"cursor": cursor, "sort": "newest", "collapse": "false"}
        )
        assert response.status_code == 400, response.text


def test_filters_sort_and_facets(api: Api, corpus: Corpus) -> None:
    page = api.get("/api/search", params={"sort": "newest", "collapse": "false"}).json()
    assert [r["source_id"] for r in page["results"]] == ["or-1", "rr-1", "hc-1", "pr-2", "pr-1"]
    assert {b["value"]: b["count"] for b in page["facets"]["source"]} == {
        "public_report": 2,
        "hotline_call": 1,
        "radicalisation_referral": 1,
        "online_referral": 1,
    }
    assert {"value": PHONE, "count": 3} in page["facets"]["entities.phone"]
    assert not any(name.startswith("restricted") for name in page["facets"])

    by_entity = api.get("/api/search", params={"entity": "phone:07700 900123", "collapse": "false"})
    assert {r["source_id"] for r in by_entity.json()["results"]} == {"pr-1", "pr-2", "hc-1"}
    by_region = api.get("/api/search", params={"region": "Wales"}).json()
    assert [r["source_id"] for r in by_region["results"]] == ["rr-1"]
    by_source = api.post("/api/search", json={"source": ["hotline_call"]}).json()
    assert [r["source_id"] for r in by_source["results"]] == ["hc-1"]
    by_time = api.get(
        "/api/search",
        params={
            "since": "2026-11-02T00:00:00Z",
            "until": "2026-11-03T23:00:00+01:00",
            "sort": "oldest",
        },
    ).json()
    assert [r["source_id"] for r in by_time["results"]] == ["hc-1", "rr-1"]
    bad = api.get("/api/search", params={"entity": "restricted:Zebedee"})
    assert bad.status_code == 422 and leaks(bad.text) == []


def test_highlights_are_plain_segments(api: Api, corpus: Corpus) -> None:
    page = api.get("/api/search", params={"q": "pupil"}).json()
    [result] = page["results"]
    segments = [s for fragment in result["highlights"] for s in fragment]
    assert {"text": "Pupil", "hit": True} in segments
    assert "<script>" in "".join(s["text"] for s in segments)
    assert "\ue000" not in json.dumps(page)


def test_clusters_fold_with_similar_count(api: Api, corpus: Corpus) -> None:
    page = api.get("/api/search", params={"q": "bridge"}).json()
    bridge = [r for r in page["results"] if r["cluster_id"] == "cluster-bridge"]
    assert len(bridge) == 1 and bridge[0]["similar"] == 1
    assert page["clusters"] == 2  # the bridge cluster and the school referral (bridge railings)
    flat = api.get("/api/search", params={"q": "bridge", "collapse": "false"}).json()
    assert len([r for r in flat["results"] if r["cluster_id"] == "cluster-bridge"]) == 2


@pytest.mark.parametrize("collapse", ["false", "true"])
def test_cursor_pages_through_everything_once(api: Api, corpus: Corpus, collapse: str) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params = {"size": "2", "sort": "newest", "collapse": collapse}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/api/search", params=params).json()
        seen += [r["source_id"] for r in page["results"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    expected = (
        ["or-1", "rr-1", "hc-1", "pr-2", "pr-1"]
        if collapse == "false"
        else ["or-1", "rr-1", "hc-1", "pr-2"]
    )
    assert seen == expected


def test_report_view_has_cluster_and_linked_reports(api: Api, corpus: Corpus) -> None:
    view = api.get(f"/api/reports/{corpus.ids['pr1']}").json()
    assert view["report"]["source_id"] == "pr-1"
    assert view["cluster_size"] == 2
    assert [r["source_id"] for r in view["cluster"]] == ["pr-2"]
    linked = {r["source_id"]: r for r in view["linked"]}
    assert "hc-1" in linked
    assert linked["hc-1"]["shared"] == {"phone": [PHONE]}
    assert api.get("/api/reports/unknown").status_code == 404


def test_entity_view(api: Api, corpus: Corpus) -> None:
    view = api.get("/api/entities/phone", params={"value": "07700 900123"}).json()
    assert view["value"] == PHONE
    assert view["total"] == 3
    assert {b["value"]: b["count"] for b in view["sources"]} == {
        "public_report": 2,
        "hotline_call": 1,
    }
    assert view["first_seen"].startswith("2026-11-01T09:00")
    assert view["last_seen"].startswith("2026-11-02T14:00")
    assert api.get("/api/entities/restricted", params={"value": "x"}).status_code == 422


def test_keys_are_never_echoed(api: Api, corpus: Corpus) -> None:
    response = api.get("/api/search", key=KEYS["analyst"] + "x")
    assert response.status_code == 401
    assert KEYS["analyst"] not in response.text
