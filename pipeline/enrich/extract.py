"""The enrich stage's entry point: NER, exact extractors and region for a batch of reports."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from pipeline.enrich.exact import extract_exact
from pipeline.enrich.locate import derive_region
from pipeline.enrich.mentions import Enrichment, SpanIndex
from pipeline.enrich.ner import (
    DEFAULT_MODEL,
    NER_MAX_CHARS,
    NerPlan,
    load_ner,
    ner_chunks,
    ner_mentions,
    place_mentions,
)
from pipeline.enrich.proscribed import proscribed_mentions

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

    from pipeline.ingest.report import Report

__all__ = ["NER_MAX_CHARS", "Enricher", "enrich_chunks", "enrich_doc", "extract_exact"]


def enrich_chunks(
    text: str,
    docs: Sequence[tuple[int, Doc]],
    location_postcode: str | None = None,
    location_text: str | None = None,
    *,
    truncated: bool = False,
    proscribed: bool = True,
) -> Enrichment:
    """Exact mentions, proscribed organisations, NER names, gazetteer places and region.

    `docs` are spaCy's Docs of pieces of `text`, each with the offset where its piece starts
    (`ner_chunks`); `truncated` says they stop short of its end. The exact extractors, the
    proscribed-organisation ruler and the gazetteer read all of `text` whatever NER read; a
    name the ruler found is its, not NER's (`proscribed=False` leaves it out: evaluation).
    """
    exact = extract_exact(text)
    if proscribed:
        spans = SpanIndex((m.start, m.end) for m in exact)
        ruled = [m for m in proscribed_mentions(text) if not spans.overlaps(m.start, m.end)]
    else:
        ruled = []
    named = ner_mentions(text, docs, exact + ruled)
    mentions = exact + ruled + named + place_mentions(text, exact + ruled + named)
    region = derive_region(mentions, location_postcode, location_text)
    return Enrichment.from_mentions(mentions, region, truncated=truncated)


def enrich_doc(
    doc: Doc,
    text: str,
    location_postcode: str | None = None,
    location_text: str | None = None,
) -> Enrichment:
    """`enrich_chunks` for one Doc of `text` or of a prefix of it (the CLI's single text)."""
    read = doc[-1].idx + len(doc[-1].text_with_ws) if len(doc) else 0
    truncated = read < len(text) and not text[read:].isspace()
    return enrich_chunks(text, [(0, doc)], location_postcode, location_text, truncated=truncated)


# Exact repeats reuse the first one's enrichment: after an incident many callers' texts are the
# same word for word (a shared post, a forwarded message, a resent form). The cache holds the
# last CACHE_ENTRIES distinct (text, location) of up to CACHE_MAX_CHARS characters, so a few MB.
CACHE_ENTRIES = 4_096
CACHE_MAX_CHARS = 20_000

_Key = tuple[str, str | None, str | None]


class Enricher:
    """Holds the loaded spaCy pipeline; one per process, reused for every batch.

    `proscribed`: whether the proscribed-organisation ruler runs (always, but in the model
    comparison of `pipeline entities eval --compare` and `bench/enrich.py`). An Enrichment is
    immutable and a function of the text and the form's location alone, so an exact repeat
    gets the first one's (`reused` counts them)."""

    def __init__(
        self, nlp: Language, *, proscribed: bool = True, cache_entries: int = CACHE_ENTRIES
    ) -> None:
        self._nlp = nlp
        self._proscribed = proscribed
        self._cache_entries = cache_entries
        self._cache: OrderedDict[_Key, Enrichment] = OrderedDict()
        self.reused = 0

    @classmethod
    def load(
        cls,
        model: str = DEFAULT_MODEL,
        *,
        proscribed: bool = True,
        cache_entries: int = CACHE_ENTRIES,
    ) -> Enricher:
        """Load a NER model (about a second): call once per process. `cache_entries=0` reads
        every text anew (benches measuring the models)."""
        return cls(load_ner(model), proscribed=proscribed, cache_entries=cache_entries)

    def enrich(self, reports: Sequence[Report]) -> list[Enrichment]:
        """One Enrichment per report, in order; offsets index into `report.text`."""
        keys: list[_Key] = [
            (r.text, r.location.postcode, r.location.text) if r.location else (r.text, None, None)
            for r in reports
        ]
        found: dict[_Key, Enrichment] = {}
        for key in keys:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                found[key] = cached
        fresh = list(dict.fromkeys(key for key in keys if key not in found))
        for key, enrichment in zip(fresh, self._compute(fresh), strict=True):
            found[key] = enrichment
            if self._cache_entries and len(key[0]) <= CACHE_MAX_CHARS:
                self._cache[key] = enrichment
                if len(self._cache) > self._cache_entries:
                    self._cache.popitem(last=False)
        self.reused += len(keys) - len(fresh)
        return [found[key] for key in keys]

    def _compute(self, keys: Sequence[_Key]) -> list[Enrichment]:
        return [
            enrich_chunks(
                text,
                docs,
                postcode,
                place_text,
                truncated=plan.truncated,
                proscribed=self._proscribed,
            )
            for (text, plan, docs), (_, postcode, place_text) in zip(
                self._read([key[0] for key in keys]), keys, strict=True
            )
        ]

    def enrich_texts(self, texts: Sequence[str]) -> list[Enrichment]:
        """The same for bare texts (no location fields): for the CLI, evaluation and benches."""
        return [
            enrich_chunks(text, docs, truncated=plan.truncated, proscribed=self._proscribed)
            for text, plan, docs in self._read(texts)
        ]

    def _read(self, texts: Sequence[str]) -> Iterator[tuple[str, NerPlan, list[tuple[int, Doc]]]]:
        """Each text, what NER reads of it and the Docs of those pieces: one `nlp.pipe` over
        the pieces of every text, so short reports batch as before and a long one costs its
        pieces, never more than NER_MAX_CHARS."""
        plans = [ner_chunks(text) for text in texts]
        pieces = (
            text[s:e] for text, plan in zip(texts, plans, strict=True) for s, e in plan.chunks
        )
        docs = iter(self._nlp.pipe(pieces))
        for text, plan in zip(texts, plans, strict=True):
            yield text, plan, [(start, next(docs)) for start, _ in plan.chunks]
