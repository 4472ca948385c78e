"""Turn one raw intake record into a `Report`, or say exactly why it cannot be one.

Intake rules (contract §1), checked in this order; the first broken rule decides `reason`:

| reason                   | rule                                                                  |
|--------------------------|-----------------------------------------------------------------------|
| `unknown_topic`          | the topic is not (a prefixed form of) one of the four intake topics   |
| `tombstone`              | the value is null                                                     |
| `too_large`              | the value is longer than `MAX_RECORD_BYTES`                           |
| `invalid_utf8`           | the value is not UTF-8 (lone surrogate escapes included)              |
| `too_deep`               | JSON nesting deeper than `MAX_DEPTH`                                  |
| `not_json`               | not one JSON value (a byte-order mark, NaN, trailing junk ...)        |
| `not_object`             | JSON, but not an object                                               |
| `unknown_schema_version` | `schema_version` (an integer, 1 when absent) has no model             |
| `missing_field`          | a required field is absent                                            |
| `wrong_type`             | a field has the wrong JSON type (strict: "12" is not 12, 1 not true)  |
| `bad_timestamp`          | `received_at` is not RFC 3339 with an offset                          |
| `empty_id`, `empty_text` | `id` or a required narrative is empty or blank                        |
| `too_long`               | a url over `MAX_URL_CHARS`, an id over `MAX_ID_BYTES` (a narrative    |
|                          | has no limit of its own: any that fits in the record is accepted)     |
| `invalid_value`          | a value outside its enum or range                                     |
| `key_mismatch`           | the Kafka key is missing or differs from the `id`                     |

NUL rule: U+0000 is removed from every string (keys and values, at any depth) and the
paths of the fields it was removed from are listed in `Report.attributes["nul_stripped"]`;
a NUL is never a reason to reject a contribution, and never reaches the index.
Everything else valid is accepted as sent: markup, query syntax, any script, emoji.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from pipeline.errors import ValidationFailed
from pipeline.ingest.models import MODELS, IntakeRecord
from pipeline.ingest.records import RawRecord
from pipeline.ingest.report import Origin, Report, ReportLocation
from pipeline.ingest.sources import SOURCE_BY_TOPIC, Source

__all__ = ["MAX_DEPTH", "MAX_RECORD_BYTES", "parse_record", "source_for_topic", "validate_value"]

MAX_RECORD_BYTES = 512 * 1024
"""Largest value accepted. Half the broker's default 1 MiB so a too-large record, with its
dead-letter headers, still fits on the dead-letter topic."""
MAX_DEPTH = 32
"""Deepest JSON nesting accepted (the top-level object is depth 1; contract records use 2)."""

# When two fields fail, the more fundamental problem names the record's reason.
_REASON_ORDER = (
    "missing_field",
    "wrong_type",
    "bad_timestamp",
    "empty_id",
    "empty_text",
    "too_long",
    "invalid_value",
)
_CUSTOM = {"bad_timestamp", "empty_id", "empty_text", "too_long"}
_INVALID_VALUE = {
    "enum",
    "literal_error",
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
    "finite_number",
}


def source_for_topic(topic: str) -> Source | None:
    """The source an intake topic carries; a deployment topic prefix is allowed."""
    if topic in SOURCE_BY_TOPIC:
        return SOURCE_BY_TOPIC[topic]
    return next((s for t, s in SOURCE_BY_TOPIC.items() if topic.endswith(t)), None)


def parse_record(raw: RawRecord) -> Report:
    """Validate one consumed record and normalise it; raise `ValidationFailed` otherwise."""
    source = source_for_topic(raw.topic)
    if source is None:
        raise ValidationFailed(f"{raw.topic!r} is not an intake topic", reason="unknown_topic")
    record, nul_paths = validate_value(source, raw.value)
    if raw.key is None or raw.key != record.id.encode("utf-8"):
        shown = "no key" if raw.key is None else f"key {raw.key[:80]!r}"
        raise ValidationFailed(
            f"record has {shown} but id {record.id[:80]!r}; the key must be the id",
            reason="key_mismatch",
        )
    origin = Origin(
        topic=raw.topic,
        partition=raw.partition,
        offset=raw.offset,
        timestamp_ms=raw.timestamp_ms,
        first_timestamp_ms=raw.first_timestamp_ms,
    )
    return to_report(record, origin, nul_paths)


def validate_value(source: Source, value: bytes | None) -> tuple[IntakeRecord, list[str]]:
    """Decode and validate a record value: the model instance and the NUL-stripped field paths."""
    if value is None:
        raise ValidationFailed(
            "the value is null (a tombstone); intake records are never deleted", reason="tombstone"
        )
    if len(value) > MAX_RECORD_BYTES:
        raise ValidationFailed(
            f"the value is {len(value)} bytes, over the {MAX_RECORD_BYTES}-byte limit",
            reason="too_large",
        )
    data = _decode(value)
    if not isinstance(data, dict):
        raise ValidationFailed(
            f"the value is a JSON {type(data).__name__}, not an object", reason="not_object"
        )
    nul_paths: list[str] = []
    if b"\\u0000" in value:
        data = _strip_nul(data, "", nul_paths)
    return _validate_model(source, data), nul_paths


def _decode(value: bytes) -> Any:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            f"the value is not UTF-8: {exc.reason} at byte {exc.start}", reason="invalid_utf8"
        ) from None
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in exc.msg:
            raise ValidationFailed(
                f"JSON nested deeper than {MAX_DEPTH} levels", reason="too_deep"
            ) from None
        if "surrogate" in exc.msg:
            raise ValidationFailed(
                f"the value encodes invalid UTF-16: {exc}", reason="invalid_utf8"
            ) from None
        raise ValidationFailed(f"the value is not JSON: {exc}", reason="not_json") from None
    # Cheap bound first: nesting can be no deeper than the number of opening brackets.
    if value.count(b"{") + value.count(b"[") > MAX_DEPTH and _depth(data) > MAX_DEPTH:
        raise ValidationFailed(f"JSON nested deeper than {MAX_DEPTH} levels", reason="too_deep")
    return data


def _depth(data: Any) -> int:
    """Nesting depth without recursion, so no input can exhaust the stack."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


def _strip_nul(node: Any, path: str, found: list[str]) -> Any:
    # Depth is already bounded by MAX_DEPTH, so recursion here is safe.
    if isinstance(node, str):
        if "\x00" in node:
            found.append(path or "$")
            return node.replace("\x00", "")
        return node
    if isinstance(node, list):
        return [_strip_nul(item, f"{path}[{i}]", found) for i, item in enumerate(node)]
    if isinstance(node, dict):
        out = {}
        for key, item in node.items():
            clean_key = key.replace("\x00", "")
            child = f"{path}.{clean_key}" if path else clean_key
            if clean_key != key:
                found.append(f"{child} (name)")
            out[clean_key] = _strip_nul(item, child, found)
        return out
    return node


def _validate_model(source: Source, data: dict[str, Any]) -> IntakeRecord:
    version = data.get("schema_version", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValidationFailed(
            "schema_version must be an integer",
            reason="wrong_type",
            details=[_detail("schema_version", "wrong_type", "not an integer")],
        )
    model = MODELS[source].get(version)
    if model is None:
        known = ", ".join(str(v) for v in sorted(MODELS[source]))
        raise ValidationFailed(
            f"schema_version {version} is not known for {source.value} (known: {known})",
            reason="unknown_schema_version",
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [
            _detail(_path(err["loc"]), _reason(err["type"]), err["msg"])
            for err in exc.errors(include_url=False, include_input=False, include_context=False)
        ]
        reason = min((d["reason"] for d in details), key=_REASON_ORDER.index)
        message = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
        raise ValidationFailed(
            f"{source.value} v{version} invalid: {message}", reason=reason, details=details
        ) from None


def _reason(error_type: str) -> str:
    if error_type == "missing":
        return "missing_field"
    if error_type in _CUSTOM:
        return error_type
    if error_type == "string_too_long":
        return "too_long"
    if error_type in _INVALID_VALUE:
        return "invalid_value"
    return "wrong_type"


def _path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "$"


def _detail(field: str, reason: str, message: str) -> dict[str, str]:
    return {"field": field, "reason": reason, "message": message}


def to_report(record: IntakeRecord, origin: Origin, nul_paths: list[str] | None = None) -> Report:
    """Map a validated record onto the source-independent `Report` (contract §2)."""
    declared = type(record).model_fields
    values = {name: getattr(record, name) for name in declared}
    text = "\n\n".join(values[name] for name in record.TEXT_FIELDS if values.get(name))
    skip = {
        "id",
        "received_at",
        "schema_version",
        "location",
        "url",
        *record.TEXT_FIELDS,
        *record.RESTRICTED_FIELDS,
    }
    attributes = {
        name: value.value if hasattr(value, "value") else value
        for name, value in values.items()
        if name not in skip and value is not None
    }
    if nul_paths:
        attributes["nul_stripped"] = nul_paths
    restricted = {
        name: values[name].model_dump(exclude_none=True)
        for name in record.RESTRICTED_FIELDS
        if values.get(name) is not None
    }
    extra = dict(record.model_extra or {})
    location = None
    if (place := values.get("location")) is not None:
        location = ReportLocation(
            text=place.text, postcode=place.postcode, lat=place.lat, lon=place.lon
        )
        if place.model_extra:
            extra["location"] = dict(place.model_extra)
    return Report(
        source=record.SOURCE,
        source_id=record.id,
        received_at=record.received_at,
        schema_version=record.schema_version,
        text=text,
        url=values.get("url"),
        location=location,
        attributes=attributes,
        restricted=restricted,
        extra=extra,
        origin=origin,
    )
