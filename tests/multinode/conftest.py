"""The local 3 + 3 cluster the fault tests share (issue 17), apart from the session stack.

It has its own state dir and ports (CLUSTER_DEFAULTS, each overridable from the environment
under the same name), so it runs beside the single-node stack the other tests use. Started
here if it is not running (and then stopped again at the end); `scripts/check` starts it once
before `pytest -m multinode` and stops it after.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from pipeline.clients import elasticsearch_client
from pipeline.dev.stack import control
from pipeline.settings import Settings

_STATE = (
    "/var/lib/ct-pipeline-cluster"
    if os.geteuid() == 0
    else str(Path.home() / ".local" / "state" / "ct-pipeline-cluster")
)
# The same names as the settings' environment variables (pipeline/settings.py).
CLUSTER_DEFAULTS = {
    "PIPELINE_STATE_DIR": _STATE,
    "STACK_KAFKA_PORT": "29092",
    "STACK_KAFKA_CONTROLLER_PORT": "29093",
    "STACK_ES_PORT": "29200",
    "STACK_KAFKA_BROKERS": "3",
    "STACK_ES_NODES": "3",
    "STACK_KAFKA_HEAP": "512m",
    "STACK_ES_HEAP": "512m",
}


def cluster_settings() -> Settings:
    """Settings for the local cluster: CLUSTER_DEFAULTS unless the environment says otherwise."""
    env = {name: os.environ.get(name, default) for name, default in CLUSTER_DEFAULTS.items()}
    return Settings(
        kafka_bootstrap_servers="",
        elasticsearch_url="",
        state_dir=Path(env["PIPELINE_STATE_DIR"]),
        stack_kafka_port=int(env["STACK_KAFKA_PORT"]),
        stack_kafka_controller_port=int(env["STACK_KAFKA_CONTROLLER_PORT"]),
        stack_es_port=int(env["STACK_ES_PORT"]),
        stack_kafka_brokers=int(env["STACK_KAFKA_BROKERS"]),
        stack_es_nodes=int(env["STACK_ES_NODES"]),
        stack_kafka_heap=env["STACK_KAFKA_HEAP"],
        stack_es_heap=env["STACK_ES_HEAP"],
        # what an operator sets for a cluster: faust's own topics get three replicas too
        replication_factor=3,
    )


@pytest.fixture(scope="session")
def cluster() -> Iterator[Settings]:
    """The running 3 + 3 cluster (started if it is not)."""
    settings = cluster_settings()
    if settings.stack_kafka_brokers < 3 or settings.stack_es_nodes < 2:
        pytest.fail("the multinode tests need 3+ brokers and 2+ Elasticsearch nodes")
    was_running = any(s.pid is not None for s in control.status(settings))
    control.up(settings)
    yield settings
    if not was_running:
        control.down(settings)


@pytest.fixture
def healed(cluster: Settings) -> Iterator[Settings]:
    """The cluster, with every node running again after the test, whatever it killed."""
    yield cluster
    from tests.multinode.faults import restart

    restart(cluster)


@pytest.fixture(scope="session")
def cluster_es(cluster: Settings) -> Iterator[Elasticsearch]:
    """An Elasticsearch client for the cluster (every node, node 1 first), as ct-admin."""
    client = elasticsearch_client(cluster)
    yield client
    client.close()
