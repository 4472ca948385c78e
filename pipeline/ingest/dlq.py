"""Dead-letter records: the original key and value untouched, plus headers saying why.

Headers follow Kafka Connect's `__connect.errors.*` names where one fits, then ours:

| header                                   | value                                            |
|------------------------------------------|--------------------------------------------------|
| `__connect.errors.topic`                 | topic the record was read from                   |
| `__connect.errors.partition`             | its partition, decimal                           |
| `__connect.errors.offset`                | its offset, decimal                              |
| `__connect.errors.stage`                 | `ingest`, `enrich` or `index`                    |
| `__connect.errors.exception.class.name`  | e.g. `pipeline.errors.ValidationFailed`          |
| `__connect.errors.exception.message`     | human-readable reason (at most 2,000 characters) |
| `pipeline.dlq.reason`                    | stable reason code, e.g. `missing_field`         |
| `pipeline.dlq.errors`                    | per-field errors, JSON list (at most 50)         |
| `pipeline.dlq.failed_at`                 | RFC 3339 UTC time the record was dead-lettered   |
| `pipeline.replay.count`                  | times the record has been replayed, decimal      |
| `pipeline.origin.timestamp`              | first publication's Kafka time, ms, decimal      |
| `pipeline.dlq.truncated`                 | `true` when the value was cut to fit (see below) |
| `pipeline.dlq.original_size`             | the original value's size in bytes, when cut     |

The original record's own headers are kept in front, except earlier copies of the
headers above (a replayed record that fails again carries only its latest failure).
`pipeline.origin.timestamp` is added once, to the first dead letter, and then travels with
the record through every replay and failure: it is what versions a replay (`doc_version`).

A dead letter that would not fit the producer's request size (a compressed record can be
well under the broker's limit and its dead letter, sent uncompressed, over it) is cut by
`truncated_dead_letter`: the value's head is kept, then the original headers if they fit; and
`minimal_dead_letter` keeps only our headers. Both are flagged and never replayed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from pipeline.errors import RecordError
from pipeline.ingest.records import FIRST_TIMESTAMP

__all__ = [
    "DeadLetter",
    "dead_letter_message",
    "minimal_dead_letter",
    "record_size",
    "replay_message",
    "truncated_dead_letter",
]

TOPIC = "__connect.errors.topic"
PARTITION = "__connect.errors.partition"
OFFSET = "__connect.errors.offset"
STAGE = "__connect.errors.stage"
EXCEPTION_CLASS = "__connect.errors.exception.class.name"
EXCEPTION_MESSAGE = "__connect.errors.exception.message"
REASON = "pipeline.dlq.reason"
ERRORS = "pipeline.dlq.errors"
FAILED_AT = "pipeline.dlq.failed_at"
REPLAY_COUNT = "pipeline.replay.count"
TRUNCATED = "pipeline.dlq.truncated"
ORIGINAL_SIZE = "pipeline.dlq.original_size"

_OURS = (
    TOPIC,
    PARTITION,
    OFFSET,
    STAGE,
    EXCEPTION_CLASS,
    EXCEPTION_MESSAGE,
    REASON,
    ERRORS,
    FAILED_AT,
    TRUNCATED,
    ORIGINAL_SIZE,
)
_MAX_MESSAGE = 2_000
_MAX_ERRORS = 50
Headers = tuple[tuple[str, bytes], ...]
Message = tuple[bytes | None, bytes | None, Headers]
# Upper bounds, in bytes, of a one-record batch's framing (v2 batch header 61, record
# attributes, timestamp and offset deltas and length varints) and of each length varint.
_BATCH_OVERHEAD = 61 + 21
_VARINT = 5
_MINIMAL_KEY = 1_024


class KafkaRecord(Protocol):
    """What both `RawRecord` and a kafka-python `ConsumerRecord` offer."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Any: ...


def dead_letter_message(
    raw: KafkaRecord, error: RecordError, *, now: datetime | None = None
) -> tuple[bytes | None, bytes | None, Headers]:
    """(key, value, headers) to send to the dead-letter topic; key and value are the originals."""
    failed_at = (now or datetime.now(UTC)).astimezone(UTC)
    details = error.details if isinstance(error.details, list) else []
    cls = type(error)
    ours = (
        (TOPIC, raw.topic),
        (PARTITION, str(raw.partition)),
        (OFFSET, str(raw.offset)),
        (STAGE, error.stage),
        (EXCEPTION_CLASS, f"{cls.__module__}.{cls.__qualname__}"),
        (EXCEPTION_MESSAGE, error.message[:_MAX_MESSAGE]),
        (REASON, error.reason),
        (ERRORS, orjson.dumps(details[:_MAX_ERRORS], default=str).decode()),
        (FAILED_AT, failed_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")),
    )
    kept = tuple((k, v) for k, v in _pairs(raw.headers) if k not in _OURS)
    # surrogatepass: an error message may quote undecodable input; never fail to dead-letter.
    encoded = tuple((k, v.encode("utf-8", "surrogatepass")) for k, v in ours)
    return raw.key, raw.value, kept + _first_timestamp(raw, kept) + encoded


def _first_timestamp(raw: KafkaRecord, kept: Headers) -> Headers:
    """The original's Kafka time as a header, unless a replayed record already carries it."""
    if any(k == FIRST_TIMESTAMP for k, _ in kept):
        return ()
    # RawRecord says timestamp_ms, a kafka-python ConsumerRecord says timestamp
    timestamp = getattr(raw, "timestamp_ms", getattr(raw, "timestamp", None))
    if not isinstance(timestamp, int) or timestamp < 0:
        return ()
    return ((FIRST_TIMESTAMP, str(timestamp).encode()),)


def record_size(key: bytes | None, value: bytes | None, headers: Headers) -> int:
    """An upper bound of the bytes one record takes in a Kafka request, uncompressed: what a
    producer compares with its max request size."""
    size = _BATCH_OVERHEAD + 3 * _VARINT + len(key or b"") + len(value or b"")
    return size + sum(2 * _VARINT + len(k.encode()) + len(v) for k, v in headers)


def truncated_dead_letter(message: Message, limit: int) -> Message | None:
    """`message` with its value cut so the record fits `limit` bytes, flagged with its
    original size; the original headers are dropped if they alone do not fit. None when
    even an empty value does not fit (use `minimal_dead_letter`)."""
    key, value, headers = message
    size = len(value or b"")
    flags = ((TRUNCATED, b"true"), (ORIGINAL_SIZE, str(size).encode()))
    ours = tuple((k, v) for k, v in headers if k in _OURS)
    for kept in (headers, ours):
        room = limit - record_size(key, b"", kept + flags)
        if room >= 0:
            return key, (value or b"")[:room], kept + flags
    return None


def minimal_dead_letter(message: Message) -> Message:
    """Our headers (no per-field errors), the key cut to 1 KiB, no value: the dead letter of
    last resort, a few KiB at most."""
    key, value, headers = message
    flags = ((TRUNCATED, b"true"), (ORIGINAL_SIZE, str(len(value or b"")).encode()))
    ours = tuple((k, b"[]" if k == ERRORS else v) for k, v in headers if k in _OURS)
    return (key[:_MINIMAL_KEY] if key is not None else None), None, ours + flags


def replay_message(letter: DeadLetter) -> tuple[bytes | None, bytes | None, Headers]:
    """(key, value, headers) to send back to the origin topic, the replay count incremented.

    The original headers go back unchanged, `pipeline.origin.timestamp` among them, so the
    replay is versioned as its original was, not by its own (newer) Kafka timestamp.
    """
    headers = tuple((k, v) for k, v in letter.original_headers if k != REPLAY_COUNT)
    return (
        letter.key,
        letter.value,
        (*headers, (REPLAY_COUNT, str(letter.replay_count + 1).encode())),
    )


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One record read back from the dead-letter topic, for listing and replay."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    origin_topic: str
    origin_partition: int | None
    origin_offset: int | None
    reason: str
    stage: str
    exception_class: str
    message: str
    errors: list[Any] = field(default_factory=list)
    failed_at: datetime | None = None
    replay_count: int = 0
    original_headers: Headers = ()
    truncated: bool = False
    original_size: int | None = None

    @property
    def origin(self) -> str:
        """`topic/partition@offset` the record came from."""
        return f"{self.origin_topic}/{self.origin_partition}@{self.origin_offset}"

    @classmethod
    def from_record(cls, record: KafkaRecord) -> DeadLetter:
        """Read a dead-letter record back; missing or garbled headers become empty values."""
        headers = _pairs(record.headers)
        text = {k: v.decode("utf-8", "replace") for k, v in headers}
        try:
            errors = orjson.loads(text.get(ERRORS, "[]"))
        except orjson.JSONDecodeError:
            errors = []
        return cls(
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            origin_topic=text.get(TOPIC, ""),
            origin_partition=_int(text.get(PARTITION)),
            origin_offset=_int(text.get(OFFSET)),
            reason=text.get(REASON, "unknown"),
            stage=text.get(STAGE, ""),
            exception_class=text.get(EXCEPTION_CLASS, ""),
            message=text.get(EXCEPTION_MESSAGE, ""),
            errors=errors if isinstance(errors, list) else [],
            failed_at=_time(text.get(FAILED_AT)),
            replay_count=_int(text.get(REPLAY_COUNT)) or 0,
            original_headers=tuple((k, v) for k, v in headers if k not in _OURS),
            truncated=text.get(TRUNCATED) == "true",
            original_size=_int(text.get(ORIGINAL_SIZE)),
        )

    def preview(self, limit: int = 160) -> str:
        """The value as one printable line: restricted fields masked, control characters escaped."""
        if self.value is None:
            return "<tombstone>"
        shown = self.value.decode("utf-8", "replace")
        try:
            data = orjson.loads(self.value)
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            for name in _RESTRICTED & data.keys():
                data[name] = "<restricted>"
            shown = orjson.dumps(data).decode()
        else:
            # Not an object (not JSON, another JSON value, a truncated record): its structure
            # cannot be trusted, so personal data is masked in the raw text.
            shown = mask_raw(shown)
        return printable(shown, limit)

    def summary(self) -> dict[str, Any]:
        """A JSON-able view for `dlq list --json`."""
        return {
            "partition": self.partition,
            "offset": self.offset,
            "key": printable(self.key.decode("utf-8", "replace"), 200) if self.key else None,
            "reason": self.reason,
            "stage": self.stage,
            "origin": self.origin,
            "failed_at": self.failed_at.isoformat() if self.failed_at else None,
            "replay_count": self.replay_count,
            "truncated": self.truncated,
            "original_size": self.original_size,
            "message": self.message,
            "errors": self.errors,
            "preview": self.preview(),
        }


_RESTRICTED = {"reporter", "caller", "subject"}
# Every pattern below is linear on any input: each can start only where a run begins, and no
# quantified part is followed by a condition that could fail after it (no backtracking blow-up).
_RESTRICTED_KEY = re.compile(r"""["']?\b(?:reporter|caller|subject)\b["']?\s*[:=]""", re.I)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER = re.compile(r"(?<!\w)\+?\(?\d(?:[ ().-]{0,2}\d)+")
_DATE = re.compile(r"\d{4}-\d\d-\d\d")
_PHONE_DIGITS = 7


def mask_raw(text: str) -> str:
    """`text` with everything after a reporter/caller/subject key, emails and phone-like digit
    runs (7 digits or more; a leading ISO date is kept) masked."""
    key = _RESTRICTED_KEY.search(text)
    if key:
        text = text[: key.end()] + " <restricted>"
    return _NUMBER.sub(_mask_number, _EMAIL.sub("<email>", text))


def _mask_number(match: re.Match[str]) -> str:
    run = match.group()
    date = _DATE.match(run)
    kept = run[: date.end()] if date else ""
    digits = sum(c.isdigit() for c in run[len(kept) :])
    return run if digits < _PHONE_DIGITS else kept + "<phone>"


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str, limit: int) -> str:
    """`text` safe for a terminal: control and bidi characters escaped, cut at `limit`."""
    safe = _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return safe if len(safe) <= limit else safe[: limit - 1] + "…"


def _pairs(headers: Any) -> Headers:
    """Headers as (str, bytes) pairs, whether given as pairs or a mapping; null values as b""."""
    items = headers.items() if isinstance(headers, Mapping) else (headers or ())
    return tuple((str(k), bytes(v) if v is not None else b"") for k, v in items)


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _time(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
