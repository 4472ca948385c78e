"""Assemble one worker process: clients, stages, runtime, faust app, HTTP pages; then run it."""

from __future__ import annotations

import logging
from typing import Any

from pipeline.settings import Settings

log = logging.getLogger(__name__)


def build_runtime(settings: Settings) -> Any:
    """Load the stages (spaCy once per process) and return a ready `Runtime`."""
    from pipeline.clients import elasticsearch_client
    from pipeline.enrich.dedup import Deduplicator
    from pipeline.enrich.extract import Enricher
    from pipeline.index.mapping import ensure_index
    from pipeline.index.sink import BulkSink
    from pipeline.ops.metrics import record_bulk_retry
    from pipeline.worker.observe import observe_stage
    from pipeline.worker.process import BatchProcessor
    from pipeline.worker.runtime import Runtime

    es = elasticsearch_client(settings)
    ensure_index(es, settings)
    deduplicator = Deduplicator(es, settings)
    deduplicator.ensure()
    log.info("loading the NER model")
    enricher = Enricher.load()
    processor = BatchProcessor(
        enricher=enricher,
        deduplicator=deduplicator,
        sink=BulkSink(es, on_retry=lambda reason: record_bulk_retry()),
        index=settings.index_alias,
        on_stage=observe_stage,
    )

    async def not_wired(dead: Any) -> None:
        raise RuntimeError("dead-letter sender not wired: create_app() sets it")

    return Runtime(processor=processor, send_dead_letter=not_wired)


def run_worker(settings: Settings) -> None:
    """Run one worker until SIGINT/SIGTERM (blocks)."""
    import faust

    from pipeline.ops.logging import configure_logging
    from pipeline.worker.app import create_app

    configure_logging(settings)
    runtime = build_runtime(settings)
    app = create_app(settings, runtime)

    class Worker(faust.Worker):
        def _setup_logging(self) -> None:
            configure_logging(settings)  # our JSON logs, not faust's own format

    worker = Worker(app, loglevel=settings.log_level, redirect_stdouts=False)
    try:
        worker.execute_from_commandline()
    finally:
        runtime.close()
