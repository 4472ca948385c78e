"""The demo generator: deterministic, realistic, and its bad records fail as labelled."""

from __future__ import annotations

import re
from collections import Counter

from pipeline.dev.demo import BAD_KINDS, generate
from pipeline.errors import ValidationFailed
from pipeline.ingest.records import RawRecord
from pipeline.ingest.sources import INTAKE_TOPICS
from pipeline.ingest.validate import parse_record

RECORDS = list(generate(1500, seed=3))


def test_same_seed_same_stream_other_seed_other_stream() -> None:
    assert list(generate(1500, seed=3)) == RECORDS
    assert list(generate(50, seed=4)) != RECORDS[:50]
    assert len(RECORDS) == 1500


def test_every_record_parses_or_fails_with_its_label() -> None:
    reasons: Counter[str | None] = Counter()
    for offset, record in enumerate(RECORDS):
        try:
            parse_record(RawRecord(record.topic, 0, offset, record.key, record.value))
            got = None
        except ValidationFailed as exc:
            got = exc.reason
        assert got == record.bad, (offset, record)
        reasons[got] += 1
    assert set(BAD_KINDS) <= set(reasons)
    assert 0.01 < sum(v for k, v in reasons.items() if k) / len(RECORDS) < 0.06


def test_all_four_topics_and_duplicates_appear() -> None:
    assert {r.topic for r in RECORDS} == set(INTAKE_TOPICS)
    texts = Counter(
        parse_record(RawRecord(r.topic, 0, 0, r.key, r.value)).text for r in RECORDS if not r.bad
    )
    assert sum(n - 1 for n in texts.values() if n > 1) > 0.04 * len(RECORDS)  # exact repeats
    assert any(t.startswith(("Hello, ", "Hi there. ", "Good morning, ")) for t in texts)


def test_narratives_carry_the_selectors_enrichment_looks_for() -> None:
    text = "\n".join(r.value.decode() for r in RECORDS if r.value and not r.bad)
    assert re.search(r"\+44 7700 900\d{3}", text) and re.search(r"07700 900\d{3}", text)
    assert re.search(r"\(0161\) 496 0\d{3}", text) or re.search(r"\(020\) 7946 0\d{3}", text)
    assert re.search(r"\b[A-Z]{2}\d{2} [A-Z]{3}\b", text)
    assert re.search(r"\b[A-Z]{3} \d{1,3}[A-Z]\b", text)  # pre-1983 suffix plates
    assert "youtu.be/" in text and "utm_source=" in text and "#post-7" in text
    assert re.search(r"@[A-Za-z_]+", text) and "@example.com" in text
    assert "SW1A 1AA" in text or "M1 1AE" in text


def test_narratives_are_sixty_to_about_two_hundred_words() -> None:
    lengths = [
        len(parse_record(RawRecord(r.topic, 0, 0, r.key, r.value)).text.split())
        for r in RECORDS
        if not r.bad
    ]
    assert min(lengths) >= 60 and max(lengths) <= 220
    assert len(set(lengths)) > 50
