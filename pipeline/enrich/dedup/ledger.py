"""Cluster decisions over a view of the dedup state: pure, in memory, the same for every store.

The Elasticsearch-backed `Deduplicator` loads the part of the state a batch touches into a
`Ledger`, lets it decide, and writes back what it added; `pipeline dedup eval` runs a
`Ledger` alone. Both therefore make exactly the same decisions.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.enrich.clusters import ClusterAssignment
from pipeline.enrich.dedup.keys import ReportKeys
from pipeline.enrich.dedup.minhash import Signature, similarity


@dataclass(frozen=True, slots=True)
class Claim:
    """A state key held by a cluster; `report` claimed it and vouches for near matches."""

    cluster: str
    report: str


@dataclass(frozen=True, slots=True)
class Assigned:
    """A report's recorded answer, kept so a redelivered report gets the same one back."""

    assignment: ClusterAssignment
    signature: Signature | None


class Ledger:
    """Claims and assignments known so far, plus what this ledger added (to be persisted)."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.claims: dict[str, Claim] = {}
        self.reports: dict[str, Assigned] = {}
        self.new_claims: dict[str, Claim] = {}
        self.new_reports: dict[str, Assigned] = {}

    def load_claim(self, key: str, claim: Claim) -> None:
        """Record a claim that already exists in the store."""
        self.claims[key] = claim

    def load_report(self, report: str, assigned: Assigned) -> None:
        """Record a report already assigned in the store."""
        self.reports[report] = assigned

    def vouchers(self, keys: ReportKeys) -> set[str]:
        """Reports whose signatures `match` will compare against (to fetch them first)."""
        return {self.claims[band].report for band in keys.bands if band in self.claims}

    def match(self, keys: ReportKeys) -> str | None:
        """The cluster this report belongs to, or None when it opens a new one.

        Same canonical URL wins, then same exact content, then the most similar claimer
        among shared LSH bands whose estimated similarity reaches the threshold (ties go
        to the smallest cluster id, so every worker picks the same).
        """
        for key in (keys.url, keys.exact):
            if key is not None and key in self.claims:
                return self.claims[key].cluster
        if keys.signature is None:
            return None
        best: tuple[float, str] | None = None
        for band in keys.bands:
            claim = self.claims.get(band)
            voucher = None if claim is None else self.reports.get(claim.report)
            if claim is None or voucher is None or voucher.signature is None:
                continue
            score = similarity(keys.signature, voucher.signature)
            if score >= self.threshold and (best is None or (-score, claim.cluster) < best):
                best = (-score, claim.cluster)
        return None if best is None else best[1]

    def claimed_by_itself(self, keys: ReportKeys) -> str | None:
        """The cluster of a claim this report made, when its answer was never stored.

        Claims are written before answers, so a write interrupted between the two leaves a
        redelivered report facing its own claims; they hold the decision it made then.
        """
        for key in keys.claims():
            claim = self.claims.get(key)
            if claim is not None and claim.report == keys.report:
                return claim.cluster
        return None

    def assign(self, keys: ReportKeys) -> ClusterAssignment:
        """Decide one report, record its answer and claim its free keys for its cluster.

        A cluster is named after the report that opened it, and that report is never a
        duplicate, whichever way (own claims, a joiner's claims) its cluster is found again.
        """
        known = self.reports.get(keys.report)
        if known is not None:
            return known.assignment
        cluster = self.claimed_by_itself(keys) or self.match(keys) or keys.report
        assignment = ClusterAssignment(cluster_id=cluster, duplicate=cluster != keys.report)
        for key in keys.claims():
            if key not in self.claims:
                claim = Claim(cluster=assignment.cluster_id, report=keys.report)
                self.claims[key] = self.new_claims[key] = claim
        assigned = Assigned(assignment=assignment, signature=keys.signature)
        self.reports[keys.report] = self.new_reports[keys.report] = assigned
        return assignment
