"""`pipeline run` on a terminal: a live status drawn with rich instead of a stream of log lines.

Only what a person watching needs: the stack, each worker's state and counts, the web page's
address, the demo's progress and the last problems logged. The logs themselves are in files
(`pipeline logs NAME`). Every value shown is passed through `printable`, and built as `Text`
(never markup), so a log message cannot move the cursor or restyle the screen.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from pipeline.dev.run_view import RunView
from pipeline.ingest.dlq import printable

__all__ = ["live_console", "render"]

_STATE_STYLE = {"ready": "green", "up": "green", "not ready": "yellow", "down": "red"}


def _text(value: str, style: str = "", limit: int = 200) -> Text:
    return Text(printable(value, limit), style=style)


def _style(state: str) -> str:
    if state.startswith(("exited", "restarting")):
        return "red"
    return _STATE_STYLE.get(state, "cyan")


def render(view: RunView) -> RenderableType:
    """The whole status screen for `view`."""
    elapsed = time.strftime("%H:%M:%S", time.gmtime(time.monotonic() - view.started))
    head = Text.assemble(
        ("ct-intake-pipeline", "bold"), "  ", _text(view.phase, _style(view.phase), 70), "  "
    )
    head.append(f"up {elapsed}  (Ctrl-C stops)", style="dim")
    about = Table.grid(padding=(0, 2))
    about.add_column(style="bold")
    about.add_column()
    about.add_row("stack", _text(view.stack))
    if view.api_url is not None:
        about.add_row(
            "web page",
            Text.assemble(_text(view.api_url), "  ", _text(view.api_state, _style(view.api_state))),
        )
    if view.sign_in:
        about.add_row("sign in", _text(view.sign_in))
    if view.demo:
        about.add_row("demo", _text(view.demo))
    lag = view.lag
    if view.group:
        about.add_row(
            "lag",
            _text(
                f"{'not read yet' if lag is None else f'{lag} records behind'} "
                f"(consumer group {view.group})"
            ),
        )
    workers = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("worker", "state"):
        workers.add_column(column)
    for column in ("records/s", "indexed", "dead-lettered"):
        workers.add_column(column, justify="right")
    workers.add_column("note")
    for w in view.workers:
        workers.add_row(
            _text(w.name),
            _text(w.state, _style(w.state)),
            f"{w.rate:.1f}",
            str(w.numbers.indexed),
            str(w.numbers.dead_lettered),
            _text(w.detail, "yellow", 60),
        )
    parts: list[RenderableType] = [head, about, Text(""), workers]
    problems = view.problems.recent()
    if problems:
        parts.append(Text("\nlast problems", style="bold"))
        for p in problems:
            style = "yellow" if p.level == "WARNING" else "red"
            line = Text.assemble(f"{p.at} ", _text(p.process, "bold"), " ")
            line.append_text(_text(f"{p.level.lower()}: {p.message}", style, 160))
            parts.append(line)
    if view.logs:
        parts.append(Text.assemble("\n", _text(view.logs, "dim")))
    return Group(*parts)


@contextmanager
def live_console(view: RunView) -> Iterator[Console]:
    """Redraw `view` twice a second until the block ends; prints made on the console it
    yields appear above the status, and stay on the screen afterwards."""
    console = Console()
    with Live(
        get_renderable=lambda: render(view),
        console=console,
        refresh_per_second=2,
        transient=False,
    ):
        yield console
