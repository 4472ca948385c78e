"""The intake, dead-letter, alerts and erasure topics: what should exist, and creating what
does not.

On a cluster of three or more brokers every topic gets three replicas (or
PIPELINE_REPLICATION_FACTOR, if higher) and `min.insync.replicas=2`, so an `acks=all` write
survives the loss of any one broker; a topic that cannot be made so is refused, never created
or accepted quietly (`durability_problems`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from pipeline.enrich.watch.publish import alerts_topic
from pipeline.errors import ConfigError, KafkaUnavailable, map_kafka_errors
from pipeline.ingest.erasure import erasures_topic
from pipeline.ingest.sources import dlq_topic, intake_topics
from pipeline.settings import Settings

DEFAULT_DLQ_PARTITIONS = 1
# Alerts are few: one partition keeps them in order for whoever reads the whole stream.
DEFAULT_ALERTS_PARTITIONS = 1
# As long as a watchlist entry lives by default: an alert outlives no entry's first term.
ALERTS_RETENTION_MS = 90 * 24 * 3600 * 1000
# The erasure ledger is compacted and kept forever: the latest record of every key stays, so
# a worker that starts in years still reads every erasure (README, "Erasure").
ERASURES_PARTITIONS = 1
ERASURES_CONFIGS = {"cleanup.policy": "compact", "retention.ms": "-1"}
# Kafka's "topic already exists" error code: another worker created it between look and create.
TOPIC_ALREADY_EXISTS = 36
# From this many brokers on, topics are made durable: this many replicas, two of them in sync
# for a write to count (one broker may be lost, or restarted, without losing a record).
DURABLE_BROKERS = 3
DURABLE_REPLICAS = 3
DURABLE_MIN_ISR = 2


@dataclass(frozen=True)
class TopicSpec:
    """One topic the pipeline needs: name, partitions, replication factor, topic configs."""

    name: str
    partitions: int
    replication_factor: int
    configs: Mapping[str, str] = field(default_factory=dict)


class TopicState(StrEnum):
    """What `ensure_topics` found or did for one topic."""

    CREATED = "created"
    PRESENT = "already present"
    PARTITIONS_DIFFER = "partition count differs"


@dataclass(frozen=True)
class TopicOutcome:
    """The result for one topic; `partitions` is what the broker has, `wanted` what we asked."""

    name: str
    state: TopicState
    partitions: int
    wanted: int

    def describe(self) -> str:
        """One human-readable line."""
        if self.state is TopicState.PARTITIONS_DIFFER:
            return f"{self.name}: {self.state} (has {self.partitions}, wanted {self.wanted})"
        return f"{self.name}: {self.state} ({self.partitions} partitions)"


def wanted_topics(
    settings: Settings,
    *,
    partitions: int | None = None,
    dlq_partitions: int | None = None,
    retention_ms: int | None = None,
    alerts_partitions: int | None = None,
) -> list[TopicSpec]:
    """The four intake topics, the dead-letter topic, the alerts topic and the erasure ledger,
    sized by the settings or overrides.

    Names carry `settings.topic_prefix` (empty in production; tests isolate with it).
    """
    intake_retention = settings.intake_retention_ms if retention_ms is None else retention_ms
    intake = [
        TopicSpec(
            name,
            partitions or settings.intake_partitions,
            settings.replication_factor,
            {"retention.ms": str(intake_retention)},
        )
        for name in intake_topics(settings.topic_prefix)
    ]
    dlq = TopicSpec(
        dlq_topic(settings.topic_prefix),
        dlq_partitions or DEFAULT_DLQ_PARTITIONS,
        settings.replication_factor,
        {"retention.ms": str(settings.dlq_retention_ms)},
    )
    alerts = TopicSpec(
        alerts_topic(settings.topic_prefix),
        alerts_partitions or DEFAULT_ALERTS_PARTITIONS,
        settings.replication_factor,
        {"retention.ms": str(ALERTS_RETENTION_MS)},
    )
    erasures = TopicSpec(
        erasures_topic(settings.topic_prefix),
        ERASURES_PARTITIONS,
        settings.replication_factor,
        ERASURES_CONFIGS,
    )
    return [*intake, dlq, alerts, erasures]


def durable_topics(
    wanted: Iterable[TopicSpec], brokers: int, requested: int = 1
) -> list[TopicSpec]:
    """`wanted` with the replication the cluster can hold durably.

    On `DURABLE_BROKERS` or more brokers: `max(requested, 3)` replicas and
    `min.insync.replicas=2`. Below that, `requested` replicas as asked (a development broker).
    Raises ConfigError when `requested` exceeds the brokers there are.
    """
    if requested > brokers:
        raise ConfigError(
            f"replication factor {requested} (PIPELINE_REPLICATION_FACTOR) needs at least "
            f"{requested} brokers; the cluster has {brokers}, so no topic was created"
        )
    if brokers < DURABLE_BROKERS:
        return [replace(spec, replication_factor=requested) for spec in wanted]
    factor = max(requested, DURABLE_REPLICAS)
    return [
        replace(
            spec,
            replication_factor=factor,
            configs={**spec.configs, "min.insync.replicas": str(DURABLE_MIN_ISR)},
        )
        for spec in wanted
    ]


def durability_problems(
    wanted: Iterable[TopicSpec], replication: Mapping[str, int], min_isr: Mapping[str, int]
) -> list[str]:
    """One line per existing topic held with fewer replicas, or a lower
    `min.insync.replicas`, than `wanted` asks for (`replication` and `min_isr` map topic names
    to what the cluster has; a topic absent from them is not checked)."""
    problems = []
    for spec in wanted:
        have = replication.get(spec.name)
        if have is not None and have < spec.replication_factor:
            problems.append(
                f"{spec.name}: replication factor {have}, needs {spec.replication_factor}"
            )
        wanted_isr = int(spec.configs.get("min.insync.replicas", 0))
        isr = min_isr.get(spec.name)
        if isr is not None and isr < wanted_isr:
            problems.append(f"{spec.name}: min.insync.replicas {isr}, needs {wanted_isr}")
    return problems


def plan_topics(
    wanted: Iterable[TopicSpec], existing: Mapping[str, int]
) -> tuple[list[TopicSpec], list[TopicOutcome]]:
    """Split `wanted` into topics to create and outcomes for those already there.

    `existing` maps topic name to its partition count on the broker.
    """
    to_create: list[TopicSpec] = []
    outcomes: list[TopicOutcome] = []
    for spec in wanted:
        have = existing.get(spec.name)
        if have is None:
            to_create.append(spec)
        elif have == spec.partitions:
            outcomes.append(TopicOutcome(spec.name, TopicState.PRESENT, have, spec.partitions))
        else:
            outcomes.append(
                TopicOutcome(spec.name, TopicState.PARTITIONS_DIFFER, have, spec.partitions)
            )
    return to_create, outcomes


def admin_client(settings: Settings) -> Any:
    from kafka import KafkaAdminClient

    from pipeline.clients import kafka_config, new_kafka_client

    return new_kafka_client(
        KafkaAdminClient, **kafka_config(settings, client_id="ct-pipeline-topics")
    )


def existing_topics(admin: Any) -> dict[str, int]:
    """Partition count of every topic on the broker."""
    return {
        topic["name"]: len(topic["partitions"])
        for topic in admin.describe_topics()
        if topic["error_code"] == 0
    }


def broker_count(admin: Any) -> int:
    """Brokers registered with the cluster (a stopped one still counts: it will be back)."""
    return len(admin.describe_cluster()["brokers"])


def replication_of(admin: Any, names: Iterable[str]) -> dict[str, int]:
    """The smallest replica count of any partition of each of `names` that exists."""
    wanted = set(names)
    return {
        topic["name"]: min(len(p["replica_nodes"]) for p in topic["partitions"])
        for topic in admin.describe_topics()
        if topic["error_code"] == 0 and topic["name"] in wanted and topic["partitions"]
    }


def min_isr_of(admin: Any, names: Iterable[str]) -> dict[str, int]:
    """`min.insync.replicas` of each of `names` (existing topics only)."""
    from kafka.admin import ConfigResource, ConfigResourceType

    names = list(names)
    if not names:
        return {}
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, name, configs=["min.insync.replicas"])
        for name in names
    ]
    found: dict[str, int] = {}
    # kafka-python 3: {"topic": {name: {config: {"value": ...}}}}
    for name, configs in (admin.describe_configs(resources).get("topic") or {}).items():
        value = (configs.get("min.insync.replicas") or {}).get("value")
        if value:
            found[name] = int(value)
    return found


def ensure_topics(
    settings: Settings,
    *,
    partitions: int | None = None,
    dlq_partitions: int | None = None,
    retention_ms: int | None = None,
    alerts_partitions: int | None = None,
    grant_acls: bool = False,
) -> list[TopicOutcome]:
    """Create the intake, dead-letter, alerts and erasure topics that are missing; never
    alters existing ones.

    On three or more brokers they are created durable (`durable_topics`); ConfigError when
    the replication asked for exceeds the brokers, or when an existing topic is held with
    fewer replicas or a lower `min.insync.replicas` than that (after creating what is
    missing: an operator must recreate or reassign those).
    Safe to call from every worker at start: a topic created concurrently counts as present.
    On the local stack with security on, also grants this deployment's ACLs (as ct-admin);
    on a configured cluster only with `grant_acls`, as the settings' own (super) user.
    """
    wanted = wanted_topics(
        settings,
        partitions=partitions,
        dlq_partitions=dlq_partitions,
        retention_ms=retention_ms,
        alerts_partitions=alerts_partitions,
    )
    with map_kafka_errors("ensuring topics"):
        admin = admin_client(settings)
        try:
            brokers = broker_count(admin)
            wanted = durable_topics(wanted, brokers, settings.replication_factor)
            to_create, outcomes = plan_topics(wanted, existing_topics(admin))
            if to_create:
                request = {
                    spec.name: {
                        "num_partitions": spec.partitions,
                        "replication_factor": spec.replication_factor,
                        "configs": dict(spec.configs),
                    }
                    for spec in to_create
                }
                response = admin.create_topics(request, raise_errors=False, wait_for_metadata=True)
                outcomes += _created(response, {s.name: s for s in to_create})
            # every topic not created just now, including one another process created first
            made = {o.name for o in outcomes if o.state is TopicState.CREATED}
            present = [spec for spec in wanted if spec.name not in made]
            names = [spec.name for spec in present]
            durable = brokers >= DURABLE_BROKERS
            problems = durability_problems(
                present,
                replication_of(admin, names),
                min_isr_of(admin, names) if durable else {},
            )
        finally:
            admin.close()
    if problems:
        raise ConfigError(
            f"topics that cannot be durable on this {brokers}-broker cluster: "
            + "; ".join(problems)
            + ". An acks=all write to them survives no broker loss: recreate them (data is "
            "lost) or raise their replication with kafka-reassign-partitions.sh and set "
            "min.insync.replicas, then run `pipeline topics ensure` again"
        )
    from pipeline.admin.acls import grant

    grant(settings, configured=grant_acls)
    order = {spec.name: n for n, spec in enumerate(wanted)}
    return sorted(outcomes, key=lambda outcome: order[outcome.name])


def _created(response: Mapping[str, Any], specs: Mapping[str, TopicSpec]) -> list[TopicOutcome]:
    outcomes = []
    for result in response["topics"]:
        spec = specs[result["name"]]
        if result["error_code"] == 0:
            state = TopicState.CREATED
        elif result["error_code"] == TOPIC_ALREADY_EXISTS:
            state = TopicState.PRESENT
        else:
            raise KafkaUnavailable(
                f"creating topic {spec.name}: error {result['error_code']}: "
                f"{result.get('error_message')}"
            )
        outcomes.append(TopicOutcome(spec.name, state, spec.partitions, spec.partitions))
    return outcomes
