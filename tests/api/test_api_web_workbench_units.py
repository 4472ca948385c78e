"""The workbench's own list of regional units stays the enrichment's."""

from __future__ import annotations

from test_api_web_alerts_units import js_list

from pipeline.enrich.regions import REGIONS


def test_the_queues_are_the_eleven_regional_units() -> None:
    assert js_list("workbench.js", "QUEUE_REGIONS") == list(REGIONS)
