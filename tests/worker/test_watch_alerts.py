"""Watchlist alerts on the stream path: a real worker, broker and Elasticsearch node.

Entries are stored before and while the worker runs; reports that name their selectors in
other written forms raise one alert per (entry, cluster) that counts its reports, in the alerts
index and on the `alerts` topic (keyed by entry id, valid against schemas/alert.v1.json); a
redelivered record, an expired entry or a deleted one raises nothing; an analyst's entry never
alerts on a caller's own phone; and a worker killed between indexing and alerting, or between
the index and Kafka, loses no alert and doubles none.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from pipeline.admin.topics import ensure_topics
from pipeline.enrich.watch.alerts import alerts_index, ensure_alerts_index
from pipeline.enrich.watch.entries import WatchEntry
from pipeline.enrich.watch.matcher import alert_id
from pipeline.enrich.watch.store import delete_entry, ensure_watch_index, put_entry
from tests.enrich.watch.test_watch_publish import VALIDATOR
from tests.enrich.watch.test_watch_publish_kafka import _set_max_message_bytes, read_alerts
from tests.harness import Deployment, wait_for
from tests.worker.support import committed, dead_letters, produce
from tests.worker.test_es_faults import paused_because
from tests.worker.test_stream_path import count, report

pytestmark = pytest.mark.integration


@pytest.fixture
def alerting(deployment: Deployment) -> Deployment:
    """The worker deployment with every topic `topics ensure` makes, the alerts topic too."""
    ensure_topics(deployment.settings)
    return deployment


def _entry(entry_id: str, target: str, **extra: Any) -> WatchEntry:
    return WatchEntry.model_validate(
        {"id": entry_id, "owner": "alice", "justification": "op test", "target": target, **extra}
    )


def _alerts(es: Elasticsearch, alias: str, kind: str) -> list[dict[str, Any]]:
    index = alerts_index(alias)
    if not es.indices.exists(index=index):
        return []
    es.indices.refresh(index=index)
    found = es.search(index=index, query={"term": {"kind": kind}}, size=100)
    return [hit["_source"] for hit in found["hits"]["hits"]]


def _published(es: Elasticsearch, alias: str) -> bool:
    """Every alert in the index marked published."""
    alerts = _alerts(es, alias, "alert")
    return bool(alerts) and all(a["published"] for a in alerts)


def _assert_on_the_topic_once(deployment: Deployment, alerts: list[dict[str, Any]]) -> None:
    """The topic holds each indexed alert exactly once, keyed by its entry, schema-valid."""
    records = read_alerts(deployment.settings)
    assert all(VALIDATOR.is_valid(value) for _, value in records)
    assert all(key == value["entry_id"] for key, value in records)
    assert sorted(value["alert_id"] for _, value in records) == sorted(
        a["alert_id"] for a in alerts
    )


def test_watched_selectors_raise_one_alert_per_entry_and_cluster_counting_its_reports(
    alerting: Deployment, es: Elasticsearch
) -> None:
    deployment = alerting
    alias = deployment.settings.index_alias
    run = uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    ensure_watch_index(es, alias)
    phone = _entry(f"phone-{run}", "phone:+44 7700 900 123")
    vehicle = _entry(f"car-{run}", "vehicle:ab12cde")
    expired = _entry(
        f"old-{run}",
        "email:old@example.org",
        created=now - timedelta(days=100),
        expiry=now - timedelta(days=1),
    )
    gone = _entry(f"gone-{run}", "postcode:LS1 4DY")
    for entry in (phone, vehicle, expired, gone):
        put_entry(es, alias, entry, refresh=True)
    assert delete_entry(es, alias, gone.id, refresh=True)

    topic = deployment.topic("public-reports")
    text = (
        "Caller says a man rang from 07700900123 and drove off in AB12 CDE. "
        "He wrote to old@example.org and lives near LS1 4DY."
    )
    first = [
        (f"w-{run}-1".encode(), report(f"w-{run}-1", text)),
        (f"w-{run}-2".encode(), report(f"w-{run}-2", text)),  # the same story: one cluster
    ]
    worker = deployment.start_worker()
    produce(deployment, topic, first)
    wait_for(lambda: count(es, alias) >= 2, 180, "both reports indexed", worker.log)
    wait_for(lambda: len(_alerts(es, alias, "hit")) >= 4, 60, "the hits", worker.log)

    alerts = _alerts(es, alias, "alert")
    assert sorted(a["entry_id"] for a in alerts) == sorted([phone.id, vehicle.id])
    [cluster] = {a["cluster_id"] for a in alerts}
    phone_alert = next(a for a in alerts if a["entry_id"] == phone.id)
    assert phone_alert["alert_id"] == alert_id(phone.id, cluster)
    assert phone_alert["mention"]["text"] == "07700900123"
    assert text[phone_alert["mention"]["start"] : phone_alert["mention"]["end"]] == "07700900123"
    hits = _alerts(es, alias, "hit")
    assert sorted((h["entry_id"], h["report_id"]) for h in hits) == sorted(
        {(h["entry_id"], h["report_id"]) for h in hits}
    )  # one hit per report and entry
    assert {h["entry_id"] for h in hits} == {phone.id, vehicle.id}
    assert len(hits) == 4  # two reports x two live entries
    wait_for(lambda: _published(es, alias), 60, "the alerts published", worker.log)
    _assert_on_the_topic_once(deployment, alerts)

    # a redelivered record (the same id again), an entry added while the worker runs, and one
    # that expires 40 s from now
    late = _entry(f"late-{run}", "handle:@watched_one")
    born = datetime.now(UTC)
    brief = _entry(
        f"brief-{run}", "phone:0161 496 0000", created=born, expiry=born + timedelta(seconds=40)
    )
    for entry in (late, brief):
        put_entry(es, alias, entry, refresh=True)
    # a worker reads watchlist changes every PIPELINE_WATCH_REFRESH_S (2 s): a report it takes
    # after that matches the new entries
    time.sleep(deployment.settings.watch_refresh_s + 1.0)
    produce(
        deployment,
        topic,
        [
            first[0],
            (
                f"w-{run}-3".encode(),
                report(f"w-{run}-3", "Posts as @watched_one about a rally; rings 0161 496 0000."),
            ),
        ],
    )
    wait_for(lambda: committed(deployment, topic) >= 4, 120, "the later records", worker.log)
    wait_for(
        lambda: {late.id, brief.id} <= {a["entry_id"] for a in _alerts(es, alias, "alert")},
        60,
        "the new entries' alerts",
        worker.log,
    )
    assert len(_alerts(es, alias, "alert")) == 4
    assert len(_alerts(es, alias, "hit")) == 6  # the redelivery added nothing

    # once `brief` has expired, its phone in another story raises nothing
    time.sleep(max(0.0, (brief.expiry - datetime.now(UTC)).total_seconds()) + 1.0)
    other = "A different story altogether: a parcel left at the depot, 0161 496 0000 rang."
    produce(deployment, topic, [(f"w-{run}-4".encode(), report(f"w-{run}-4", other))])
    wait_for(lambda: committed(deployment, topic) >= 5, 120, "the last record", worker.log)
    assert len(_alerts(es, alias, "alert")) == 4
    assert len(_alerts(es, alias, "hit")) == 6
    wait_for(lambda: _published(es, alias), 60, "every alert published", worker.log)
    _assert_on_the_topic_once(deployment, _alerts(es, alias, "alert"))


def _call(record_id: str, summary: str, **caller: str) -> bytes:
    body = {"id": record_id, "received_at": "2026-11-20T10:15:00+00:00", "summary": summary}
    return json.dumps({**body, "caller": caller}).encode()


def test_an_analyst_entry_on_a_callers_own_phone_raises_nothing_a_restricted_entry_does(
    alerting: Deployment, es: Elasticsearch
) -> None:
    deployment = alerting
    alias = deployment.settings.index_alias
    run = uuid.uuid4().hex[:8]
    ensure_watch_index(es, alias)
    analyst = _entry(f"analyst-{run}", "phone:07700 900456")
    restricted = _entry(f"restricted-{run}", "phone:+447700900456", restricted=True)
    plate = _entry(f"plate-{run}", "vehicle:AB12 CDE")  # the analyst does hear about the van
    for entry in (analyst, restricted, plate):
        put_entry(es, alias, entry, refresh=True)
    topic = deployment.topic("hotline-calls")
    summary = "Caller on 07700 900456 saw a van AB12 CDE outside the mosque at night."
    worker = deployment.start_worker()
    produce(deployment, topic, [(run.encode(), _call(run, summary, phone="07700 900456"))])
    wait_for(lambda: committed(deployment, topic) >= 1, 180, "the call processed", worker.log)
    wait_for(lambda: _published(es, alias), 60, "the alerts published", worker.log)

    alerts = {a["entry_id"]: a for a in _alerts(es, alias, "alert")}
    assert set(alerts) == {restricted.id, plate.id}
    assert alerts[restricted.id]["restricted"] is True
    assert alerts[restricted.id]["mention"]["field"] == "caller.phone"
    assert alerts[plate.id]["restricted"] is False
    assert "900456" not in json.dumps(alerts[plate.id])
    # analysts read the call with the phone masked, and the van where the alert says it is
    es.indices.refresh(index=alias)
    [doc] = [h["_source"] for h in es.search(index=alias, size=5)["hits"]["hits"]]
    mention = alerts[plate.id]["mention"]
    assert doc["text"][mention["start"] : mention["end"]] == "AB12 CDE"
    assert "900456" not in doc["text"]
    records = dict(read_alerts(deployment.settings))
    assert set(records) == {restricted.id, plate.id}
    assert records[restricted.id]["restricted"] is True
    assert "900456" not in json.dumps(records[plate.id])
    assert all(VALIDATOR.is_valid(value) for value in records.values())


def test_a_worker_killed_between_indexing_and_alerting_then_before_kafka_loses_and_doubles_none(
    alerting: Deployment, es: Elasticsearch
) -> None:
    """The alerts index write-blocked stops the batch after `index`; the topic refusing
    records stops it after the alerts are indexed; each time the worker is SIGKILLed there
    and the next one, once the fault is gone, redoes the batch."""
    deployment = alerting
    alias = deployment.settings.index_alias
    run = uuid.uuid4().hex[:8]
    ensure_watch_index(es, alias)
    watched = _entry(f"phone-{run}", "phone:07700 900789")
    put_entry(es, alias, watched, refresh=True)
    index = ensure_alerts_index(es, alias)
    es.indices.put_settings(index=index, settings={"index.blocks.write": True})
    _set_max_message_bytes(deployment.settings, "64")
    topic = deployment.topic("public-reports")
    text = "A man in a grey van gave 07700 900789 as his number outside the depot gates."
    produce(
        deployment, topic, [(f"k-{run}-{n}".encode(), report(f"k-{run}-{n}", text)) for n in (1, 2)]
    )

    first = deployment.start_worker()
    wait_for(
        lambda: count(es, alias) >= 2 and paused_because(deployment, "public-reports") == "blocked",
        180,
        "the reports indexed and the batch paused on the alerts index",
        first.log,
    )
    assert committed(deployment, topic) == 0 and _alerts(es, alias, "alert") == []
    first.kill()

    es.indices.put_settings(index=index, settings={"index.blocks.write": False})
    second = deployment.start_worker()
    wait_for(
        lambda: paused_because(deployment, "public-reports") == "unreachable",
        300,
        "the alert indexed and the batch paused on the alerts topic",
        second.log,
    )
    [alert] = _alerts(es, alias, "alert")
    assert alert["published"] is False
    assert committed(deployment, topic) == 0 and read_alerts(deployment.settings) == []
    second.kill()

    _set_max_message_bytes(deployment.settings, None)
    third = deployment.start_worker()
    wait_for(lambda: committed(deployment, topic) >= 2, 300, "the batch committed", third.log)
    wait_for(lambda: _published(es, alias), 60, "the alert published", third.log)
    assert count(es, alias) == 2
    assert [a["alert_id"] for a in _alerts(es, alias, "alert")] == [alert["alert_id"]]
    assert len(_alerts(es, alias, "hit")) == 2
    _assert_on_the_topic_once(deployment, [alert])
    assert dead_letters(deployment) == []
