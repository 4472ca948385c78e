"""Short-lived kafka-python clients for operations code: fail fast, leave nothing behind.

kafka-python 3.0 starts an IO thread before it bootstraps in the constructor and, when
the bootstrap fails, neither stops that thread nor closes the sockets of refused connection
attempts. A worker that checks Kafka every few seconds while the broker is down would pile
them up. So: probe the bootstrap servers with a plain TCP connect first (a clean, quick
"unreachable"), and build through `pipeline.clients.new_kafka_client`.
"""

from __future__ import annotations

import socket
from typing import Any, TypeVar

from pipeline.clients import kafka_config, new_kafka_client
from pipeline.errors import KafkaUnavailable
from pipeline.settings import Settings

__all__ = ["build_client", "unreachable_reason"]

T = TypeVar("T")


def unreachable_reason(settings: Settings, timeout_s: float) -> str | None:
    """None when a TCP connection to some bootstrap server opens, else why none did."""
    errors = []
    for server in settings.kafka_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
                return None
        except (OSError, ValueError) as exc:
            errors.append(f"{server.strip()}: {exc}")
    return "; ".join(errors) or "no bootstrap servers configured"


def build_client(cls: type[T], settings: Settings, timeout_s: float, **overrides: Any) -> T:
    """Construct a kafka-python client class with short timeouts; raise KafkaUnavailable.

    Raises without constructing anything when no bootstrap server accepts a connection.
    """
    reason = unreachable_reason(settings, timeout_s)
    if reason is not None:
        raise KafkaUnavailable(f"Kafka unreachable: {reason}")
    timeout_ms = int(timeout_s * 1000)
    config = kafka_config(
        settings, request_timeout_ms=timeout_ms, bootstrap_timeout_ms=timeout_ms, **overrides
    )
    try:
        return new_kafka_client(cls, **config)
    except Exception as exc:
        raise KafkaUnavailable(
            f"Kafka client failed to start: {type(exc).__name__}: {exc}"
        ) from exc
