"""Cluster assignment for a batch of reports against the shared dedup state in Elasticsearch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from elasticsearch import Elasticsearch

from pipeline.enrich.clusters import ClusterAssignment
from pipeline.enrich.dedup import state
from pipeline.enrich.dedup.keys import DedupParams, ReportKeys, report_keys
from pipeline.enrich.dedup.ledger import Ledger
from pipeline.enrich.mentions import Enrichment
from pipeline.errors import SinkBackpressure, Unavailability, map_es_errors
from pipeline.ingest.report import Report
from pipeline.settings import Settings


class Deduplicator:
    """Gives each report a `ClusterAssignment`; every worker shares one state index.

    Decisions are made under the state's lease lock, so two workers never decide at the
    same moment: the outcome is that of one worker taking the batches in lock order. A
    batch costs six round trips (lock, one mget, one mget of signatures, a bulk of claims,
    a bulk of answers, unlock), whatever its size, and the lock is held only for those.
    """

    def __init__(self, es: Elasticsearch, settings: Settings) -> None:
        self.es = es
        self.params = DedupParams.from_settings(settings)
        self.index = state.state_index(settings.index_alias)
        self.lock_ttl_s = settings.dedup_lock_ttl_s
        self.lock_wait_s = settings.dedup_lock_wait_s

    def ensure(self) -> None:
        """Create the state index and its template if missing (idempotent)."""
        with map_es_errors("ensure dedup state"):
            state.ensure_state(self.es, self.index)

    def keys(
        self, reports: Sequence[Report], enrichments: Sequence[Enrichment]
    ) -> list[ReportKeys]:
        """Each report's state keys (pure; done before taking the lock).

        `enrichments` only has to line up with `reports`: a referral's URL is canonicalised
        by the same function that gives `entities.url`.
        """
        if len(reports) != len(enrichments):
            raise ValueError("one enrichment per report expected")
        return [report_keys(report, self.params) for report in reports]

    def assign(
        self, reports: Sequence[Report], enrichments: Sequence[Enrichment]
    ) -> list[ClusterAssignment]:
        """One assignment per report, in order; the same batch again gets the same answers."""
        batch = self.keys(reports, enrichments)
        if not batch:
            return []
        with (
            map_es_errors("dedup assign"),
            state.locked(self.es, self.index, self.lock_ttl_s, self.lock_wait_s) as lease,
        ):
            ledger = self._load(batch)
            answers = [ledger.assign(keys) for keys in batch]
            claims = {key: state.claim_doc(claim) for key, claim in ledger.new_claims.items()}
            stored = {f"r:{rid}": state.report_doc(a) for rid, a in ledger.new_reports.items()}
            # Claims first, answers only once every claim is stored: an answer found later
            # always has its claims, and a report redelivered after a write that stopped in
            # between finds its own claims, which the ledger reads as its earlier decision.
            self._write(lease, claims)
            if self._write(lease, stored):
                # Someone answered for these reports first: theirs is the answer.
                return self._stored(batch, answers)
        return answers

    def _write(self, lease: state.Lease, docs: dict[str, dict[str, Any]]) -> set[str]:
        """Create `docs` while the lease holds; the ids that existed already."""
        if lease.expired():
            # Another worker may have broken the lock and decided on stale state.
            raise SinkBackpressure(
                "dedup lease expired before writing; retry the batch",
                reason=Unavailability.LOCK_BUSY,
            )
        return state.create_all(self.es, self.index, docs)

    def _load(self, batch: Sequence[ReportKeys]) -> Ledger:
        """A ledger holding the batch's reports, their keys' claims and the claimers' signatures."""
        ledger = Ledger(self.params.threshold)
        ids = [f"r:{keys.report}" for keys in batch] + [k for keys in batch for k in keys.claims()]
        for doc_id, source in state.fetch(self.es, self.index, ids).items():
            if doc_id.startswith("r:"):
                ledger.load_report(doc_id[2:], state.parse_report(source))
            else:
                ledger.load_claim(doc_id, state.parse_claim(source))
        vouchers = {rid for keys in batch for rid in ledger.vouchers(keys)} - ledger.reports.keys()
        for doc_id, source in state.fetch(
            self.es, self.index, [f"r:{r}" for r in vouchers]
        ).items():
            ledger.load_report(doc_id[2:], state.parse_report(source))
        return ledger

    def _stored(
        self, batch: Sequence[ReportKeys], answers: list[ClusterAssignment]
    ) -> list[ClusterAssignment]:
        stored = state.fetch(self.es, self.index, [f"r:{keys.report}" for keys in batch])
        return [
            state.parse_report(stored[f"r:{keys.report}"]).assignment
            if f"r:{keys.report}" in stored
            else answer
            for keys, answer in zip(batch, answers, strict=True)
        ]
