"""Alerts through the API against the real Elasticsearch node and broker: owners, the restricted
rule, counts, paging, acknowledgement (stored, audited and published on the `alerts` topic)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_support import USERS, Api, Corpus, audit_entries
from elasticsearch import Elasticsearch
from fastapi import FastAPI
from kafka import KafkaAdminClient, KafkaConsumer

from pipeline.api.alert_reads import alert_views
from pipeline.api.app import create_app
from pipeline.api.auth import Principal, Role
from pipeline.clients import kafka_config
from pipeline.enrich.mentions import EntityType, Mention
from pipeline.enrich.watch.alerts import AlertWriter, Sighting, alerts_index, ensure_alerts_index
from pipeline.enrich.watch.entries import WatchEntry
from pipeline.enrich.watch.matcher import Match, alert_id
from pipeline.enrich.watch.publish import alerts_topic
from pipeline.settings import Settings

pytestmark = pytest.mark.integration

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
PHONE = Mention(EntityType.PHONE, "07700 900123", "+447700900123", 62, 74)
CALLER = Mention(EntityType.PHONE, "+441614960123", "+441614960123", 0, 0)
HIGHLIGHT = "man was \ue000filming\ue001 the \ue000bridge\ue001 at Tower Hill"
ALICE = Principal(USERS["analyst"], Role.ANALYST)
RITA = Principal(USERS["restricted"], Role.RESTRICTED)


@pytest.fixture
def topic_prefix(settings: Settings) -> Iterator[str]:
    """A deployment prefix of this test's own, and its `alerts` topic."""
    prefix = f"t{uuid.uuid4().hex[:10]}-"
    admin = KafkaAdminClient(**kafka_config(settings, client_id="tests-alerts-topic"))
    topic = alerts_topic(prefix)
    try:
        spec = {"num_partitions": 1, "replication_factor": settings.replication_factor}
        admin.create_topics({topic: spec}, wait_for_metadata=True)
        yield prefix
        admin.delete_topics([topic])
    finally:
        admin.close()


@pytest.fixture
def app(es: Elasticsearch, corpus: Corpus, topic_prefix: str) -> FastAPI:
    return create_app(corpus.settings.model_copy(update={"topic_prefix": topic_prefix}), es)


@dataclass
class Alerts:
    """The alerts written for the test, by name, and the entries behind them."""

    ids: dict[str, str]
    entries: dict[str, WatchEntry]
    alias: str


def entry_of(api: Api, body: dict[str, Any], role: str = "analyst") -> WatchEntry:
    response = api.post("/api/watch", json={"justification": "Op Bridge", **body}, role=role)
    assert response.status_code == 201, response.text
    stored = {k: v for k, v in response.json().items() if k != "live"}
    return WatchEntry.model_validate(stored)


def sight(
    writer: AlertWriter, match: Match, report: str, cluster: str, at: datetime, source: str
) -> str:
    writer.write([Sighting(match, report, cluster, source, at)])
    return alert_id(match.entry.id, cluster)


@pytest.fixture
def alerts(api: Api, es: Elasticsearch, corpus: Corpus) -> Alerts:
    alias = corpus.settings.index_alias
    ensure_alerts_index(es, alias)
    writer = AlertWriter(es, alias)
    phone = entry_of(api, {"target": "phone:07700 900123"})
    search = entry_of(api, {"search": {"q": "bridge filming"}})
    caller = entry_of(api, {"target": "phone:0161 496 0123", "restricted": True}, "restricted")
    # alice's entry from when her key had the restricted role: its alerts are not for analysts
    was = WatchEntry(
        id="was-restricted",
        owner=USERS["analyst"],
        justification="when alice had the role",
        target="phone:07700 900123",
        restricted=True,
    )
    ids = {
        "bridge": sight(writer, Match(phone, PHONE), "r1", "c-bridge", T0, "public_report"),
        "depot": sight(
            writer, Match(phone, PHONE), "r4", "c-depot", T0 + timedelta(minutes=5), "hotline_call"
        ),
        "search": sight(
            writer,
            Match(search, None, highlight=HIGHLIGHT),
            "r9",
            "c-film",
            T0 + timedelta(minutes=3),
            "public_report",
        ),
        "caller": sight(
            writer,
            Match(caller, CALLER, field="caller.phone", in_narrative=False),
            "r7",
            "c-depot",
            T0 + timedelta(minutes=4),
            "hotline_call",
        ),
        "was": sight(writer, Match(was, PHONE), "r1", "c-bridge", T0, "public_report"),
    }
    for minutes, report in ((1, "r2"), (2, "r3")):
        at = T0 + timedelta(minutes=minutes)
        sight(writer, Match(phone, PHONE), report, "c-bridge", at, "public_report")
    es.indices.refresh(index=alerts_index(alias))
    entries = {"phone": phone, "search": search, "caller": caller}
    return Alerts(ids, entries, alias)


def page(api: Api, role: str = "analyst", **params: Any) -> dict[str, Any]:
    response = api.get("/api/alerts", role=role, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_an_owner_lists_their_alerts_newest_first_with_counts(api: Api, alerts: Alerts) -> None:
    found = page(api)["alerts"]
    assert [a["id"] for a in found] == [alerts.ids[n] for n in ("depot", "search", "bridge")]
    bridge = found[2]
    assert set(bridge) == {
        "id",
        "entry_id",
        "priority",
        "target",
        "search",
        "cluster_id",
        "report_id",
        "source",
        "mention",
        "highlight",
        "first_seen",
        "last_seen",
        "count",
        "restricted",
        "acknowledged",
    }
    assert bridge["entry_id"] == alerts.entries["phone"].id
    assert bridge["target"] == {"type": "phone", "key": "+447700900123"}
    assert (bridge["cluster_id"], bridge["report_id"], bridge["count"]) == ("c-bridge", "r1", 3)
    assert datetime.fromisoformat(bridge["first_seen"]) == T0
    assert datetime.fromisoformat(bridge["last_seen"]) == T0 + timedelta(minutes=2)
    assert bridge["mention"] == {
        "type": "phone",
        "text": "07700 900123",
        "value": "+447700900123",
        "start": 62,
        "end": 74,
    }
    assert (bridge["restricted"], bridge["acknowledged"], bridge["search"]) == (False, None, None)
    search = found[1]
    assert search["target"] is None
    assert search["search"] == {"q": "bridge filming", "sources": [], "regions": []}
    assert [s["text"] for s in search["highlight"] if s["hit"]] == ["filming", "bridge"]


def test_restricted_alerts_reach_the_restricted_role_only(api: Api, alerts: Alerts) -> None:
    mine = page(api, role="restricted")["alerts"]
    assert [a["id"] for a in mine] == [alerts.ids["caller"]]
    assert mine[0]["restricted"] is True
    assert mine[0]["mention"]["value"] == "+441614960123"
    analyst = json.dumps(page(api)) + api.get(f"/api/alerts/{alerts.ids['was']}").text
    assert "+441614960123" not in analyst
    for name in ("caller", "was"):
        assert api.get(f"/api/alerts/{alerts.ids[name]}").status_code == 404
        ack = api.post(f"/api/alerts/{alerts.ids[name]}/ack", json={"outcome": "relevant"})
        assert ack.status_code == 404
    # nor does the restricted role see another user's alerts
    assert api.get(f"/api/alerts/{alerts.ids['bridge']}", role="restricted").status_code == 404


def test_alert_views_keep_the_order_asked_and_drop_what_the_caller_may_not_see(
    es: Elasticsearch, alerts: Alerts
) -> None:
    asked = [alerts.ids[n] for n in ("bridge", "caller", "was", "search", "bridge")]
    asked += ["0" * 32, "not an id!"]
    assert [a.id for a in alert_views(es, alerts.alias, asked, ALICE)] == [
        alerts.ids["bridge"],
        alerts.ids["search"],
    ]
    assert [a.id for a in alert_views(es, alerts.alias, asked, RITA)] == [alerts.ids["caller"]]
    assert alert_views(es, "no-such-alias", asked, ALICE) == []


def test_an_alert_shows_its_reports_newest_first(api: Api, alerts: Alerts) -> None:
    response = api.get(f"/api/alerts/{alerts.ids['bridge']}")
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["alert"]["count"] == 3
    assert [h["report_id"] for h in view["hits"]] == ["r3", "r2", "r1"]
    assert {h["source"] for h in view["hits"]} == {"public_report"}
    assert datetime.fromisoformat(view["hits"][0]["seen_at"]) == T0 + timedelta(minutes=2)
    assert view["hits"][0]["mention"]["text"] == "07700 900123"
    assert api.get("/api/alerts/" + "0" * 32).status_code == 404


def test_alerts_page_with_a_cursor(api: Api, alerts: Alerts) -> None:
    first = page(api, size=2)
    second = page(api, size=2, cursor=first["next_cursor"])
    assert [a["id"] for a in first["alerts"] + second["alerts"]] == [
        alerts.ids[n] for n in ("depot", "search", "bridge")
    ]
    assert second["next_cursor"] is None
    bad = api.get("/api/alerts", params={"cursor": "bm90IGEgY3Vyc29y"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "cursor"]


def test_an_acknowledgement_is_stored_audited_filtered_and_published(
    api: Api,
    alerts: Alerts,
    es: Elasticsearch,
    corpus: Corpus,
    settings: Settings,
    topic_prefix: str,
) -> None:
    bridge = alerts.ids["bridge"]
    before = datetime.now(UTC)
    refused = api.post(f"/api/alerts/{bridge}/ack", json={"outcome": "maybe"})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "outcome"]
    assert (
        api.post(f"/api/alerts/{bridge}/ack", why=None, json={"outcome": "relevant"}).status_code
        == 400
    )

    response = api.post(
        f"/api/alerts/{bridge}/ack", json={"outcome": "relevant", "note": "Op Bridge, see r3"}
    )
    assert response.status_code == 200, response.text
    acked = response.json()["acknowledged"]
    assert (acked["by"], acked["outcome"], acked["note"]) == (
        "alice",
        "relevant",
        "Op Bridge, see r3",
    )
    at = datetime.fromisoformat(acked["at"])
    assert before <= at <= datetime.now(UTC)

    stored = es.get(index=alerts_index(alerts.alias), id=bridge)["_source"]
    assert stored["acknowledged"]["outcome"] == "relevant"
    assert datetime.fromisoformat(stored["updated_at"]) == at
    assert stored["kind"] == "alert"

    assert [a["id"] for a in page(api, unacknowledged="true")["alerts"]] == [
        alerts.ids["depot"],
        alerts.ids["search"],
    ]
    assert [a["id"] for a in page(api, since=before.isoformat())["alerts"]] == [bridge]
    assert api.get(f"/api/alerts/{bridge}").json()["alert"]["acknowledged"] == acked

    records = [e for e in audit_entries(es, corpus.settings) if e.action == "alert_ack"]
    assert [(r.user, r.justification, r.query["outcome"]) for r in records] == [
        ("alice", "test case 42", "relevant")
    ]
    assert records[0].ids == [bridge, "r1"]

    [update] = read_alerts_topic(settings, alerts_topic(topic_prefix))
    assert update["key"] == alerts.entries["phone"].id
    value = update["value"]
    assert (value["kind"], value["alert_id"], value["owner"]) == ("update", bridge, "alice")
    assert datetime.fromisoformat(value["acknowledged"].pop("at")) == at
    assert value["acknowledged"] == {
        "by": "alice",
        "outcome": "relevant",
        "note": "Op Bridge, see r3",
    }
    assert value["restricted"] is False


def read_alerts_topic(settings: Settings, topic: str) -> list[dict[str, Any]]:
    consumer = KafkaConsumer(
        topic,
        **kafka_config(settings),
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=3000,
    )
    try:
        return [{"key": (m.key or b"").decode(), "value": json.loads(m.value)} for m in consumer]
    finally:
        consumer.close()


def test_since_finds_alerts_seen_again_and_empty_polls_leave_no_record(
    api: Api, alerts: Alerts, es: Elasticsearch, corpus: Corpus
) -> None:
    since = datetime.now(UTC)
    assert page(api, since=since.isoformat())["alerts"] == []
    writer = AlertWriter(es, alerts.alias)
    match = Match(alerts.entries["phone"], PHONE)
    sight(writer, match, "r5", "c-bridge", datetime.now(UTC), "online_referral")
    es.indices.refresh(index=alerts_index(alerts.alias))
    [again] = page(api, since=since.isoformat())["alerts"]
    assert (again["id"], again["count"]) == (alerts.ids["bridge"], 4)
    assert datetime.fromisoformat(again["first_seen"]) == T0
    assert page(api, role="restricted", since=since.isoformat())["alerts"] == []
    page(api, role="restricted")
    reads = [e for e in audit_entries(es, corpus.settings) if e.action == "alert_list"]
    reads.reverse()
    # the empty polls wrote nothing; the poll that showed an alert and the plain list did
    assert [(r.user, r.ids) for r in reads] == [
        ("alice", [alerts.ids["bridge"], "r1"]),
        ("rita", [alerts.ids["caller"], "r7"]),
    ]


def test_alert_reads_need_a_justification_and_are_audited(
    api: Api, alerts: Alerts, es: Elasticsearch, corpus: Corpus
) -> None:
    bridge = alerts.ids["bridge"]
    for path in ("/api/alerts", f"/api/alerts/{bridge}"):
        response = api.get(path, why=None)
        assert response.status_code == 400
        assert "justification is required" in response.text
    api.get(f"/api/alerts/{bridge}", headers={"X-Audit-Channel": "web"})
    [view] = [e for e in audit_entries(es, corpus.settings) if e.action == "alert_view"]
    assert (view.user, view.channel, view.justification) == ("alice", "web", "test case 42")
    assert view.ids == [bridge, "r3", "r2", "r1"]


def test_an_alert_document_that_cannot_be_shown_hides_no_other(
    api: Api, alerts: Alerts, es: Elasticsearch
) -> None:
    broken = {
        "kind": "alert",
        "alert_id": "b" * 32,
        "entry_id": alerts.entries["phone"].id,
        "owner": USERS["analyst"],
        "cluster_id": "c-broken",
        "report_id": "r0",
        "source": "public_report",
        "seen_at": datetime.now(UTC).isoformat(),
        "mention": {"type": "phone"},  # no value: not a mention
    }
    es.index(index=alerts_index(alerts.alias), id="b" * 32, document=broken, refresh=True)
    shown = [a["id"] for a in page(api)["alerts"]]
    assert shown == [alerts.ids[n] for n in ("depot", "search", "bridge")]
    assert api.get("/api/alerts/" + "b" * 32).status_code == 404
