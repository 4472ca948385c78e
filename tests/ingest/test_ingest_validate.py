"""parse_record: every rejection reason, every hostile-but-valid input, the mapping to Report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from pipeline.errors import ValidationFailed
from pipeline.ingest.models import MAX_URL_CHARS, MODELS
from pipeline.ingest.records import RawRecord
from pipeline.ingest.report import Report
from pipeline.ingest.sources import TOPIC_BY_SOURCE, Source
from pipeline.ingest.validate import MAX_DEPTH, MAX_RECORD_BYTES, parse_record

PUBLIC = TOPIC_BY_SOURCE[Source.PUBLIC_REPORT]
HOTLINE = TOPIC_BY_SOURCE[Source.HOTLINE_CALL]
ONLINE = TOPIC_BY_SOURCE[Source.ONLINE_REFERRAL]
RADICAL = TOPIC_BY_SOURCE[Source.RADICALISATION_REFERRAL]
WHEN = "2026-11-20T10:15:00Z"


def raw(value: bytes | None, *, topic: str = PUBLIC, key: bytes | None = b"r1") -> RawRecord:
    return RawRecord(topic=topic, partition=2, offset=41, key=key, value=value, timestamp_ms=7)


def body(**fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"id": "r1", "received_at": WHEN, "description": "A van parked."}
    record.update(fields)
    return {k: v for k, v in record.items() if v is not ...}


def encode(record: Any) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode()


def parse(record: Any, **kwargs: Any) -> Report:
    return parse_record(raw(encode(record), **kwargs))


def reason_of(record: RawRecord) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        parse_record(record)
    assert caught.value.message
    assert caught.value.stage == "ingest"
    json.dumps(caught.value.details)  # details are always JSON-able
    return caught.value


# --- rejections, one per reason -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "tombstone"),
        (b"{not json", "not_json"),
        (b"", "not_json"),
        (b'{"id": "r1"} trailing', "not_json"),
        (b"\xef\xbb\xbf" + encode(body()), "not_json"),  # a byte-order mark
        (b'{"id": NaN}', "not_json"),
        (b"[1, 2]", "not_object"),
        (b'"just a string"', "not_object"),
        (b"null", "not_object"),
        (b'{"id": "r\xff1"}', "invalid_utf8"),
        (b'{"id": "\\ud800"}', "invalid_utf8"),  # a lone surrogate escape
        (b'{"id": "\\udc00\\u0041"}', "invalid_utf8"),
        (b"[" * 5000 + b"]" * 5000, "too_deep"),
        (b"[" * 2_000_000, "too_large"),
    ],
)
def test_undecodable_values_are_rejected(value: bytes | None, reason: str) -> None:
    assert reason_of(raw(value)).reason == reason


def test_nesting_past_the_limit_is_too_deep_and_at_the_limit_is_fine() -> None:
    def nested(depth: int) -> bytes:  # the top-level object is depth 1
        inner = "[" * (depth - 1) + "]" * (depth - 1)
        return encode(body()).replace(b"{", b'{"deep": ' + inner.encode() + b", ", 1)

    assert parse_record(raw(nested(MAX_DEPTH))).extra["deep"] is not None
    assert reason_of(raw(nested(MAX_DEPTH + 1))).reason == "too_deep"
    assert reason_of(raw(nested(1500))).reason == "too_deep"  # beyond orjson's own limit


def test_a_value_over_the_size_limit_is_too_large_and_at_the_limit_is_parsed() -> None:
    base = encode(body(pad=""))
    exact = encode(body(pad="x" * (MAX_RECORD_BYTES - len(base))))
    assert len(exact) == MAX_RECORD_BYTES
    assert parse_record(raw(exact)).extra["pad"]
    assert reason_of(raw(exact[:-1] + b" }")).reason == "too_large"


@pytest.mark.parametrize(
    ("record", "reason", "field"),
    [
        (body(received_at=...), "missing_field", "received_at"),
        (body(id=...), "missing_field", "id"),
        (body(description=...), "missing_field", "description"),
        (body(id=123), "wrong_type", "id"),
        (body(description=["a"]), "wrong_type", "description"),
        (body(location="Leeds"), "wrong_type", "location"),
        (body(location={"lat": "53.8"}), "wrong_type", "location.lat"),
        (body(reporter={"anonymous": "yes"}), "wrong_type", "reporter.anonymous"),
        (body(reporter={"anonymous": 1}), "wrong_type", "reporter.anonymous"),
        (body(channel=3), "invalid_value", "channel"),
        (body(channel="fax"), "invalid_value", "channel"),
        (body(channel="ONLINE_FORM"), "invalid_value", "channel"),
        (body(location={"lat": 91.0}), "invalid_value", "location.lat"),
        (body(id=""), "empty_id", "id"),
        (body(id=" \t\n"), "empty_id", "id"),
        (body(id="x" * 257), "too_long", "id"),
        (body(description="   "), "empty_text", "description"),
    ],
)
def test_schema_violations_name_the_field(record: dict[str, Any], reason: str, field: str) -> None:
    key = str(record.get("id", "r1")).encode()
    error = reason_of(raw(encode(record), key=key))
    assert error.reason == reason
    assert {"field": field, "reason": reason} in [
        {"field": d["field"], "reason": d["reason"]} for d in error.details
    ]


@pytest.mark.parametrize(
    "stamp",
    [
        "yesterday",
        "2024-01-01",
        1_700_000_000,
        1_700_000_000.5,
        "2024-01-01T10:00:00",
        "2024-01-01T10:00Z",
        "2024-13-01T10:00:00Z",
        "2024-02-30T10:00:00Z",
        "2024-01-01T25:00:00Z",
        "2024-01-01T10:00:00+5",
        "20240101T100000Z",
        "Mon, 01 Jan 2024 10:00:00 GMT",
        "",
        None,
        True,
    ],
)
def test_received_at_must_be_rfc3339_with_an_offset(stamp: Any) -> None:
    assert reason_of(raw(encode(body(received_at=stamp)))).reason == "bad_timestamp"


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2024-05-01T10:15:00Z", datetime(2024, 5, 1, 10, 15, tzinfo=UTC)),
        ("2024-05-01t10:15:00z", datetime(2024, 5, 1, 10, 15, tzinfo=UTC)),
        ("2024-05-01 10:15:00+00:00", datetime(2024, 5, 1, 10, 15, tzinfo=UTC)),
        (
            "2024-05-01T10:15:00.123456789+05:30",
            datetime(2024, 5, 1, 10, 15, 0, 123456, tzinfo=timezone(timedelta(hours=5.5))),
        ),
    ],
)
def test_rfc3339_forms_are_accepted_with_their_offset(stamp: str, expected: datetime) -> None:
    received = parse(body(received_at=stamp)).received_at
    assert received == expected
    assert received.utcoffset() == expected.utcoffset()


def test_schema_version_defaults_to_one_and_unknown_versions_are_rejected() -> None:
    assert parse(body()).schema_version == 1
    assert parse(body(schema_version=1)).schema_version == 1
    assert reason_of(raw(encode(body(schema_version=2)))).reason == "unknown_schema_version"
    assert reason_of(raw(encode(body(schema_version=0)))).reason == "unknown_schema_version"
    for wrong in ("1", 1.0, True, None):
        assert reason_of(raw(encode(body(schema_version=wrong)))).reason == "wrong_type"


def test_every_source_has_a_version_one_model() -> None:
    assert {source: sorted(versions) for source, versions in MODELS.items()} == {
        source: [1] for source in Source
    }


def test_the_key_must_be_the_id() -> None:
    assert reason_of(raw(encode(body()), key=b"other")).reason == "key_mismatch"
    assert reason_of(raw(encode(body()), key=None)).reason == "key_mismatch"


def test_an_unknown_topic_is_rejected_but_a_prefixed_intake_topic_is_not() -> None:
    assert reason_of(raw(encode(body()), topic="intake.other")).reason == "unknown_topic"
    assert parse(body(), topic=f"t-ab12-{PUBLIC}").source == Source.PUBLIC_REPORT


def test_the_most_fundamental_problem_names_the_reason_and_all_are_listed() -> None:
    error = reason_of(raw(encode({"id": "", "received_at": "soon", "channel": "fax"}), key=b""))
    assert error.reason == "missing_field"
    assert {d["reason"] for d in error.details} == {
        "missing_field",
        "empty_id",
        "bad_timestamp",
        "invalid_value",
    }


def test_details_never_echo_the_input_values() -> None:
    error = reason_of(raw(encode(body(reporter={"name": 42, "phone": "07700 900123"}))))
    assert "07700" not in json.dumps(error.details) + error.message


# --- NUL rule ---------------------------------------------------------------------------


def test_nul_characters_are_stripped_everywhere_and_recorded() -> None:
    report = parse(
        body(
            description="van\u0000 parked", reporter={"name": "Bo\u0000b"}, x={"a\u0000": "\u0000"}
        )
    )
    assert report.text == "van parked"
    assert report.restricted == {"reporter": {"name": "Bob"}}
    assert report.extra == {"x": {"a": ""}}
    assert report.attributes["nul_stripped"] == [
        "description",
        "reporter.name",
        "x.a (name)",
        "x.a",
    ]
    assert "nul_stripped" not in parse(body()).attributes


def test_a_narrative_of_only_nul_is_empty_text() -> None:
    assert reason_of(raw(encode(body(description="\u0000\u0000")))).reason == "empty_text"


# --- hostile but valid: accepted faithfully ------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert('x')</script><img src=x onerror=alert(1)>",
        'title:(bomb OR attack) AND NOT "x" \\ / ~2 ^3 * ? [1 TO 5] {a TO b}',
        "'; DROP TABLE reports; --",
        "Saw him at the station 🚉👀🙏🏽 family emoji 👨‍👩‍👧‍👦",
        "رأيت رجلاً يلتقط صوراً للمحطة",
        "Gwelais i ddyn yn tynnu lluniau ger yr orsaf yn Aberystwyth. Diolch.",
        "זה טקסט בעברית \u202e reversed \u202c and zero\u200bwidth",
        "line one\nline two\r\n\ttabbed \x1b[31m red",
        "${jndi:ldap://example.com/a} {{7*7}} %s%n",
        "x" * 100_001,
    ],
)
def test_hostile_but_valid_text_is_kept_exactly(text: str) -> None:
    assert parse(body(description=text)).text == text


def _filling(field: str, topic: str, **fields: Any) -> tuple[RawRecord, str]:
    """A record of exactly MAX_RECORD_BYTES whose `field` narrative fills it (non-ASCII too)."""
    record = {"id": "r1", "received_at": WHEN, **fields, field: ""}
    room = MAX_RECORD_BYTES - len(encode(record))
    unit = "A man said été — "  # 1, 2 and 3 UTF-8 bytes a character
    text = (unit * (room // len(unit.encode()) + 1)).encode()[:room].decode("utf-8", "ignore")
    text += "x" * (room - len(text.encode()))
    record[field] = text
    value = encode(record)
    assert len(value) == MAX_RECORD_BYTES
    return raw(value, topic=topic), text


@pytest.mark.parametrize(
    ("topic", "field", "fields"),
    [
        (PUBLIC, "description", {}),
        (HOTLINE, "summary", {}),
        (RADICAL, "concern", {}),
        (ONLINE, "description", {"url": "https://example.com/x"}),
    ],
)
def test_a_narrative_has_no_limit_but_the_records_size(
    topic: str, field: str, fields: dict[str, Any]
) -> None:
    # Issue 16: a pasted article over 100,000 characters was dead-lettered as too_long. Any
    # narrative that fits in a record is accepted and kept whole; one byte more is too_large.
    record, text = _filling(field, topic, **fields)
    assert len(text) > 300_000
    report = parse_record(record)
    assert report.text.startswith(text)
    assert len(report.text) >= len(text)
    bigger = RawRecord(
        topic=topic, partition=2, offset=41, key=b"r1", value=record.value + b" ", timestamp_ms=7
    )
    assert reason_of(bigger).reason == "too_large"


def test_url_and_id_keep_their_limits() -> None:
    long_url = {"url": "https://example.com/" + "a" * MAX_URL_CHARS}
    error = reason_of(raw(encode(body(**long_url)), topic=ONLINE))
    assert error.reason == "too_long"
    assert {"field": "url", "reason": "too_long"} in [
        {"field": d["field"], "reason": d["reason"]} for d in error.details
    ]


def test_unknown_fields_are_kept_in_extra_at_any_depth() -> None:
    extra = {
        "priority": "high",
        "tags": ["a", 1, None, True],
        "meta": {"ip": "10.0.0.1"},
        "id_": 5,
        "_links": {},
        "Description": "different case",
    }
    report = parse(body(location={"text": "Leeds", "what3words": "a.b.c"}, **extra))
    assert report.extra == {**extra, "location": {"what3words": "a.b.c"}}
    assert report.location is not None and report.location.text == "Leeds"


def test_explicit_nulls_for_optional_fields_are_accepted() -> None:
    report = parse(body(channel=None, location=None, reporter=None))
    assert report.attributes == {} and report.restricted == {} and report.location is None


def test_large_integers_and_floats_in_extra_do_not_break_parsing() -> None:
    report = parse(body(big=2**70, small=-(2**70), tiny=1e-300))
    assert report.extra["tiny"] == 1e-300


# --- mapping to Report -------------------------------------------------------------------


def test_public_report_maps_onto_report() -> None:
    record = body(
        channel="online_form",
        location={"text": "Leeds station", "postcode": "LS1 4DY", "lat": 53.79, "lon": -1.54},
        reporter={"name": "Siân Evans", "phone": "07700 900123", "anonymous": False},
    )
    report = parse(record)
    assert report.source == Source.PUBLIC_REPORT and report.source_id == "r1"
    assert report.text == "A van parked."
    assert report.url is None
    assert report.attributes == {"channel": "online_form"}
    assert report.restricted == {
        "reporter": {"name": "Siân Evans", "phone": "07700 900123", "anonymous": False}
    }
    assert report.location is not None and report.location.postcode == "LS1 4DY"
    assert report.origin.model_dump() == {
        "topic": PUBLIC,
        "partition": 2,
        "offset": 41,
        "timestamp_ms": 7,
        "first_timestamp_ms": None,
    }
    assert report.extra == {}


def test_hotline_call_maps_onto_report() -> None:
    record = {
        "id": "r1",
        "received_at": WHEN,
        "summary": "Caller saw a drone.",
        "duration_s": 95,
        "handler_id": "H12",
        "caller": {"anonymous": True},
    }
    report = parse(record, topic=HOTLINE)
    assert report.source == Source.HOTLINE_CALL
    assert report.text == "Caller saw a drone."
    assert report.attributes == {"duration_s": 95, "handler_id": "H12"}
    assert report.restricted == {"caller": {"anonymous": True}}


def test_online_referral_text_is_its_description_and_url() -> None:
    record = {
        "id": "r1",
        "received_at": WHEN,
        "url": "hxxps://example[.]org/a",
        "description": "Video praising an attack.",
        "platform": "YouTube",
        "referrer_type": "industry",
    }
    report = parse(record, topic=ONLINE)
    assert report.text == "Video praising an attack.\n\nhxxps://example[.]org/a"
    assert report.url == "hxxps://example[.]org/a"
    assert report.attributes == {"platform": "YouTube", "referrer_type": "industry"}
    only_url = parse({"id": "r1", "received_at": WHEN, "url": "https://t.me/x"}, topic=ONLINE)
    assert only_url.text == "https://t.me/x"
    missing = raw(encode({"id": "r1", "received_at": WHEN, "description": "d"}), topic=ONLINE)
    assert reason_of(missing).reason == "missing_field"


def test_radicalisation_referral_keeps_the_subject_restricted() -> None:
    record = {
        "id": "r1",
        "received_at": WHEN,
        "concern": "Pupil sharing videos.",
        "referrer_type": "education",
        "subject": {"name": "A. Pupil", "age": 15},
    }
    report = parse(record, topic=RADICAL)
    assert report.restricted == {"subject": {"name": "A. Pupil", "age": 15}}
    assert report.attributes == {"referrer_type": "education"}
    assert "A. Pupil" not in report.text
    bad = raw(encode(record | {"referrer_type": "industry"}), topic=RADICAL)
    assert reason_of(bad).reason == "invalid_value"
