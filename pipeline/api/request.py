"""The search request: every parameter and its limit, declared once.

The same model is the POST body and the GET query of `/api/search` (and `/api/export`), and
the CLI reads its limits from it, so a limit changes in one place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from pipeline.api import deps, queries
from pipeline.ingest.sources import Source

__all__ = ["SearchRequest", "size_range"]


class SearchRequest(BaseModel):
    """A search as a JSON body (POST /api/search); the same fields as the GET parameters."""

    q: str = Field("", max_length=1000, description="simple_query_string text; any input is safe.")
    source: list[Source] = Field(default_factory=list, max_length=10)
    region: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=20)
    cluster: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=20, description="cluster_id: a cluster's reports."
    )
    incident: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=20, description="incident_id: an incident's reports."
    )
    entity: list[Annotated[str, Field(max_length=500)]] = Field(
        default_factory=list, max_length=20, description="TYPE:VALUE, e.g. phone:+447700900123."
    )
    since: datetime | None = None
    until: datetime | None = None
    sort: queries.SortOrder = queries.SortOrder.RELEVANCE
    size: int = Field(20, ge=1, le=100)
    cursor: str | None = Field(None, max_length=2000, description="next_cursor of the last page.")
    collapse: bool = Field(
        True, description="One result per cluster (or incident), with its `similar` count."
    )
    mode: queries.Mode = Field(
        queries.Mode.KEYWORD,
        description="keyword (the words) or semantic (nearest in meaning; no paging, no facets).",
    )
    fold: queries.Fold = Field(
        queries.Fold.CLUSTER, description="What a collapsed search folds: cluster or incident."
    )
    justification: str | None = Field(None, max_length=deps.MAX_JUSTIFICATION)

    def params(
        self, *, size: int | None = None, collapse: bool | None = None
    ) -> queries.SearchParams:
        """The plain search parameters (raises 422 on a bad entity filter or date)."""
        return queries.SearchParams(
            q=self.q,
            sources=tuple(s.value for s in self.source),
            regions=tuple(self.region),
            clusters=tuple(self.cluster),
            incidents=tuple(self.incident),
            entities=deps.parse_entity_filters(self.entity),
            since=deps.to_utc(self.since, "since"),
            until=deps.to_utc(self.until, "until"),
            sort=self.sort,
            size=size or self.size,
            cursor=self.cursor,
            collapse=self.collapse if collapse is None else collapse,
            facets=not self.cursor,
            fold=self.fold,
            mode=self.mode,
        )


def size_range() -> tuple[int, int]:
    """The smallest and largest page size a search may ask for."""
    low = high = None
    for rule in SearchRequest.model_fields["size"].metadata:
        low = getattr(rule, "ge", low)
        high = getattr(rule, "le", high)
    assert isinstance(low, int) and isinstance(high, int)
    return low, high
