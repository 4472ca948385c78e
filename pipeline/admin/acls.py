"""Kafka users and ACLs: what each identity may do on one deployment's topics.

Kafka ACLs match names literally or by leading prefix, so they are granted per deployment
(topic prefix and consumer group): by `stack up` for the configured one and by
`topics ensure` for any other, as `ct-admin`. On a configured cluster (compose, or one run by
others) only `topics ensure --grant-acls` grants them, with the settings' own KAFKA_SASL_*
login, which must be a super user's; principals are the identities' user names
(`User:ct-worker` ...). `ct-admin` is a super user and needs none. The alerts topic is written
by the worker (alerts) and by both API identities (acknowledgements), and read by operators.
The erasure ledger is read by workers and operators (the dead-letter tools honour it) and
written only by the restricted API identity and operators (`pipeline erase`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pipeline import credentials
from pipeline.clients import kafka_config, new_kafka_client
from pipeline.enrich.watch.publish import alerts_topic
from pipeline.errors import KafkaUnavailable, StackError, map_kafka_errors
from pipeline.ingest.erasure import erasures_topic
from pipeline.ingest.sources import dlq_topic, intake_topics
from pipeline.settings import Settings

log = logging.getLogger(__name__)

# (identity, resource type, name, prefixed?, operations)
Grant = tuple[str, str, str, bool, tuple[str, ...]]


def grants(settings: Settings) -> list[Grant]:
    """Every ACL of one deployment, as plain data."""
    prefix, group = settings.topic_prefix, settings.consumer_group
    intake = list(intake_topics(prefix))
    dlq, alerts, erasures = dlq_topic(prefix), alerts_topic(prefix), erasures_topic(prefix)
    rows: list[Grant] = []
    for topic in intake:
        rows.append(("worker", "TOPIC", topic, False, ("READ", "DESCRIBE")))
        # operators publish, replay dead letters to their origin, and read lag timestamps
        rows.append(("operator", "TOPIC", topic, False, ("READ", "WRITE", "DESCRIBE")))
    rows += [
        ("worker", "TOPIC", dlq, False, ("WRITE", "DESCRIBE")),
        # its own group, and the `<group>-reindex-<index>` groups of `reindex --from kafka`
        ("worker", "GROUP", group, True, ("READ", "DESCRIBE")),
        # faust's own topics (`<app id>-__assignor-__leader`, table changelogs)
        ("worker", "TOPIC", f"{group}-", True, ("READ", "WRITE", "CREATE", "DESCRIBE")),
        ("operator", "TOPIC", dlq, False, ("READ", "DESCRIBE")),
        ("operator", "GROUP", "*", False, ("DESCRIBE",)),
        # alerts from the worker, acknowledgements from the API; operators read the stream
        ("worker", "TOPIC", alerts, False, ("WRITE", "DESCRIBE")),
        ("api", "TOPIC", alerts, False, ("WRITE", "DESCRIBE")),
        ("api-restricted", "TOPIC", alerts, False, ("WRITE", "DESCRIBE")),
        ("operator", "TOPIC", alerts, False, ("READ", "DESCRIBE")),
        # erasures: every worker reads the whole ledger; only these two may add to it
        ("worker", "TOPIC", erasures, False, ("READ", "DESCRIBE")),
        ("api-restricted", "TOPIC", erasures, False, ("WRITE", "DESCRIBE")),
        ("operator", "TOPIC", erasures, False, ("READ", "WRITE", "DESCRIBE")),
    ]
    return rows


def _acls(settings: Settings) -> list[Any]:
    from kafka.admin import (
        ACL,
        ACLOperation,
        ACLPermissionType,
        ACLResourcePatternType,
        ResourcePattern,
        ResourceType,
    )

    acls = []
    for identity, kind, name, prefixed, operations in grants(settings):
        pattern = ResourcePattern(
            ResourceType[kind],
            name,
            ACLResourcePatternType.PREFIXED if prefixed else ACLResourcePatternType.LITERAL,
        )
        principal = f"User:{credentials.IDENTITIES[identity]}"
        acls += [
            ACL(principal, "*", ACLOperation[op], ACLPermissionType.ALLOW, pattern)
            for op in operations
        ]
    return acls


@contextmanager
def _admin(settings: Settings) -> Iterator[Any]:
    from kafka import KafkaAdminClient

    client_id, timeout = "ct-pipeline-stack-security", 10_000
    if settings.kafka_bootstrap_servers:
        config = kafka_config(settings, client_id=client_id, request_timeout_ms=timeout)
    else:
        config = {
            "bootstrap_servers": settings.kafka_servers.split(","),
            "client_id": client_id,
            "request_timeout_ms": timeout,
            **credentials.admin_kafka_options(settings.state_dir),
        }
    client = new_kafka_client(KafkaAdminClient, **config)
    try:
        yield client
    finally:
        client.close()


def ensure_users(settings: Settings, secrets: credentials.StackCredentials) -> None:
    """Create (or reset to the stored password) every identity's SCRAM credential."""
    from kafka.admin import ScramMechanism, UserScramCredentialUpsertion

    upserts = [
        UserScramCredentialUpsertion(
            secrets.username(identity), ScramMechanism.SCRAM_SHA_512, secrets.password(identity)
        )
        for identity in credentials.IDENTITIES
    ]
    with _admin(settings) as admin:
        failed = {u: e for u, e in admin.alter_user_scram_credentials(upserts).items() if e}
    if failed:
        raise StackError(f"creating Kafka SCRAM users failed: {failed}")


def grant(settings: Settings, *, configured: bool = False) -> bool:
    """Grant one deployment's ACLs; False when there is nothing to do.

    On the local stack: as `ct-admin`, when it runs with security. On a configured cluster:
    only when `configured` is set (`topics ensure --grant-acls`), with the settings' own login.
    Idempotent: Kafka keeps one copy of an ACL created twice.
    """
    if settings.kafka_bootstrap_servers:
        if not configured:
            return False  # a configured cluster: its owners grant, or ask for it explicitly
    elif credentials.load(settings.state_dir) is None:
        return False  # a local stack without security has no authorizer
    with map_kafka_errors("granting Kafka ACLs"), _admin(settings) as admin:
        result = admin.create_acls(_acls(settings))
    failed = result.get("failed") or []
    if failed:
        # kafka-python lists one error class per refused ACL
        reasons = ", ".join(sorted({error.__name__ for error in failed}))
        raise KafkaUnavailable(
            f"granting Kafka ACLs: {len(failed)} refused ({reasons}); the login must be a "
            "super user's and the broker must run an authorizer"
        )
    log.info(
        "granted Kafka ACLs for prefix %r, group %r", settings.topic_prefix, settings.consumer_group
    )
    return True
