"""Quality on the labelled cluster set, through the same decisions the workers make."""

from __future__ import annotations

from click.testing import CliRunner

from pipeline.cli.dedup import dedup
from pipeline.enrich.dedup.evaluate import DEFAULT_LABELS, in_memory, load_labelled, score
from pipeline.enrich.dedup.keys import DedupParams


def test_labelled_set_has_positives_and_hard_negatives() -> None:
    labelled = load_labelled(DEFAULT_LABELS)
    clusters = [row.cluster for row in labelled]
    assert sum(clusters.count(c) > 1 for c in set(clusters)) >= 15
    assert sum(c.startswith("neg-") for c in clusters) >= 10


def test_pairwise_precision_and_recall_meet_the_bar() -> None:
    result = score(load_labelled(DEFAULT_LABELS), in_memory(DedupParams()), batch_size=50)
    assert result.precision >= 0.95, result.false_pairs
    assert result.recall >= 0.90, result.missed_pairs


def test_batching_does_not_change_the_clusters() -> None:
    labelled = load_labelled(DEFAULT_LABELS)
    whole = score(labelled, in_memory(DedupParams()), batch_size=len(labelled))
    small = score(labelled, in_memory(DedupParams()), batch_size=3)
    assert (whole.true_pairs, whole.false_pairs) == (small.true_pairs, small.false_pairs)


def test_cli_prints_precision_and_recall() -> None:
    result = CliRunner().invoke(dedup, ["eval", "--show-pairs"])
    assert result.exit_code == 0, result.output
    assert "pairwise precision=" in result.output
    assert "recall=" in result.output
