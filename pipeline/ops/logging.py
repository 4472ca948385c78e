"""Structured logs: a JSON formatter for stdlib logging, record context, and setup from settings.

Every line carries `timestamp`, `level`, `logger` and `message`, plus context fields:
whatever was passed as `extra=` and whatever `log_context(...)` bound for the current
thread or asyncio task. Errors about one intake record carry `source`, `id`, `topic`,
`partition` and `offset`: pass `extra=record_context(raw, ...)` or bind them with
`log_context(**record_context(raw, ...))` around the code handling that record.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from pipeline.errors import ConfigError
from pipeline.ingest.records import RawRecord
from pipeline.settings import Settings

__all__ = ["JsonFormatter", "configure_logging", "log_context", "record_context"]

_context: ContextVar[Mapping[str, Any]] = ContextVar(
    "pipeline_log_context", default=MappingProxyType({})
)

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)
_HANDLER_NAME = "pipeline"
_CHATTY_LOGGERS = ("kafka", "aiokafka")
# One INFO line per HTTP request (elastic_transport, httpx, uvicorn's access log) or per step
# of faust's start-up: shown at DEBUG only, else they bury what the pipeline itself says.
_SELF_CONFIGURING_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
_PER_REQUEST_LOGGERS = ("elastic_transport", "httpx", "httpcore", "faust", "mode", "uvicorn.access")
# kafka-python cannot decode faust's own group-protocol metadata when lag is read, and warns with
# the raw bytes every refresh; the lag it reads is right, so only its errors are worth showing.
_GROUP_METADATA_LOGGER = "kafka.admin._groups"
_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(context)s"


def record_context(
    raw: RawRecord, *, source: str | None = None, record_id: str | None = None
) -> dict[str, Any]:
    """The context fields naming one intake record: source, id, topic, partition, offset."""
    if record_id is None and raw.key is not None:
        record_id = raw.key.decode("utf-8", errors="replace")
    return {
        "source": source,
        "id": record_id,
        "topic": raw.topic,
        "partition": raw.partition,
        "offset": raw.offset,
    }


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add `fields` to every log line written inside the block (this thread/task only)."""
    token = _context.set({**_context.get(), **fields})
    try:
        yield
    finally:
        _context.reset(token)


def _context_fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = dict(_context.get())
    fields.update((key, value) for key, value in vars(record).items() if key not in _STANDARD_ATTRS)
    fields.pop("context", None)
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line; values that JSON cannot hold are written with `str()`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _context_fields(record).items():
            entry.setdefault(key, value)
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = {
                "type": record.exc_info[0].__name__,
                "message": str(record.exc_info[1]),
                "traceback": self.formatException(record.exc_info),
            }
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    """Human-readable lines for a terminal; context appended as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        fields = _context_fields(record)
        record.context = "".join(f" {k}={v}" for k, v in fields.items()) if fields else ""
        return super().format(record)


def configure_logging(settings: Settings, *, stream: Any = None) -> logging.Handler:
    """Send all logs to stderr (or `stream`) in settings.log_format at settings.log_level.

    Idempotent: calling it again replaces the handler it installed before.
    """
    level = logging.getLevelName(settings.log_level.upper())
    if not isinstance(level, int):
        raise ConfigError(f"PIPELINE_LOG_LEVEL={settings.log_level!r} is not a log level")
    if settings.log_format == "json":
        formatter: logging.Formatter = JsonFormatter()
    elif settings.log_format == "text":
        formatter = _TextFormatter(_TEXT_FORMAT)
    else:
        raise ConfigError(f"PIPELINE_LOG_FORMAT={settings.log_format!r}: use 'json' or 'text'")
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    for own in _SELF_CONFIGURING_LOGGERS:
        # a uvicorn that configured its own loggers (handlers, no propagation) logs through ours
        configured = logging.getLogger(own)
        for old in configured.handlers[:]:
            configured.removeHandler(old)
        configured.propagate = True
    quiet = level if level <= logging.DEBUG else max(level, logging.WARNING)
    for chatty in _PER_REQUEST_LOGGERS:
        logging.getLogger(chatty).setLevel(quiet)
    # The Kafka clients narrate every connection at INFO, and their DEBUG is the wire itself:
    # operators want their warnings only, at any level.
    for chatty in _CHATTY_LOGGERS:
        logging.getLogger(chatty).setLevel(max(level, logging.WARNING))
    logging.getLogger(_GROUP_METADATA_LOGGER).setLevel(max(level, logging.ERROR))
    return handler
