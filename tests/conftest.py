"""Shared fixtures: the real Kafka broker and Elasticsearch node, unique topics and indices.

Where the stack comes from, decided once per session and only when an integration fixture
is first used (unit tests never start anything):
1. KAFKA_BOOTSTRAP_SERVERS and ELASTICSEARCH_URL set: those clusters;
2. a reachable Docker engine: testcontainers (apache/kafka and Elasticsearch images);
3. otherwise the local stack (`pipeline stack up`), stopped again at the end only if this
   session started it.
If none works the tests fail loudly; they are never skipped.

`settings` is an integration fixture (it brings the stack up); unit tests build `Settings()`.
"""

from __future__ import annotations

import gc
import os
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from pipeline.clients import elasticsearch_client
from pipeline.clients import kafka_config as build_kafka_config
from pipeline.ops.health import elasticsearch_check, kafka_check
from pipeline.settings import Settings
from tests.harness import free_port

STACK_WAIT_S = 180.0


def _kafka_answers(settings: Settings) -> bool:
    return kafka_check(settings, timeout_s=5)().ok


def _es_answers(settings: Settings) -> bool:
    return elasticsearch_check(settings, timeout_s=5)().ok


def _wait(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + STACK_WAIT_S
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not become ready within {STACK_WAIT_S:.0f}s", pytrace=False)
        time.sleep(1.0)


def _docker_reachable() -> bool:
    if not os.environ.get("DOCKER_HOST") and not Path("/var/run/docker.sock").exists():
        return False
    # A failed ping leaves the SDK's socket for the garbage collector; collect it here, where
    # its ResourceWarning is expected, rather than inside some later test.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            import docker

            client = docker.from_env(timeout=3)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except Exception:
            return False
        finally:
            gc.collect()


@contextmanager
def _containers(base: Settings) -> Iterator[Settings]:
    from testcontainers.core.container import DockerContainer

    from pipeline.dev.stack.containers import (
        Listener,
        elasticsearch_container_env,
        elasticsearch_image,
        kafka_container_env,
        kafka_image,
    )

    # The broker must advertise the host port clients use, so that port is fixed up front.
    port = free_port()
    kafka = DockerContainer(kafka_image(base)).with_bind_ports(9092, port)
    for key, value in kafka_container_env(
        [Listener("EXTERNAL", 9092, f"localhost:{port}")]
    ).items():
        kafka.with_env(key, value)
    es = DockerContainer(elasticsearch_image(base)).with_exposed_ports(9200)
    for key, value in elasticsearch_container_env(base.stack_es_heap).items():
        es.with_env(key, value)
    with kafka, es:
        url = f"http://{es.get_container_host_ip()}:{es.get_exposed_port(9200)}"
        settings = base.model_copy(
            update={"kafka_bootstrap_servers": f"localhost:{port}", "elasticsearch_url": url}
        )
        _wait(lambda: _kafka_answers(settings), "Kafka container")
        _wait(lambda: _es_answers(settings), "Elasticsearch container")
        yield settings


def _local_stack(base: Settings) -> Iterator[Settings]:
    from pipeline.dev.stack import control
    from pipeline.errors import StackError

    was_running = [s.pid is not None for s in control.status(base)]
    try:
        control.up(base)
    except StackError as exc:
        pytest.fail(
            "integration tests need Kafka and Elasticsearch: no KAFKA_BOOTSTRAP_SERVERS/"
            f"ELASTICSEARCH_URL, no Docker engine, and the local stack failed: {exc}",
            pytrace=False,
        )
    yield base
    if not any(was_running):
        control.down(base)


@pytest.fixture(scope="session")
def settings() -> Iterator[Settings]:
    """Settings pointing at a running Kafka broker and Elasticsearch node (starts one if needed)."""
    base = Settings()
    if base.kafka_bootstrap_servers or base.elasticsearch_url:
        if not (base.kafka_bootstrap_servers and base.elasticsearch_url):
            pytest.fail(
                "set both KAFKA_BOOTSTRAP_SERVERS and ELASTICSEARCH_URL, or neither", pytrace=False
            )
        _wait(lambda: _kafka_answers(base), f"Kafka at {base.kafka_servers}")
        _wait(lambda: _es_answers(base), f"Elasticsearch at {base.es_url}")
        yield base
    elif _docker_reachable():
        with _containers(base) as settings:
            yield settings
    else:
        yield from _local_stack(base)


@pytest.fixture(scope="session")
def es(settings: Settings) -> Iterator[Elasticsearch]:
    """A synchronous Elasticsearch client for the session's node."""
    client = elasticsearch_client(settings)
    yield client
    client.close()


@pytest.fixture
def kafka_config(settings: Settings) -> dict[str, Any]:
    """kafka-python keyword arguments (bootstrap servers, security) for the session's broker."""
    return build_kafka_config(settings)


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """`unique_name(prefix)` -> `prefix-<12 hex digits>`, different on every call."""

    def make(prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    return make


@pytest.fixture
def topic_factory(
    settings: Settings, unique_name: Callable[[str], str]
) -> Iterator[Callable[..., str]]:
    """`topic_factory(partitions=1, prefix="t")` creates a unique topic; deleted after the test."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(**build_kafka_config(settings, client_id="tests-topic-factory"))
    created: list[str] = []

    def make(partitions: int = 1, prefix: str = "t") -> str:
        name = unique_name(prefix)
        spec = {"num_partitions": partitions, "replication_factor": settings.replication_factor}
        admin.create_topics({name: spec}, wait_for_metadata=True)
        created.append(name)
        return name

    try:
        yield make
        if created:
            admin.delete_topics(created)
    finally:
        admin.close()


def delete_everything_named(es: Elasticsearch, prefix: str) -> None:
    """Delete every alias, index, index template and component template whose name starts so."""
    pattern = f"{prefix}*"
    quiet = es.options(ignore_status=404)
    for index, body in quiet.indices.get_alias(name=pattern, expand_wildcards="all").items():
        for alias in body.get("aliases", {}):
            if alias.startswith(prefix):
                quiet.indices.delete_alias(index=index, name=alias)
    for index in quiet.indices.get(index=pattern, expand_wildcards="all"):
        quiet.indices.delete(index=index)
    for template in quiet.indices.get_index_template(name=pattern).get("index_templates", []):
        quiet.indices.delete_index_template(name=template["name"])
    for name in quiet.indices.get_template(name=pattern):
        quiet.indices.delete_template(name=name)
    for template in quiet.cluster.get_component_template(name=pattern).get(
        "component_templates", []
    ):
        quiet.cluster.delete_component_template(name=template["name"])


@pytest.fixture
def index_factory(
    es: Elasticsearch, unique_name: Callable[[str], str]
) -> Iterator[Callable[..., str]]:
    """`index_factory(prefix="idx")` -> a unique lowercase name; everything named with it
    (indices, aliases, index and component templates) is deleted after the test."""
    made: list[str] = []

    def make(prefix: str = "idx") -> str:
        name = unique_name(prefix).lower()
        made.append(name)
        return name

    yield make
    for name in made:
        delete_everything_named(es, name)


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves a non-daemon thread running (it would hang the interpreter)."""
    before = {thread.ident for thread in threading.enumerate()}
    yield

    def leaked() -> list[threading.Thread]:
        return [
            thread
            for thread in threading.enumerate()
            if thread.ident not in before and not thread.daemon and thread.is_alive()
        ]

    deadline = time.monotonic() + 2.0
    while leaked() and time.monotonic() < deadline:
        time.sleep(0.05)
    if leaked():
        pytest.fail(f"test leaked non-daemon threads: {[t.name for t in leaked()]}", pytrace=False)
