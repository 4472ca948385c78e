"""Run one worker process: the batch path, its runtime, the faust app and its HTTP pages."""

from __future__ import annotations

from pipeline.settings import Settings


def run_worker(settings: Settings) -> None:
    """Run one worker until SIGINT/SIGTERM (blocks)."""
    import faust

    from pipeline.flow.assemble import build_live_processor
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
