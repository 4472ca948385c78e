"""The labelled incident set: its shape, and the workers' models and rule scoring on it."""

from __future__ import annotations

from collections import Counter

import pytest

from pipeline.enrich.embed import Embedder
from pipeline.enrich.extract import Enricher
from pipeline.enrich.incidents.decide import IncidentParams
from pipeline.enrich.incidents.evaluate import Prepared, load_labelled, prepare, score, sweep


@pytest.fixture(scope="module")
def prepared(enricher: Enricher) -> Prepared:
    return prepare(load_labelled(), enricher, Embedder.load())


def test_the_set_is_as_large_and_as_varied_as_the_issue_asks() -> None:
    rows = load_labelled()
    sizes = Counter(row.incident for row in rows)
    assert len(rows) >= 300 and len(sizes) >= 50
    assert max(sizes.values()) >= 15 and sum(1 for n in sizes.values() if n == 1) >= 10
    assert len({row.report.source for row in rows}) == 4


def test_pairwise_precision_and_recall_meet_the_targets(prepared: Prepared) -> None:
    result = score(prepared)
    assert result.precision >= 0.90, result
    assert result.recall >= 0.80, result


def test_the_threshold_trades_precision_for_recall(prepared: Prepared) -> None:
    """The check can fail: a threshold far too low joins unrelated events, one far too high
    splits every incident."""
    (_, low), (_, high) = sweep(prepared, [0.20, 0.95], IncidentParams())
    assert low.precision < 0.90 and high.recall < 0.80
