"""The labelled set: its format, its size, and the exact extractors' accuracy on it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from pipeline.enrich.accuracy import (
    EXACT_TYPES,
    NAME_TYPES,
    GoldReport,
    TypeScore,
    format_comparison,
    format_scores,
    load_gold,
    parse_annotated,
    score,
)
from pipeline.enrich.exact import extract_exact
from pipeline.enrich.mentions import EntityType, Mention


def test_parse_annotated() -> None:
    text, mentions = parse_annotated("Ring [[07700 900123|phone|+447700900123]] ([[Jo|person]]).")
    assert text == "Ring 07700 900123 (Jo)."
    assert mentions == [
        Mention(EntityType.PHONE, "07700 900123", "+447700900123", 5, 17),
        Mention(EntityType.PERSON, "Jo", "Jo", 19, 21),
    ]


def test_a_proscribed_mark_is_also_an_org() -> None:
    text, mentions = parse_annotated("for [[daesh|proscribed_org|Islamic State]] now")
    assert text == "for daesh now"
    assert mentions == [
        Mention(EntityType.PROSCRIBED_ORG, "daesh", "Islamic State", 4, 9),
        Mention(EntityType.ORG, "daesh", "Islamic State", 4, 9),
    ]


def test_load_gold_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text('{"id": "a", "style": "web", "text": "at [[M1 1AE|postcode]]"}\n\n')
    [gold] = load_gold(path)
    assert gold.text == "at M1 1AE"
    assert gold.mentions[0].value == "M1 1AE"


def test_score_counts() -> None:
    [gold] = load_gold_text("at [[M1 1AE|postcode]] and [[B1 1AA|postcode]]")
    wrong_value = Mention(EntityType.POSTCODE, "M1 1AE", "M11AE", 3, 9)
    scores = score([gold], [[wrong_value]], [EntityType.POSTCODE])
    entry = scores[EntityType.POSTCODE]
    assert (entry.true_positives, entry.false_positives, entry.false_negatives) == (0, 1, 2)
    assert entry.precision == 0.0
    assert entry.recall == 0.0
    assert TypeScore().precision == 1.0
    assert entry.f1 == 0.0
    assert TypeScore(true_positives=3, false_positives=1, false_negatives=1).f1 == 0.75
    assert "postcode" in format_scores(scores)


def load_gold_text(annotated: str) -> list[GoldReport]:
    text, mentions = parse_annotated(annotated)
    return [GoldReport("t", "test", text, tuple(mentions))]


def test_the_labelled_set_is_big_and_varied() -> None:
    gold = load_gold()
    counts = Counter(m.type for r in gold for m in r.mentions)
    assert len(gold) >= 250
    assert len({r.id for r in gold}) == len(gold)
    assert sum(counts.values()) >= 800
    for kind in EntityType:
        assert counts[kind] >= 15, kind
    assert {r.style for r in gold} == {"hotline", "web", "referral"}
    for report in gold:
        for mention in report.mentions:
            assert report.text[mention.start : mention.end] == mention.text


@pytest.fixture(scope="module")
def exact_scores() -> dict[EntityType, TypeScore]:
    gold = load_gold()
    return score(gold, [extract_exact(r.text) for r in gold], EXACT_TYPES)


@pytest.mark.parametrize("kind", sorted(EXACT_TYPES))
def test_exact_extractors_reach_098(
    kind: EntityType, exact_scores: dict[EntityType, TypeScore]
) -> None:
    entry = exact_scores[kind]
    assert entry.precision >= 0.98, entry.errors
    assert entry.recall >= 0.98, entry.errors


def test_format_comparison_puts_model_choices_side_by_side() -> None:
    [gold] = load_gold_text("[[Jo Bloggs|person]] of [[hamas|proscribed_org|Hamas]]")
    found = [m for m in gold.mentions if m.type is not EntityType.ORG]
    runs = {
        "sm": (score([gold], [found[:1]], NAME_TYPES), 2.5),
        "sm+ruler": (score([gold], [list(gold.mentions)], NAME_TYPES), 2.75),
    }
    lines = format_comparison(runs).splitlines()
    assert lines[0].split() == ["sm", "sm+ruler"]
    rows = {line.rsplit(maxsplit=2)[0].strip(): line.split()[-2:] for line in lines[1:]}
    assert rows["person P/R/F1"] == ["1.000/1.000/1.000", "1.000/1.000/1.000"]
    assert rows["proscribed_org P/R/F1"] == ["1.000/0.000/0.000", "1.000/1.000/1.000"]
    assert rows["person+org F1"] == ["0.667", "1.000"]
    assert rows["CPU ms/report"] == ["2.50", "2.75"]
