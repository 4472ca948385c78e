"""Test harness shared by tests and benches: how a command or child process reaches the stack."""

from __future__ import annotations

import socket
from contextlib import ExitStack

from kafka import KafkaProducer

from pipeline.clients import identity_env, kafka_config, new_kafka_client
from pipeline.settings import Settings

__all__ = ["free_port", "free_ports", "produce_as", "stack_env"]


def stack_env(settings: Settings, identity: str = "admin") -> dict[str, str]:
    """Environment variables that point a command at `settings`' cluster, logged in as
    `identity` when the local stack runs with security (its credentials file holds them)."""
    env = {"KAFKA_BOOTSTRAP_SERVERS": settings.kafka_servers, "ELASTICSEARCH_URL": settings.es_url}
    env.update(identity_env(settings, identity))
    return env


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback TCP ports nothing listens on right now (bound together to
    pick them, then released)."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    return free_ports(1)[0]


def produce_as(settings: Settings, identity: str, topic: str) -> None:
    """Send one small record to `topic` logged in as `identity`; raises what the broker refused."""
    producer = new_kafka_client(
        KafkaProducer, **kafka_config(settings, identity=identity), max_block_ms=10_000
    )
    try:
        producer.send(topic, key=b"k", value=b"{}").get(timeout=15)
    finally:
        producer.close()
