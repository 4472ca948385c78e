"""Test harness shared by tests and benches: how a command or child process reaches the stack."""

from __future__ import annotations

from pipeline.clients import identity_env
from pipeline.settings import Settings

__all__ = ["stack_env"]


def stack_env(settings: Settings, identity: str = "admin") -> dict[str, str]:
    """Environment variables that point a command at `settings`' cluster, logged in as
    `identity` when the local stack runs with security (its credentials file holds them)."""
    env = {"KAFKA_BOOTSTRAP_SERVERS": settings.kafka_servers, "ELASTICSEARCH_URL": settings.es_url}
    env.update(identity_env(settings, identity))
    return env
