"""The stream path end to end: real worker process, real broker, real Elasticsearch."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from elasticsearch import Elasticsearch
from kafka import KafkaConsumer

from pipeline.clients import kafka_config
from tests.harness import Deployment, wait_for
from tests.worker.support import produce

pytestmark = pytest.mark.integration


def report(record_id: str, text: str, **extra: object) -> bytes:
    body = {"id": record_id, "received_at": "2026-11-20T10:15:00+00:00", "description": text}
    body.update(extra)
    return json.dumps(body).encode()


def read_dlq(deployment: Deployment, expected: int, timeout_s: float = 60) -> list[dict[str, str]]:
    consumer = KafkaConsumer(
        deployment.dlq,
        **kafka_config(deployment.settings),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=2000,
    )
    found: list[dict[str, str]] = []
    try:

        def poll() -> bool:
            for message in consumer:
                headers = {k: v.decode("utf-8", "replace") for k, v in message.headers}
                headers["_key"] = (message.key or b"").decode("utf-8", "replace")
                found.append(headers)
            return len(found) >= expected

        wait_for(poll, timeout_s, f"{expected} dead-letter records (have {len(found)})")
    finally:
        consumer.close()
    return found


def count(es: Elasticsearch, alias: str) -> int:
    if not es.indices.exists_alias(name=alias):
        return 0
    es.indices.refresh(index=alias)
    return int(es.count(index=alias)["count"])


def test_valid_records_are_indexed_and_bad_ones_dead_lettered(
    deployment: Deployment, es: Elasticsearch
) -> None:
    run = uuid.uuid4().hex[:8]
    good = [
        (
            f"pr-{run}-{n}".encode(),
            report(f"pr-{run}-{n}", f"White van AB12 CDE seen near SW1A 1AA, number {n}"),
        )
        for n in range(20)
    ]
    # the same record again: a redelivery must update, never add
    good.append(good[0])
    bad = [
        (b"bad-json", b"{not json"),
        (
            b"bad-missing",
            json.dumps({"id": "bad-missing", "received_at": "2026-11-20T10:15:00Z"}).encode(),
        ),
        (b"bad-tombstone", None),
        (
            b"bad-utf8",
            b'{"id": "x\xff", "received_at": "2026-11-20T10:15:00Z", "description": "d"}',
        ),
    ]
    worker = deployment.start_worker()
    produce(deployment, deployment.topic("public-reports"), good + bad)
    hotline = json.dumps(
        {
            "id": f"hc-{run}",
            "received_at": "2026-11-20T11:00:00+01:00",
            "summary": "Caller on 07700 900123 describes a man filming the station",
        }
    ).encode()
    produce(deployment, deployment.topic("hotline-calls"), [(f"hc-{run}".encode(), hotline)])

    alias = deployment.settings.index_alias
    wait_for(lambda: count(es, alias) >= 21, 180, "21 indexed documents", worker.log)
    dead = read_dlq(deployment, expected=4)

    assert count(es, alias) == 21
    assert sorted(d["_key"] for d in dead) == sorted(
        ["bad-json", "bad-missing", "bad-tombstone", "bad-utf8"]
    )
    for headers in dead:
        assert headers["__connect.errors.topic"] == deployment.topic("public-reports")
        assert headers["__connect.errors.exception.message"]
    assert worker.alive(), worker.log()

    hit = es.search(index=alias, query={"term": {"source_id": f"hc-{run}"}})["hits"]["hits"][0]
    assert hit["_source"]["source"] == "hotline_call"
    assert "+447700900123" in hit["_source"]["entities"]["phone"]
    pr = es.search(index=alias, query={"term": {"source_id": f"pr-{run}-3"}})["hits"]["hits"][0]
    assert "AB12CDE" in pr["_source"]["entities"]["vehicle"]
    assert pr["_source"]["region"] == "London"


def test_worker_serves_metrics_health_and_readiness(
    deployment: Deployment, es: Elasticsearch
) -> None:
    run = uuid.uuid4().hex[:8]
    worker = deployment.start_worker()
    produce(
        deployment,
        deployment.topic("public-reports"),
        [
            (f"m-{run}".encode(), report(f"m-{run}", "Suspicious parcel left at Leeds station")),
            (b"m-bad", b"[1, 2]"),
        ],
    )
    alias = deployment.settings.index_alias
    wait_for(lambda: count(es, alias) >= 1, 180, "the record to be indexed", worker.log)
    base = f"http://127.0.0.1:{worker.port}"

    def metric_line(name: str, *labels: str) -> str | None:
        text = httpx.get(f"{base}/metrics", timeout=10).text
        return next(
            (
                ln
                for ln in text.splitlines()
                if ln.startswith(name) and all(label in ln for label in labels)
            ),
            None,
        )

    wait_for(
        lambda: metric_line("ct_pipeline_dlq_records_total", 'reason="not_object"') is not None,
        60,
        "the dead letter to be counted",
        worker.log,
    )
    indexed = metric_line(
        "ct_pipeline_records_total", 'outcome="indexed"', 'source="public_report"'
    )
    assert indexed is not None and float(indexed.split()[-1]) >= 1
    assert httpx.get(f"{base}/healthz", timeout=10).json()["alive"] is True

    def ready() -> bool:
        response = httpx.get(f"{base}/readyz", timeout=30)
        return response.status_code == 200 and response.json()["ready"] is True

    wait_for(ready, 60, "readiness", lambda: httpx.get(f"{base}/readyz", timeout=30).text)
    checks = httpx.get(f"{base}/readyz", timeout=30).json()["checks"]
    assert {"elasticsearch", "kafka", "partitions", "agent:public-reports"} <= set(checks)
