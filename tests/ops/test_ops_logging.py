"""JSON and text logs: fields, record context, and setup from settings."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest

from pipeline.errors import ConfigError
from pipeline.ingest.records import RawRecord
from pipeline.ops.logging import configure_logging, log_context, record_context
from pipeline.settings import Settings

RAW = RawRecord(topic="intake.hotline-calls", partition=2, offset=41, key=b"HC-7", value=b"{")


@pytest.fixture
def root_restored() -> Iterator[None]:
    """Leave the root logger as we found it (handlers and level)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)


def configured(log_format: str, level: str = "INFO") -> io.StringIO:
    stream = io.StringIO()
    configure_logging(Settings(log_format=log_format, log_level=level), stream=stream)
    return stream


def test_json_error_line_carries_record_context(root_restored: None) -> None:
    stream = configured("json")
    log = logging.getLogger("pipeline.test")
    try:
        raise ValueError("bad field")
    except ValueError:
        log.exception("record rejected", extra=record_context(RAW, source="hotline_call"))
    entry = json.loads(stream.getvalue())
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "pipeline.test"
    assert entry["message"] == "record rejected"
    assert entry["timestamp"].endswith("+00:00")
    assert {k: entry[k] for k in ("source", "id", "topic", "partition", "offset")} == {
        "source": "hotline_call",
        "id": "HC-7",
        "topic": "intake.hotline-calls",
        "partition": 2,
        "offset": 41,
    }
    assert entry["error"]["type"] == "ValueError"
    assert "bad field" in entry["error"]["traceback"]


def test_bound_context_applies_inside_the_block_only(root_restored: None) -> None:
    stream = configured("json")
    log = logging.getLogger("pipeline.test")
    with log_context(**record_context(RAW, source="hotline_call")):
        log.error("index failed", extra={"attempt": 2})
    log.error("after")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (first["offset"], first["attempt"], first["source"]) == (41, 2, "hotline_call")
    assert "offset" not in second


def test_unserialisable_values_are_written_as_text(root_restored: None) -> None:
    stream = configured("json")
    logging.getLogger("pipeline.test").warning("odd", extra={"obj": object()})
    assert json.loads(stream.getvalue())["obj"].startswith("<object object")


def test_text_format_and_level(root_restored: None) -> None:
    stream = configured("text", level="warning")
    log = logging.getLogger("pipeline.test")
    log.info("hidden")
    log.warning("shown", extra={"topic": "t", "offset": 3})
    [line] = stream.getvalue().splitlines()
    assert line.endswith("WARNING pipeline.test: shown topic=t offset=3")


def test_configuring_twice_keeps_one_handler(root_restored: None) -> None:
    configured("json")
    stream = configured("json")
    logging.getLogger("pipeline.test").warning("once")
    assert len(stream.getvalue().splitlines()) == 1
    assert sum(h.get_name() == "pipeline" for h in logging.getLogger().handlers) == 1


def test_kafka_clients_show_warnings_and_undecodable_group_metadata_only_errors(
    root_restored: None,
) -> None:
    stream = configured("text", level="DEBUG")
    logging.getLogger("kafka.conn").info("connecting")
    logging.getLogger("kafka.conn").warning("broker gone")
    logging.getLogger("kafka.admin._groups").warning("Unable to decode member_metadata b'...'")
    logging.getLogger("kafka.admin._groups").error("describe failed")
    lines = stream.getvalue().splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == ["broker gone", "describe failed"]


@pytest.mark.parametrize(("level", "chatter_shown"), [("INFO", False), ("DEBUG", True)])
def test_client_libraries_per_request_lines_show_at_debug_only(
    root_restored: None, level: str, chatter_shown: bool
) -> None:
    names = ("elastic_transport.transport", "httpx", "faust.worker", "mode.services")
    names += ("uvicorn.access",)
    parents = [logging.getLogger(n.split(".")[0] if n != "uvicorn.access" else n) for n in names]
    levels = [p.level for p in parents]
    try:
        stream = configured("text", level=level)
        for name in names:
            logging.getLogger(name).info("GET /")
            logging.getLogger(name).warning("node down")
        logging.getLogger("pipeline.worker").info("ours")
    finally:
        for parent, was in zip(parents, levels, strict=True):
            parent.setLevel(was)
    said = [line.split(": ", 1)[1] for line in stream.getvalue().splitlines()]
    assert said.count("node down") == len(names)
    assert said.count("GET /") == (len(names) if chatter_shown else 0)
    assert "ours" in said


@pytest.mark.parametrize(("log_format", "level"), [("xml", "INFO"), ("json", "LOUD")])
def test_bad_settings_are_config_errors(log_format: str, level: str) -> None:
    with pytest.raises(ConfigError):
        configure_logging(Settings(log_format=log_format, log_level=level))


def test_a_uvicorn_that_configured_its_own_loggers_logs_through_ours(root_restored: None) -> None:
    from uvicorn.config import LOGGING_CONFIG

    logging.config.dictConfig(LOGGING_CONFIG)  # what uvicorn.run does with its default config
    stream = configured("text", level="INFO")
    logging.getLogger("uvicorn.error").warning("port in use")
    logging.getLogger("uvicorn.access").warning("slow client")
    said = [line.split(": ", 1)[1] for line in stream.getvalue().splitlines()]
    assert said == ["port in use", "slow client"]
    assert not logging.getLogger("uvicorn").handlers
