"""`pipeline dlq`: list, show and replay dead-letter records."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

import click

from pipeline.cli.publish import reported_errors
from pipeline.ingest.dlq import DeadLetter, printable
from pipeline.ingest.sources import dlq_topic
from pipeline.settings import get_settings

# Modules that load kafka-python are imported inside each command: `pipeline --help` stays fast.
topic_option = click.option(
    "--topic",
    default=None,
    metavar="TOPIC",
    help="Dead-letter topic [default: intake.dlq with PIPELINE_TOPIC_PREFIX applied].",
)


def _topic(topic: str | None) -> str:
    return topic or dlq_topic(get_settings().topic_prefix)


@click.group()
def dlq() -> None:
    """Inspect the dead-letter topic and replay records after a fix."""


@dlq.command("list")
@topic_option
@click.option("--limit", default=50, show_default=True, help="Show at most N records (0: all).")
@click.option("--reason", "reasons", multiple=True, help="Only this reason code (repeatable).")
@click.option("--origin-topic", "origins", multiple=True, help="Only records from this topic.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_(
    topic: str | None, limit: int, reasons: tuple[str, ...], origins: tuple[str, ...], as_json: bool
) -> None:
    """List dead letters, oldest first: position, time, reason, origin and a preview of the
    value with reporter, caller and subject masked. Copies of erased reports are never shown."""
    from pipeline.admin.dlq_store import Selection, read_dead_letters

    select = Selection(reasons=frozenset(reasons), origin_topics=frozenset(origins))
    letters = read_dead_letters(get_settings(), _topic(topic), select=select)
    shown = 0
    with reported_errors():
        chosen = list(islice(letters, limit or None))
        asked = {"reasons": sorted(reasons), "origin_topics": sorted(origins), "limit": limit}
        _audit("dlq_list", _topic(topic), asked, chosen)
    for letter in chosen:
        shown += 1
        if as_json:
            click.echo(json.dumps(letter.summary(), ensure_ascii=False))
        else:
            when = letter.failed_at.strftime("%Y-%m-%d %H:%M:%S") if letter.failed_at else "-"
            replays = f" replays={letter.replay_count}" if letter.replay_count else ""
            cut = f" TRUNCATED(of {letter.original_size} bytes)" if letter.truncated else ""
            click.echo(
                f"{letter.partition}:{letter.offset:<6} {when}  {letter.reason:<22} "
                f"{letter.origin}{replays}{cut}\n    {letter.preview(110)}"
            )
    if not as_json:
        click.echo(
            f"{shown} dead letter(s)" + (" (limit reached)" if shown == limit else ""), err=True
        )


@dlq.command()
@topic_option
@click.argument("position", required=False)
@click.option("--partition", type=int, default=None, help="Partition of the record.")
@click.option("--offset", type=int, default=None, help="Offset of the record.")
def show(
    topic: str | None, position: str | None, partition: int | None, offset: int | None
) -> None:
    """Show one dead letter in full: POSITION is OFFSET (partition 0) or PARTITION:OFFSET,
    or give --partition and --offset."""
    from pipeline.admin.dlq_store import fetch

    if position is not None:
        partition, offset = _position(position)
    if offset is None:
        raise click.UsageError("give OFFSET, PARTITION:OFFSET or --offset")
    with reported_errors():
        letter = fetch(get_settings(), _topic(topic), partition or 0, offset)
        asked = {"partition": partition or 0, "offset": offset}
        _audit("dlq_show", _topic(topic), asked, [letter] if letter else [])
    if letter is None:
        click.echo(f"no record at {partition or 0}:{offset} (or one of an erased report)", err=True)
        sys.exit(1)
    click.echo(_describe(letter))


@dlq.command()
@topic_option
@click.option("--reason", "reasons", multiple=True, help="Only this reason code (repeatable).")
@click.option("--origin-topic", "origins", multiple=True, help="Only records from this topic.")
@click.option(
    "--offsets",
    "positions",
    multiple=True,
    metavar="[P:]O",
    help="Only these positions, OFFSET or PARTITION:OFFSET (repeatable, or comma list).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be replayed; send nothing.")
def replay(
    topic: str | None,
    reasons: tuple[str, ...],
    origins: tuple[str, ...],
    positions: tuple[str, ...],
    dry_run: bool,
) -> None:
    """Send selected dead letters back to their origin topic with their original key,
    value and headers, and `pipeline.replay.count` incremented. With no filter, every
    dead letter is replayed, except truncated ones (refused: their value was cut).
    Replaying twice is harmless: indexing is idempotent."""
    from pipeline.admin.dlq_store import Selection, read_dead_letters
    from pipeline.admin.dlq_store import replay as send_back
    from pipeline.cli.progress import bars

    settings = get_settings()
    wanted = frozenset(_position(p) for item in positions for p in item.split(",") if p)
    select = Selection(frozenset(reasons), frozenset(origins), wanted)
    with reported_errors(), bars() as shown:
        letters = read_dead_letters(settings, _topic(topic), select=select)
        if shown is not None:
            letters = _counted(letters, shown, "reading dead letters")
        result = send_back(settings, letters, dry_run=dry_run)
    verb = "would replay" if dry_run else "replayed"
    for letter in result.replayed:
        click.echo(
            f"{verb} {letter.partition}:{letter.offset} ({letter.reason}) -> {letter.origin_topic}"
        )
    for letter, why in result.skipped:
        click.echo(f"skipped {letter.partition}:{letter.offset}: {why}", err=True)
    click.echo(f"{verb} {len(result.replayed)}, skipped {len(result.skipped)}")
    if result.skipped:
        sys.exit(1)


def _counted(
    letters: Iterable[DeadLetter], shown: Callable[[str, int, int | None], None], phase: str
) -> Iterator[DeadLetter]:
    """`letters`, showing how many have been read (how many there are is not known ahead)."""
    count = 0
    for count, letter in enumerate(letters, start=1):
        shown(phase, count, None)
        yield letter
    shown(phase, count, count)


def _audit(action: str, topic: str, asked: dict[str, Any], shown: list[DeadLetter]) -> None:
    """Record who looked at which dead letters (positions only, never their content), before
    anything is shown: without the record, nothing is."""
    from pipeline.api.audit import Action, record_operator_view

    positions = [f"{letter.partition}:{letter.offset}" for letter in shown]
    record_operator_view(get_settings(), Action(action), {"topic": topic, **asked}, positions)


def _position(text: str) -> tuple[int, int]:
    try:
        if ":" in text:
            partition, offset = text.split(":", 1)
            return int(partition), int(offset)
        return 0, int(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not OFFSET or PARTITION:OFFSET") from None


def _describe(letter: DeadLetter) -> str:
    lines = [
        f"position     {letter.partition}:{letter.offset}",
        f"origin       {letter.origin}",
        f"failed at    {letter.failed_at.isoformat() if letter.failed_at else '-'}",
        f"stage        {letter.stage}",
        f"reason       {letter.reason}",
        f"exception    {letter.exception_class}",
        f"message      {printable(letter.message, 2000)}",
        f"replays      {letter.replay_count}",
        f"key          {_text(letter.key, 300)}",
    ]
    for error in letter.errors:
        lines.append(f"  error      {printable(json.dumps(error, ensure_ascii=False), 300)}")
    for name, value in letter.original_headers:
        lines.append(f"  header     {printable(name, 100)}={_text(value, 200)}")
    size = "null" if letter.value is None else f"{len(letter.value)} bytes"
    if letter.truncated:
        size += f" kept of {letter.original_size} (TRUNCATED: cannot be replayed)"
    lines.append(f"value        ({size}, restricted fields masked)")
    lines.append(f"  {letter.preview(4000)}")
    return "\n".join(lines)


def _text(raw: bytes | None, limit: int) -> str:
    return "<null>" if raw is None else printable(raw.decode("utf-8", "replace"), limit)
