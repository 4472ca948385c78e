"""Watchlist alerts on the stream path: a real worker, broker and Elasticsearch node.

Entries are stored before and while the worker runs; reports that name their selectors in
other written forms raise one alert per (entry, cluster) that counts its reports, and a
redelivered record, an expired entry or a deleted one raises nothing.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from pipeline.enrich.watch.alerts import alerts_index
from pipeline.enrich.watch.entries import WatchEntry
from pipeline.enrich.watch.matcher import alert_id
from pipeline.enrich.watch.store import delete_entry, ensure_watch_index, put_entry
from tests.harness import Deployment, wait_for
from tests.worker.support import committed, produce
from tests.worker.test_stream_path import count, report

pytestmark = pytest.mark.integration


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


def test_watched_selectors_raise_one_alert_per_entry_and_cluster_counting_its_reports(
    deployment: Deployment, es: Elasticsearch
) -> None:
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

    # a redelivered record (the same id again) and an entry added while the worker runs
    late = _entry(f"late-{run}", "handle:@watched_one")
    put_entry(es, alias, late, refresh=True)
    # a worker reads watchlist changes every PIPELINE_WATCH_REFRESH_S (2 s): a report it takes
    # after that matches the new entry
    time.sleep(deployment.settings.watch_refresh_s + 1.0)
    produce(
        deployment,
        topic,
        [
            first[0],
            (f"w-{run}-3".encode(), report(f"w-{run}-3", "Posts as @watched_one about a rally.")),
        ],
    )
    wait_for(lambda: committed(deployment, topic) >= 4, 120, "the later records", worker.log)
    wait_for(
        lambda: any(a["entry_id"] == late.id for a in _alerts(es, alias, "alert")),
        60,
        "the late entry's alert",
        worker.log,
    )
    assert len(_alerts(es, alias, "alert")) == 3
    assert len(_alerts(es, alias, "hit")) == 5  # the redelivery added nothing
