"""Pairwise precision and recall of a grouping (clusters, incidents) against labelled groups."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["PairScore", "pair_score"]


@dataclass(frozen=True, slots=True)
class PairScore:
    """Counts over all pairs of reports: same labelled group (gold) against same found group."""

    reports: int
    gold_clusters: int
    found_clusters: int
    true_pairs: int
    false_pairs: tuple[tuple[str, str], ...]
    missed_pairs: tuple[tuple[str, str], ...]

    @property
    def precision(self) -> float:
        """Share of pairs put together that belong together."""
        together = self.true_pairs + len(self.false_pairs)
        return self.true_pairs / together if together else 1.0

    @property
    def recall(self) -> float:
        """Share of pairs that belong together and were put together."""
        belong = self.true_pairs + len(self.missed_pairs)
        return self.true_pairs / belong if belong else 1.0


def pair_score(ids: Sequence[str], gold: Sequence[str], found: Sequence[str]) -> PairScore:
    """Count every pair of `ids` by whether its two share a `gold` label and a `found` one."""
    if not len(ids) == len(gold) == len(found):
        raise ValueError("one gold and one found label per id expected")
    true_pairs = 0
    false_pairs: list[tuple[str, str]] = []
    missed_pairs: list[tuple[str, str]] = []
    for (left, lg, lf), (right, rg, rf) in itertools.combinations(
        zip(ids, gold, found, strict=True), 2
    ):
        if lg == rg and lf == rf:
            true_pairs += 1
        elif lf == rf:
            false_pairs.append((left, right))
        elif lg == rg:
            missed_pairs.append((left, right))
    return PairScore(
        reports=len(ids),
        gold_clusters=len(set(gold)),
        found_clusters=len(set(found)),
        true_pairs=true_pairs,
        false_pairs=tuple(false_pairs),
        missed_pairs=tuple(missed_pairs),
    )
