"""Two real workers put paraphrases of one event, spread over both, in one incident; a replay
(`pipeline reindex --from kafka`) gives every report the same incident again."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from tests.enrich.incidents.test_incident_state import EUSTON, OTHER
from tests.harness import Deployment, wait_for
from tests.worker.support import produce, reindex_from_kafka
from tests.worker.test_dedup_workers import assignments
from tests.worker.test_stream_path import count

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Each event in three wordings at three minutes apart; the Euston wordings are the issue's.
EVENTS = {"euston": EUSTON, "leeds": [OTHER[0]] * 3, "cardiff": [OTHER[1]] * 3}


def incidents(es: Elasticsearch, alias: str, run: str) -> dict[str, str]:
    hits = es.search(index=alias, size=100, query={"prefix": {"source_id": run}})["hits"]["hits"]
    return {h["_source"]["source_id"]: h["_source"].get("incident_id") for h in hits}


def test_two_workers_and_a_replay_agree_on_incidents(
    deployment: Deployment, es: Elasticsearch
) -> None:
    run = uuid.uuid4().hex[:8]
    workers = [deployment.start_worker(), deployment.start_worker()]
    logs = lambda: "\n".join(w.log()[-3000:] for w in workers)  # noqa: E731
    wait_for(
        lambda: len(held := assignments(deployment)) == 2 and all(held),
        180,
        "two members each holding public-reports",
        logs,
    )
    topic = deployment.topic("public-reports")
    sends: list[tuple[str, str]] = []
    for p in range(3):  # one wording of every event per partition: both workers see each
        records: list[tuple[bytes, bytes]] = []
        for name, texts in EVENTS.items():
            rid = f"{run}-{name}-{p}"
            # a resent copy is a near-duplicate (dedup), the rest are paraphrases
            text = texts[p] if name == "euston" else texts[p] + " " * p
            when = f"2026-11-21T09:{10 * p:02d}:00Z"
            value: dict[str, Any] = {"id": rid, "received_at": when, "description": text}
            records.append((rid.encode(), json.dumps(value).encode()))
            sends.append((rid, name))
        produce(deployment, topic, records, partition=p)

    alias = deployment.settings.index_alias
    wait_for(lambda: count(es, alias) >= len(sends), 240, "every report indexed", logs)
    live = incidents(es, alias, run)
    assert len(live) == len(sends) and None not in live.values(), live
    by_event: dict[str, set[str]] = {}
    for rid, name in sends:
        by_event.setdefault(name, set()).add(live[rid])
    assert all(len(found) == 1 for found in by_event.values()), by_event
    assert len({next(iter(found)) for found in by_event.values()}) == len(EVENTS)
    for worker in workers:
        worker.stop()

    result = reindex_from_kafka(deployment)
    assert result.returncode == 0, result.stderr[-3000:]
    assert incidents(es, alias, run) == live
