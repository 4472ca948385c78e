"""Outage tests (issues 5 and 8) on a private stack: Elasticsearch stopped for 30 s and the
Kafka broker restarted while records keep arriving. The worker keeps running, readiness turns
red during the outage, and afterwards the index holds every record exactly once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from elasticsearch import Elasticsearch

from pipeline.settings import Settings
from pipeline.stack import control
from tests.private_stack import private_stack, stop_service
from tests.worker.support import Deployment, deployed, wait_for
from tests.worker.test_faults import TOPIC, assert_exactly_once, indexed, records

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack() -> Iterator[Settings]:
    with private_stack() as settings:
        control.up(settings, echo=lambda _: None)
        yield settings


@pytest.fixture
def private(stack: Settings, tmp_path: Path) -> Iterator[tuple[Deployment, Elasticsearch]]:
    with deployed(stack, f"out-{uuid.uuid4().hex[:8]}", tmp_path) as deployment:
        es = Elasticsearch(stack.es_url)
        try:
            yield deployment, es
        finally:
            es.close()


def readiness(deployment: Deployment) -> dict[str, object]:
    worker = deployment.workers[-1]
    response = httpx.get(f"http://127.0.0.1:{worker.port}/readyz", timeout=30)
    body: dict[str, object] = response.json()
    body["status_code"] = response.status_code
    return body


def not_ready_because(deployment: Deployment, check: str) -> bool:
    try:
        body = readiness(deployment)
    except httpx.HTTPError:
        return False
    checks = body["checks"]
    assert isinstance(checks, dict)
    return body["status_code"] == 503 and checks[check]["ok"] is False


def test_elasticsearch_down_for_30s_pauses_and_loses_nothing(
    private: tuple[Deployment, Elasticsearch], stack: Settings
) -> None:
    deployment, es = private
    run = uuid.uuid4().hex[:10]
    batch = records(run, 300)
    alias = deployment.settings.index_alias
    worker = deployment.start_worker()
    deployment.produce(deployment.topic(TOPIC), batch[:100])
    wait_for(lambda: indexed(es, alias) >= 100, 240, "the first 100 records", worker.log)

    stop_service(stack, "elasticsearch")
    outage_started = time.monotonic()
    deployment.produce(deployment.topic(TOPIC), batch[100:200])
    wait_for(
        lambda: not_ready_because(deployment, "elasticsearch"),
        60,
        "readiness to turn red",
        worker.log,
    )
    deployment.produce(deployment.topic(TOPIC), batch[200:])
    time.sleep(max(0.0, 30 - (time.monotonic() - outage_started)))
    assert worker.alive(), worker.log()
    control.up(stack, echo=lambda _: None)

    wait_for(lambda: indexed(es, alias) >= 300, 300, "all records after the outage", worker.log)
    time.sleep(3)
    assert_exactly_once(es, alias, run, 300)
    wait_for(
        lambda: readiness(deployment)["status_code"] == 200,
        120,
        "readiness to recover",
        lambda: str(readiness(deployment)),
    )


# kafka-python 3.0.12 leaves sockets unclosed when its broker goes away under it (the test's
# own producer/admin clients); that is upstream's leak, not the pipeline's, so it is not fatal.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_broker_restart_while_processing_loses_nothing(
    private: tuple[Deployment, Elasticsearch], stack: Settings
) -> None:
    deployment, es = private
    run = uuid.uuid4().hex[:10]
    batch = records(run, 300)
    alias = deployment.settings.index_alias
    worker = deployment.start_worker()
    deployment.produce(deployment.topic(TOPIC), batch[:150])
    wait_for(lambda: indexed(es, alias) >= 50, 240, "processing to start", worker.log)

    stop_service(stack, "kafka")
    wait_for(
        lambda: not_ready_because(deployment, "kafka"), 60, "readiness to turn red", worker.log
    )
    time.sleep(5)
    control.up(stack, echo=lambda _: None)
    deployment.produce(deployment.topic(TOPIC), batch[150:])

    wait_for(lambda: indexed(es, alias) >= 300, 300, "all records after the restart", worker.log)
    time.sleep(3)
    assert_exactly_once(es, alias, run, 300)
    assert worker.alive(), worker.log()
