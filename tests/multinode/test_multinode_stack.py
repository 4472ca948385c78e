"""The local 3 + 3 cluster as `stack status` and `topics ensure` see it (issue 17)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
from elasticsearch import Elasticsearch
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from pipeline.admin.topics import admin_client, ensure_topics, min_isr_of, replication_of
from pipeline.errors import ConfigError
from pipeline.index.mapping import create_index
from pipeline.settings import Settings
from tests.multinode.faults import stack_env

pytestmark = [pytest.mark.integration, pytest.mark.multinode]


def test_status_shows_every_node_with_its_role_and_health(cluster: Settings) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "stack", "status", "--json"],
        env=stack_env(cluster),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    services = json.loads(result.stdout)["services"]
    assert sorted(services) == [
        "elasticsearch-1",
        "elasticsearch-2",
        "elasticsearch-3",
        "kafka-1",
        "kafka-2",
        "kafka-3",
    ]
    assert all(s["healthy"] for s in services.values())
    kafka_roles = [services[f"kafka-{n}"]["role"] for n in (1, 2, 3)]
    assert all(role.startswith("broker,controller") for role in kafka_roles)
    assert sum("(active controller)" in role for role in kafka_roles) == 1
    es_roles = [services[f"elasticsearch-{n}"]["role"] for n in (1, 2, 3)]
    assert all("data" in role and "master" in role for role in es_roles)
    assert sum("(elected master)" in role for role in es_roles) == 1
    assert len({s["port"] for s in services.values()}) == 6


def test_topics_ensure_makes_durable_topics_and_refuses_one_that_is_not(
    cluster: Settings,
) -> None:
    name = f"mnt-{uuid.uuid4().hex[:8]}"
    settings = cluster.model_copy(update={"topic_prefix": f"{name}.", "replication_factor": 1})
    admin: KafkaAdminClient = admin_client(settings)
    try:
        outcomes = ensure_topics(settings)
        names = [outcome.name for outcome in outcomes]
        assert set(replication_of(admin, names).values()) == {3}
        assert set(min_isr_of(admin, names).values()) == {2}
        # a topic made by hand with one replica is reported, never accepted
        hand = settings.model_copy(update={"topic_prefix": f"{name}.hand."})
        admin.create_topics([NewTopic(f"{name}.hand.alerts", 1, 1)], wait_for_metadata=True)
        with pytest.raises(ConfigError, match=rf"{name}\.hand\.alerts: replication factor 1"):
            ensure_topics(hand)
        too_many = settings.model_copy(update={"replication_factor": 4})
        with pytest.raises(ConfigError, match="needs at least 4 brokers; the cluster has 3"):
            ensure_topics(too_many)
    finally:
        admin.delete_topics([t for t in admin.list_topics() if t.startswith(name)])
        admin.close()


def test_the_index_gets_one_replica_on_the_cluster(
    cluster: Settings, cluster_es: Elasticsearch
) -> None:
    index = f"mni-{uuid.uuid4().hex[:8]}-v1"
    try:
        create_index(cluster_es, cluster, index, "standard")
        found = cluster_es.indices.get_settings(index=index)[index]["settings"]["index"]
        assert found["number_of_replicas"] == "1"
        cluster_es.cluster.health(index=index, wait_for_status="green", timeout="60s")
    finally:
        cluster_es.options(ignore_status=404).indices.delete(index=index)
