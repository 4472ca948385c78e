"""`pipeline search` and `pipeline audit` against the real node: same queries, same audit trail."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from api_support import KEYS, KEYS_JSON, RESTRICTED_VALUES, Corpus, audit_entries
from click.testing import CliRunner
from elasticsearch import Elasticsearch

from pipeline.api.cli import audit, search
from pipeline.settings import get_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def cli_env(corpus: Corpus, monkeypatch: pytest.MonkeyPatch) -> Iterator[Corpus]:
    monkeypatch.setenv("ELASTICSEARCH_URL", corpus.settings.es_url)
    monkeypatch.setenv("PIPELINE_INDEX_ALIAS", corpus.settings.index_alias)
    monkeypatch.setenv("PIPELINE_API_KEYS", KEYS_JSON)
    monkeypatch.delenv("PIPELINE_API_KEY", raising=False)
    monkeypatch.delenv("PIPELINE_AUDIT_INDEX", raising=False)
    get_settings.cache_clear()
    yield corpus
    get_settings.cache_clear()


def test_search_as_analyst_by_default_is_audited(cli_env: Corpus, es: Elasticsearch) -> None:
    result = CliRunner().invoke(
        search,
        ["bridge", "--no-collapse", "--json", "--justification", "cli case", "--user", "carol"],
    )
    assert result.exit_code == 0, result.output
    page = json.loads(result.output)
    assert {r["source_id"] for r in page["results"]} == {"pr-1", "pr-2", "rr-1"}
    assert not any(value.lower() in result.output.lower() for value in RESTRICTED_VALUES)
    [entry] = audit_entries(es, cli_env.settings)
    assert (entry.user, entry.role, entry.channel, entry.action) == (
        "carol",
        "analyst",
        "cli",
        "search",
    )
    assert entry.ids == [r["id"] for r in page["results"]]


def test_search_with_restricted_key_shows_details_in_table(
    cli_env: Corpus, monkeypatch: pytest.MonkeyPatch, es: Elasticsearch
) -> None:
    monkeypatch.setenv("PIPELINE_API_KEY", KEYS["restricted"])
    get_settings.cache_clear()
    result = CliRunner().invoke(
        search, ["depot", "--entity", "vehicle=ab12 cde", "--justification", "op X"]
    )
    assert result.exit_code == 0, result.output
    assert "hotline_call" in result.output and "[depot]" in result.output
    assert "Ottoline Vexworth" in result.output
    [entry] = audit_entries(es, cli_env.settings)
    assert (entry.user, entry.role) == ("rita", "restricted")


def test_operator_key_may_not_search(cli_env: Corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_API_KEY", KEYS["operator"])
    get_settings.cache_clear()
    result = CliRunner().invoke(search, ["x", "--justification", "why"])
    assert result.exit_code != 0 and "may not search" in result.output


def test_search_needs_a_justification(cli_env: Corpus, es: Elasticsearch) -> None:
    assert CliRunner().invoke(search, ["bridge"]).exit_code != 0
    assert CliRunner().invoke(search, ["bridge", "--justification", "  "]).exit_code != 0
    assert audit_entries(es, cli_env.settings) == []


def test_audit_lists_and_filters(cli_env: Corpus, es: Elasticsearch) -> None:
    runner = CliRunner()
    for user, query in (("ann", "bridge"), ("bob", "depot"), ("ann", "video")):
        ok = runner.invoke(search, [query, "--justification", f"{user} {query}", "--user", user])
        assert ok.exit_code == 0, ok.output
    es.indices.refresh(index=f"{cli_env.settings.index_alias}-audit")
    listed = runner.invoke(audit, ["--user", "ann", "--json", "--since", "1h"])
    assert listed.exit_code == 0, listed.output
    records = [json.loads(line) for line in listed.output.splitlines()]
    assert [r["justification"] for r in records] == ["ann video", "ann bridge"]
    table = runner.invoke(audit, ["--action", "search"])
    assert table.exit_code == 0 and table.output.count(" search ") == 3
    assert runner.invoke(audit, ["--action", "view_report"]).output == ""
