"""Assemble one worker process: clients, stages, runtime, faust app, HTTP pages; then run it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pipeline.flow.batch import BatchProcessor
from pipeline.settings import Settings

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from pipeline.ingest.records import RawRecord
    from pipeline.worker.replay import ProcessBatch

log = logging.getLogger(__name__)


def build_processor(settings: Settings, es: Elasticsearch, index: str) -> BatchProcessor:
    """The stages of one process, writing to `index`; loads spaCy (once per call: call once)."""
    from pipeline.enrich.dedup import Deduplicator
    from pipeline.enrich.extract import Enricher
    from pipeline.index.sink import BulkSink
    from pipeline.ops.metrics import observe_stage, record_bulk_retry

    deduplicator = Deduplicator(es, settings)
    deduplicator.ensure()
    log.info("loading the NER model")
    return BatchProcessor(
        enricher=Enricher.load(),
        deduplicator=deduplicator,
        sink=BulkSink.from_settings(es, settings, on_retry=lambda reason: record_bulk_retry()),
        index=index,
        on_stage=observe_stage,
        record_budget_s=settings.record_budget_s,
        batch_budget_s=settings.batch_budget_s,
    )


def build_live_processor(settings: Settings) -> BatchProcessor:
    """Ensure the index and load the stages that write to the live alias."""
    from pipeline.clients import elasticsearch_client
    from pipeline.index.mapping import ensure_index

    es = elasticsearch_client(settings)
    ensure_index(es, settings)
    return build_processor(settings, es, settings.index_alias)


def reindex_batch_processor(settings: Settings, es: Elasticsearch) -> ProcessBatch:
    """`pipeline reindex --from kafka`: process replayed records exactly as live ones, into
    the target index. Dead letters are not sent again: the live path sent them already."""
    processors: dict[str, BatchProcessor] = {}

    def process_batch(records: list[RawRecord], target_index: str) -> int:
        if target_index not in processors:
            processors[target_index] = build_processor(settings, es, target_index)
        outcome = processors[target_index].process(records)
        return len(outcome.indexed) + len(outcome.stale)

    return process_batch


def run_worker(settings: Settings) -> None:
    """Run one worker until SIGINT/SIGTERM (blocks)."""
    import faust

    from pipeline.ops.logging import configure_logging
    from pipeline.worker.app import create_app

    configure_logging(settings)
    app, runtime = create_app(settings, build_live_processor(settings))

    class Worker(faust.Worker):
        def _setup_logging(self) -> None:
            configure_logging(settings)  # our JSON logs, not faust's own format

    worker = Worker(app, loglevel=settings.log_level, redirect_stdouts=False)
    try:
        worker.execute_from_commandline()
    finally:
        runtime.close()
