"""Watchlist entries through the API against the real Elasticsearch node: owners, rules, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_support import USERS, Api, Corpus, audit_entries
from elasticsearch import Elasticsearch

from pipeline.enrich.watch.entries import WatchEntry
from pipeline.enrich.watch.store import ensure_watch_index, put_entry, watch_index

pytestmark = pytest.mark.integration

PHONE = {"target": "phone:07700 900123", "justification": "Op Bridge: the guard's caller"}


@pytest.fixture
def alias(es: Elasticsearch, corpus: Corpus) -> str:
    """The corpus' alias, with its watchlist index made as the worker makes it."""
    ensure_watch_index(es, corpus.settings.index_alias)
    return corpus.settings.index_alias


def create(api: Api, body: dict[str, Any], role: str = "analyst") -> dict[str, Any]:
    response = api.post("/api/watch", json=body, role=role)
    assert response.status_code == 201, response.text
    return dict(response.json())


def listed(api: Api, role: str = "analyst") -> list[dict[str, Any]]:
    response = api.get("/api/watch", role=role)
    assert response.status_code == 200, response.text
    return list(response.json()["entries"])


def test_an_owner_creates_lists_shows_changes_and_deletes_an_entry(api: Api) -> None:
    before = datetime.now(UTC)
    entry = create(api, {**PHONE, "target": {"type": "phone", "value": "+44 7700 900123"}})
    assert entry["owner"] == USERS["analyst"]
    assert entry["target"] == {"type": "phone", "value": "+44 7700 900123", "key": "+447700900123"}
    assert entry["search"] is None
    assert (entry["priority"], entry["live"], entry["restricted"]) == ("normal", True, False)
    created = datetime.fromisoformat(entry["created"])
    assert before <= created <= datetime.now(UTC)
    assert datetime.fromisoformat(entry["expiry"]) - created == timedelta(days=90)
    assert set(entry) == {
        "id",
        "owner",
        "justification",
        "priority",
        "created",
        "expiry",
        "live",
        "target",
        "search",
        "restricted",
    }

    search = create(
        api,
        {
            "search": {"q": "bridge filming", "sources": ["public_report"], "regions": ["London"]},
            "justification": "Op Bridge: any new filming",
            "priority": "high",
        },
    )
    assert search["target"] is None
    assert search["search"] == {
        "q": "bridge filming",
        "sources": ["public_report"],
        "regions": ["London"],
    }
    assert [e["id"] for e in listed(api)] == [search["id"], entry["id"]]  # newest first
    assert api.get(f"/api/watch/{entry['id']}").json() == entry

    expiry = (created + timedelta(days=200)).isoformat()
    changed = api.request(
        "PATCH",
        f"/api/watch/{entry['id']}",
        json={"priority": "high", "expiry": expiry, "target": "vehicle:ab12cde"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["priority"] == "high"
    assert changed.json()["target"]["key"] == "AB12CDE"
    assert datetime.fromisoformat(changed.json()["expiry"]) == datetime.fromisoformat(expiry)
    assert changed.json()["created"] == entry["created"]
    assert api.get(f"/api/watch/{entry['id']}").json() == changed.json()

    # a saved search in place of the target, the new justification justifying the change
    swapped = api.request(
        "PATCH",
        f"/api/watch/{entry['id']}",
        why=None,
        json={"search": {"q": "depot"}, "justification": "Op Depot now"},
    )
    assert swapped.status_code == 200, swapped.text
    assert (swapped.json()["target"], swapped.json()["search"]["q"]) == (None, "depot")

    assert api.request("DELETE", f"/api/watch/{entry['id']}").status_code == 204
    assert api.get(f"/api/watch/{entry['id']}").status_code == 404
    assert api.request("DELETE", f"/api/watch/{entry['id']}").status_code == 404
    assert [e["id"] for e in listed(api)] == [search["id"]]


def test_expired_entries_are_listed_as_not_live(api: Api, alias: str, es: Elasticsearch) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=100)
    expired = WatchEntry(
        id="expired-entry-1",
        owner=USERS["analyst"],
        justification="old case",
        created=long_ago,
        target="handle:@badactor",
    )
    put_entry(es, alias, expired, refresh=True)
    live = create(api, PHONE)
    entries = {e["id"]: e["live"] for e in listed(api)}
    assert entries == {live["id"]: True, "expired-entry-1": False}


def test_another_users_entries_are_not_found(api: Api) -> None:
    ritas = create(api, PHONE, role="restricted")
    alices = create(api, PHONE)
    assert [e["id"] for e in listed(api)] == [alices["id"]]
    assert [e["id"] for e in listed(api, role="restricted")] == [ritas["id"]]
    path = f"/api/watch/{ritas['id']}"
    assert api.get(path).status_code == 404
    assert api.request("PATCH", path, json={"priority": "low"}).status_code == 404
    assert api.request("DELETE", path).status_code == 404
    assert api.get(path, role="restricted").json()["priority"] == "normal"  # untouched
    for odd in ("x" * 600, "..", "%2e%2e", "a b", "*"):
        assert api.get(f"/api/watch/{odd}").status_code == 404


TOO_LATE = (datetime.now(UTC) + timedelta(days=400)).isoformat()
PAST = (datetime.now(UTC) - timedelta(hours=1)).isoformat()


@pytest.mark.parametrize(
    ("body", "loc", "says"),
    [
        ({"target": "phone:0770"}, ["body", "target"], "not recognised as one phone"),
        ({"target": "phone:07700 900123 ext 4"}, ["body", "target"], "not recognised"),
        ({"target": "shoe:size 9"}, ["body", "target"], "unknown type 'shoe'"),
        ({"target": {"type": "boat", "value": "x"}}, ["body", "target"], "unknown type"),
        ({"target": "phone:   "}, ["body", "target"], "empty value"),
        ({"target": "07700 900123"}, ["body", "target"], "is not `type:value`"),
        ({"search": {"q": "*bridge"}}, ["body", "search", "q"], "wildcard"),
        ({"search": {"q": "bridge ?ilming"}}, ["body", "search", "q"], "wildcard"),
        ({"search": {"q": "/fil.*/"}}, ["body", "search", "q"], "regular expression"),
        ({"search": {"q": "x", "regions": ["Mars"]}}, ["body", "search", "regions"], "Mars"),
        ({"search": {"q": "x", "sources": ["rumour"]}}, ["body", "search", "sources", "0"], ""),
        ({"target": "phone:07700 900123", "expiry": PAST}, ["body", "expiry"], "in the past"),
        ({"target": "phone:07700 900123", "expiry": TOO_LATE}, ["body", "expiry"], "a year"),
        ({}, ["body"], "either a `target` or a saved `search`"),
        (
            {"target": "phone:07700 900123", "search": {"q": "x"}},
            ["body"],
            "either a `target` or a saved `search`",
        ),
        ({"target": "phone:07700 900123", "justification": "  "}, ["body", "justification"], ""),
        ({"target": "phone:07700 900123", "owner": "bob"}, ["body", "owner"], "Extra"),
        ({"target": "phone:07700 900123", "priority": "urgent"}, ["body", "priority"], ""),
    ],
)
def test_bad_entries_are_422_naming_the_field(
    api: Api, corpus: Corpus, es: Elasticsearch, body: dict[str, Any], loc: list[str], says: str
) -> None:
    response = api.post("/api/watch", json={"justification": "Op Test", **body})
    assert response.status_code == 422, response.text
    [error] = [e for e in response.json()["detail"] if e["loc"] == loc]
    assert says in error["msg"]
    assert listed(api) == []
    assert not [e for e in audit_entries(es, corpus.settings) if e.action == "watch_create"]


def test_a_change_is_checked_like_a_new_entry(api: Api) -> None:
    entry = create(api, PHONE)
    path = f"/api/watch/{entry['id']}"
    for body, loc in [
        ({"target": "phone:12"}, ["body", "target"]),
        ({"expiry": PAST}, ["body", "expiry"]),
        ({"expiry": TOO_LATE}, ["body", "expiry"]),
        ({"target": "phone:07700 900123", "search": {"q": "x"}}, ["body", "target"]),
        ({"owner": "bob"}, ["body", "owner"]),
        ({"restricted": True}, ["body", "restricted"]),
    ]:
        response = api.request("PATCH", path, json=body)
        assert response.status_code == 422, (body, response.text)
        assert [e["loc"] for e in response.json()["detail"]] == [loc], body
    assert api.get(path).json() == entry


def test_no_user_holds_more_than_a_thousand_live_entries(
    api: Api, alias: str, es: Elasticsearch
) -> None:
    now = datetime.now(UTC)
    create(api, PHONE)
    for n in range(999):
        put_entry(
            es,
            alias,
            WatchEntry(id=f"bulk-{n}", owner="alice", justification="load", target=f"handle:@u{n}"),
        )
    expired = WatchEntry(
        id="old",
        owner="alice",
        justification="old",
        created=now - timedelta(days=100),
        target="handle:@old",
    )
    put_entry(es, alias, expired)
    es.indices.refresh(index=watch_index(alias))
    refused = api.post("/api/watch", json=PHONE)
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["detail"]
    assert error["loc"] == ["body"]
    assert "1,000 live entries" in error["msg"]
    assert create(api, PHONE, role="restricted")  # another user's quota is their own
    revived = api.request(
        "PATCH", "/api/watch/old", json={"expiry": (now + timedelta(days=30)).isoformat()}
    )
    assert revived.status_code == 422, revived.text  # an expired entry made live counts too
    assert revived.json()["detail"][0]["loc"] == ["body"]
    assert api.request("DELETE", "/api/watch/bulk-0").status_code == 204
    assert create(api, PHONE)


def test_restricted_entries_are_for_the_restricted_role_only(
    api: Api, corpus: Corpus, es: Elasticsearch
) -> None:
    body = {**PHONE, "restricted": True}
    refused = api.post("/api/watch", json=body)
    assert refused.status_code == 403
    assert "may not watch restricted values" in refused.json()["detail"]
    assert listed(api) == []
    entry = create(api, body, role="restricted")
    assert entry["restricted"] is True
    assert [e["id"] for e in listed(api, role="restricted")] == [entry["id"]]
    refusals = [e for e in audit_entries(es, corpus.settings) if e.action == "refused"]
    assert refusals and refusals[0].user == USERS["analyst"]
    assert refusals[0].query["routes"] == {"/api/watch": 1}


def test_a_restricted_entry_is_hidden_from_its_owner_without_the_role(
    api: Api, alias: str, es: Elasticsearch
) -> None:
    # alice's key was a restricted one when she made it; analysts never read restricted entries
    entry = WatchEntry(
        id="was-restricted",
        owner=USERS["analyst"],
        justification="when alice had the role",
        target="phone:07700 900123",
        restricted=True,
    )
    put_entry(es, alias, entry, refresh=True)
    assert listed(api) == []
    assert api.get("/api/watch/was-restricted").status_code == 404


def test_every_entry_call_is_audited_and_reads_need_a_justification(
    api: Api, corpus: Corpus, es: Elasticsearch
) -> None:
    entry = create(api, PHONE)
    path = f"/api/watch/{entry['id']}"
    for method, where in [
        ("GET", "/api/watch"),
        ("GET", path),
        ("PATCH", path),
        ("DELETE", path),
    ]:
        kwargs: dict[str, Any] = {"json": {"priority": "low"}} if method == "PATCH" else {}
        response = api.request(method, where, why=None, **kwargs)
        assert response.status_code == 400, (method, where, response.text)
        assert "justification is required" in response.text
    assert api.get("/api/watch", why=None, params={"justification": "as a field"}).is_success
    assert api.get(path).is_success
    assert api.request("PATCH", path, json={"priority": "low"}).is_success
    assert api.request("DELETE", path, headers={"X-Audit-Channel": "cli"}).status_code == 204
    records = [e for e in audit_entries(es, corpus.settings) if e.action.startswith("watch_")]
    records.reverse()  # oldest first
    assert [(e.action, e.justification, e.ids) for e in records] == [
        ("watch_create", PHONE["justification"], [entry["id"]]),
        ("watch_list", "as a field", [entry["id"]]),
        ("watch_view", "test case 42", [entry["id"]]),
        ("watch_change", "test case 42", [entry["id"]]),
        ("watch_delete", "test case 42", [entry["id"]]),
    ]
    assert {(e.user, e.role) for e in records} == {("alice", "analyst")}
    assert [e.channel for e in records] == ["api"] * 4 + ["cli"]
    # who watches whom is on the record
    assert records[0].query["target"] == "phone:07700 900123"
    assert records[3].query["changed"] == ["priority"]
    assert records[3].query["priority"] == "low"
