"""The faust application: one agent per intake topic, each a thin loop over `Runtime.handle`.

Topics are read as raw bytes (no faust codec can fail on a bad record) and tombstones are let
through (`allow_empty`) so they reach validation and the dead-letter topic. Auto-ack is off:
a batch's events are acked, in offset order, only after `Runtime.handle` returned, which is
after every record was indexed or its dead-letter record was acknowledged by the broker.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import faust
from faust.transport.drivers.aiokafka import Producer as AiokafkaProducer

from pipeline.clients import with_local_credentials
from pipeline.enrich.incidents.step import Incidents
from pipeline.flow.batch import BatchProcessor
from pipeline.flow.item import Rejection
from pipeline.ingest.dlq import dead_letter_message
from pipeline.ingest.erasure import DropErased
from pipeline.ingest.sources import dlq_topic, intake_topics
from pipeline.ops.health import liveness
from pipeline.ops.metrics import render
from pipeline.settings import Settings
from pipeline.worker.deliver import deliver_dead_letter
from pipeline.worker.observe import WorkerObserver, observe_outcome
from pipeline.worker.records import from_faust_message
from pipeline.worker.runtime import Runtime

log = logging.getLogger(__name__)

# Bytes the consumer fetches per partition per request: Kafka's default largest record batch
# (message.max.bytes, 1 MiB + 12), so a record the broker took always comes through in one
# fetch (a batch over it comes alone anyway, KIP-74).
FETCH_BYTES_PER_PARTITION = 1_048_588
# The producer's max request size (faust's default, kept explicit): dead letters are cut to it.
PRODUCER_MAX_REQUEST_BYTES = 1_000_000


def broker_url(settings: Settings) -> str:
    """faust's broker URL: `kafka://host1:port;host2:port`."""
    return ";".join(f"kafka://{server.strip()}" for server in settings.kafka_servers.split(","))


def broker_credentials(settings: Settings) -> Any:
    """faust credentials for SASL/SSL, or None for PLAINTEXT."""
    protocol = settings.kafka_security_protocol.upper()
    if protocol == "PLAINTEXT":
        return None
    context = None
    if protocol in {"SSL", "SASL_SSL"}:
        cafile = str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
        context = ssl.create_default_context(cafile=cafile)
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    password = (
        settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else None
    )
    return faust.SASLCredentials(
        username=settings.kafka_sasl_username,
        password=password,
        mechanism=settings.kafka_sasl_mechanism or "PLAIN",
        ssl_context=context,
    )


def flow_options(settings: Settings) -> dict[str, Any]:
    """faust settings that bound what a worker holds in memory and how long a rebalance waits.

    faust bounds its buffers by count, not bytes, so the bytes follow from the counts. With
    A agents (4), P assigned partitions, B = PIPELINE_BATCH_SIZE, F the fetch size per
    partition and R the largest record the broker takes (message.max.bytes, 1 MiB):
      aiokafka holds at most one fetched, undelivered response per partition: P x F;
      each agent's stream buffer holds at most B events (`stream_buffer_maxsize`, default
      4096), its `noack_take` at most B more being gathered or processed;
      one poll returns at most B records (`broker_max_poll_records`, default unbounded).
    So bytes held <= P x F + 2 x A x B x R (`max_buffered_bytes`). R is the wire size: a
    compressed batch can decompress to more, which Kafka does not bound.

    A rebalance does not wait for the batch in flight (`stream_wait_empty` off): a batch
    over its budget is rerun record by record and can hold its worker for
    budget + B x PIPELINE_RECORD_BUDGET_S, far past any rebalance timeout, and a member that
    misses the rebalance timeout is dropped, its batch's commit refused and the batch redone
    by the next owner, who is dropped in turn when the first one rejoins: measured, the same
    slow batch went round two workers for 4 minutes and 9 generations without a commit
    (tests/worker/test_rebalance.py). Without the wait the member rejoins at once; its batch
    runs on, and its acks are committed only for partitions it still holds (faust commits
    only assigned partitions), so the new owner redoes the batch: at least once, never lost,
    indexing is idempotent. The rebalance timeout, how long the broker waits for a member
    to rejoin, is the batch budget. `broker_max_poll_interval` (faust's default 1,000 s) is
    how long a member whose fetcher is blocked keeps its partitions; it is left alone: it
    is reached only while a batch is paused by an Elasticsearch outage, and leaving the
    group then would only move the paused partitions to another worker that is paused too.
    """
    return {
        "stream_buffer_maxsize": settings.batch_size,
        "broker_max_poll_records": settings.batch_size,
        "consumer_max_fetch_size": FETCH_BYTES_PER_PARTITION,
        "producer_max_request_size": PRODUCER_MAX_REQUEST_BYTES,
        "broker_rebalance_timeout": settings.batch_budget_s,
        "stream_wait_empty": False,
    }


def max_buffered_bytes(settings: Settings, partitions: int, agents: int = 4) -> int:
    """The bound in `flow_options`' docstring for `partitions` assigned partitions."""
    options = flow_options(settings)
    fetched = partitions * options["consumer_max_fetch_size"]
    per_agent = options["stream_buffer_maxsize"] + settings.batch_size
    return int(fetched + agents * per_agent * FETCH_BYTES_PER_PARTITION)


class IdempotentProducer(AiokafkaProducer):
    """faust's aiokafka producer with idempotence as well as acks=all: a dead-letter send that
    is retried after a broker or leader loss is written once (faust turns idempotence on only
    inside exactly-once transactions)."""

    def _settings_extra(self) -> Mapping[str, Any]:
        return {**super()._settings_extra(), "acks": "all", "enable_idempotence": True}


class WorkerApp(faust.App):
    """The faust app whose producer (dead letters) is idempotent."""

    def _new_producer(self) -> IdempotentProducer:
        return IdempotentProducer(self.transport, loop=self.loop, beacon=self.beacon)


def create_app(settings: Settings, processor: BatchProcessor) -> tuple[faust.App, Runtime]:
    """Build the faust app and the `Runtime` its agents feed `processor` through; the runtime
    is built with its dead-letter sender, which needs the app's dead-letter topic."""
    datadir = settings.state_dir / "faust"
    datadir.mkdir(parents=True, exist_ok=True)
    app = WorkerApp(
        settings.consumer_group,
        broker=broker_url(settings),
        broker_credentials=broker_credentials(with_local_credentials(settings)),
        store="memory://",
        # faust makes a data directory even without tables; keep it out of the working dir
        datadir=str(datadir / "{conf.id}"),
        value_serializer="raw",
        key_serializer="raw",
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        producer_acks=-1,
        topic_partitions=settings.intake_partitions,
        topic_replication_factor=settings.replication_factor,
        web_enabled=True,
        web_port=settings.worker_port,
        web_bind=settings.worker_host,
        web_in_thread=False,
        autodiscover=False,
        **flow_options(settings),
    )
    dlq = app.topic(
        dlq_topic(settings.topic_prefix), key_type=bytes, value_type=bytes, allow_empty=True
    )

    async def send(message: tuple[bytes | None, bytes | None, Any]) -> None:
        key, value, headers = message
        pending = await dlq.send(key=key, value=value, headers=list(headers))
        await pending  # wait for the broker's acknowledgement before the source is acked

    async def send_dead_letter(rejected: Rejection) -> None:
        message = dead_letter_message(rejected.record, rejected.error)
        await deliver_dead_letter(send, message, limit=PRODUCER_MAX_REQUEST_BYTES)

    runtime = Runtime(processor, send_dead_letter=send_dead_letter, on_outcome=observe_outcome)

    names = [_add_agent(app, runtime, settings, t) for t in intake_topics(settings.topic_prefix)]
    agents = {name: runtime.agent(name) for name in names}
    _add_pages(app, WorkerObserver(settings, agents), settings)
    _add_idle_timers(app, runtime, settings)
    return app, runtime


def _add_idle_timers(app: faust.App, runtime: Runtime, settings: Settings) -> None:
    """An idle worker still does two things a batch would, on the batch thread (their clients
    are used by one thread only): it reads the erasure ledger and purges new erasures (made
    through the API, whose identity may not delete), and applies analysts' pending incident
    corrections (the API's identity may not write reports)."""
    idle: list[tuple[str, Callable[[], object]]] = []
    for step in runtime.processor.steps:
        if isinstance(step, DropErased):
            idle.append(("read the erasure ledger", partial(step.run, [])))
        elif isinstance(step, Incidents):
            idle.append(("apply incident corrections", step.idle))
    for what, job in idle:
        _add_idle_timer(app, runtime, settings.erasure_refresh_s, what, job)


def _add_idle_timer(
    app: faust.App, runtime: Runtime, interval_s: float, what: str, job: Callable[[], object]
) -> None:
    # faust names a timer by its function's qualname unless told: one name per job
    @app.timer(interval=interval_s, name=f"idle: {what}")  # type: ignore[untyped-decorator]
    async def idle_job() -> None:
        try:
            await runtime.in_batch_thread(job)
        except Exception:  # the next batch does it anyway, and pauses if it cannot
            log.warning("could not %s", what, exc_info=True)


def _add_pages(app: faust.App, observer: WorkerObserver, settings: Settings) -> None:
    """/metrics, /healthz (alive) and /readyz (503 unless every check passes) for operators."""

    @app.page("/metrics")
    async def metrics_page(web: Any, request: Any) -> Any:
        body, content_type = render()
        return web.bytes(body, content_type=content_type.split(";")[0])

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        return web.json(liveness())

    @app.page("/readyz")
    async def readyz(web: Any, request: Any) -> Any:
        report = await observer.health.report_async()
        return web.json(report, status=200 if report["ready"] else 503)

    @app.timer(interval=settings.lag_refresh_interval_s)  # type: ignore[untyped-decorator]
    async def refresh_lag() -> None:
        try:
            await asyncio.to_thread(observer.refresh_lag)
        except Exception:  # lag is for operators; failing to read it must not stop a worker
            log.warning("could not refresh consumer lag", exc_info=True)


def _add_agent(app: faust.App, runtime: Runtime, settings: Settings, topic_name: str) -> str:
    topic = app.topic(topic_name, key_type=bytes, value_type=bytes, allow_empty=True)
    name = topic_name.rsplit(".", 1)[-1]

    async def consume(stream: Any) -> None:
        state = runtime.agent(name)
        state.running = True
        try:
            async for events in stream.noack_take(settings.batch_size, settings.batch_timeout_s):
                await runtime.handle(name, [from_faust_message(event.message) for event in events])
                for event in events:
                    await stream.ack(event)
        finally:
            state.running = False

    consume.__name__ = f"consume_{name.replace('-', '_')}"
    consume.__qualname__ = consume.__name__
    app.agent(topic, name=f"{app.conf.id}.{name}")(consume)
    return name
