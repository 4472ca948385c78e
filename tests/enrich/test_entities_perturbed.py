"""The exact extractors on the labelled set as people really type it (tests/enrich/perturb.py).

Every labelled exact mention is respaced (whitespace runs of every kind, line breaks), recased,
given other separators and full-width digits where its format allows, and the text around it
shouted, lower-cased or respaced. Recall must stay >= 0.98 for each exact type and precision
no lower than on the set as written: the looser patterns find no new false positives among
its hard negatives (dates, prices, references, IP addresses ...).
`python -m tests.enrich.perturb --copies 100` prints the pooled figures.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.enrich.accuracy import EXACT_TYPES, GoldReport, TypeScore, load_gold, score
from pipeline.enrich.exact import extract_exact
from pipeline.enrich.mentions import EntityType
from tests.enrich.perturb import perturb_gold

GOLD = load_gold()


def exact_scores(gold: list[GoldReport]) -> dict[EntityType, TypeScore]:
    return score(gold, [extract_exact(r.text) for r in gold], EXACT_TYPES)


AS_WRITTEN = exact_scores(GOLD)


@settings(max_examples=30, deadline=None)
@given(st.randoms(use_true_random=False))
def test_perturbed_set_keeps_recall_and_precision(rng: random.Random) -> None:
    copy = perturb_gold(GOLD, rng)
    for kind, entry in exact_scores(copy).items():
        assert entry.recall >= 0.98, (kind, entry.errors[:5])
        assert entry.precision >= AS_WRITTEN[kind].precision, (kind, entry.errors[:5])


def test_the_copy_perturbs_every_exact_mention_and_keeps_offsets_true() -> None:
    copy = perturb_gold(GOLD, random.Random(1))
    exact = [m for r in GOLD for m in r.mentions if m.type in EXACT_TYPES]
    perturbed = [m for r in copy for m in r.mentions]
    assert len(perturbed) == len(exact) >= 250
    assert [m.value for m in perturbed] == [m.value for m in exact]
    for report in copy:
        for mention in report.mentions:
            assert report.text[mention.start : mention.end] == mention.text
    changed = sum(a.text != b.text for a, b in zip(exact, perturbed, strict=True))
    assert changed >= 0.7 * len(exact)  # most are written differently; the rest by chance
