"""Container images and environments for Kafka and Elasticsearch (compose, testcontainers)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from pipeline.settings import Settings

# The port the controller listens on inside the Kafka container; never published.
CONTROLLER_PORT = 9093
# The image's data volume, owned by its unprivileged user.
KAFKA_DATA_DIR = "/var/lib/kafka/data"
# A fixed KRaft cluster id (16 bytes, URL-safe base64) so a kept volume always matches.
KAFKA_CLUSTER_ID = "Y3QtcGlwZWxpbmUtbG9jYQ"


class Listener(NamedTuple):
    """One Kafka listener: its name, the port inside the container, what clients are told."""

    name: str
    port: int
    advertised: str


def kafka_image(settings: Settings) -> str:
    """The Apache Kafka image matching the local stack's version."""
    return f"apache/kafka:{settings.kafka_version}"


def elasticsearch_image(settings: Settings) -> str:
    """The official Elasticsearch image matching the local stack's version."""
    return f"docker.elastic.co/elasticsearch/elasticsearch:{settings.elasticsearch_version}"


def kafka_container_env(listeners: Sequence[Listener]) -> dict[str, str]:
    """Environment for the apache/kafka image: one KRaft node, like `pipeline stack up`.

    The image ignores its built-in config as soon as any KAFKA_* variable is set, so every
    setting a single node needs is spelled out here.
    """
    names = [listener.name for listener in listeners]
    protocols = [f"{name}:PLAINTEXT" for name in [*names, "CONTROLLER"]]
    return {
        "CLUSTER_ID": KAFKA_CLUSTER_ID,
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": f"1@localhost:{CONTROLLER_PORT}",
        "KAFKA_LISTENERS": ",".join(
            [
                *(f"{item.name}://:{item.port}" for item in listeners),
                f"CONTROLLER://:{CONTROLLER_PORT}",
            ]
        ),
        "KAFKA_ADVERTISED_LISTENERS": ",".join(
            f"{item.name}://{item.advertised}" for item in listeners
        ),
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": ",".join(protocols),
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_INTER_BROKER_LISTENER_NAME": names[0],
        "KAFKA_LOG_DIRS": KAFKA_DATA_DIR,
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "1",
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
    }


def elasticsearch_container_env(heap: str) -> dict[str, str]:
    """Environment for the official Elasticsearch image: one node, security explicitly off."""
    return {
        "discovery.type": "single-node",
        "xpack.security.enabled": "false",
        "xpack.security.enrollment.enabled": "false",
        "xpack.security.http.ssl.enabled": "false",
        "xpack.security.transport.ssl.enabled": "false",
        "cluster.routing.allocation.disk.threshold_enabled": "false",
        "action.destructive_requires_name": "false",
        "ES_JAVA_OPTS": f"-Xms{heap} -Xmx{heap}",
    }
