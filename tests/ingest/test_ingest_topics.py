"""What topics should exist, and `ensure_topics` against the real broker."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pipeline.admin.topics import (
    TopicSpec,
    TopicState,
    ensure_topics,
    plan_topics,
    wanted_topics,
)
from pipeline.enrich.watch.publish import ALERTS_TOPIC
from pipeline.ingest.erasure import ERASURES_TOPIC
from pipeline.ingest.sources import DLQ_TOPIC, INTAKE_TOPICS
from pipeline.settings import Settings


def test_wanted_topics_are_the_four_intake_topics_the_dlq_alerts_and_erasures() -> None:
    specs = wanted_topics(Settings(intake_partitions=6, intake_retention_ms=1000))
    names = [spec.name for spec in specs]
    assert names == [*INTAKE_TOPICS, DLQ_TOPIC, ALERTS_TOPIC, ERASURES_TOPIC]
    assert {spec.partitions for spec in specs[:4]} == {6}
    assert specs[0].configs == {"retention.ms": "1000"}
    assert specs[4].partitions == specs[5].partitions == specs[6].partitions == 1
    # the ledger is compacted and kept: a worker starting in years still reads every erasure
    assert specs[6].configs == {"cleanup.policy": "compact", "retention.ms": "-1"}


def test_overrides_and_prefix_apply() -> None:
    specs = wanted_topics(
        Settings(topic_prefix="x."),
        partitions=2,
        dlq_partitions=3,
        retention_ms=-1,
        alerts_partitions=4,
    )
    assert specs[0].name == f"x.{INTAKE_TOPICS[0]}"
    assert (specs[4].name, specs[5].name) == (f"x.{DLQ_TOPIC}", f"x.{ALERTS_TOPIC}")
    assert (specs[0].partitions, specs[4].partitions, specs[5].partitions) == (2, 3, 4)
    assert specs[0].configs["retention.ms"] == "-1"


def test_plan_creates_missing_and_reports_the_rest() -> None:
    wanted = [TopicSpec("a", 6, 1), TopicSpec("b", 6, 1), TopicSpec("c", 6, 1)]
    to_create, outcomes = plan_topics(wanted, {"b": 6, "c": 3, "other": 1})
    assert [spec.name for spec in to_create] == ["a"]
    assert [(o.name, o.state, o.partitions) for o in outcomes] == [
        ("b", TopicState.PRESENT, 6),
        ("c", TopicState.PARTITIONS_DIFFER, 3),
    ]


@pytest.mark.integration
def test_ensure_topics_is_idempotent(settings: Settings, unique_name: Callable[[str], str]) -> None:
    from kafka import KafkaAdminClient

    from pipeline.clients import kafka_config

    isolated = settings.model_copy(update={"topic_prefix": unique_name("ens") + "."})
    names = [spec.name for spec in wanted_topics(isolated)]
    try:
        first = ensure_topics(isolated, partitions=2)
        assert [(o.name, o.state, o.partitions) for o in first] == [
            *((name, TopicState.CREATED, 2) for name in names[:4]),
            (names[4], TopicState.CREATED, 1),
            (names[5], TopicState.CREATED, 1),
            (names[6], TopicState.CREATED, 1),
        ]
        again = ensure_topics(isolated, partitions=2)
        assert {o.state for o in again} == {TopicState.PRESENT}
        differ = ensure_topics(isolated, partitions=3)
        assert [o.state for o in differ][:4] == [TopicState.PARTITIONS_DIFFER] * 4
    finally:
        admin = KafkaAdminClient(**kafka_config(settings))
        try:
            admin.delete_topics(names, raise_errors=False)
        finally:
            admin.close()
