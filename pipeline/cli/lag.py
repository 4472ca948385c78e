"""`pipeline lag`: consumer lag per group, topic and partition, with a Burrow-like status."""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING

import click

from pipeline.errors import KafkaUnavailable
from pipeline.ops.history import LagRow, LagTracker
from pipeline.settings import get_settings

if TYPE_CHECKING:
    from pipeline.ops.lag import LagProbe

# Exit codes scripts can rely on (2 is click's usage error).
EXIT_OK, EXIT_STUCK, EXIT_UNREACHABLE = 0, 1, 3
_CLEAR = "\x1b[H\x1b[2J"


@click.command("lag")
@click.option(
    "--group",
    "-g",
    "groups",
    multiple=True,
    metavar="G",
    help="Consumer group to report (repeatable). The worker group from "
    "PIPELINE_CONSUMER_GROUP is always included.",
)
@click.option("--watch", "-w", is_flag=True, help="Refresh in place until Ctrl-C, keeping history.")
@click.option(
    "--interval",
    "-i",
    type=click.FloatRange(min=0.1),
    default=None,
    metavar="S",
    help="Seconds between samples (default PIPELINE_LAG_SAMPLE_INTERVAL_S).",
)
@click.option(
    "--samples",
    "-n",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Samples in the status window (default PIPELINE_LAG_WINDOW_SAMPLES). A single run "
    "takes N samples, so it lasts (N-1) x interval.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of a table.")
def lag(
    groups: tuple[str, ...],
    watch: bool,
    interval: float | None,
    samples: int | None,
    as_json: bool,
) -> None:
    """Show each consumer group's committed offset, end offset and lag per partition.

    LAG is in records; LAG_S is the age in seconds of the oldest record not yet processed.
    STATUS is judged over a window of samples:

    \b
      OK      caught up, or keeping up
      WARN    lag rose across the whole window while offsets moved
      STALL   members present, committed offset not moving, lag > 0
      STOP    the group has no members and lag > 0
      REWIND  the committed offset went backwards

    Exit status: 0 fine, 1 some partition is STALL or STOP, 3 Kafka unreachable.
    """
    # Imported here, not at the top: kafka-python would slow down every `pipeline --help`.
    from pipeline.ops.lag import LagProbe

    settings = get_settings()
    wanted = list(dict.fromkeys([settings.consumer_group, *groups]))
    every = interval if interval is not None else settings.lag_sample_interval_s
    tracker = LagTracker(samples or settings.lag_window_samples)
    try:
        with LagProbe(settings) as probe:
            if not watch:
                for i in range(tracker.window):
                    if i:
                        time.sleep(every)
                    tracker.add(probe.snapshot(wanted))
                _print(tracker, as_json)
            else:
                _watch(probe, tracker, wanted, every, as_json)
    except KafkaUnavailable as exc:
        click.echo(f"pipeline lag: {exc}", err=True)
        sys.exit(EXIT_UNREACHABLE)
    sys.exit(EXIT_STUCK if tracker.alarming() else EXIT_OK)


def _watch(
    probe: LagProbe, tracker: LagTracker, groups: list[str], every: float, as_json: bool
) -> None:
    try:
        while True:
            tracker.add(probe.snapshot(groups))
            if not as_json:
                click.echo(_CLEAR, nl=False)
                click.echo(f"every {every:g}s, window {tracker.window} samples, Ctrl-C to stop")
            _print(tracker, as_json)
            time.sleep(every)
    except KeyboardInterrupt:
        pass


def _print(tracker: LagTracker, as_json: bool) -> None:
    rows = tracker.rows()
    if as_json:
        body = {
            "sampled_at": time.time(),
            "window": tracker.window,
            "status": str(tracker.overall()),
            "groups": [
                {"group": group, "state": state, "members": members}
                for group, (state, members) in tracker.groups().items()
            ],
            "partitions": [row.as_json() for row in rows],
        }
        click.echo(json.dumps(body))
        return
    click.echo(render_table(rows))
    listed = {row.group for row in rows}
    for group, (state, members) in tracker.groups().items():
        if group not in listed:
            click.echo(f"{group}: nothing committed or assigned ({members} members, {state})")


def render_table(rows: list[LagRow]) -> str:
    """The rows as an aligned text table (empty groups shown as a note)."""
    header = (
        "GROUP",
        "TOPIC",
        "PARTITION",
        "COMMITTED",
        "END",
        "LAG",
        "LAG_S",
        "STATUS",
        "MEMBERS",
    )
    lines = [header]
    for r in rows:
        lines.append(
            (
                r.group,
                r.topic,
                str(r.partition),
                _dash(r.committed),
                str(r.end),
                _dash(r.lag),
                "-" if r.lag_seconds is None else f"{r.lag_seconds:.1f}",
                str(r.status),
                f"{r.members} ({r.group_state or '-'})",
            )
        )
    if not rows:
        return "no committed offsets or assigned partitions for the given groups"
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _dash(value: int | None) -> str:
    return "-" if value is None else str(value)
