"""`pipeline worker` runs one stream worker; `pipeline run` runs the whole job end to end."""

from __future__ import annotations

import click


@click.command("worker")
@click.option(
    "--port",
    type=int,
    default=None,
    help="HTTP port for /metrics, /healthz, /readyz (default PIPELINE_WORKER_PORT).",
)
def worker(port: int | None) -> None:
    """Run one stream worker: consume the four intake topics, validate, enrich, deduplicate and
    index into Elasticsearch; dead-letter what fails. Runs until SIGINT/SIGTERM.

    Start one worker per CPU core: Kafka's consumer group spreads the partitions between them.
    """
    from pipeline.settings import get_settings
    from pipeline.worker.main import run_worker

    settings = get_settings()
    if port is not None:
        settings = settings.model_copy(update={"worker_port": port})
    run_worker(settings)


@click.command("run")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes to start (one per core is the sweet spot).",
)
@click.option(
    "--api/--no-api",
    default=True,
    show_default=True,
    help="Also serve the analysts' search API and web page.",
)
@click.option(
    "--demo",
    "demo_count",
    type=int,
    default=0,
    show_default=True,
    help="Publish this many demo records once the workers run (0: none).",
)
def run(workers: int, api: bool, demo_count: int) -> None:
    """Run the pipeline end to end until stopped (Ctrl-C).

    With neither KAFKA_BOOTSTRAP_SERVERS nor ELASTICSEARCH_URL set, first starts the local
    Kafka + Elasticsearch stack (downloading it on first use). Then ensures the topics and the
    index, and supervises the stream workers and the search API, restarting any that dies.

    On the local stack with PIPELINE_API_KEYS empty, makes one API key per role once, in
    PIPELINE_STATE_DIR/api-keys.json (mode 0600), and prints the analyst's. On a terminal it
    shows a live status and writes each process's log to PIPELINE_STATE_DIR/logs (see
    `pipeline logs`); otherwise every process logs to its output as JSON lines.
    """
    from pipeline.dev.supervise import run_all
    from pipeline.settings import get_settings

    raise SystemExit(run_all(get_settings(), workers=workers, api=api, demo_count=demo_count))
