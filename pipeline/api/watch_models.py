"""Watchlist entries and alerts as API callers send and see them, and the refusal of an entry."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from pipeline.api import deps
from pipeline.api.models import MentionOut, Segment
from pipeline.enrich.watch.entries import Priority, SavedSearch, Target, WatchEntry
from pipeline.errors import RequestRejected

__all__ = [
    "AckIn",
    "Acknowledgement",
    "AlertOut",
    "AlertPage",
    "AlertSearch",
    "AlertTarget",
    "AlertView",
    "EntryChange",
    "EntryIn",
    "EntryList",
    "EntryOut",
    "EntryRejectedError",
    "HitOut",
    "Outcome",
    "TargetIn",
]


class EntryRejectedError(RequestRejected):
    """An entry that cannot be stored as asked: answered 422 with the field (`None`: the body)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class Outcome(StrEnum):
    """What reading an alert found."""

    RELEVANT = "relevant"
    NOT_RELEVANT = "not_relevant"
    DUPLICATE = "duplicate"


# The written forms a target is given in; `key` is always computed, never taken.
TargetIn = Annotated[
    Target,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "examples": ["phone:07700 900123", "person:Fatima Khan"]},
                {
                    "type": "object",
                    "properties": {"type": {"type": "string"}, "value": {"type": "string"}},
                    "required": ["type", "value"],
                },
            ],
            "description": "`type:value`, or {type, value}: phone, vehicle, handle, url, "
            "email, postcode, person, org.",
        }
    ),
]


class EntryIn(BaseModel):
    """A new entry (POST /api/watch): a `target` or a saved `search`, and why."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    target: TargetIn | None = None
    search: SavedSearch | None = None
    justification: str = Field(
        min_length=1, max_length=deps.MAX_JUSTIFICATION, description="Why you watch this."
    )
    priority: Priority = Priority.NORMAL
    expiry: datetime | None = Field(None, description="Default 90 days from now, at most a year.")
    restricted: bool = Field(
        False,
        description="Also match reporters', callers' and subjects' details (restricted role).",
    )


class EntryChange(BaseModel):
    """A change to an entry (PATCH /api/watch/{id}): only the fields given change."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    justification: str | None = Field(None, min_length=1, max_length=deps.MAX_JUSTIFICATION)
    priority: Priority | None = None
    expiry: datetime | None = None
    target: TargetIn | None = Field(None, description="Replaces the target or the search.")
    search: SavedSearch | None = Field(None, description="Replaces the search or the target.")


class EntryOut(BaseModel):
    """One entry as its owner sees it; `live` is false once it expired."""

    id: str
    owner: str
    justification: str
    priority: Priority
    created: datetime
    expiry: datetime
    live: bool
    target: Target | None
    search: SavedSearch | None
    restricted: bool

    @classmethod
    def of(cls, entry: WatchEntry, now: datetime) -> EntryOut:
        """The view of `entry` at `now`."""
        fields = entry.model_dump(include={"id", "owner", "justification", "priority"})
        return cls(
            **fields,
            created=entry.created,
            expiry=entry.expiry,
            live=entry.live(now),
            target=entry.target,
            search=entry.search,
            restricted=entry.restricted,
        )


class EntryList(BaseModel):
    """The caller's entries, newest first."""

    entries: list[EntryOut]


class AlertTarget(BaseModel):
    """The target an alert's entry watches, in its normal form."""

    type: str
    key: str


class AlertSearch(BaseModel):
    """The saved search an alert's entry runs, as stored with the alert."""

    q: str
    sources: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)


class Acknowledgement(BaseModel):
    """Who read an alert, when, and what they found."""

    by: str
    at: datetime
    outcome: str
    note: str | None = None


class AckIn(BaseModel):
    """An acknowledgement (POST /api/alerts/{id}/ack)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: Outcome
    note: str | None = Field(None, max_length=2000)


class AlertOut(BaseModel):
    """One alert: an entry's first sighting in a cluster, and how many reports it counts."""

    id: str
    entry_id: str
    priority: str
    target: AlertTarget | None = None
    search: AlertSearch | None = None
    cluster_id: str
    report_id: str = Field(description="The first report it was seen in.")
    source: str
    mention: MentionOut | None = None
    highlight: list[Segment] | None = None
    first_seen: datetime
    last_seen: datetime
    count: int = Field(description="Reports of the cluster the entry was seen in.")
    restricted: bool = False
    acknowledged: Acknowledgement | None = None


class HitOut(BaseModel):
    """One report an alert counts."""

    report_id: str
    source: str
    seen_at: datetime
    mention: MentionOut | None = None
    highlight: list[Segment] | None = None


class AlertView(BaseModel):
    """One alert with its reports, newest first (at most 1,000; `count` counts them all)."""

    alert: AlertOut
    hits: list[HitOut]


class AlertPage(BaseModel):
    """A page of alerts, newest first, and the cursor of the next one."""

    alerts: list[AlertOut]
    next_cursor: str | None = None
