"""A seeded, realistic mixed intake stream for the demo and the benchmarks (a pure generator).

About 84 % valid new records, 8 % exact repeats of an earlier narrative under a new id,
5 % near repeats (typos, an added greeting) and 3 % deliberately bad records; a bad
record's `bad` field names the reason `parse_record` must give it.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.dev import demo_data as d
from pipeline.ingest.sources import TOPIC_BY_SOURCE, Source

__all__ = ["BAD_KINDS", "DemoRecord", "generate"]

_START = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
_ID_PREFIX = {
    Source.PUBLIC_REPORT: "pr",
    Source.HOTLINE_CALL: "hc",
    Source.ONLINE_REFERRAL: "or",
    Source.RADICALISATION_REFERRAL: "rr",
}
_WEIGHTS = {
    Source.PUBLIC_REPORT: 45,
    Source.HOTLINE_CALL: 25,
    Source.ONLINE_REFERRAL: 18,
    Source.RADICALISATION_REFERRAL: 12,
}
BAD_KINDS = (
    "not_json",
    "not_object",
    "missing_field",
    "wrong_type",
    "bad_timestamp",
    "invalid_utf8",
    "empty_id",
    "unknown_schema_version",
    "too_deep",
    "tombstone",
    "key_mismatch",
    "invalid_value",
    "empty_text",
    "too_large",
)


@dataclass(frozen=True, slots=True)
class DemoRecord:
    """One record to publish: unprefixed topic, key and value bytes; `bad` the expected reason."""

    topic: str
    key: bytes | None
    value: bytes | None
    bad: str | None = None


def generate(count: int, seed: int = 1) -> Iterator[DemoRecord]:
    """`count` records; the same (count, seed) always yields the same records."""
    rng = random.Random(seed)
    sources = list(_WEIGHTS)
    weights = list(_WEIGHTS.values())
    earlier: list[tuple[Source, dict[str, Any]]] = []
    bad_index = 0
    for n in range(count):
        source = rng.choices(sources, weights)[0]
        record_id = f"{_ID_PREFIX[source]}-{seed}-{n:06d}"
        received = _START + timedelta(seconds=n * 37 + rng.randint(0, 30))
        roll = rng.random()
        if roll < 0.03 and n > 0:
            kind = BAD_KINDS[bad_index % len(BAD_KINDS)]
            bad_index += 1
            yield _bad(kind, source, record_id, received, rng)
            continue
        if roll < 0.11 and earlier:
            source, body = rng.choice(earlier)
            body = dict(body)
        elif roll < 0.16 and earlier:
            source, body = rng.choice(earlier)
            body = _nearly(dict(body), rng)
        else:
            body = _body(source, rng)
            earlier.append((source, body))
        body = {"id": record_id, "received_at": _timestamp(received, rng), **body}
        yield DemoRecord(TOPIC_BY_SOURCE[source], record_id.encode(), _dumps(body))


def _dumps(body: object) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _timestamp(moment: datetime, rng: random.Random) -> str:
    style = rng.randrange(3)
    if style == 0:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == 1:
        return moment.isoformat(timespec="milliseconds")
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "+00:00"


def _body(source: Source, rng: random.Random) -> dict[str, Any]:
    town, postcode, lat, lon = rng.choice(d.PLACES)
    slots = _slots(rng, town, postcode)
    opener = {
        Source.PUBLIC_REPORT: d.PUBLIC_OPENERS,
        Source.HOTLINE_CALL: d.HOTLINE_OPENERS,
        Source.ONLINE_REFERRAL: d.REFERRAL_OPENERS,
        Source.RADICALISATION_REFERRAL: d.CONCERN_OPENERS,
    }[source]
    text = _narrative(rng, rng.choice(opener), slots)
    location: dict[str, Any] = {"text": f"{rng.choice(d.LANDMARKS)}, {town}", "postcode": postcode}
    if rng.random() < 0.5:
        location |= {"lat": lat, "lon": lon}
    if source is Source.PUBLIC_REPORT:
        body: dict[str, Any] = {
            "description": text,
            "channel": rng.choice(["online_form", "phone_101", "officer"]),
            "location": location,
        }
        if rng.random() < 0.7:
            body["reporter"] = _contact(rng)
        return body
    if source is Source.HOTLINE_CALL:
        return {
            "summary": text,
            "duration_s": rng.randint(40, 1500),
            "handler_id": f"H{rng.randint(100, 999)}",
            "caller": _contact(rng),
            "location": location,
        }
    if source is Source.ONLINE_REFERRAL:
        return {
            "url": _url(rng),
            "description": text,
            "platform": rng.choice(d.PLATFORMS),
            "referrer_type": rng.choice(["public", "third_sector", "industry", "police"]),
        }
    return {
        "concern": text,
        "location": location,
        "referrer_type": rng.choice(["education", "health", "social_care", "public"]),
        "subject": {"name": rng.choice(d.PEOPLE), "age": rng.randint(13, 40)},
    }


def _slots(rng: random.Random, town: str, postcode: str) -> dict[str, str]:
    return {
        "town": town,
        "postcode": postcode,
        "landmark": rng.choice(d.LANDMARKS),
        "platform": rng.choice(d.PLATFORMS),
        "person": rng.choice(d.PEOPLE),
        "org": rng.choice(d.ORGS),
        "handle": rng.choice(d.HANDLES),
        "url": _url(rng),
        "phone": _phone(rng),
        "vehicle": _vehicle(rng),
        "email": _email(rng),
        "hour": str(rng.randint(1, 12)),
    }


def _narrative(rng: random.Random, opener: str, slots: dict[str, str]) -> str:
    target = rng.randint(60, 175)
    sentences = [opener.format(**slots)]
    words = len(sentences[0].split())
    pool = list(d.SENTENCES)
    rng.shuffle(pool)
    for template in pool:
        if words >= target:
            break
        sentence = template.format(**slots)
        sentences.append(sentence)
        words += len(sentence.split())
        if rng.random() < 0.3:  # fresh numbers now and then: one report, several selectors
            slots = slots | {"phone": _phone(rng), "vehicle": _vehicle(rng)}
    return " ".join(sentences)


def _phone(rng: random.Random) -> str:
    if rng.random() < 0.55:
        last = f"{rng.randint(0, 999):03d}"
        return rng.choice(
            [
                f"07700 900{last}",
                f"07700900{last}",
                f"+44 7700 900{last}",
                f"+447700900{last}",
                f"0044 7700 900 {last}",
                f"07700-900-{last}",
                f"(07700) 900{last}",
            ]
        )
    code, block = rng.choice(d.LANDLINES)
    last = f"{rng.randint(0, 999):03d}"
    national = code[1:]
    return rng.choice(
        [
            f"{code} {block}{last}",
            f"({code}) {block}{last}",
            f"+44 {national} {block}{last}",
            f"+44 (0){national} {block}{last}",
            f"{code}{block.replace(' ', '')}{last}",
        ]
    )


def _vehicle(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNOPRSTUVWXY"

    def pick(k: int) -> str:
        return "".join(rng.choice(letters) for _ in range(k))

    style = rng.randrange(5)
    if style == 0:
        return f"{pick(2)}{rng.randint(51, 74)} {pick(3)}"
    if style == 1:
        return f"{pick(2)}{rng.randint(10, 24):02d}{pick(3)}"
    if style == 2:
        return f"{pick(1)}{rng.randint(1, 999)} {pick(3)}"  # prefix format, 1983-2001
    if style == 3:
        return f"{pick(3)} {rng.randint(1, 999)}{pick(1)}"  # suffix format, 1963-1983
    return f"{pick(2)}{rng.randint(10, 24):02d} {pick(3)}".lower()


def _email(rng: random.Random) -> str:
    first, last = rng.choice(d.PEOPLE).lower().replace("'", "").split(" ", 1)
    name = f"{first}.{last.replace(' ', '')}".encode("ascii", "ignore").decode()
    domain = rng.choice(["example.com", "Example.org", "mail.example.net"])
    return f"{name}{rng.randint(1, 99)}@{domain}" if rng.random() < 0.5 else f"{name}@{domain}"


def _url(rng: random.Random) -> str:
    video = rng.choice(d.VIDEO_IDS)
    return rng.choice(
        [
            f"https://www.youtube.com/watch?v={video}&utm_source=twitter&utm_medium=social",
            f"https://youtu.be/{video}",
            f"https://youtu.be/{video}?si=Ab12Cd34",
            f"HTTPS://Forum.Example.net/t/{rng.randint(100, 999)}?page=2&utm_campaign=x#post-7",
            f"https://t.me/s/channel_{rng.randint(10, 99)}",
            f"https://www.example.com/articles/{rng.randint(1, 500)}?fbclid=IwAR0xyz",
            f"hxxps://example[.]org/files/{rng.randint(1, 50)}.pdf",
        ]
    )


def _contact(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.2:
        return {"anonymous": True}
    return {
        "name": rng.choice(d.PEOPLE),
        "phone": _phone(rng),
        "email": _email(rng),
        "anonymous": False,
    }


def _nearly(body: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    field = next(f for f in ("description", "summary", "concern") if f in body)
    text: str = body[field]
    if rng.random() < 0.5:
        text = rng.choice(d.GREETINGS) + text[0].lower() + text[1:]
    else:
        chars = list(text)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(1, len(chars) - 1)
            if chars[i].isalpha() and chars[i + 1].isalpha():
                chars[i], chars[i + 1] = chars[i + 1], chars[i]
        text = "".join(chars)
    return body | {field: text}


def _bad(
    kind: str, source: Source, record_id: str, when: datetime, rng: random.Random
) -> DemoRecord:
    topic, key = TOPIC_BY_SOURCE[source], record_id.encode()
    good = {"id": record_id, "received_at": when.isoformat(), **_body(source, rng)}
    narrative = (
        "url"
        if source is Source.ONLINE_REFERRAL
        else next(f for f in ("description", "summary", "concern") if f in good)
    )
    value: bytes | None
    if kind == "not_json":
        value = _dumps(good)[:-7]
    elif kind == "not_object":
        value = _dumps([good])
    elif kind == "missing_field":
        value = _dumps({k: v for k, v in good.items() if k != "received_at"})
    elif kind == "wrong_type":
        value = _dumps(good | {"id": rng.randint(1, 10**6)})
    elif kind == "bad_timestamp":
        stamp = rng.choice(["yesterday", "2026-11-20", 1795000000, "2026-11-20T10:00:00"])
        value = _dumps(good | {"received_at": stamp})
    elif kind == "invalid_utf8":
        value = _dumps(good).replace(b'"id"', b'"id\xff"', 1)
    elif kind == "empty_id":
        key, value = b"", _dumps(good | {"id": "  "})
    elif kind == "unknown_schema_version":
        value = _dumps(good | {"schema_version": 7})
    elif kind == "too_deep":
        value = _dumps(good | {"meta": json.loads("[" * 40 + "]" * 40)})
    elif kind == "tombstone":
        value = None
    elif kind == "key_mismatch":
        key, value = (record_id + "-x").encode(), _dumps(good)
    elif kind == "invalid_value":
        field = "referrer_type" if "referrer_type" in good else "location"
        value = _dumps(
            good | {field: "carrier pigeon"}
            if field == "referrer_type"
            else good | {"location": {"lat": 123.0, "lon": 0.0}}
        )
    elif kind == "empty_text":
        value = _dumps(good | {narrative: " \n "})
    else:  # too_large
        padding = "".join(rng.choice(string.ascii_letters) for _ in range(64))
        value = _dumps(good | {"attachment": padding * 9000})
    return DemoRecord(topic, key, value, bad=kind)
