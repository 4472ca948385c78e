"""The supervisor's restart rule: a process that exits is started again after a backoff that
the loop waits out without sleeping (the status keeps drawing meanwhile)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from pipeline.dev.supervise import Child


def test_an_exited_child_is_shown_then_restarted_once_its_backoff_is_over(tmp_path: Path) -> None:
    log = tmp_path / "worker-0.log"
    argv = [sys.executable, "-c", "print('hello'); raise SystemExit(3)"]
    child = Child("worker-0", argv, log=log)
    child.start()
    assert child.process is not None
    child.process.wait(timeout=30)
    assert child.check() == "exited 3, restarting"
    assert child.restart_at is not None and child.restart_at > time.monotonic()
    assert child.check() is None  # waiting: no sleep in here
    child.restart_at = time.monotonic()
    assert child.check() == "starting"
    child.process.wait(timeout=30)
    assert log.read_text().splitlines() == ["hello", "hello"]  # both runs, appended
    assert child.check() == "exited 3, restarting"
    assert child.restarts == 2
