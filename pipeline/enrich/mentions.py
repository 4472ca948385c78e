"""What enrichment finds in a report's text: typed, normalised mentions with offsets."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class EntityType(StrEnum):
    """Entity types as they appear under `entities.*` in the index (contract §2)."""

    PERSON = "person"
    ORG = "org"
    LOCATION = "location"
    PHONE = "phone"
    EMAIL = "email"
    URL = "url"
    VEHICLE = "vehicle"
    POSTCODE = "postcode"
    HANDLE = "handle"


STRONG_SELECTORS: frozenset[EntityType] = frozenset(
    {EntityType.PHONE, EntityType.VEHICLE, EntityType.EMAIL, EntityType.URL, EntityType.HANDLE}
)


@dataclass(frozen=True, slots=True)
class Mention:
    """One hit: `text[start:end] == text` as written, `value` its normal form."""

    type: EntityType
    text: str
    value: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Enrichment:
    """Everything enrichment adds to one report."""

    mentions: tuple[Mention, ...] = ()
    region: str | None = None
    entities: dict[str, list[str]] = field(default_factory=dict)

    @staticmethod
    def from_mentions(mentions: list[Mention], region: str | None) -> Enrichment:
        """Group mentions into `entities.<type>`: de-duplicated values in first-seen order."""
        entities: dict[str, list[str]] = {}
        for mention in sorted(mentions, key=lambda m: (m.start, m.end)):
            values = entities.setdefault(mention.type.value, [])
            if mention.value not in values:
                values.append(mention.value)
        return Enrichment(
            mentions=tuple(sorted(mentions, key=lambda m: (m.start, m.end))),
            region=region,
            entities=entities,
        )
