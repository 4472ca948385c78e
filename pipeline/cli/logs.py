"""`pipeline logs NAME [-f]`: the log of one process `pipeline run` started on a terminal."""

from __future__ import annotations

import os
import shutil
import time

import click


@click.command("logs")
@click.argument("name", required=False)
@click.option("-n", "--lines", default=50, show_default=True, help="Lines to show.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines (Ctrl-C to stop).")
def logs(name: str | None, lines: int, follow: bool) -> None:
    """Print the end of the JSON log of NAME: worker-0, worker-1 ..., api, demo or run (the
    supervisor itself). Without NAME, list the logs there are.

    `pipeline run` writes them under PIPELINE_STATE_DIR/logs when it draws its live status on
    a terminal; elsewhere its processes log to its own output. The previous run's log of each
    is kept as NAME.log.1.
    """
    from pipeline.dev.run_logs import log_path, logs_dir
    from pipeline.dev.stack.process import tail
    from pipeline.settings import get_settings

    state_dir = get_settings().state_dir
    if name is None:
        found = sorted(logs_dir(state_dir).glob("*.log"))
        if not found:
            raise click.ClickException(f"no logs in {logs_dir(state_dir)} yet")
        for path in found:
            click.echo(f"{path.stem:<12} {path.stat().st_size:>10} bytes  {path}")
        return
    path = log_path(state_dir, name)
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in logs_dir(state_dir).glob("*.log"))) or "none"
        raise click.ClickException(f"no log {path} (logs there: {known})")
    if follow and shutil.which("tail"):
        # tail -F follows the new file when the next run moves this one to NAME.log.1.
        os.execvp("tail", ["tail", "-n", str(lines), "-F", str(path)])  # noqa: S606
    for line in tail(path, lines):
        click.echo(line)
    if follow:
        with path.open(errors="replace") as handle:
            handle.seek(0, os.SEEK_END)
            while True:
                line = handle.readline()
                if line:
                    click.echo(line, nl=False)
                else:
                    time.sleep(0.5)
