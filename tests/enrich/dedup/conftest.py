"""Report builders for the dedup tests."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from pipeline.ingest.report import Origin, Report
from pipeline.ingest.sources import TOPIC_BY_SOURCE, Source

_OFFSETS = itertools.count()

MakeReport = Callable[..., Report]


def build_report(
    text: str,
    source_id: str | None = None,
    source: Source = Source.PUBLIC_REPORT,
    url: str | None = None,
) -> Report:
    """A valid report; a fresh id unless one is given."""
    offset = next(_OFFSETS)
    return Report.model_validate(
        {
            "source": source,
            "source_id": source_id or f"r-{offset}",
            "received_at": "2025-03-01T10:00:00+00:00",
            "text": text,
            "url": url,
            "origin": Origin(topic=TOPIC_BY_SOURCE[source], partition=0, offset=offset),
        }
    )


@pytest.fixture
def make_report() -> MakeReport:
    """`make_report(text, source_id=None, source=..., url=None) -> Report`."""
    return build_report
