"""The retention policy: when a report is next due for review (README, "Retention and review").

Pure decisions over plain data; the reads and writes in Elasticsearch are in
`pipeline.index.review`. Periods are whole years, counted from the day (UTC) a report was
received, or from the day a decision or an extension restarted the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pipeline.ingest.sources import Source

if TYPE_CHECKING:
    from pipeline.settings import Settings

__all__ = [
    "Extension",
    "Outcome",
    "RetentionPolicy",
    "add_years",
    "current_policy",
    "effective_review",
    "parse_day",
    "review_record",
    "utc_day",
]


class Outcome(StrEnum):
    """What a review decided."""

    RETAIN = "retain"
    DELETE = "delete"


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (or earlier); 29 February falls on the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def utc_day(moment: datetime) -> date:
    """The UTC calendar day of `moment` (a naive moment is taken as UTC, like the index does)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()


@dataclass(frozen=True, slots=True)
class Extension:
    """A review date later than the policy's, and why: `retained` (a review decided so),
    `relevant_alert` (an alert on the report was acknowledged as relevant) or `incident`."""

    reason: str
    until: date


@dataclass(frozen=True)
class RetentionPolicy:
    """Review period per source, and how long a relevant alert restarts the clock for."""

    periods: Mapping[Source, int]
    relevant_alert_years: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        """The policy the PIPELINE_RETENTION_* settings configure."""
        return cls(
            periods={
                Source.PUBLIC_REPORT: settings.retention_public_report_years,
                Source.HOTLINE_CALL: settings.retention_hotline_call_years,
                Source.ONLINE_REFERRAL: settings.retention_online_referral_years,
                Source.RADICALISATION_REFERRAL: settings.retention_radicalisation_referral_years,
            },
            relevant_alert_years=settings.retention_relevant_alert_years,
        )

    def period(self, source: str) -> int:
        """The review period of `source`, in years."""
        return self.periods[Source(source)]

    def review_date(self, source: str, received_at: datetime) -> date:
        """The first review date: the source's period after the report was received. Depends
        on the record alone, so a redelivery, a replay or a reindex gives the same date."""
        return add_years(utc_day(received_at), self.period(source))

    def next_review(self, source: str, decided_at: datetime) -> date:
        """After a decision to retain: the source's period from the day of the decision."""
        return add_years(utc_day(decided_at), self.period(source))

    def after_relevant_alert(self, acknowledged_at: datetime) -> Extension:
        """An alert acknowledged as relevant restarts the clock (MoPI's "clear period")."""
        until = add_years(utc_day(acknowledged_at), self.relevant_alert_years)
        return Extension("relevant_alert", until)


def current_policy() -> RetentionPolicy:
    """The policy of this process' settings (`pipeline.settings.get_settings`)."""
    from pipeline.settings import get_settings

    return RetentionPolicy.from_settings(get_settings())


def effective_review(review_date: date, extensions: Iterable[Extension]) -> tuple[date, list[str]]:
    """The latest of the policy's date and every extension, with the reasons of those that
    moved it (latest first). An extension never brings a review forward."""
    moved = sorted((e for e in extensions if e.until > review_date), key=lambda e: e.until)
    if not moved:
        return review_date, []
    return moved[-1].until, list(dict.fromkeys(e.reason for e in reversed(moved)))


def review_record(
    outcome: Outcome, *, by: str, at: datetime, justification: str, next_review: date | None
) -> dict[str, Any]:
    """The `review` object a decision leaves on the document (and in its audit record)."""
    record: dict[str, Any] = {
        "outcome": outcome.value,
        "by": by,
        "at": at.isoformat(),
        "justification": justification,
    }
    if next_review is not None:
        record["next_review"] = next_review.isoformat()
    return record


def parse_day(text: str | None) -> date | None:
    """A stored `YYYY-MM-DD` (or a full timestamp's day); None when absent or unreadable."""
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None
