"""No intake text can make an extractor super-linear: time per character against plain prose.

Every probe of bench/extractors.py (each extractor, the whole exact pass, the overlap rule,
the normalisers, names, places, region, grouping, dedup keys) runs on adversarial shapes and
must cost at most RATIO times what the exact pass costs on plain report prose of the same
length. Lengths grow to the intake's limit one step at a time, so a super-linear probe fails
at a small size instead of holding the test for hours. Times are CPU times, the best of a
few runs, which resists a busy machine.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.extractors import DEFAULT_CHARS, PROBES, SHAPES, best_time, plain_text
from pipeline.enrich.exact import EXTRACTORS, extract_exact, resolve_overlaps
from pipeline.enrich.mentions import Enrichment, EntityType, Mention

RATIO = 20
# A super-linear probe shows by 100,000 characters; the intake takes narratives up to its
# 512 KiB record limit, where a linear probe costs 5x as much (bench/long_text.py times one).
SIZES = (1_000, 10_000, DEFAULT_CHARS)
REPS = 5


def measure_plain(n: int) -> float:
    return best_time(PROBES["exact pass"](plain_text(n)), REPS)


plain_cost = cache(measure_plain)


def slowest(text: str, allowed: float) -> tuple[str, float]:
    """The probe that takes longest on `text` and its time (each one's best of REPS)."""
    times = {name: best_time(probe(text), REPS, allowed) for name, probe in PROBES.items()}
    name = max(times, key=times.__getitem__)
    return name, times[name]


def assert_linear(make: Callable[[int], str], sizes: tuple[int, ...] = SIZES) -> None:
    for n in sizes:
        plain = plain_cost(n)
        name, took = slowest(make(n), RATIO * plain)
        for _ in range(3):  # the machine may have got busier since: both again, now
            if took <= RATIO * plain:
                break
            plain = measure_plain(n)
            took = best_time(PROBES[name](make(n)), REPS, RATIO * plain)
        assert took <= RATIO * plain, (
            f"{name} at {n:,} chars: {took / n * 1e9:,.0f} ns/char, "
            f"{took / plain:.0f}x the exact pass on plain prose (allowed {RATIO}x)"
        )


@pytest.mark.parametrize("shape", SHAPES)
def test_every_probe_is_linear_on_the_shape(shape: str) -> None:
    assert_linear(SHAPES[shape])


# Pieces that adversarial text is made of: digits, separators, the characters that start or
# join emails, URLs and handles, plate and postcode parts, place names, titles.
PIECES = [
    *"0179 .-()+@/:_'%\u00a0", "\n", "00", "44", "07700", "900123", "a", "x", "AB", "12",
    "CDE", "M1", "1AE", "SW1A", "http://", "https://", "www.", ".com", ".co.uk", "t.me/",
    "youtu.be/", "?utm_source=", "&", "=", "#", "the ", "Mr ", "'s", " to", "Leeds",
    "newcastle", " upon ", "ref ", "\t", "\u3000", "\u200b", "\u2013", "\uff10", "\uff21",
]  # fmt: skip
units = st.lists(st.sampled_from(PIECES), min_size=1, max_size=8).map("".join)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(units)
def test_every_probe_is_linear_on_any_repeated_unit(unit: str) -> None:
    assert_linear(lambda n: (unit * (n // len(unit) + 1))[:n], sizes=(1_000, 20_000))


@settings(max_examples=200, deadline=None)
@given(units.map(lambda u: u * 6))
def test_mentions_point_at_what_they_quote(text: str) -> None:
    for extract in (*EXTRACTORS, extract_exact):
        for mention in extract(text):
            assert text[mention.start : mention.end] == mention.text


def naive_resolve(candidates: list[Mention]) -> list[Mention]:
    """The overlap rule as specified: longest first, then the earlier candidate, if it fits."""
    ranked = sorted(enumerate(candidates), key=lambda p: (-(p[1].end - p[1].start), p[0]))
    kept: list[Mention] = []
    for _, mention in ranked:
        if all(mention.end <= k.start or mention.start >= k.end for k in kept):
            kept.append(mention)
    return sorted(kept, key=lambda m: (m.start, m.end))


def random_mentions(rng: random.Random, count: int, space: int) -> list[Mention]:
    mentions = []
    for _ in range(count):
        start = rng.randrange(space)
        end = min(space, start + rng.randrange(0, 40))
        mentions.append(Mention(rng.choice(list(EntityType)), "", str(start), start, end))
    return mentions


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 60), st.integers(1, 200))
def test_resolve_overlaps_keeps_what_the_rule_keeps(seed: int, count: int, space: int) -> None:
    candidates = random_mentions(random.Random(seed), count, space)
    assert resolve_overlaps(candidates) == naive_resolve(candidates)


def test_resolve_overlaps_scales_with_the_candidate_count() -> None:
    """10x as many heavily overlapping candidates: 10-15x the time (cache misses), not 100x."""
    rng = random.Random(3)
    small = random_mentions(rng, 5_000, 50_000)
    large = random_mentions(rng, 50_000, 500_000)
    small_s = best_time(lambda: resolve_overlaps(small), REPS)
    large_s = best_time(lambda: resolve_overlaps(large), REPS)
    assert large_s <= 40 * small_s, f"{large_s / small_s:.0f}x the time for 10x the candidates"


def test_grouping_scales_with_the_mention_count() -> None:
    """10x as many distinct values grouped into `entities`: about 10x the time, not 100x."""

    def handles(count: int) -> list[Mention]:
        return [Mention(EntityType.HANDLE, "", f"@u{i}", i, i + 1) for i in range(count)]

    small, large = handles(2_000), handles(20_000)
    small_s = best_time(lambda: Enrichment.from_mentions(small, None), REPS)
    large_s = best_time(lambda: Enrichment.from_mentions(large, None), REPS)
    assert large_s <= 40 * small_s, f"{large_s / small_s:.0f}x the time for 10x the mentions"
