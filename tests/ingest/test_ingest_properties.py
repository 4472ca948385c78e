"""Property tests: whatever arrives, parse_record returns a Report or raises ValidationFailed."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import ValidationFailed
from pipeline.ingest.records import RawRecord
from pipeline.ingest.report import Report
from pipeline.ingest.sources import INTAKE_TOPICS
from pipeline.ingest.validate import parse_record

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)
FIELDS = (
    "id",
    "received_at",
    "description",
    "summary",
    "concern",
    "url",
    "channel",
    "location",
    "reporter",
    "caller",
    "subject",
    "schema_version",
    "referrer_type",
    "duration_s",
    "lat",
    "age",
    "anonymous",
)
near_records = st.dictionaries(
    st.sampled_from(FIELDS), json_values, max_size=8
) | st.fixed_dictionaries(
    {"id": st.text(max_size=5), "received_at": st.sampled_from(["2024-01-01T00:00:00Z", "x", 5])},
    optional={k: json_values for k in FIELDS[2:]},
)


def outcome(topic: str, key: bytes | None, value: bytes | None) -> Report | ValidationFailed:
    try:
        return parse_record(RawRecord(topic, 0, 0, key, value))
    except ValidationFailed as exc:
        json.dumps(exc.details)
        assert exc.reason and exc.message
        return exc


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    topic=st.sampled_from(INTAKE_TOPICS),
    key=st.none() | st.binary(max_size=8),
    value=st.none() | st.binary(max_size=300),
)
def test_arbitrary_bytes_never_raise_anything_else(
    topic: str, key: bytes | None, value: bytes | None
) -> None:
    outcome(topic, key, value)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(topic=st.sampled_from(INTAKE_TOPICS), value=json_values)
def test_arbitrary_json_never_raises_anything_else(topic: str, value: Any) -> None:
    outcome(topic, b"k", json.dumps(value).encode())


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(topic=st.sampled_from(INTAKE_TOPICS), record=near_records)
def test_near_miss_records_never_raise_anything_else(topic: str, record: dict[str, Any]) -> None:
    key = (
        record["id"].encode("utf-8", "surrogatepass") if isinstance(record.get("id"), str) else b"k"
    )
    result = outcome(topic, key, json.dumps(record).encode("utf-8", "surrogatepass"))
    if isinstance(result, Report):
        assert result.source_id == record["id"].replace("\x00", "")
        assert result.received_at.utcoffset() is not None


@settings(max_examples=200)
@given(text=st.text(min_size=1).filter(lambda t: t.replace("\x00", "").strip()))
def test_any_non_blank_narrative_round_trips(text: str) -> None:
    record = {"id": "r", "received_at": "2024-01-01T00:00:00+01:00", "description": text}
    value = json.dumps(record, ensure_ascii=bool(len(text) % 2)).encode("utf-8", "surrogatepass")
    result = outcome(INTAKE_TOPICS[0], b"r", value)
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):  # not encodable as UTF-8 JSON
        assert isinstance(result, ValidationFailed) and result.reason == "invalid_utf8"
    else:
        assert isinstance(result, Report) and result.text == text.replace("\x00", "")
