"""Response shapes of the search API; built from hits through an allow-list of fields.

`ReportOut.from_hit` copies only the fields named here, and copies `restricted` only when the
caller may see it, so a restricted value cannot reach an analyst even if Elasticsearch
returned it (the request already excludes it: this is the second, defensive layer).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pipeline.api.queries import HIT_TAGS
from pipeline.index import protected

__all__ = [
    "AuditEntry",
    "Bucket",
    "EntityView",
    "MentionOut",
    "ReportOut",
    "ReportView",
    "RestrictedMentionOut",
    "SearchPage",
    "Segment",
    "split_fragment",
]


class Segment(BaseModel):
    """A run of report text; `hit` marks words that matched the query."""

    text: str
    hit: bool = False


class MentionOut(BaseModel):
    """One entity mention: `text[start:end]` of the report, normalised to `value`."""

    model_config = ConfigDict(extra="ignore")

    type: str
    text: str = ""
    value: str
    start: int = 0
    end: int = 0


class RestrictedMentionOut(MentionOut):
    """A mention of a restricted value: offsets into `restricted_text`, `field` what it repeats."""

    field: str | None = Field(None, description="The restricted field it repeats: `caller.phone`.")


class Bucket(BaseModel):
    """One facet value and how many reports (or hits) carry it."""

    value: str
    count: int


class ReportOut(BaseModel):
    """One report as an API caller may see it."""

    id: str
    source: str
    source_id: str
    timestamp: datetime | None = None
    text: str = ""
    region: str | None = None
    cluster_id: str | None = None
    duplicate: bool = False
    incident_id: str | None = Field(None, description="The event it tells of (contract v2).")
    priority: int = Field(0, description="Derived triage priority, higher first (0 to 11).")
    priority_reasons: list[str] = Field(
        default_factory=list, description="What makes the priority: `proscribed_org`, `phone` ..."
    )
    url: str | None = None
    location: dict[str, Any] | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    entities: dict[str, list[str]] = Field(default_factory=dict)
    entity_mentions: list[MentionOut] = Field(default_factory=list)
    highlights: list[list[Segment]] = Field(default_factory=list)
    similar: int = Field(0, description="Other reports of its cluster that match the same search.")
    likeness: float | None = Field(
        None,
        description="Cosine of its sentence vector to the query's (semantic, more like this).",
    )
    shared: dict[str, list[str]] = Field(
        default_factory=dict, description="Selectors shared with the viewed report (linked only)."
    )
    restricted: dict[str, Any] | None = Field(
        None, description="Reporter, caller and subject details; only for the `restricted` role."
    )
    restricted_text: str | None = Field(
        None,
        description="The narrative as written, when `text` masks restricted values in it; "
        "only for the `restricted` role.",
    )
    restricted_entities: dict[str, list[str]] | None = Field(
        None, description="Restricted values masked out of `text`; only for the `restricted` role."
    )
    restricted_mentions: list[RestrictedMentionOut] | None = Field(
        None, description="Where they are in `restricted_text`; only for the `restricted` role."
    )

    @classmethod
    def from_hit(cls, hit: dict[str, Any], *, sees_restricted: bool) -> ReportOut:
        """Build from one Elasticsearch hit, keeping only allowed fields."""
        highlights = [split_fragment(f) for f in (hit.get("highlight") or {}).get("text", [])]
        similar = 0
        inner = (hit.get("inner_hits") or {}).get("similar")
        if inner:
            similar = max(0, int(inner["hits"]["total"]["value"]) - 1)
        report = cls.from_source(
            str(hit["_id"]), hit.get("_source") or {}, sees_restricted=sees_restricted
        )
        return report.model_copy(update={"highlights": highlights, "similar": similar})

    @classmethod
    def from_source(
        cls, doc_id: str, source: dict[str, Any], *, sees_restricted: bool
    ) -> ReportOut:
        """Build from a document's `_source` (or a summary of it), keeping only allowed fields."""
        location = source.get("location")
        restricted = _plain_dict(source.get("restricted")) if sees_restricted else {}
        # the narrative as written and what was masked in it: kept apart from the person details
        original = restricted.pop(protected.TEXT, None)
        masked = restricted.pop(protected.ENTITIES, None)
        masked_mentions = restricted.pop(protected.MENTIONS, None)
        return cls(
            id=doc_id,
            source=str(source.get("source", "")),
            source_id=str(source.get("source_id", "")),
            timestamp=source.get("@timestamp"),
            text=str(source.get("text") or ""),
            region=source.get("region"),
            cluster_id=source.get("cluster_id"),
            duplicate=bool(source.get("duplicate", False)),
            incident_id=source.get("incident_id"),
            priority=_priority(source.get("priority")),
            priority_reasons=[str(r) for r in _list(source.get("priority_reasons"))],
            url=source.get("url"),
            location=location if isinstance(location, dict) else None,
            attributes=_plain_dict(source.get("attributes")),
            entities=_entities(source.get("entities")),
            entity_mentions=[
                MentionOut.model_validate(m) for m in source.get("entity_mentions") or []
            ],
            restricted=restricted if sees_restricted else None,
            restricted_text=original if isinstance(original, str) else None,
            restricted_entities=_entities(masked) if sees_restricted else None,
            restricted_mentions=_restricted_mentions(masked_mentions) if sees_restricted else None,
        )


def _priority(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _plain_dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _restricted_mentions(value: Any) -> list[RestrictedMentionOut]:
    items = value if isinstance(value, list) else []
    return [RestrictedMentionOut.model_validate(m) for m in items if isinstance(m, dict)]


def _entities(value: Any) -> dict[str, list[str]]:
    return {
        str(k): [str(v) for v in (vs if isinstance(vs, list) else [vs])]
        for k, vs in _plain_dict(value).items()
    }


def split_fragment(fragment: str) -> list[Segment]:
    """Cut a highlighted fragment at the hit markers into plain-text segments."""
    pre, post = HIT_TAGS
    segments: list[Segment] = []
    for i, piece in enumerate(fragment.split(pre)):
        if i == 0:
            if piece:
                segments.append(Segment(text=piece.replace(post, "")))
            continue
        hit, _, rest = piece.partition(post)
        if hit:
            segments.append(Segment(text=hit, hit=True))
        if rest:
            segments.append(Segment(text=rest.replace(post, "")))
    return segments


class SearchPage(BaseModel):
    """One page of search results with facets and the cursor of the next page."""

    total: int
    clusters: int | None = Field(None, description="Distinct clusters among all hits (collapsed).")
    results: list[ReportOut]
    facets: dict[str, list[Bucket]] = Field(default_factory=dict)
    next_cursor: str | None = None
    partial_match: bool = Field(
        False,
        description="No report has every word of the query: these results have most of them "
        "(at least three in four, or one of two).",
    )


class ReportView(BaseModel):
    """One report with the other members of its cluster and the reports linked to it."""

    report: ReportOut
    cluster_size: int = 1
    cluster: list[ReportOut] = Field(default_factory=list)
    linked: list[ReportOut] = Field(default_factory=list)
    common_selectors: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Its selectors too common to link by (their reports fall in at least "
        "PIPELINE_COMMON_SELECTOR_CLUSTERS distinct clusters): `linked` ignores them.",
    )


class SimilarView(BaseModel):
    """Reports told most like one report, by sentence vector, most alike first."""

    report: str
    results: list[ReportOut] = Field(default_factory=list)


class EntitySeen(BaseModel):
    """One entity value across an incident's reports."""

    value: str
    count: int
    first_seen: datetime | None = None
    last_seen: datetime | None = None


class IncidentView(BaseModel):
    """One incident: its reports on a timeline (oldest first), where they came from, and the
    entities they name, merged, with counts and first and last seen."""

    id: str
    total: int
    clusters: int = Field(0, description="Distinct clusters (same or near-same text) inside it.")
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    sources: list[Bucket] = Field(default_factory=list)
    regions: list[Bucket] = Field(default_factory=list)
    entities: dict[str, list[EntitySeen]] = Field(default_factory=dict)
    reports: list[ReportOut] = Field(default_factory=list)


class EntityView(BaseModel):
    """One selector across the index."""

    type: str
    value: str
    total: int
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    clusters: int = Field(0, description="Distinct clusters its reports fall in.")
    common: bool = Field(
        False,
        description="In at least PIPELINE_COMMON_SELECTOR_CLUSTERS distinct clusters: it links "
        "no reports (a watchlist entry naming it still matches).",
    )
    sources: list[Bucket] = Field(default_factory=list)
    reports: list[ReportOut] = Field(default_factory=list)


class AuditEntry(BaseModel):
    """One audit record: who looked at what, when, why, and which reports came back."""

    timestamp: datetime
    user: str
    role: str
    action: str
    justification: str
    query: dict[str, Any] = Field(default_factory=dict)
    ids: list[str] = Field(default_factory=list)
    channel: str = "api"
