"""Exact extractors: phone, email, URL, handle, vehicle and postcode, each a plain function."""

from __future__ import annotations

from array import array
from collections.abc import Callable

from pipeline.enrich.exact.phone import extract_phone, normalise_phone
from pipeline.enrich.exact.postcode import extract_postcode, normalise_postcode
from pipeline.enrich.exact.vehicle import extract_vehicle, normalise_vehicle
from pipeline.enrich.exact.web import canonical_url, extract_email, extract_handle, extract_url
from pipeline.enrich.mentions import Mention

__all__ = [
    "EXTRACTORS",
    "canonical_url",
    "extract_email",
    "extract_exact",
    "extract_handle",
    "extract_phone",
    "extract_postcode",
    "extract_url",
    "extract_vehicle",
    "normalise_phone",
    "normalise_postcode",
    "normalise_vehicle",
    "resolve_overlaps",
]

# Order is the tie-break when two equally long mentions overlap.
EXTRACTORS: tuple[Callable[[str], list[Mention]], ...] = (
    extract_email,
    extract_url,
    extract_handle,
    extract_phone,
    extract_vehicle,
    extract_postcode,
)


def resolve_overlaps(candidates: list[Mention]) -> list[Mention]:
    """Keep each character in at most one mention: the longest wins, then the earlier type.

    Longest-first settles the real conflicts: an email beats the handle-like `@host` and a
    URL beats the email-like `user@host` or the phone-like digits inside it.
    """
    ranked = sorted(enumerate(candidates), key=lambda p: (-(p[1].end - p[1].start), p[0]))
    # owner[c]: the rank (from 1) of the kept mention covering character c, else 0. Kept
    # mentions never overlap, so marking them costs at most one pass over the text. Each
    # kept mention is at least as long as the candidate at hand, so one that overlaps the
    # candidate covers its first or its last character: two lookups, not a scan of `kept`
    # (which made texts with thousands of mentions quadratic).
    owner = array("i", bytes(array("i").itemsize * max((m.end for m in candidates), default=0)))
    kept: list[Mention] = []
    for rank, (_, mention) in enumerate(ranked, start=1):
        start, end = mention.start, mention.end
        if start < end:
            if owner[start] or owner[end - 1]:
                continue
            owner[start:end] = array("i", [rank]) * (end - start)
        elif 0 < start < len(owner) and owner[start] and owner[start] == owner[start - 1]:
            continue  # an empty mention strictly inside a kept one
        kept.append(mention)
    return sorted(kept, key=lambda m: (m.start, m.end))


def extract_exact(text: str) -> list[Mention]:
    """Every exact mention in `text` (no spaCy), non-overlapping, in text order."""
    candidates: list[Mention] = []
    for extract in EXTRACTORS:
        candidates.extend(extract(text))
    return resolve_overlaps(candidates)
