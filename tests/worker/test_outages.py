"""Outage tests (issues 5 and 8) on a private stack: Elasticsearch stopped for 30 s and the
Kafka broker restarted while records keep arriving. The worker keeps running, readiness turns
red during the outage, and afterwards every valid id is indexed once with its latest revision,
one `duplicate: false` per cluster, and the dead-letter topic holds exactly the bad records."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from pipeline.clients import elasticsearch_client
from pipeline.dev.stack import control
from pipeline.settings import Settings
from tests.harness import Deployment, wait_for
from tests.private_stack import private_stack, stop_service
from tests.worker.support import (
    assert_stream_outcome,
    committed,
    failing_check,
    mixed_stream,
    readiness,
    worker_deployment,
)
from tests.worker.test_faults import processed

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack() -> Iterator[Settings]:
    with private_stack() as settings:
        control.up(settings, echo=lambda _: None)
        yield settings


@pytest.fixture
def private(stack: Settings, tmp_path: Path) -> Iterator[tuple[Deployment, Elasticsearch]]:
    with worker_deployment(stack, f"out-{uuid.uuid4().hex[:8]}", tmp_path) as deployment:
        es = elasticsearch_client(stack)
        try:
            yield deployment, es
        finally:
            es.close()


def not_ready_because(deployment: Deployment, check: str) -> bool:
    return failing_check(deployment, check) is not None


def test_elasticsearch_down_for_30s_pauses_and_loses_nothing(
    private: tuple[Deployment, Elasticsearch], stack: Settings
) -> None:
    deployment, es = private
    stream = mixed_stream(uuid.uuid4().hex[:10], stories=24, members=8)
    third = len(stream.records) // 3
    worker = deployment.start_worker()
    stream.publish(deployment, slice(0, third))
    wait_for(lambda: processed(deployment, stream), 240, "the first third", worker.log)

    stop_service(stack, "elasticsearch")
    outage_started = time.monotonic()
    stream.publish(deployment, slice(third, 2 * third))
    wait_for(
        lambda: not_ready_because(deployment, "elasticsearch"),
        60,
        "readiness to turn red",
        worker.log,
    )
    stream.publish(deployment, slice(2 * third, None))
    time.sleep(max(0.0, 30 - (time.monotonic() - outage_started)))
    assert worker.alive(), worker.log()
    control.up(stack, echo=lambda _: None)

    wait_for(lambda: processed(deployment, stream), 300, "all records after the outage", worker.log)
    assert_stream_outcome(es, deployment, stream)
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
    stream = mixed_stream(uuid.uuid4().hex[:10], stories=24, members=8)
    half = len(stream.records) // 2
    worker = deployment.start_worker()
    stream.publish(deployment, slice(0, half))
    topic = deployment.topic("public-reports")
    wait_for(lambda: committed(deployment, topic) > 0, 240, "processing to start", worker.log)

    stop_service(stack, "kafka")
    wait_for(
        lambda: not_ready_because(deployment, "kafka"), 60, "readiness to turn red", worker.log
    )
    time.sleep(5)
    control.up(stack, echo=lambda _: None)
    stream.publish(deployment, slice(half, None))

    wait_for(
        lambda: processed(deployment, stream), 300, "all records after the restart", worker.log
    )
    assert_stream_outcome(es, deployment, stream)
    assert worker.alive(), worker.log()
