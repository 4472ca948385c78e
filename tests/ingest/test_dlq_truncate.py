"""A dead letter too large to send whole is cut to fit, flagged with its size, and read back
as truncated."""

from __future__ import annotations

from typing import Any

from pipeline.errors import ValidationFailed
from pipeline.ingest.dlq import (
    DeadLetter,
    dead_letter_message,
    minimal_dead_letter,
    record_size,
    truncated_dead_letter,
)
from pipeline.ingest.records import RawRecord

LIMIT = 1_000_000


def big_message(size: int, header_bytes: int = 10) -> Any:
    raw = RawRecord(
        topic="intake.public-reports",
        partition=1,
        offset=7,
        key=b"big-1",
        value=b"x" * size,
        headers=(("trace", b"t" * header_bytes),),
        timestamp_ms=1_790_000_000_000,
    )
    return dead_letter_message(raw, ValidationFailed("too large", reason="too_large"))


class Read:
    """A consumed record as kafka-python gives it."""

    def __init__(self, message: Any) -> None:
        self.topic, self.partition, self.offset = "intake.dlq", 0, 3
        self.key, self.value, self.headers = message[0], message[1], list(message[2])


def test_a_dead_letter_over_the_limit_is_cut_to_fit_and_flagged() -> None:
    message = big_message(1_020_000)
    assert record_size(*message) > LIMIT
    cut = truncated_dead_letter(message, LIMIT)
    assert cut is not None
    key, value, headers = cut
    assert record_size(*cut) <= LIMIT and LIMIT - record_size(*cut) < 100
    assert key == b"big-1" and value == message[1][: len(value)]
    assert ("trace", b"t" * 10) in headers
    letter = DeadLetter.from_record(Read(cut))
    assert letter.truncated and letter.original_size == 1_020_000
    assert letter.reason == "too_large" and letter.origin_offset == 7
    assert letter.summary()["truncated"] is True
    assert not DeadLetter.from_record(Read(big_message(10))).truncated


def test_huge_original_headers_are_dropped_and_the_minimal_form_has_no_value() -> None:
    message = big_message(10, header_bytes=LIMIT)
    cut = truncated_dead_letter(message, LIMIT)
    assert cut is not None and record_size(*cut) <= LIMIT
    assert all(name != "trace" for name, _ in cut[2])
    assert truncated_dead_letter(message, 100) is None
    key, value, headers = minimal_dead_letter(message)
    assert value is None and record_size(key, value, headers) < 10_000
    letter = DeadLetter.from_record(Read((key, value, headers)))
    assert letter.truncated and letter.original_size == 10 and letter.reason == "too_large"
