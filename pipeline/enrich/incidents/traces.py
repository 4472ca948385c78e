"""What a report brings to the incident decision: when, where, which selectors, and the text
its vector is made of.

Places are the locations named (NER and gazetteer, lower case), the postcodes' outward codes
(`SW1A 1AA` -> `sw1a`: callers give the district, rarely the same full postcode) and the place
the form gave; selectors are the strong ones (phone, vehicle, email, URL, handle), typed, so a
value never matches across types. Both come from the narrative with the contributor's own
details masked (`pipeline.enrich.restricted.protect`), and the vector is of that masked text:
nothing restricted links two reports or shapes a vector an analyst's search can reach.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.enrich.mentions import STRONG_SELECTORS, Enrichment, EntityType
from pipeline.enrich.restricted import protect
from pipeline.ingest.report import Report

__all__ = ["Trace", "trace_of"]


@dataclass(frozen=True, slots=True)
class Trace:
    """One report as the decision sees it; `at` is `received_at` in epoch seconds."""

    key: str
    at: float
    places: frozenset[str]
    selectors: frozenset[str]
    region: str | None = None


def _outward(postcode: str) -> str:
    return postcode.strip().split(" ", 1)[0].lower()


def trace_of(key: str, report: Report, enrichment: Enrichment) -> tuple[Trace, str]:
    """The trace of `report` (its dedup `key`) and the masked text to embed."""
    masked = protect(report.text, enrichment.mentions, report.restricted)
    places: set[str] = set()
    selectors: set[str] = set()
    for mention in masked.mentions:
        if mention.type is EntityType.LOCATION:
            places.add(mention.value.lower())
        elif mention.type is EntityType.POSTCODE:
            places.add(_outward(mention.value))
        elif mention.type in STRONG_SELECTORS:
            selectors.add(f"{mention.type.value}:{mention.value}")
    if report.location is not None:
        if report.location.postcode:
            places.add(_outward(report.location.postcode))
        if report.location.text:
            places.add(report.location.text.strip().lower())
    trace = Trace(
        key=key,
        at=report.received_at.timestamp(),
        places=frozenset(places),
        selectors=frozenset(selectors),
        region=enrichment.region,
    )
    return trace, masked.text
