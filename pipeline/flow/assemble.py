"""The batch path assembled: which steps run, in which order, with which clients.

Adding a step is one module beside its stage (a class with `name`, `interruptible` and
`run(items)`, see `pipeline.flow.batch.Step`) and one line in `steps` below.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pipeline.enrich.dedup.step import Deduplicate, Deduplicates
from pipeline.enrich.incidents.step import AssignsIncidents, Incidents
from pipeline.enrich.step import Enrich, Enriches
from pipeline.enrich.watch.step import Watch
from pipeline.flow.batch import BatchProcessor, Step
from pipeline.index.step import Index, Sinks
from pipeline.ingest.erasure import DropErased, ErasedKeys, Purges, RecheckErased
from pipeline.ingest.records import RawRecord
from pipeline.ingest.step import Validate
from pipeline.settings import Settings

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

__all__ = ["ProcessBatch", "build_live_processor", "build_processor", "replay_processor", "steps"]

log = logging.getLogger(__name__)

# (records, target index) -> how many of them were indexed (or already were, newer)
ProcessBatch = Callable[[list[RawRecord], str], int]


def steps(
    *,
    enricher: Enriches,
    deduplicator: Deduplicates,
    sink: Sinks,
    index: str,
    watch: Watch | None = None,
    erased: ErasedKeys | None = None,
    purger: Purges | None = None,
    incidents: AssignsIncidents | None = None,
) -> list[Step]:
    """The batch path, in order: every record through these, or off the path as a dead letter
    (or, when its report is erased, off the path and nowhere)."""
    path: list[Step] = [
        *([DropErased(erased, purger)] if erased is not None else []),  # before any reading
        Validate(),
        Enrich(enricher),
        Deduplicate(deduplicator),
        *([Incidents(incidents)] if incidents is not None else []),  # a cluster in one incident
        Index(sink, index),
    ]
    if watch is not None:
        path.append(watch)  # after index: alerts name reports that are written
    if erased is not None:
        path.append(RecheckErased(erased, purger))  # last: an erasure made mid-batch wins
    return path


def build_processor(settings: Settings, es: Elasticsearch, index: str) -> BatchProcessor:
    """The steps of one process, writing to `index`; loads spaCy (once per call: call once)."""
    from pipeline.enrich.dedup import Deduplicator
    from pipeline.enrich.embed import Embedder
    from pipeline.enrich.erasure import ErasureLedger, Purger
    from pipeline.enrich.extract import Enricher
    from pipeline.enrich.incidents.assigner import IncidentAssigner
    from pipeline.enrich.incidents.corrections import Corrections
    from pipeline.index.sink import BulkSink
    from pipeline.ops.metrics import declare_stages, observe_stage, record_bulk_retry

    deduplicator = Deduplicator(es, settings)
    deduplicator.ensure()
    log.info("loading the sentence-embedding model")
    incidents = IncidentAssigner(
        es, settings, Embedder.load(), corrections=Corrections(es, settings.index_alias)
    )
    incidents.ensure()
    log.info("loading the NER model")
    sink = BulkSink.from_settings(es, settings, on_retry=lambda reason: record_bulk_retry())
    erased = ErasureLedger(settings)
    erased.catch_up()  # read whole at start; erasures made before are purged already
    path = steps(
        enricher=Enricher.load(),
        deduplicator=deduplicator,
        sink=sink,
        index=index,
        watch=build_watch(settings, es, index),
        erased=erased,
        purger=Purger(es, settings),
        incidents=incidents,
    )
    declare_stages(step.name for step in path)
    return BatchProcessor(
        path,
        on_stage=observe_stage,
        record_budget_s=settings.record_budget_s,
        batch_budget_s=settings.batch_budget_s,
    )


def build_watch(settings: Settings, es: Elasticsearch, index: str | None = None) -> Watch:
    """The watch step of this deployment: its entries kept in step, its alerts index and
    topic, and its saved searches run over `index` (where the batch is written; the alias
    when None)."""
    from pipeline.enrich.watch.alerts import AlertWriter, ensure_alerts_index
    from pipeline.enrich.watch.publish import AlertPublisher
    from pipeline.enrich.watch.searches import BatchSearches
    from pipeline.enrich.watch.store import WatchSync, ensure_watch_index

    ensure_watch_index(es, settings.index_alias)
    ensure_alerts_index(es, settings.index_alias)
    entries = WatchSync(es, settings.index_alias, interval_s=settings.watch_refresh_s)
    entries.refresh(datetime.now(UTC))  # the whole list read now, not inside the first batch
    return Watch(
        entries,
        AlertWriter(es, settings.index_alias),
        publisher=AlertPublisher(settings),
        searches=BatchSearches(es, index or settings.index_alias),
    )


def build_live_processor(settings: Settings) -> BatchProcessor:
    """Ensure the index and load the steps that write to the live alias."""
    from pipeline.clients import elasticsearch_client
    from pipeline.index.mapping import ensure_index

    es = elasticsearch_client(settings)
    ensure_index(es, settings)
    return build_processor(settings, es, settings.index_alias)


def replay_processor(settings: Settings, es: Elasticsearch) -> ProcessBatch:
    """`pipeline reindex --from kafka`: process replayed records exactly as live ones, into
    the target index. Dead letters are not sent again: the live path sent them already."""
    processors: dict[str, BatchProcessor] = {}

    def process_batch(records: list[RawRecord], target_index: str) -> int:
        if target_index not in processors:
            processors[target_index] = build_processor(settings, es, target_index)
        outcome = processors[target_index].process(records)
        return len(outcome.indexed) + len(outcome.stale)

    return process_batch
