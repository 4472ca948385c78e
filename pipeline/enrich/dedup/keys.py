"""What a report can be matched on: its identity, exact fingerprint, canonical URL and LSH bands."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pipeline.enrich.dedup import minhash
from pipeline.enrich.dedup.text import digest, normalise, word_shingles
from pipeline.enrich.exact import canonical_url
from pipeline.ingest.report import Report
from pipeline.settings import Settings

# Below this many words a text says too little for near-duplicate matching ("suspicious
# van seen"): such reports only cluster on exact content.
MIN_WORDS = 8


@dataclass(frozen=True, slots=True)
class DedupParams:
    """How reports are compared; everything but `threshold` is part of the state's key format."""

    threshold: float = 0.5
    shingle_size: int = 3
    num_perm: int = 128
    bands: int = 16
    rows: int = 4

    def __post_init__(self) -> None:
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands x rows ({self.bands}x{self.rows}) exceeds num_perm")

    @staticmethod
    def from_settings(settings: Settings) -> DedupParams:
        """The parameters configured under PIPELINE_DEDUP_*."""
        return DedupParams(
            threshold=settings.dedup_threshold,
            shingle_size=settings.dedup_shingle_size,
            num_perm=settings.dedup_num_perm,
            bands=settings.dedup_bands,
            rows=settings.dedup_rows,
        )


@dataclass(frozen=True, slots=True)
class ReportKeys:
    """One report's state keys. `report` is its identity; it also names the cluster it opens."""

    report: str
    exact: str | None
    url: str | None
    bands: tuple[str, ...]
    signature: minhash.Signature | None

    def claims(self) -> list[str]:
        """Every key this report claims for its cluster when nobody holds it yet."""
        return [key for key in (self.url, self.exact) if key is not None] + list(self.bands)


def report_key(source: str, source_id: str) -> str:
    """Stable identity of (source, id): a fixed-length hex string, safe as a document id."""
    return hashlib.sha256(f"{source}\x1f{source_id}".encode()).hexdigest()[:32]


def referred_url(report: Report) -> str | None:
    """The report's own URL (a referral's) in canonical form, as `entities.url` holds it."""
    if report.url is None or not report.url.strip():
        return None
    return canonical_url(report.url.strip()) or report.url.strip()


def report_keys(report: Report, params: DedupParams) -> ReportKeys:
    """The keys of one report.

    A referral is identified by what it points at: it matches on its canonical URL and
    exact text only, because referrers describe different videos in the same stock words.
    """
    url = referred_url(report)
    normal = normalise(report.text)
    exact = digest(normal)
    words = normal.split(" ") if normal else []
    bands: tuple[str, ...] = ()
    signature = None
    if url is None and len(words) >= MIN_WORDS:
        signature = minhash.signature(word_shingles(words, params.shingle_size), params.num_perm)
        bands = tuple(minhash.band_keys(signature, params.bands, params.rows))
    return ReportKeys(
        report=report_key(report.source.value, report.source_id),
        exact=None if exact is None else f"fp:{exact}",
        url=None if url is None else "u:" + hashlib.sha256(url.encode()).hexdigest()[:32],
        bands=bands,
        signature=signature,
    )
