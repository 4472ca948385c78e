"""The enrich stage's entry point: NER, exact extractors and region for a batch of reports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pipeline.enrich.exact import extract_exact
from pipeline.enrich.locate import derive_region
from pipeline.enrich.mentions import Enrichment
from pipeline.enrich.ner import load_ner, ner_mentions, place_mentions

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

    from pipeline.ingest.report import Report

__all__ = ["NER_MAX_CHARS", "Enricher", "enrich_doc", "extract_exact"]

# NER cost grows with length; past this many characters a text's tail is matched by the
# exact extractors only, so one huge record cannot stall a partition.
NER_MAX_CHARS = 20_000


def enrich_doc(
    doc: Doc,
    text: str,
    location_postcode: str | None = None,
    location_text: str | None = None,
) -> Enrichment:
    """Exact mentions, NER names, gazetteer places and region for `text`.

    `doc` is spaCy's Doc of `text` or of a prefix of it.
    """
    exact = extract_exact(text)
    named = ner_mentions(doc, exact)
    mentions = exact + named + place_mentions(text, exact + named)
    return Enrichment.from_mentions(
        mentions, derive_region(mentions, location_postcode, location_text)
    )


class Enricher:
    """Holds the loaded spaCy pipeline; one per process, reused for every batch."""

    def __init__(self, nlp: Language) -> None:
        self._nlp = nlp

    @classmethod
    def load(cls) -> Enricher:
        """Load the NER model (about a second): call once per process."""
        return cls(load_ner())

    def enrich(self, reports: Sequence[Report]) -> list[Enrichment]:
        """One Enrichment per report, in order; offsets index into `report.text`."""
        docs = self._nlp.pipe(r.text[:NER_MAX_CHARS] for r in reports)
        results: list[Enrichment] = []
        for report, doc in zip(reports, docs, strict=True):
            location = report.location
            results.append(
                enrich_doc(
                    doc,
                    report.text,
                    location.postcode if location else None,
                    location.text if location else None,
                )
            )
        return results

    def enrich_texts(self, texts: Sequence[str]) -> list[Enrichment]:
        """The same for bare texts (no location fields): for the CLI, evaluation and benches."""
        docs = self._nlp.pipe(t[:NER_MAX_CHARS] for t in texts)
        return [enrich_doc(doc, text) for text, doc in zip(texts, docs, strict=True)]
