"""The README's first command, `bin/pipeline run --demo N`, end to end on the session's stack.

On the local stack no cluster is configured, so `run` goes through its own `stack up` (which
finds the session's stack running and reuses it); elsewhere the cluster is passed in the
environment. Topics, group and alias are unique to the test. It checks what a newcomer would:
every valid demo record searchable through the search API, every bad one dead-lettered, and
Ctrl-C stopping everything cleanly.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from elasticsearch import Elasticsearch
from kafka import KafkaAdminClient, KafkaConsumer

from pipeline.clients import kafka_config
from pipeline.dev.demo import generate
from pipeline.dev.stack.process import port_open
from pipeline.ingest.sources import dlq_topic, intake_topics
from pipeline.settings import Settings
from tests.conftest import delete_everything_named
from tests.harness import free_port, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
COUNT = 60
KEY = "run-test-key-0123456789"


@pytest.fixture
def run_env(
    settings: Settings, es: Elasticsearch, unique_name: Callable[[str], str]
) -> Iterator[dict[str, str]]:
    name = unique_name("run")
    env = dict(os.environ)
    if not settings.uses_local_stack:
        env.update(
            KAFKA_BOOTSTRAP_SERVERS=settings.kafka_servers, ELASTICSEARCH_URL=settings.es_url
        )
    env.update(
        PIPELINE_TOPIC_PREFIX=f"{name}.",
        PIPELINE_CONSUMER_GROUP=f"{name}-group",
        PIPELINE_INDEX_ALIAS=f"{name}-reports",
        PIPELINE_WORKER_PORT=str(free_port()),
        PIPELINE_API_PORT=str(free_port()),
        PIPELINE_API_KEYS=f'{{"{KEY}": {{"user": "newcomer", "role": "analyst"}}}}',
        PIPELINE_BATCH_TIMEOUT_S="0.2",
        PIPELINE_LOG_FORMAT="text",
    )
    yield env
    admin = KafkaAdminClient(**kafka_config(settings))
    try:
        prefix = env["PIPELINE_TOPIC_PREFIX"]
        mine = [t for t in admin.list_topics() if t.startswith(prefix)]
        if mine:
            admin.delete_topics(mine)
    finally:
        admin.close()
    delete_everything_named(es, name)


def dead_letters(settings: Settings, topic: str) -> int:
    consumer = KafkaConsumer(
        topic, **kafka_config(settings), auto_offset_reset="earliest", consumer_timeout_ms=3000
    )
    try:
        return sum(1 for _ in consumer)
    finally:
        consumer.close()


def test_run_with_demo_indexes_the_stream_serves_search_and_stops_on_ctrl_c(
    settings: Settings, es: Elasticsearch, run_env: dict[str, str], tmp_path: Path
) -> None:
    expected = list(generate(COUNT))
    valid = sum(1 for r in expected if r.bad is None)
    bad = COUNT - valid
    assert bad > 0
    alias, prefix = run_env["PIPELINE_INDEX_ALIAS"], run_env["PIPELINE_TOPIC_PREFIX"]
    api = f"http://127.0.0.1:{run_env['PIPELINE_API_PORT']}"
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log_file:
        run = subprocess.Popen(
            [str(ROOT / "bin" / "pipeline"), "run", "--demo", str(COUNT)],
            env=run_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    log = lambda: log_path.read_text(errors="replace")[-6000:]  # noqa: E731
    try:

        def searchable() -> int:
            if not es.indices.exists_alias(name=alias):
                return 0
            es.indices.refresh(index=alias)
            return int(es.count(index=alias)["count"])

        wait_for(lambda: searchable() >= valid, 300, f"{valid} demo reports indexed", log)
        assert searchable() == valid
        topics = set(intake_topics(prefix)) | {dlq_topic(prefix)}
        admin = KafkaAdminClient(**kafka_config(settings))
        try:
            assert topics <= set(admin.list_topics())
        finally:
            admin.close()
        wait_for(lambda: dead_letters(settings, dlq_topic(prefix)) >= bad, 60, "dead letters", log)

        headers = {"X-API-Key": KEY, "X-Justification": "run command test"}
        wait_for(lambda: port_open(int(run_env["PIPELINE_API_PORT"])), 60, "the API", log)
        page = httpx.get(
            f"{api}/api/search", params={"collapse": "false", "size": 5}, headers=headers
        )
        assert page.status_code == 200, page.text
        assert page.json()["total"] == valid
        assert httpx.get(f"{api}/api/search", timeout=10).status_code == 401
    finally:
        run.send_signal(signal.SIGINT)
        code = run.wait(timeout=90)
    assert code == 0, log()
    assert not port_open(int(run_env["PIPELINE_API_PORT"]))
    assert not port_open(int(run_env["PIPELINE_WORKER_PORT"]))
