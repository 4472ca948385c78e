"""publish, the intake producer, compression codecs and the dlq commands against the real broker."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from click.testing import CliRunner
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from pipeline.admin.dlq_store import Selection, read_dead_letters, replay
from pipeline.admin.producer import IntakeProducer
from pipeline.cli.dlq import dlq as dlq_command
from pipeline.cli.publish import demo, publish
from pipeline.clients import kafka_config, kafka_security_config
from pipeline.dev.demo import generate
from pipeline.errors import ValidationFailed
from pipeline.ingest import dlq
from pipeline.ingest.dlq import DeadLetter, dead_letter_message
from pipeline.ingest.records import RawRecord
from pipeline.ingest.sources import INTAKE_TOPICS, Source
from pipeline.ingest.validate import parse_record
from pipeline.settings import Settings, get_settings
from tests.harness import stack_env

pytestmark = pytest.mark.integration
WHEN = "2026-11-20T10:15:00+00:00"
TopicFactory = Callable[..., str]


def report(record_id: str, text: str = "A van was parked outside the station.") -> dict[str, Any]:
    return {"id": record_id, "received_at": WHEN, "description": text}


def read_all(settings: Settings, topic: str, expected: int, timeout_s: float = 30) -> list[Any]:
    """Every record on a one-partition `topic`, waiting until there are `expected` of them."""
    consumer = KafkaConsumer(**kafka_config(settings, group_id=None, enable_auto_commit=False))
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    records: list[Any] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(records) < expected and time.monotonic() < deadline:
            records += consumer.poll(timeout_ms=500).get(tp, [])
        records += consumer.poll(timeout_ms=300).get(tp, [])  # nothing more should arrive
    finally:
        consumer.close()
    return records


async def read_with_aiokafka(settings: Settings, topic: str, expected: int) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_servers,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **kafka_security_config(settings),
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + 30
        while len(records) < expected and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records += batch
    finally:
        await consumer.stop()
    return records


@pytest.fixture
def cli_env(
    settings: Settings, index_factory: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Point `get_settings()` (which the commands use) at the test stack; the dlq views'
    audit records go to an index of this test's own."""
    for variable, value in stack_env(settings).items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv("PIPELINE_AUDIT_INDEX", index_factory("dlq-audit"))
    monkeypatch.setenv("PIPELINE_TOPIC_PREFIX", settings.topic_prefix)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_publish_sends_valid_lines_keyed_by_id_and_reports_the_rest(
    settings: Settings, topic_factory: TopicFactory, cli_env: None, tmp_path: Path
) -> None:
    topic = topic_factory(partitions=1, prefix="publish")
    good = [json.dumps(report(f"r{n}", f"Report {n}: van AB12 CDE 🚐")).encode() for n in range(3)]
    lines = [
        good[0],
        b"{not json",
        b"",
        good[1],
        json.dumps({"id": "r9", "received_at": WHEN}).encode(),
        good[2],
    ]
    path = tmp_path / "reports.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")

    result = CliRunner().invoke(
        publish, ["--source", "public_report", "--topic", topic, "--compression", "zstd", str(path)]
    )

    assert result.exit_code == 1, result.output
    assert f"{topic}: sent 3, rejected 2 (not_json: 1, missing_field: 1)" in result.stdout
    assert "line 2: rejected (not_json)" in result.stderr
    assert "line 5: rejected (missing_field)" in result.stderr
    records = read_all(settings, topic, 3)
    assert [(r.key, r.value) for r in records] == [(f"r{n}".encode(), good[n]) for n in range(3)]


def test_publish_exits_zero_when_every_line_is_sent(
    settings: Settings, topic_factory: TopicFactory, cli_env: None, tmp_path: Path
) -> None:
    topic = topic_factory(partitions=1, prefix="publish")
    path = tmp_path / "calls.jsonl"
    path.write_text(json.dumps({"id": "c1", "received_at": WHEN, "summary": "Caller saw a drone."}))
    result = CliRunner().invoke(publish, ["--source", "hotline_call", "--topic", topic, str(path)])
    assert result.exit_code == 0, result.output
    assert f"{topic}: sent 1, rejected 0" in result.stdout
    assert len(read_all(settings, topic, 1)) == 1


def test_intake_producer_validates_before_sending(
    settings: Settings, topic_factory: TopicFactory
) -> None:
    topic = topic_factory(partitions=1, prefix="producer")
    delivered: list[Exception | None] = []
    with IntakeProducer(settings) as producer:
        assert (
            producer.send(
                Source.PUBLIC_REPORT, report("a1"), topic=topic, on_delivery=delivered.append
            )
            == "a1"
        )
        with pytest.raises(ValidationFailed) as caught:
            producer.send(Source.PUBLIC_REPORT, {"id": "a2", "received_at": "today"}, topic=topic)
        assert caught.value.reason == "missing_field"
        with pytest.raises(ValidationFailed):
            producer.send(Source.PUBLIC_REPORT, {"id": "a3", "when": {1, 2}}, topic=topic)
        producer.flush()
    assert delivered == [None]
    records = read_all(settings, topic, 1)
    assert [r.key for r in records] == [b"a1"]


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_each_codec_is_read_back_by_kafka_python_and_aiokafka(
    settings: Settings, topic_factory: TopicFactory, codec: str
) -> None:
    topic = topic_factory(partitions=1, prefix=f"codec-{codec}")
    bodies = [report(f"{codec}-{n}", f"Narrative {n} " + "repeated words " * 40) for n in range(25)]
    with IntakeProducer(settings, compression=codec) as producer:  # type: ignore[arg-type]
        for body in bodies:
            producer.send(Source.PUBLIC_REPORT, body, topic=topic)
    expected = [(b["id"].encode(), json.loads(json.dumps(b))) for b in bodies]

    by_kafka_python = read_all(settings, topic, len(bodies))
    by_aiokafka = asyncio.run(read_with_aiokafka(settings, topic, len(bodies)))

    for records in (by_kafka_python, by_aiokafka):
        assert [(r.key, json.loads(r.value)) for r in records] == expected
    # and what the worker sees validates: a prefixed intake topic name is not needed here
    raw = RawRecord("intake.public-reports", 0, 0, by_aiokafka[0].key, by_aiokafka[0].value)
    assert parse_record(raw).source_id == f"{codec}-0"


@pytest.fixture
def dead_letters(settings: Settings, topic_factory: TopicFactory) -> tuple[str, str, list[bytes]]:
    """A dead-letter topic holding five records that failed on one origin topic."""
    dlq_name = topic_factory(partitions=1, prefix="dlq")
    origin = topic_factory(partitions=1, prefix="origin")
    values = [
        b"{not json",
        json.dumps(report("k1") | {"received_at": "yesterday"}).encode(),
        b"[1]",
        b"{broken too",
    ]
    producer = KafkaProducer(**kafka_config(settings))
    try:
        for n, value in enumerate([*values, None]):
            # validated as the public-reports topic; dead-lettered as if read from `origin`
            raw = RawRecord(origin, 0, n, f"k{n}".encode(), value)
            try:
                parse_record(RawRecord("intake.public-reports", 0, n, raw.key, value))
            except ValidationFailed as exc:
                key, dead, headers = dead_letter_message(raw, exc)
                producer.send(dlq_name, key=key, value=dead, headers=list(headers))
        producer.flush()
    finally:
        producer.close()
    return dlq_name, origin, values


def test_dlq_list_filters_by_reason_and_prints_json(
    settings: Settings, dead_letters: tuple[str, str, list[bytes]], cli_env: None
) -> None:
    dlq_name, origin, _ = dead_letters
    runner = CliRunner()
    everything = runner.invoke(dlq_command, ["list", "--topic", dlq_name, "--json"])
    assert everything.exit_code == 0, everything.output
    rows = [json.loads(line) for line in everything.stdout.splitlines()]
    assert [r["reason"] for r in rows] == [
        "not_json",
        "bad_timestamp",
        "not_object",
        "not_json",
        "tombstone",
    ]
    assert [r["origin"] for r in rows] == [f"{origin}/0@{n}" for n in range(5)]
    assert rows[4]["preview"] == "<tombstone>"

    limited = runner.invoke(dlq_command, ["list", "--topic", dlq_name, "--limit", "2"])
    assert limited.exit_code == 0
    assert "0:0 " in limited.stdout and "0:1 " in limited.stdout and "0:2 " not in limited.stdout
    some = runner.invoke(dlq_command, ["list", "--topic", dlq_name, "--reason", "not_json"])
    assert "2 dead letter(s)" in some.stderr
    assert "0:0 " in some.stdout and "0:3 " in some.stdout and "0:1 " not in some.stdout
    none = runner.invoke(dlq_command, ["list", "--topic", dlq_name, "--origin-topic", "other"])
    assert "0 dead letter(s)" in none.stderr


def test_dlq_show_prints_one_record(
    dead_letters: tuple[str, str, list[bytes]], cli_env: None
) -> None:
    dlq_name, origin, _ = dead_letters
    runner = CliRunner()
    shown = runner.invoke(dlq_command, ["show", "--topic", dlq_name, "0:1"])
    assert shown.exit_code == 0, shown.output
    assert (
        f"origin       {origin}/0@1" in shown.stdout
        and "reason       bad_timestamp" in shown.stdout
    )
    same = runner.invoke(
        dlq_command, ["show", "--topic", dlq_name, "--partition", "0", "--offset", "1"]
    )
    assert same.stdout == shown.stdout
    missing = runner.invoke(dlq_command, ["show", "--topic", dlq_name, "99"])
    assert missing.exit_code == 1 and "no record at 0:99" in missing.stderr


def test_dlq_replay_sends_originals_back_with_a_replay_count(
    settings: Settings, dead_letters: tuple[str, str, list[bytes]], cli_env: None
) -> None:
    dlq_name, origin, values = dead_letters
    runner = CliRunner()
    dry = runner.invoke(
        dlq_command, ["replay", "--topic", dlq_name, "--offsets", "0,2", "--dry-run"]
    )
    assert dry.exit_code == 0, dry.output
    assert "would replay 2, skipped 0" in dry.stdout
    assert read_all(settings, origin, 0, timeout_s=1) == []

    done = runner.invoke(
        dlq_command,
        [
            "replay",
            "--topic",
            dlq_name,
            "--origin-topic",
            origin,
            "--offsets",
            "0:2",
            "--offsets",
            "4",
            "--reason",
            "not_object",
            "--reason",
            "tombstone",
        ],
    )
    assert done.exit_code == 0, done.output
    assert "replayed 2, skipped 0" in done.stdout
    records = read_all(settings, origin, 2)
    assert [(r.key, r.value) for r in records] == [(b"k2", values[2]), (b"k4", None)]
    assert all(dict(r.headers)[dlq.REPLAY_COUNT] == b"1" for r in records)
    assert not any(k.startswith("__connect.errors.") for r in records for k, _ in r.headers)


def test_read_back_dead_letter_counts_replays(
    settings: Settings, dead_letters: tuple[str, str, list[bytes]]
) -> None:
    dlq_name, origin, _ = dead_letters
    letters = list(
        read_dead_letters(settings, dlq_name, select=Selection(positions=frozenset({(0, 3)})))
    )
    assert [letter.offset for letter in letters] == [3]
    assert replay(settings, letters).replayed == letters
    replayed = read_all(settings, origin, 1)[0]
    # fails again on its origin, is dead-lettered again: the count survives the round trip
    raw = RawRecord(
        origin, 0, replayed.offset, replayed.key, replayed.value, tuple(replayed.headers)
    )
    with pytest.raises(ValidationFailed) as caught:
        parse_record(RawRecord("intake.public-reports", 0, 0, raw.key, raw.value))
    key, value, headers = dead_letter_message(raw, caught.value)
    again = DeadLetter.from_record(RawRecord(dlq_name, 0, 99, key, value, headers))
    assert again.replay_count == 1


def test_dlq_commands_report_a_missing_topic_in_one_line(settings: Settings, cli_env: None) -> None:
    missing = f"no-such-dlq-{time.monotonic_ns()}"
    for args in (["list", "--topic", missing], ["replay", "--topic", missing, "--dry-run"]):
        result = CliRunner().invoke(dlq_command, args)
        assert result.exit_code == 1
        assert f"Error: topic '{missing}' does not exist" in result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit)


def test_demo_publishes_the_generated_stream_to_the_prefixed_intake_topics(
    settings: Settings, unique_name: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = unique_name("demo") + "-"
    names = [f"{prefix}{topic}" for topic in INTAKE_TOPICS]
    admin = KafkaAdminClient(**kafka_config(settings))
    admin.create_topics([NewTopic(n, 1, settings.replication_factor) for n in names])
    for variable, value in stack_env(settings).items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv("PIPELINE_TOPIC_PREFIX", prefix)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(demo, ["--count", "80", "--seed", "5", "--compression", "gzip"])
        assert result.exit_code == 0, result.output
        expected = list(generate(80, 5))
        assert (
            f"published 80; {sum(1 for r in expected if r.bad)} deliberately bad" in result.stdout
        )
        for topic in INTAKE_TOPICS:
            mine = [(r.key, r.value) for r in expected if r.topic == topic]
            got = read_all(settings, f"{prefix}{topic}", len(mine))
            assert [(r.key, r.value) for r in got] == mine
    finally:
        get_settings.cache_clear()
        admin.delete_topics(names)
        admin.close()
