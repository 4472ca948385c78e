"""`topics ensure --grant-acls` on a configured cluster: a secure stack, reached as one.

A private stack with security on (SCRAM, StandardAuthorizer; `secure_stack`): giving the settings
its address and the admin's login makes it a configured cluster, where ACLs are granted only
when asked for.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import (
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ResourcePatternFilter,
    ResourceType,
)
from kafka.errors import GroupAuthorizationFailedError, TopicAuthorizationFailedError

from pipeline.admin import acls
from pipeline.admin.topics import ensure_topics
from pipeline.clients import kafka_config, new_kafka_client
from pipeline.errors import KafkaUnavailable
from pipeline.ingest.sources import dlq_topic, intake_topics
from pipeline.settings import Settings
from tests.harness import produce_as, stack_env

pytestmark = pytest.mark.integration


def _configured(settings: Settings, identity: str, prefix: str) -> Settings:
    """Settings that name the session's broker and `identity`'s login explicitly."""
    env: dict[str, Any] = {
        **stack_env(settings, identity),
        "PIPELINE_TOPIC_PREFIX": f"{prefix}.",
        "PIPELINE_CONSUMER_GROUP": f"{prefix}-group",
    }
    configured = Settings(**env)
    assert configured.kafka_bootstrap_servers and configured.kafka_sasl_password is not None
    return configured


@pytest.fixture
def settings(secure_stack: Settings) -> Settings:
    """The stack these tests reach (not the session's, which may run without security)."""
    return secure_stack


@pytest.fixture
def deployment(settings: Settings) -> Iterator[Settings]:
    """A fresh deployment (prefix, group) on the secure stack, as a configured cluster
    logged in as the admin; its topics and ACLs are removed afterwards."""
    configured = _configured(settings, "admin", f"grant-{uuid.uuid4().hex[:10]}")
    yield configured
    admin = new_kafka_client(KafkaAdminClient, **kafka_config(configured))
    try:
        names = [*intake_topics(configured.topic_prefix), dlq_topic(configured.topic_prefix)]
        admin.delete_topics([n for n in names if n in admin.list_topics()])
        filters = [
            ACLFilter(
                None,
                None,
                ACLOperation.ANY,
                ACLPermissionType.ANY,
                ResourcePatternFilter(ResourceType.ANY, name, ACLResourcePatternType.ANY),
            )
            for *_, name, _, _ in acls.grants(configured)
            if name != "*"  # operators' describe on every group is shared by every deployment
        ]
        admin.delete_acls(filters)
    finally:
        admin.close()


def _read_as_worker(settings: Settings, deployment: Settings, topic: str) -> list[bytes]:
    consumer = new_kafka_client(
        KafkaConsumer,
        **kafka_config(settings, identity="worker"),
        group_id=deployment.consumer_group,
        auto_offset_reset="earliest",
        consumer_timeout_ms=15_000,
    )
    try:
        consumer.subscribe([topic])
        return [message.value for message in consumer]
    finally:
        consumer.close()


def test_grant_acls_on_a_configured_cluster_gives_the_worker_its_topics_and_no_more(
    settings: Settings, deployment: Settings
) -> None:
    ensure_topics(deployment, partitions=1, dlq_partitions=1)  # without the flag: no ACLs
    intake, dlq = (
        next(iter(intake_topics(deployment.topic_prefix))),
        dlq_topic(deployment.topic_prefix),
    )
    produce_as(settings, "admin", intake)
    with pytest.raises((GroupAuthorizationFailedError, TopicAuthorizationFailedError)):
        _read_as_worker(settings, deployment, intake)
    with pytest.raises(TopicAuthorizationFailedError):
        produce_as(settings, "worker", dlq)

    ensure_topics(deployment, partitions=1, dlq_partitions=1, grant_acls=True)

    assert _read_as_worker(settings, deployment, intake) == [b"{}"]
    produce_as(settings, "worker", dlq)  # workers write dead letters
    with pytest.raises(TopicAuthorizationFailedError):
        produce_as(settings, "worker", intake)  # and never intake
    produce_as(settings, "operator", intake)  # operators publish and replay


def test_grant_acls_needs_a_super_users_login(settings: Settings, deployment: Settings) -> None:
    as_worker = _configured(settings, "worker", deployment.topic_prefix.rstrip("."))
    with pytest.raises(KafkaUnavailable, match="refused"):
        acls.grant(as_worker, configured=True)
    # and without being asked, a configured cluster is left to its owners
    assert acls.grant(deployment) is False
