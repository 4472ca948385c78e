"""`pipeline incidents show|merge|corrections` and `search --fold incident` through the API
served on loopback, over the real index, as an analyst's key."""

from __future__ import annotations

import pytest
from api_support import KEYS, RESTRICTED_VALUES, Corpus
from click.testing import CliRunner

from pipeline.cli.api import search
from pipeline.cli.incidents import corrections, merge, show
from tests.api.test_api_cli import cli_env, use_key  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration

INCIDENT = "inc-cluster-bridge"


def run(command, args: list[str]) -> str:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(command, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_an_analyst_reads_an_incident_folds_a_search_and_corrects(
    cli_env: Corpus,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_key(monkeypatch, KEYS["analyst"])
    shown = run(show, [INCIDENT, "--justification", "case 9"])
    assert shown.startswith(f"incident {INCIDENT}: 3 report(s) in 2 cluster(s), 2026-11-01 09:00")
    assert "sources: public_report 2, hotline_call 1" in shown
    assert "phone: +447700900123 (3)" in shown
    assert not [v for v in RESTRICTED_VALUES if v.lower() in shown.lower()]

    folded = run(search, ["07700 900123", "--fold", "incident", "--justification", "case 9"])
    assert folded.splitlines()[0] == "3 matching reports in 1 incident"

    said = run(merge, [INCIDENT, "--into", "inc-cluster-school", "--justification", "same"])
    assert said.startswith("correction ") and "merge pending" in said
    listed = run(corrections, ["--incident", INCIDENT])
    assert f"merge pending  alice        {INCIDENT} -> inc-cluster-school" in listed
