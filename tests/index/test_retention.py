"""The retention policy as plain functions: review dates per source, extensions, the document."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from pipeline.enrich.mentions import Enrichment
from pipeline.index.document import build_document
from pipeline.index.retention import (
    Extension,
    Outcome,
    RetentionPolicy,
    add_years,
    effective_review,
    review_record,
)
from pipeline.ingest.report import Origin, Report
from pipeline.ingest.sources import Source
from pipeline.settings import Settings, get_settings

RECEIVED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _report(source: Source, received_at: datetime = RECEIVED) -> Report:
    return Report(
        source=source,
        source_id="r-1",
        received_at=received_at,
        text="A van parked by the gates for an hour.",
        origin=Origin(topic="intake.public-reports", partition=0, offset=3, timestamp_ms=1),
    )


def test_the_defaults_are_six_years_for_every_source_and_ten_after_a_relevant_alert() -> None:
    policy = RetentionPolicy.from_settings(Settings())
    assert {source: policy.period(source.value) for source in Source} == dict.fromkeys(Source, 6)
    assert policy.relevant_alert_years == 10


def test_each_source_has_its_own_period_from_the_settings() -> None:
    policy = RetentionPolicy.from_settings(
        Settings(retention_hotline_call_years=2, retention_radicalisation_referral_years=3)
    )
    assert policy.review_date("hotline_call", RECEIVED) == date(2028, 3, 1)
    assert policy.review_date("radicalisation_referral", RECEIVED) == date(2029, 3, 1)
    assert policy.review_date("public_report", RECEIVED) == date(2032, 3, 1)


def test_the_date_is_the_utc_day_of_receipt_and_29_february_falls_on_the_28th() -> None:
    policy = RetentionPolicy.from_settings(Settings())
    late_evening = datetime(2024, 2, 29, 23, 30, tzinfo=timezone(timedelta(hours=-2)))
    assert policy.review_date("public_report", late_evening) == date(2030, 3, 1)
    assert add_years(date(2024, 2, 29), 6) == date(2030, 2, 28)
    assert add_years(date(2024, 2, 29), -4) == date(2020, 2, 29)


def test_an_extension_only_ever_moves_a_review_later() -> None:
    base = date(2030, 1, 1)
    assert effective_review(base, []) == (base, [])
    assert effective_review(base, [Extension("retained", date(2029, 1, 1))]) == (base, [])
    moved = effective_review(
        base,
        [Extension("retained", date(2031, 1, 1)), Extension("relevant_alert", date(2034, 5, 1))],
    )
    assert moved == (date(2034, 5, 1), ["relevant_alert", "retained"])


def test_a_relevant_alert_restarts_the_clock_from_its_acknowledgement() -> None:
    policy = RetentionPolicy.from_settings(Settings(retention_relevant_alert_years=4))
    extension = policy.after_relevant_alert(datetime(2027, 5, 2, 8, tzinfo=UTC))
    assert extension == Extension("relevant_alert", date(2031, 5, 2))


@pytest.mark.parametrize("source", list(Source))
def test_every_document_carries_its_sources_review_date_and_a_rebuild_gives_the_same(
    source: Source,
) -> None:
    policy = RetentionPolicy.from_settings(
        Settings(
            retention_public_report_years=1,
            retention_hotline_call_years=2,
            retention_online_referral_years=3,
            retention_radicalisation_referral_years=4,
        )
    )
    years = {"public_report": 1, "hotline_call": 2, "online_referral": 3}
    expected = date(2026 + years.get(source.value, 4), 3, 1).isoformat()
    first = build_document(
        _report(source), Enrichment(), None, ingested_at=RECEIVED, retention=policy
    )
    # a replay months later: another ingestion time, the same review date
    again = build_document(
        _report(source), Enrichment(), None, ingested_at=datetime.now(UTC), retention=policy
    )
    assert first["review_date"] == again["review_date"] == expected


def test_a_decision_is_recorded_with_who_when_why_and_the_next_review() -> None:
    at = datetime(2027, 1, 2, 3, 4, tzinfo=UTC)
    record = review_record(
        Outcome.RETAIN, by="ops1", at=at, justification="still live", next_review=date(2033, 1, 2)
    )
    assert record == {
        "outcome": "retain",
        "by": "ops1",
        "at": "2027-01-02T03:04:00+00:00",
        "justification": "still live",
        "next_review": "2033-01-02",
    }
    gone = review_record(Outcome.DELETE, by="ops1", at=at, justification="x", next_review=None)
    assert "next_review" not in gone


def test_without_a_policy_the_document_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The batch path's index step passes no policy: the process' settings decide."""
    monkeypatch.setenv("PIPELINE_RETENTION_HOTLINE_CALL_YEARS", "2")
    get_settings.cache_clear()
    try:
        document = build_document(
            _report(Source.HOTLINE_CALL), Enrichment(), None, ingested_at=RECEIVED
        )
    finally:
        monkeypatch.delenv("PIPELINE_RETENTION_HOTLINE_CALL_YEARS")
        get_settings.cache_clear()
    assert document["review_date"] == "2028-03-01"
