"""Precision and recall of entity extraction against the team's labelled reports.

The labelled set (`data/entities_eval.jsonl`) holds one report per line: `{"id", "style",
"text"}`, where `text` marks each expected mention inline as `[[written|type]]` or
`[[written|type|value]]` (value defaults to the written text). Everything unmarked is a
negative: dates, times, prices, reference numbers, IP addresses and the like must not be
extracted. A prediction counts as correct only with the same type, offsets and value.

A `proscribed_org` mark (`[[al-Qaeda|proscribed_org|Al Qa'ida]]`, the value the name the
Terrorism Act list gives) stands for two expected mentions on its span: the proscribed_org and
an org of the same value, as the ruler finds them (`pipeline.enrich.proscribed`). NER alone
can score on the org only when it writes the name the way the list does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pipeline.enrich.mentions import EntityType, Mention

__all__ = [
    "EXACT_TYPES",
    "NAME_TYPES",
    "GoldReport",
    "TypeScore",
    "format_comparison",
    "format_scores",
    "load_gold",
    "parse_annotated",
    "score",
]

EXACT_TYPES: frozenset[EntityType] = frozenset(
    {
        EntityType.PHONE, EntityType.EMAIL, EntityType.URL,
        EntityType.VEHICLE, EntityType.POSTCODE, EntityType.HANDLE,
    }
)  # fmt: skip
NAME_TYPES: tuple[EntityType, ...] = (
    EntityType.PERSON, EntityType.ORG, EntityType.LOCATION, EntityType.PROSCRIBED_ORG,
)  # fmt: skip
_MARK = re.compile(r"\[\[([^|\]]+)\|([a-z_]+)(?:\|([^\]]*))?\]\]")


@dataclass(frozen=True, slots=True)
class GoldReport:
    """One labelled report: its plain text and the mentions a perfect extractor returns."""

    id: str
    style: str
    text: str
    mentions: tuple[Mention, ...]


def parse_annotated(annotated: str) -> tuple[str, list[Mention]]:
    """Strip the `[[written|type|value]]` marks, returning the text and its mentions."""
    parts: list[str] = []
    mentions: list[Mention] = []
    position = 0
    length = 0
    for mark in _MARK.finditer(annotated):
        before = annotated[position : mark.start()]
        parts.append(before)
        length += len(before)
        written, kind, value = mark.group(1), EntityType(mark.group(2)), mark.group(3)
        start, end = length, length + len(written)
        mentions.append(Mention(kind, written, value or written, start, end))
        if kind is EntityType.PROSCRIBED_ORG:
            mentions.append(Mention(EntityType.ORG, written, value or written, start, end))
        parts.append(written)
        length += len(written)
        position = mark.end()
    parts.append(annotated[position:])
    return "".join(parts), mentions


def load_gold(path: Path | None = None) -> list[GoldReport]:
    """The labelled reports: the packaged set, or a JSONL file in the same format."""
    if path is None:
        raw = resources.files("pipeline.enrich").joinpath("data/entities_eval.jsonl").read_text()
    else:
        raw = path.read_text(encoding="utf-8")
    reports = []
    for line in raw.splitlines():
        if line.strip():
            record = json.loads(line)
            text, mentions = parse_annotated(record["text"])
            reports.append(GoldReport(record["id"], record["style"], text, tuple(mentions)))
    return reports


@dataclass(slots=True)
class TypeScore:
    """Counts for one entity type; `errors` keeps (report id, "missed"|"spurious", mention)."""

    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    errors: list[tuple[str, str, Mention]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else 1.0

    @property
    def f1(self) -> float:
        both = self.precision + self.recall
        return 2 * self.precision * self.recall / both if both else 0.0


def _key(mention: Mention) -> tuple[EntityType, int, int, str]:
    return (mention.type, mention.start, mention.end, mention.value)


def score(
    gold: Sequence[GoldReport],
    predicted: Iterable[Sequence[Mention]],
    types: Iterable[EntityType] = tuple(EntityType),
) -> dict[EntityType, TypeScore]:
    """Per-type counts of `predicted[i]` against `gold[i]`, for the given types."""
    scores = {kind: TypeScore() for kind in types}
    for report, mentions in zip(gold, predicted, strict=True):
        expected = {_key(m): m for m in report.mentions if m.type in scores}
        found = {_key(m): m for m in mentions if m.type in scores}
        for key, mention in found.items():
            entry = scores[mention.type]
            if key in expected:
                entry.true_positives += 1
            else:
                entry.false_positives += 1
                entry.errors.append((report.id, "spurious", mention))
        for key, mention in expected.items():
            if key not in found:
                scores[mention.type].false_negatives += 1
                scores[mention.type].errors.append((report.id, "missed", mention))
    return scores


def format_scores(scores: dict[EntityType, TypeScore]) -> str:
    """A fixed-width table: type, gold count, TP, FP, FN, precision, recall, F1."""
    lines = [
        f"{'type':<15}{'gold':>6}{'tp':>6}{'fp':>6}{'fn':>6}{'precision':>11}{'recall':>8}{'f1':>7}"
    ]
    for kind, s in scores.items():
        gold = s.true_positives + s.false_negatives
        lines.append(
            f"{kind.value:<15}{gold:>6}{s.true_positives:>6}{s.false_positives:>6}"
            f"{s.false_negatives:>6}{s.precision:>11.3f}{s.recall:>8.3f}{s.f1:>7.3f}"
        )
    return "\n".join(lines)


def format_comparison(runs: dict[str, tuple[dict[EntityType, TypeScore], float]]) -> str:
    """Side by side, one column per run (name -> scores, CPU ms per report): P/R/F1 per name
    type, the F1 of person and org together, and the CPU per report."""
    names = list(runs)
    width = max(20, *(len(n) + 2 for n in names))
    lines = [f"{'':<22}" + "".join(f"{n:>{width}}" for n in names)]
    kinds = [k for k in NAME_TYPES if all(k in scores for scores, _ in runs.values())]
    for kind in kinds:
        cells = []
        for scores, _ in runs.values():
            s = scores[kind]
            cells.append(f"{s.precision:.3f}/{s.recall:.3f}/{s.f1:.3f}")
        lines.append(f"{kind.value + ' P/R/F1':<22}" + "".join(f"{c:>{width}}" for c in cells))
    pooled = []
    for scores, _ in runs.values():
        both = TypeScore()
        for kind in (EntityType.PERSON, EntityType.ORG):
            both.true_positives += scores[kind].true_positives
            both.false_positives += scores[kind].false_positives
            both.false_negatives += scores[kind].false_negatives
        pooled.append(f"{both.f1:.3f}")
    lines.append(f"{'person+org F1':<22}" + "".join(f"{c:>{width}}" for c in pooled))
    cpu = [f"{ms:.2f}" for _, ms in runs.values()]
    lines.append(f"{'CPU ms/report':<22}" + "".join(f"{c:>{width}}" for c in cpu))
    return "\n".join(lines)
