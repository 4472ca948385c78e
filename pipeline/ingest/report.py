"""The normalised internal report every source is turned into after validation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pipeline.ingest.sources import Source


class Origin(BaseModel):
    """Where in Kafka a report was read from; `first_timestamp_ms` is set on a DLQ replay."""

    model_config = ConfigDict(frozen=True)

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None = None
    # the Kafka time of the record's first publication, from the header a replay carries
    first_timestamp_ms: int | None = None


class ReportLocation(BaseModel):
    """A place as the contributor gave it (contract §1 `location`)."""

    model_config = ConfigDict(frozen=True)

    text: str | None = None
    postcode: str | None = None
    lat: float | None = None
    lon: float | None = None


class Report(BaseModel):
    """One valid contribution, source-independent, ready for enrichment and indexing.

    `text` is the narrative analysts search (contract §2). `restricted` holds reporter,
    caller and subject details that only the `restricted` role may see. `attributes`
    holds the remaining non-personal source fields (channel, platform, duration_s ...).
    `extra` keeps unknown upstream fields, stored faithfully but not indexed.
    """

    model_config = ConfigDict(frozen=True)

    source: Source
    source_id: str
    received_at: datetime
    schema_version: int = 1
    text: str
    url: str | None = None
    location: ReportLocation | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    restricted: dict[str, Any] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict)
    origin: Origin
