"""`pipeline publish` and `pipeline demo`: put intake records on the intake topics."""

from __future__ import annotations

import io
import os
import stat
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Literal, cast

import click

from pipeline.errors import PipelineError, ValidationFailed
from pipeline.ingest.sources import Source
from pipeline.settings import get_settings

# Kept here, not imported from producer.py, so `pipeline --help` does not load kafka.
Compression = Literal["none", "gzip", "snappy", "lz4", "zstd"]
COMPRESSION: tuple[str, ...] = ("none", "gzip", "snappy", "lz4", "zstd")

# Modules that load kafka-python are imported inside each command: `pipeline --help` stays fast.
_PROGRESS_EVERY_S = 2.0


@contextmanager
def reported_errors() -> Iterator[None]:
    """Show our own errors (broker down, topic missing) as one line, not a traceback."""
    try:
        yield
    except PipelineError as exc:
        raise click.ClickException(str(exc)) from exc


@dataclass
class Tally:
    """Counts for one run; `failed` is filled from the producer's thread."""

    sent: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    failed: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def delivered(self, where: str) -> Callable[[Exception | None], None]:
        def callback(error: Exception | None) -> None:
            if error is not None:
                with self.lock:
                    self.failed.append(f"{where}: {type(error).__name__}: {error}")

        return callback

    def line(self) -> str:
        rejected = sum(self.rejected.values())
        why = ", ".join(f"{reason}: {n}" for reason, n in self.rejected.most_common())
        text = f"sent {self.sent - len(self.failed)}, rejected {rejected}"
        text += f" ({why})" if why else ""
        return text + (f", failed {len(self.failed)}" if self.failed else "")


compression_option = click.option(
    "--compression",
    type=click.Choice(COMPRESSION),
    default="none",
    show_default=True,
    help="Compression codec for produced batches.",
)


@click.command()
@click.option(
    "--source",
    "source_name",
    required=True,
    type=click.Choice([s.value for s in Source]),
    help="Source the file's records are.",
)
@click.option("--topic", default=None, help="Send here instead of the source's intake topic.")
@compression_option
@click.argument("file", type=click.File("rb"))
def publish(source_name: str, topic: str | None, compression: str, file: IO[bytes]) -> None:
    """Validate and publish FILE.jsonl (one JSON record a line; `-` for stdin) to the
    source's intake topic, keyed by `id`.

    Invalid lines are not sent: each is reported on stderr with its line number and
    reason. Exits 1 if any line was rejected or not acknowledged by the broker.
    """
    from pipeline.admin.producer import IntakeProducer
    from pipeline.cli.progress import bars

    source = Source(source_name)
    tally = Tally()
    last = time.monotonic()
    size, read = _size(file), 0
    with (
        reported_errors(),
        IntakeProducer(get_settings(), compression=cast(Compression, compression)) as producer,
        bars() as shown,
    ):
        for number, line in enumerate(file, start=1):
            read += len(line)
            record = line.rstrip(b"\r\n")
            if not record.strip():
                continue
            try:
                producer.send(
                    source, record, topic=topic, on_delivery=tally.delivered(f"line {number}")
                )
                tally.sent += 1
            except ValidationFailed as exc:
                tally.rejected[exc.reason] += 1
                click.echo(f"line {number}: rejected ({exc.reason}): {exc.message}", err=True)
            if shown is not None:
                shown("bytes read", read, size)
            elif time.monotonic() - last > _PROGRESS_EVERY_S:
                last = time.monotonic()
                click.echo(f"... line {number}: {tally.line()}", err=True)
        producer.flush()
    for failure in tally.failed:
        click.echo(f"{failure}: not delivered", err=True)
    click.echo(f"{topic or producer.topic(source)}: {tally.line()}")
    if tally.rejected or tally.failed:
        sys.exit(1)


@click.command()
@click.option("--count", default=500, show_default=True, help="Records to publish.")
@click.option("--seed", default=1, show_default=True, help="Random seed: same seed, same stream.")
@click.option(
    "--rate",
    default=0.0,
    show_default=True,
    help="Records per second; 0 publishes as fast as the broker takes them.",
)
@compression_option
def demo(count: int, seed: int, rate: float, compression: str) -> None:
    """Publish a realistic mixed stream to the four intake topics: narratives with UK
    places, postcodes, phone numbers, vehicles, emails, URLs and handles; exact and near
    duplicates; and a few deliberately bad records that must end on the dead-letter topic.
    """
    from pipeline.admin.producer import IntakeProducer
    from pipeline.cli.progress import bars
    from pipeline.dev.demo import generate

    settings = get_settings()
    tally = Tally()
    per_topic: Counter[str] = Counter()
    started = last = time.monotonic()
    with (
        reported_errors(),
        IntakeProducer(settings, compression=cast(Compression, compression)) as producer,
        bars() as shown,
    ):
        for n, record in enumerate(generate(count, seed), start=1):
            topic = f"{settings.topic_prefix}{record.topic}"
            producer.send_raw(
                topic, record.key, record.value, on_delivery=tally.delivered(f"record {n}")
            )
            tally.sent += 1
            per_topic[topic] += 1
            if record.bad:
                tally.rejected[record.bad] += 1
            _pace(n, rate, started)
            if shown is not None:
                shown("published", n, count)
            elif time.monotonic() - last > _PROGRESS_EVERY_S:
                last = time.monotonic()
                click.echo(f"... {n}/{count} published", err=True)
        producer.flush()
    for topic, n in sorted(per_topic.items()):
        click.echo(f"{topic}: {n}")
    bad = sum(tally.rejected.values())
    kinds = ", ".join(f"{k}: {v}" for k, v in sorted(tally.rejected.items()))
    click.echo(f"published {tally.sent - len(tally.failed)}; {bad} deliberately bad ({kinds})")
    if tally.failed:
        for failure in tally.failed:
            click.echo(f"{failure}: not delivered", err=True)
        sys.exit(1)


def _size(file: IO[bytes]) -> int | None:
    """The size of a regular file, for its progress bar (a pipe's is not known)."""
    try:
        info = os.fstat(file.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _pace(n: int, rate: float, started: float) -> None:
    if rate > 0:
        ahead = started + n / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
