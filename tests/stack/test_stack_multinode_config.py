"""A local cluster's generated configuration, ports and durability rules as plain data (issue
17; no JVM started: tests/multinode/ runs the cluster itself)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.admin.topics import (
    TopicSpec,
    durability_problems,
    durable_topics,
    wanted_topics,
)
from pipeline.dev.stack import control, elasticsearch, kafka
from pipeline.errors import ConfigError, StackError
from pipeline.index.mapping import _replicas
from pipeline.settings import Settings


def cluster(tmp_path: Path, brokers: int = 3, nodes: int = 3, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "state_dir": tmp_path / "state",
        "cache_dir": tmp_path / "cache",
        "kafka_bootstrap_servers": "",
        "elasticsearch_url": "",
        "stack_kafka_port": 29092,
        "stack_kafka_controller_port": 29093,
        "stack_es_port": 29200,
        "stack_kafka_brokers": brokers,
        "stack_es_nodes": nodes,
    }
    return Settings(**{**values, **overrides})


def test_defaults_stay_one_broker_and_one_node(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STACK_KAFKA_BROKERS", raising=False)
    monkeypatch.delenv("STACK_ES_NODES", raising=False)
    settings = Settings()
    assert (settings.stack_kafka_brokers, settings.stack_es_nodes) == (1, 1)
    monkeypatch.setenv("STACK_KAFKA_BROKERS", "3")
    monkeypatch.setenv("STACK_ES_NODES", "3")
    assert (Settings().stack_kafka_brokers, Settings().stack_es_nodes) == (3, 3)


def test_clients_bootstrap_from_every_local_broker(tmp_path: Path) -> None:
    assert cluster(tmp_path).kafka_servers == "127.0.0.1:29092,127.0.0.1:29094,127.0.0.1:29096"
    assert cluster(tmp_path, brokers=1).kafka_servers == "127.0.0.1:29092"


def test_each_kraft_node_has_its_own_ports_dir_and_the_whole_quorum(tmp_path: Path) -> None:
    settings = cluster(tmp_path)
    props = kafka.server_properties(settings, tmp_path / "data", node=2)
    assert props["node.id"] == "2"
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == (
        "1@127.0.0.1:29093,2@127.0.0.1:29095,3@127.0.0.1:29097"
    )
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:29094,CONTROLLER://127.0.0.1:29095"
    assert props["default.replication.factor"] == "3"
    assert props["min.insync.replicas"] == "2"
    assert props["offsets.topic.replication.factor"] == "3"
    assert props["transaction.state.log.min.isr"] == "2"
    roots = {kafka.KafkaPaths.of(settings, n).root.name for n in kafka.node_ids(settings)}
    assert roots == {"kafka-1", "kafka-2", "kafka-3"}
    ids = {kafka.KafkaPaths.of(settings, n).cluster_id_file for n in kafka.node_ids(settings)}
    assert len(ids) == 1, "every node is formatted with one cluster id"


def test_a_single_node_keeps_its_layout(tmp_path: Path) -> None:
    settings = cluster(tmp_path, brokers=1, nodes=1)
    assert kafka.KafkaPaths.of(settings).root == settings.state_dir / "kafka"
    assert elasticsearch.ElasticsearchPaths.of(settings).root == (
        settings.state_dir / "elasticsearch"
    )
    yml = elasticsearch.elasticsearch_yml(
        settings, elasticsearch.ElasticsearchPaths.of(settings), secure=True
    )
    assert yml["discovery.type"] == "single-node"
    assert "transport.port" not in yml


def test_es_nodes_discover_each_other_and_bootstrap_once(tmp_path: Path) -> None:
    settings = cluster(tmp_path)
    paths = elasticsearch.ElasticsearchPaths.of(settings, 3)
    first = elasticsearch.elasticsearch_yml(settings, paths, secure=True, node=3, bootstrap=True)
    assert first["node.name"] == "node-3"
    assert first["http.port"] == 29202
    assert first["transport.port"] == 29302
    assert first["discovery.seed_hosts"] == [
        "127.0.0.1:29300",
        "127.0.0.1:29301",
        "127.0.0.1:29302",
    ]
    assert first["cluster.initial_master_nodes"] == ["node-1", "node-2", "node-3"]
    assert first["xpack.security.enabled"] is True
    assert "discovery.type" not in first
    later = elasticsearch.elasticsearch_yml(settings, paths, secure=True, node=3)
    assert "cluster.initial_master_nodes" not in later


def test_ports_that_collide_are_refused(tmp_path: Path) -> None:
    assert len(control.all_ports(cluster(tmp_path))) == 12
    with pytest.raises(StackError, match="port 29094 would serve both"):
        control.all_ports(cluster(tmp_path, stack_kafka_controller_port=29094))


def test_a_state_dir_keeps_its_size(tmp_path: Path) -> None:
    single = cluster(tmp_path, brokers=1, nodes=1)
    (single.state_dir / "kafka" / "data").mkdir(parents=True)
    (single.state_dir / "kafka" / "data" / "meta.properties").write_text("")
    (single.state_dir / "elasticsearch" / "home").mkdir(parents=True)
    with pytest.raises(StackError, match="holds a stack of 1 Kafka brokers, not 3"):
        control._check_topology(cluster(tmp_path))
    control._check_topology(single)
    assert control.with_topology(cluster(tmp_path)).stack_kafka_brokers == 1


def test_topics_on_three_brokers_get_three_replicas_and_two_in_sync(tmp_path: Path) -> None:
    wanted = wanted_topics(cluster(tmp_path))
    made = durable_topics(wanted, brokers=3)
    assert {spec.replication_factor for spec in made} == {3}
    assert {spec.configs["min.insync.replicas"] for spec in made} == {"2"}
    assert made[0].configs["retention.ms"] == wanted[0].configs["retention.ms"]
    assert {spec.replication_factor for spec in durable_topics(wanted, brokers=5, requested=5)} == {
        5
    }
    one = durable_topics(wanted, brokers=1)
    assert {spec.replication_factor for spec in one} == {1}
    assert all("min.insync.replicas" not in spec.configs for spec in one)


def test_more_replicas_than_brokers_is_refused() -> None:
    with pytest.raises(ConfigError, match="needs at least 3 brokers; the cluster has 1"):
        durable_topics([TopicSpec("t", 1, 1)], brokers=1, requested=3)


def test_existing_topics_that_cannot_be_durable_are_reported() -> None:
    wanted = durable_topics([TopicSpec("a", 1, 1), TopicSpec("b", 1, 1)], brokers=3)
    problems = durability_problems(wanted, {"a": 1, "b": 3}, {"a": 2, "b": 1})
    assert problems == [
        "a: replication factor 1, needs 3",
        "b: min.insync.replicas 1, needs 2",
    ]
    assert durability_problems(wanted, {"a": 3, "b": 3}, {"a": 2, "b": 2}) == []


def test_the_index_gets_a_replica_on_a_local_cluster(tmp_path: Path) -> None:
    assert _replicas(cluster(tmp_path, nodes=1)) == 0
    assert _replicas(cluster(tmp_path, nodes=3)) == 1
