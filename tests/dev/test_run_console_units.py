"""The pieces of `pipeline run`'s terminal status, without a terminal: numbers read from a
worker's /metrics, problems read from log lines, and the screen drawn from them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from pipeline.cli.logs import logs
from pipeline.dev.console import render
from pipeline.dev.run_logs import LogProblems, Problem, log_path, problem_in, rotate
from pipeline.dev.run_view import RunView, WorkerView, read_numbers
from pipeline.dev.supervise import demo_progress
from pipeline.settings import get_settings

EXPOSITION = """\
# HELP ct_pipeline_records_total Intake records processed, by source and outcome.
# TYPE ct_pipeline_records_total counter
ct_pipeline_records_total{outcome="indexed",source="public_report"} 40.0
ct_pipeline_records_total{outcome="indexed",source="hotline_call"} 2.0
ct_pipeline_records_total{outcome="dead_lettered",source="hotline_call"} 3.0
ct_pipeline_records_total{outcome="stale",source="hotline_call"} 1.0
# HELP ct_pipeline_consumer_lag_records Records not yet committed.
# TYPE ct_pipeline_consumer_lag_records gauge
ct_pipeline_consumer_lag_records{group="g",partition="0",topic="t"} 5.0
ct_pipeline_consumer_lag_records{group="g",partition="1",topic="t"} 7.0
"""


def test_numbers_are_summed_over_sources_and_partitions() -> None:
    numbers = read_numbers(EXPOSITION)
    assert (numbers.indexed, numbers.dead_lettered, numbers.stale) == (42, 3, 1)
    assert numbers.lag == 12
    assert read_numbers("").lag is None  # before the worker's first lag refresh


def test_records_per_second_is_over_the_last_seconds() -> None:
    worker = WorkerView("worker-0", 6066)
    worker.count(read_numbers(""), now=100.0)
    worker.count(read_numbers(EXPOSITION), now=102.0)
    assert worker.rate == 23.0  # 46 records in 2 s


def test_problems_come_from_json_text_and_uvicorn_lines() -> None:
    entry = {"timestamp": "2026-12-03T16:40:01.000+00:00", "level": "ERROR", "message": "boom"}
    found = problem_in("worker-0", json.dumps(entry))
    assert found is not None and (found.level, found.message) == ("ERROR", "boom")
    assert problem_in("worker-0", json.dumps(entry | {"level": "INFO"})) is None
    text = problem_in("api", "2026-12-03 16:40:01,123 WARNING pipeline.api: slow topic=t")
    assert text is not None and (text.at, text.message) == ("16:40:01", "slow topic=t")
    uvicorn = problem_in("api", "ERROR:    Exception in ASGI application")
    assert uvicorn is not None and uvicorn.message == "Exception in ASGI application"
    assert problem_in("api", "INFO:     Started server process [1]") is None
    assert problem_in("worker-0", "Traceback (most recent call last):") is None


def test_a_growing_log_is_read_once_and_a_half_line_waits(tmp_path: Path) -> None:
    path = tmp_path / "worker-0.log"
    problems = LogProblems(keep=3)
    line = json.dumps({"timestamp": "", "level": "WARNING", "message": "m1"})
    path.write_text(line + "\n" + line[:10])
    problems.scan("worker-0", path)
    problems.scan("worker-0", path)
    assert [p.message for p in problems.recent()] == ["m1"]
    with path.open("a") as handle:
        handle.write(line[10:].replace("m1", "m2") + "\n")
    problems.scan("worker-0", path)
    assert [p.message for p in problems.recent()] == ["m1", "m2"]


def test_each_run_keeps_the_previous_log(tmp_path: Path) -> None:
    path = log_path(tmp_path, "worker-0")
    rotate(path)
    path.write_text("first run\n")
    rotate(path)
    assert not path.exists()
    assert path.with_name("worker-0.log.1").read_text() == "first run\n"


def test_the_demo_progress_is_read_from_its_output() -> None:
    assert demo_progress([]) == "publishing"
    assert demo_progress(["... 200/500 published"]) == "publishing: 200/500"
    done = ["topic: 3", "published 498; 2 deliberately bad (not_json: 2)"]
    assert demo_progress(done) == "published 498 records (2 deliberately bad)"


def test_the_screen_shows_every_worker_and_escapes_what_it_is_told() -> None:
    view = RunView(stack="local stack: Kafka 127.0.0.1:19092", group="ct-pipeline")
    view.api_url = "http://127.0.0.1:8080/"
    view.workers = [WorkerView("worker-0", 6066, state="ready")]
    view.workers[0].count(read_numbers(EXPOSITION), now=1.0)
    view.problems.add(Problem("16:40:01", "worker-0", "ERROR", "bad [bold]markup[/] \x1b[2J"))
    console = Console(width=120, record=True, color_system=None)
    console.print(render(view))
    screen = console.export_text()
    assert "worker-0  ready" in screen
    assert "42" in screen and "12 records behind (consumer group ct-pipeline)" in screen
    assert "http://127.0.0.1:8080/" in screen
    assert "bad [bold]markup[/] \\u001b[2J" in screen  # shown as written, never obeyed


def test_logs_lists_and_prints_a_process_log(tmp_path: Path) -> None:
    path = log_path(tmp_path, "worker-0")
    path.parent.mkdir(parents=True)
    path.write_text("one\ntwo\nthree\n")
    env = {"PIPELINE_STATE_DIR": str(tmp_path)}
    get_settings.cache_clear()
    try:
        runner = CliRunner(env=env)
        listed = runner.invoke(logs, [])
        assert listed.exit_code == 0 and "worker-0" in listed.output
        shown = runner.invoke(logs, ["worker-0", "-n", "2"])
        assert shown.exit_code == 0 and shown.output == "two\nthree\n"
        missing = runner.invoke(logs, ["worker-9"])
        assert missing.exit_code == 1 and "logs there: worker-0" in missing.output
    finally:
        get_settings.cache_clear()
