"""The four intake sources, their topics and the dead-letter topic (contract §1)."""

from __future__ import annotations

from enum import StrEnum


class Source(StrEnum):
    """Source names as they appear in the index's `source` field."""

    PUBLIC_REPORT = "public_report"
    HOTLINE_CALL = "hotline_call"
    ONLINE_REFERRAL = "online_referral"
    RADICALISATION_REFERRAL = "radicalisation_referral"


TOPIC_BY_SOURCE: dict[Source, str] = {
    Source.PUBLIC_REPORT: "intake.public-reports",
    Source.HOTLINE_CALL: "intake.hotline-calls",
    Source.ONLINE_REFERRAL: "intake.online-referrals",
    Source.RADICALISATION_REFERRAL: "intake.radicalisation-referrals",
}
SOURCE_BY_TOPIC: dict[str, Source] = {topic: source for source, topic in TOPIC_BY_SOURCE.items()}
INTAKE_TOPICS: tuple[str, ...] = tuple(TOPIC_BY_SOURCE.values())
DLQ_TOPIC = "intake.dlq"


def intake_topics(prefix: str = "") -> dict[str, Source]:
    """Intake topic name -> source, with the deployment's topic prefix applied."""
    return {f"{prefix}{topic}": source for topic, source in SOURCE_BY_TOPIC.items()}


def dlq_topic(prefix: str = "") -> str:
    """The dead-letter topic name, with the deployment's topic prefix applied."""
    return f"{prefix}{DLQ_TOPIC}"
