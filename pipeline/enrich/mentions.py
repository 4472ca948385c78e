"""What enrichment finds in a report's text: typed, normalised mentions with offsets."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable
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
    PROSCRIBED_ORG = "proscribed_org"  # contract v2: on the Terrorism Act 2000 list


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


class SpanIndex:
    """Fixed spans that answer "does `[start, end)` overlap one of you?" in O(log n)."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self._starts = [start for start, _ in ordered]
        # _reach[k]: the furthest end among the first k+1 spans by start.
        self._reach = list(itertools.accumulate((end for _, end in ordered), max))

    def overlaps(self, start: int, end: int) -> bool:
        """True if some span (s, e) has s < end and start < e."""
        before = bisect.bisect_left(self._starts, end)
        return before > 0 and self._reach[before - 1] > start


@dataclass(frozen=True, slots=True)
class Enrichment:
    """Everything enrichment adds to one report.

    `truncated`: the narrative was too long for NER to read whole (contract v2
    `entities_truncated`); the exact extractors and the gazetteer always read all of it.
    """

    mentions: tuple[Mention, ...] = ()
    region: str | None = None
    entities: dict[str, list[str]] = field(default_factory=dict)
    truncated: bool = False

    @staticmethod
    def from_mentions(
        mentions: list[Mention], region: str | None, *, truncated: bool = False
    ) -> Enrichment:
        """Group mentions into `entities.<type>`: de-duplicated values in first-seen order."""
        ordered = tuple(sorted(mentions, key=lambda m: (m.start, m.end)))
        entities: dict[str, list[str]] = {}
        # A set per type beside the list: `value in list` made thousands of values quadratic.
        seen: dict[str, set[str]] = {}
        for mention in ordered:
            values = entities.setdefault(mention.type.value, [])
            known = seen.setdefault(mention.type.value, set())
            if mention.value not in known:
                known.add(mention.value)
                values.append(mention.value)
        return Enrichment(mentions=ordered, region=region, entities=entities, truncated=truncated)
