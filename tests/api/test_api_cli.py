"""`pipeline search` and `pipeline audit` through the API served on loopback, over the real index.

The CLI's own environment holds a forged PIPELINE_API_KEYS table and the real Elasticsearch
URL: neither may give it anything. Only the key the API knows counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from api_support import KEYS, RESTRICTED_VALUES, Corpus, Sample, audit_entries, index_samples
from click.testing import CliRunner
from elasticsearch import Elasticsearch

from pipeline.cli.api import audit, search
from pipeline.ingest.sources import Source
from pipeline.settings import get_settings

pytestmark = pytest.mark.integration

FORGED_KEY = "forged-restricted-key-0666"
FORGED_KEYS_JSON = json.dumps({FORGED_KEY: {"user": "mallory", "role": "restricted"}})
ESCAPES = ("\x1b", "\x07", "\x9b", "\u202e", "\u202c", "\u2066", "\u2069")
HOSTILE_TEXT = (
    "Escapeword report \x1b[2J\x1b]0;owned\x07 then \x9b31m and \u202eterces\u202c "
    "\u2066isolated\u2069 end."
)


def searches(es: Elasticsearch, corpus: Corpus) -> list[tuple[str, str, str]]:
    return [
        (e.user, e.role, e.channel)
        for e in audit_entries(es, corpus.settings)
        if e.action == "search"
    ]


@pytest.fixture
def cli_env(corpus: Corpus, base_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Corpus]:
    monkeypatch.setenv("PIPELINE_API_URL", base_url)
    monkeypatch.setenv("COLUMNS", "200")  # the table's width: room for the whole snippet
    monkeypatch.setenv("PIPELINE_API_KEYS", FORGED_KEYS_JSON)
    monkeypatch.setenv("ELASTICSEARCH_URL", corpus.settings.es_hosts)
    monkeypatch.setenv("PIPELINE_INDEX_ALIAS", corpus.settings.index_alias)
    monkeypatch.delenv("PIPELINE_API_KEY", raising=False)
    monkeypatch.delenv("PIPELINE_AUDIT_INDEX", raising=False)
    get_settings.cache_clear()
    yield corpus
    get_settings.cache_clear()


def use_key(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    monkeypatch.setenv("PIPELINE_API_KEY", key)
    get_settings.cache_clear()


def test_a_forged_key_table_in_the_callers_environment_grants_nothing(
    cli_env: Corpus, monkeypatch: pytest.MonkeyPatch, es: Elasticsearch
) -> None:
    use_key(monkeypatch, FORGED_KEY)
    result = CliRunner().invoke(search, ["depot", "--justification", "mine now"])
    assert result.exit_code == 1, result.output
    assert "does not accept PIPELINE_API_KEY (401)" in result.output
    assert not any(value.lower() in result.output.lower() for value in RESTRICTED_VALUES)
    assert "hotline_call" not in result.output
    entries = audit_entries(es, cli_env.settings)
    assert searches(es, cli_env) == []
    # The refusal itself is on the record, under nobody's name.
    [refused] = [e for e in entries if e.action == "refused"]
    assert (refused.user, refused.role) == ("anonymous", "none")
    assert refused.query["statuses"] == {"401": 1}
    assert refused.query["routes"] == {"/api/search": 1}


def test_user_option_cannot_impersonate(
    cli_env: Corpus, monkeypatch: pytest.MonkeyPatch, es: Elasticsearch
) -> None:
    runner = CliRunner()
    # Without a key there is no identity to borrow, --user or not.
    keyless = runner.invoke(search, ["bridge", "--justification", "x", "--user", "carol"])
    assert keyless.exit_code != 0
    assert runner.invoke(search, ["bridge", "--justification", "x"]).exit_code == 1
    use_key(monkeypatch, KEYS["analyst"])
    claimed = runner.invoke(search, ["bridge", "--justification", "x", "--user", "carol"])
    assert claimed.exit_code == 2 and "No such option" in claimed.output
    assert searches(es, cli_env) == []
    ok = runner.invoke(search, ["bridge", "--no-collapse", "--json", "--justification", "cli 1"])
    assert ok.exit_code == 0, ok.output
    page = json.loads(ok.output)
    assert {r["source_id"] for r in page["results"]} == {"pr-1", "pr-2", "rr-1"}
    assert not any(value.lower() in ok.output.lower() for value in RESTRICTED_VALUES)
    assert searches(es, cli_env) == [("alice", "analyst", "cli")]
    [entry] = [e for e in audit_entries(es, cli_env.settings) if e.action == "search"]
    assert entry.ids == [r["id"] for r in page["results"]]


def test_cli_needs_no_elasticsearch_of_its_own(
    cli_env: Corpus, monkeypatch: pytest.MonkeyPatch, es: Elasticsearch
) -> None:
    monkeypatch.setenv("ELASTICSEARCH_URL", "http://127.0.0.1:9")  # nothing listens there
    use_key(monkeypatch, KEYS["analyst"])
    result = CliRunner().invoke(search, ["bridge", "--justification", "no es"])
    assert result.exit_code == 0, result.output
    assert "matching report" in result.output


def test_restricted_key_shows_details_in_table(
    cli_env: Corpus, monkeypatch: pytest.MonkeyPatch, es: Elasticsearch
) -> None:
    use_key(monkeypatch, KEYS["restricted"])
    result = CliRunner().invoke(
        search, ["depot", "--entity", "vehicle=ab12 cde", "--justification", "op X"]
    )
    assert result.exit_code == 0, result.output
    assert "hotline_call" in result.output and "[depot]" in result.output
    assert "Ottoline Vexworth" in result.output
    assert searches(es, cli_env) == [("rita", "restricted", "cli")]


def test_operator_key_may_not_search(cli_env: Corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    use_key(monkeypatch, KEYS["operator"])
    result = CliRunner().invoke(search, ["x", "--justification", "why"])
    assert result.exit_code == 1 and "(403)" in result.output and "may not search" in result.output


def test_search_needs_a_justification(
    cli_env: Corpus, monkeypatch: pytest.MonkeyPatch, es: Elasticsearch
) -> None:
    use_key(monkeypatch, KEYS["analyst"])
    assert CliRunner().invoke(search, ["bridge"]).exit_code != 0
    assert CliRunner().invoke(search, ["bridge", "--justification", "  "]).exit_code != 0
    assert audit_entries(es, cli_env.settings) == []


def test_report_text_cannot_drive_the_terminal(
    cli_env: Corpus, monkeypatch: pytest.MonkeyPatch, es: Elasticsearch
) -> None:
    hostile = Sample(
        "esc",
        Source.PUBLIC_REPORT,
        "pr-esc",
        datetime(2026, 11, 5, 9, 0, tzinfo=UTC),
        HOSTILE_TEXT,
        (),
        None,
        "cluster-esc",
    )
    index_samples(es, cli_env.settings, (hostile,))
    use_key(monkeypatch, KEYS["analyst"])
    table = CliRunner().invoke(search, ["escapeword", "--justification", "escapes"])
    as_json = CliRunner().invoke(search, ["escapeword", "--json", "--justification", "escapes"])
    for result in (table, as_json):
        assert result.exit_code == 0, result.output
        assert [c for c in ESCAPES if c in result.output] == []
    assert "\\u001b[2J" in table.output and "\\u202eterces" in table.output
    # The JSON stays the same JSON: escaped characters decode back to the report's text.
    assert json.loads(as_json.output)["results"][0]["text"] == HOSTILE_TEXT


def test_audit_is_read_through_the_api_by_auditors_and_reading_is_audited(
    cli_env: Corpus, monkeypatch: pytest.MonkeyPatch, es: Elasticsearch
) -> None:
    runner = CliRunner()
    for role, query in (("analyst", "bridge"), ("restricted", "depot"), ("analyst", "video")):
        use_key(monkeypatch, KEYS[role])
        ok = runner.invoke(search, [query, "--justification", f"{role} {query}"])
        assert ok.exit_code == 0, ok.output
    es.indices.refresh(index=f"{cli_env.settings.index_alias}-audit")
    use_key(monkeypatch, KEYS["analyst"])
    refused = runner.invoke(audit, ["--json"])
    assert refused.exit_code == 1 and "(403)" in refused.output
    use_key(monkeypatch, KEYS["auditor"])
    listed = runner.invoke(audit, ["--user", "alice", "--json", "--since", "1h"])
    assert listed.exit_code == 0, listed.output
    records = [json.loads(line) for line in listed.output.splitlines()]
    assert [r["justification"] for r in records] == ["analyst video", "analyst bridge"]
    table = runner.invoke(audit, ["--action", "search", "--justification", "quarterly check"])
    assert table.exit_code == 0 and table.output.count(" search ") == 3
    assert runner.invoke(audit, ["--action", "view_report"]).output == ""
    reads = [e for e in audit_entries(es, cli_env.settings) if e.action == "read_audit"]
    assert {(e.user, e.role, e.channel) for e in reads} == {("ada", "auditor", "cli")}
    assert "quarterly check" in {e.justification for e in reads}
    assert {"user": "alice", "limit": 50} in [
        {k: v for k, v in e.query.items() if k != "since"} for e in reads
    ]
