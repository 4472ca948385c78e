"""A report's triage priority, derived from what the report already holds (no model, no I/O).

Reports arrive without a priority of their own, so the queues need one they can sort on. It is
a sum of points, each point with its reason, so an analyst can see why a report ranks where it
does (`priority_reasons`), and it is computed from the document alone: the same report always
gets the same priority, on a replay or a reindex too.

| reason | points | why |
|---|---|---|
| `proscribed_org` | 4 | names an organisation proscribed under the Terrorism Act 2000 |
| `hotline_call` | 2 | someone rang the anti-terrorist hotline and spoke to a call handler |
| `radicalisation_referral` | 2 | a named person of concern, a safeguarding clock |
| `vehicle` | 2 | a vehicle registration: something to trace at once |
| `phone`, `email`, `handle` | 1 each | a selector to trace |

A public report or an online referral starts at 0. The highest possible priority is
`MAX_PRIORITY` (11: every selector and
a hotline call). Selectors are counted from the analyst-visible `entities.*`, so the
caller's or reporter's own phone number (masked, `pipeline.index.protected`) is no lead. A
watchlist match is not part of it: matching runs after the report is written, and an alert
carries its own priority on the Alerts page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pipeline.enrich.mentions import EntityType

__all__ = ["MAX_PRIORITY", "POINTS", "Priority", "report_priority"]

# Points per reason, in the order reasons are listed.
POINTS: dict[str, int] = {
    EntityType.PROSCRIBED_ORG.value: 4,
    "hotline_call": 2,
    "radicalisation_referral": 2,
    EntityType.VEHICLE.value: 2,
    EntityType.PHONE.value: 1,
    EntityType.EMAIL.value: 1,
    EntityType.HANDLE.value: 1,
}
_SOURCE_REASONS = frozenset({"hotline_call", "radicalisation_referral"})
_ENTITY_REASONS = frozenset(POINTS) - _SOURCE_REASONS
# every selector, and the source worth most (a report has one source)
MAX_PRIORITY = sum(POINTS[r] for r in _ENTITY_REASONS) + max(POINTS[r] for r in _SOURCE_REASONS)


@dataclass(frozen=True, slots=True)
class Priority:
    """`score` from 0 to MAX_PRIORITY (higher first in a queue) and the reasons that make it."""

    score: int
    reasons: tuple[str, ...]


def report_priority(source: str, entities: Mapping[str, Iterable[str]]) -> Priority:
    """The priority of a report from its source name and its `entities.*` (type -> values)."""
    present = {kind for kind, values in entities.items() if any(True for _ in values)}
    reasons = tuple(
        reason
        for reason in POINTS
        if (reason in _SOURCE_REASONS and reason == source)
        or (reason in _ENTITY_REASONS and reason in present)
    )
    return Priority(score=sum(POINTS[r] for r in reasons), reasons=reasons)
