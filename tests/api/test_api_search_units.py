"""The partial-match flag as the API model and the CLI show it (no Elasticsearch)."""

from __future__ import annotations

from pipeline.api.models import SearchPage
from pipeline.cli.api import render_table


def test_the_cli_says_when_no_report_had_every_word() -> None:
    partial = render_table(SearchPage(total=2, results=[], partial_match=True))
    assert partial.splitlines()[0] == (
        "2 matching reports: no report has every word, these have most of them"
    )
    full = render_table(SearchPage(total=2, results=[]))
    assert full.splitlines()[0] == "2 matching reports"
    assert SearchPage(total=0, results=[]).partial_match is False
