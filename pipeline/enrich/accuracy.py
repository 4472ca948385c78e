"""Precision and recall of entity extraction against the team's labelled reports.

The labelled set (`data/entities_eval.jsonl`) holds one report per line: `{"id", "style",
"text"}`, where `text` marks each expected mention inline as `[[written|type]]` or
`[[written|type|value]]` (value defaults to the written text). Everything unmarked is a
negative: dates, times, prices, reference numbers, IP addresses and the like must not be
extracted. A prediction counts as correct only with the same type, offsets and value.
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
    "GoldReport",
    "TypeScore",
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
_MARK = re.compile(r"\[\[([^|\]]+)\|([a-z]+)(?:\|([^\]]*))?\]\]")


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
        mentions.append(Mention(kind, written, value or written, length, length + len(written)))
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
    """A fixed-width table: type, gold count, TP, FP, FN, precision, recall."""
    lines = [f"{'type':<10}{'gold':>6}{'tp':>6}{'fp':>6}{'fn':>6}{'precision':>11}{'recall':>8}"]
    for kind, s in scores.items():
        gold = s.true_positives + s.false_negatives
        lines.append(
            f"{kind.value:<10}{gold:>6}{s.true_positives:>6}{s.false_positives:>6}"
            f"{s.false_negatives:>6}{s.precision:>11.3f}{s.recall:>8.3f}"
        )
    return "\n".join(lines)
