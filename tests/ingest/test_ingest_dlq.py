"""Dead-letter records: originals untouched, headers that round-trip, replay counting, safe
previews, and operators' views of them audited."""

from __future__ import annotations

import getpass
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch

from pipeline.api.audit import AuditTrail
from pipeline.api.models import AuditEntry
from pipeline.cli.dlq import dlq as dlq_command
from pipeline.clients import kafka_config
from pipeline.errors import RecordError, ValidationFailed
from pipeline.ingest import dlq
from pipeline.ingest.dlq import DeadLetter, dead_letter_message, printable, replay_message
from pipeline.ingest.records import RawRecord
from pipeline.ingest.validate import parse_record
from pipeline.settings import Settings, get_settings
from tests.harness import stack_env

NOW = datetime(2026, 11, 20, 10, 15, 30, 123000, tzinfo=UTC)
VALUE = b'{"id": "r1", "received_at": "yesterday", "description": "d", "reporter": {"name": "X"}}'


def failed(raw: RawRecord) -> ValidationFailed:
    try:
        parse_record(raw)
    except ValidationFailed as exc:
        return exc
    raise AssertionError("expected a validation failure")


def as_consumed(raw: RawRecord, partition: int = 0, offset: int = 9) -> RawRecord:
    """What reading the dead letter back from Kafka gives: a record on the DLQ topic."""
    key, value, headers = dead_letter_message(raw, failed(raw), now=NOW)
    return RawRecord("intake.dlq", partition, offset, key, value, headers)


def test_key_value_and_original_headers_are_kept_and_ours_added() -> None:
    raw = RawRecord("intake.public-reports", 3, 1234, b"r1", VALUE, (("trace", b"\x00\xff"),))
    key, value, headers = dead_letter_message(raw, failed(raw), now=NOW)
    assert (key, value) == (b"r1", VALUE)
    named = dict(headers)
    assert headers[0] == ("trace", b"\x00\xff")
    assert named[dlq.TOPIC] == b"intake.public-reports"
    assert named[dlq.PARTITION] == b"3" and named[dlq.OFFSET] == b"1234"
    assert named[dlq.STAGE] == b"ingest"
    assert named[dlq.EXCEPTION_CLASS] == b"pipeline.errors.ValidationFailed"
    assert b"received_at" in named[dlq.EXCEPTION_MESSAGE]
    assert named[dlq.REASON] == b"bad_timestamp"
    assert json.loads(named[dlq.ERRORS])[0]["field"] == "received_at"
    assert named[dlq.FAILED_AT] == b"2026-11-20T10:15:30.123Z"
    assert all(isinstance(k, str) and isinstance(v, bytes) for k, v in headers)


def test_a_tombstone_stays_a_null_value() -> None:
    raw = RawRecord("intake.hotline-calls", 0, 5, b"gone", None)
    key, value, headers = dead_letter_message(raw, failed(raw), now=NOW)
    assert (key, value) == (b"gone", None)
    assert dict(headers)[dlq.REASON] == b"tombstone"


def test_headers_round_trip_through_dead_letter_from_record() -> None:
    raw = RawRecord("intake.public-reports", 3, 1234, b"r1", VALUE, (("trace", b"abc"),))
    letter = DeadLetter.from_record(as_consumed(raw, partition=1, offset=77))
    assert (letter.partition, letter.offset) == (1, 77)
    assert (letter.key, letter.value) == (b"r1", VALUE)
    assert letter.origin == "intake.public-reports/3@1234"
    assert letter.reason == "bad_timestamp" and letter.stage == "ingest"
    assert letter.exception_class == "pipeline.errors.ValidationFailed"
    assert letter.failed_at == NOW
    assert letter.errors[0]["reason"] == "bad_timestamp"
    assert letter.replay_count == 0
    assert letter.original_headers == (("trace", b"abc"),)
    json.dumps(letter.summary())


def test_replay_increments_the_count_and_a_second_failure_keeps_only_the_latest() -> None:
    raw = RawRecord("intake.public-reports", 0, 10, b"r1", VALUE, (("trace", b"abc"),))
    first = DeadLetter.from_record(as_consumed(raw))
    key, value, headers = replay_message(first)
    assert (key, value) == (b"r1", VALUE)
    assert headers == (("trace", b"abc"), (dlq.REPLAY_COUNT, b"1"))

    # consumed again from the intake topic, fails again, is dead-lettered again, replayed again
    again = RawRecord("intake.public-reports", 0, 99, key, value, headers)
    second = DeadLetter.from_record(as_consumed(again))
    assert second.replay_count == 1 and second.origin_offset == 99
    assert [k for k, _ in as_consumed(again).headers].count(dlq.REASON) == 1
    assert dict(replay_message(second)[2])[dlq.REPLAY_COUNT] == b"2"


def test_errors_from_later_stages_are_dead_lettered_too() -> None:
    raw = RawRecord("intake.public-reports", 0, 1, b"r1", b"{}")
    error = RecordError(
        "document rejected by Elasticsearch: mapper_parsing_exception",
        stage="index",
        reason="index_rejected",
        details={"status": 400},
    )
    _, _, headers = dead_letter_message(raw, error)
    named = dict(headers)
    assert named[dlq.STAGE] == b"index"
    assert named[dlq.EXCEPTION_CLASS] == b"pipeline.errors.RecordError"
    assert named[dlq.ERRORS] == b"[]"  # only a list of field errors goes here
    assert datetime.fromisoformat(named[dlq.FAILED_AT].decode()).tzinfo is not None


def test_garbled_or_missing_headers_still_read_back() -> None:
    record = RawRecord(
        "intake.dlq",
        0,
        3,
        None,
        b"\xff\xfe",
        ((dlq.PARTITION, b"x"), (dlq.ERRORS, b"{nope"), (dlq.FAILED_AT, b"?")),
    )
    letter = DeadLetter.from_record(record)
    assert letter.reason == "unknown" and letter.origin_partition is None
    assert letter.errors == [] and letter.failed_at is None
    assert letter.preview() == "\ufffd\ufffd"


def test_preview_masks_restricted_fields_and_escapes_control_characters() -> None:
    value = json.dumps(
        {
            "id": "r1",
            "description": "a\x1b[2Jb\u202ec",
            "reporter": {"name": "Siân"},
            "subject": {"name": "Z"},
        }
    ).encode()
    letter = DeadLetter.from_record(RawRecord("intake.dlq", 0, 0, b"r1", value))
    preview = letter.preview()
    assert "Siân" not in preview and '"reporter":"<restricted>"' in preview
    assert "\x1b" not in preview and "\u202e" not in preview and "\\u001b" in preview
    assert len(letter.preview(20)) == 20
    assert (
        DeadLetter.from_record(RawRecord("intake.dlq", 0, 0, b"k", None)).preview() == "<tombstone>"
    )
    assert printable("ok", 10) == "ok"


def test_long_messages_and_many_errors_are_capped() -> None:
    raw = RawRecord("intake.public-reports", 0, 1, b"r1", b"{}")
    error = RecordError("m" * 10_000, details=[{"field": str(i)} for i in range(500)])
    named = dict(dead_letter_message(raw, error)[2])
    assert len(named[dlq.EXCEPTION_MESSAGE]) == 2_000
    assert len(json.loads(named[dlq.ERRORS])) == 50


def test_headers_given_as_a_mapping_or_with_null_values_are_accepted() -> None:
    raw = RawRecord("intake.public-reports", 0, 1, b"r1", b"{}", {"trace": b"t", "empty": None})  # type: ignore[arg-type]
    _, _, headers = dead_letter_message(raw, RecordError("x"))
    assert headers[:2] == (("trace", b"t"), ("empty", b""))


def preview_of(value: bytes) -> str:
    return DeadLetter.from_record(RawRecord("intake.dlq", 0, 0, b"k", value)).preview(4000)


PERSONAL = ("zq.secret@example.org", "07700 900999", "+44 161 496 0123", "Zebedee", "Quarrington")


@pytest.mark.parametrize(
    "value",
    [
        # not JSON at all
        b"zq.secret@example.org, 07700 900999 or +44 161 496 0123; caller: Zebedee Quarrington",
        # JSON, but not an object
        b'[{"description": "mail zq.secret@example.org or ring +44 161 496 0123", "reporter":'
        b' {"name": "Zebedee Quarrington", "phone": "07700 900999"}}]',
        # an object cut short (a truncated dead letter): not valid JSON any more
        b'{"id": "r1", "received_at": "2026-11-01T10:15:00Z", "description": "call +44 161 496'
        b' 0123 or zq.secret@example.org", "subject": {"name": "Zebedee Quarrington", "phone": "07'
        b'700 900999"',
        b'"a JSON string: zq.secret@example.org (07700) 900-999 reporter=Zebedee Quarrington"',
    ],
)
def test_preview_masks_personal_data_in_values_that_are_not_json_objects(value: bytes) -> None:
    preview = preview_of(value)
    assert [p for p in (*PERSONAL, "900-999") if p in preview] == []
    assert "<email>" in preview and "<phone>" in preview
    assert preview.endswith("<restricted>")


def test_preview_of_raw_text_keeps_dates_and_short_numbers() -> None:
    preview = preview_of(b'{"id": "r-17", "received_at": "2026-11-01T10:15:00Z", "n": 42,')
    assert "2026-11-01T10:15:00Z" in preview and '"n": 42' in preview and "r-17" in preview


def test_preview_masking_is_linear_on_adversarial_values() -> None:
    # Worst cases for naive phone, email and key patterns, against plain text of the same length.
    size = 400_000
    shapes = [b"1 ", b"a.", b"1-", b"a@", b"(1) ", b"reporter   "]

    def seconds(value: bytes) -> float:
        started = time.perf_counter()
        preview_of(value)
        return time.perf_counter() - started

    plain = min(seconds((b"word " * size)[:size]) for _ in range(3))
    for shape in shapes:
        value = (shape * size)[:size] + b"x"
        # generous: quadratic scanning of 400 kB is thousands of times slower than plain text
        assert seconds(value) < plain * 50, shape


@pytest.fixture
def dlq_with_letters(
    settings: Settings,
    topic_factory: Callable[..., str],
    index_factory: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[str, str]]:
    """A dead-letter topic holding two letters, and the commands' env with its own audit index."""
    from kafka import KafkaProducer

    topic = topic_factory(prefix="dlq-audit")
    producer = KafkaProducer(**kafka_config(settings))
    try:
        for offset in range(2):
            raw = RawRecord("intake.public-reports", 0, offset, b"r1", VALUE)
            key, value, headers = dead_letter_message(raw, failed(raw), now=NOW)
            producer.send(topic, key=key, value=value, headers=list(headers)).get(timeout=30)
    finally:
        producer.close()
    index = index_factory("dlq-audit")
    for variable, value in stack_env(settings).items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv("PIPELINE_AUDIT_INDEX", index)
    get_settings.cache_clear()
    yield topic, index
    get_settings.cache_clear()


def audit_records(es: Elasticsearch, index: str) -> list[AuditEntry]:
    if es.indices.exists(index=index):
        es.indices.refresh(index=index)
    return AuditTrail(es, index).list(limit=100)


@pytest.mark.integration
def test_operators_views_of_dead_letters_are_audited_without_their_content(
    dlq_with_letters: tuple[str, str], es: Elasticsearch
) -> None:
    topic, index = dlq_with_letters
    runner = CliRunner()
    listed = runner.invoke(dlq_command, ["list", "--topic", topic, "--reason", "bad_timestamp"])
    shown = runner.invoke(dlq_command, ["show", "--topic", topic, "0:1"])
    assert listed.exit_code == 0 and shown.exit_code == 0, listed.output + shown.output
    entries = {e.action: e for e in audit_records(es, index)}
    assert set(entries) == {"dlq_list", "dlq_show"}
    assert entries["dlq_list"].ids == ["0:0", "0:1"] and entries["dlq_show"].ids == ["0:1"]
    assert entries["dlq_list"].query["topic"] == topic
    assert entries["dlq_list"].query["reasons"] == ["bad_timestamp"]
    for entry in entries.values():
        assert (entry.user, entry.role, entry.channel) == (getpass.getuser(), "operator", "cli")
        assert "yesterday" not in entry.model_dump_json()  # nothing of the value itself


@pytest.mark.integration
def test_no_dead_letter_is_shown_without_its_audit_record(
    dlq_with_letters: tuple[str, str], es: Elasticsearch
) -> None:
    topic, index = dlq_with_letters
    assert CliRunner().invoke(dlq_command, ["show", "--topic", topic, "0:0"]).exit_code == 0
    es.indices.put_settings(index=index, settings={"index.blocks.write": True})
    try:
        for args in (["list", "--topic", topic], ["show", "--topic", topic, "0:1"]):
            result = CliRunner().invoke(dlq_command, args)
            assert result.exit_code == 1, result.output
            assert "audit" in result.output and "0:1" not in result.stdout
            assert "received_at" not in result.stdout
    finally:
        es.indices.put_settings(index=index, settings={"index.blocks.write": False})
