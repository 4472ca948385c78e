"""`pipeline index ensure` and `pipeline reindex` end to end against the real node."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch

from pipeline.cli.main import cli
from pipeline.index.mapping import MAPPING_VERSION, index_name, resolve_alias
from pipeline.settings import Settings, get_settings
from tests.harness import stack_env

pytestmark = pytest.mark.integration


@pytest.fixture
def alias(
    settings: Settings, index_factory: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    name = index_factory("cli")
    monkeypatch.setenv("PIPELINE_INDEX_ALIAS", name)
    for variable, value in stack_env(settings).items():
        monkeypatch.setenv(variable, value)
    get_settings.cache_clear()
    yield name
    get_settings.cache_clear()


def test_help_names_the_options() -> None:
    result = CliRunner().invoke(cli, ["reindex", "--help"])
    assert result.exit_code == 0
    for option in ("--from [index|kafka]", "--mapping-version", "--delete-old"):
        assert option in result.output


def test_ensure_then_reindex_moves_the_alias(es: Elasticsearch, alias: str) -> None:
    runner = CliRunner()
    ensured = runner.invoke(cli, ["index", "ensure"])
    assert ensured.exit_code == 0, ensured.output
    assert f"{alias} -> {index_name(alias, MAPPING_VERSION)}" in ensured.output

    reindexed = runner.invoke(cli, ["reindex", "--from", "index"])
    assert reindexed.exit_code == 0, reindexed.output
    assert f"{alias} -> {index_name(alias, MAPPING_VERSION + 1)}" in reindexed.output
    assert "kept" in reindexed.output
    assert resolve_alias(es, alias) == [index_name(alias, MAPPING_VERSION + 1)]

    # the target exists already: a clear error, not a traceback
    again = runner.invoke(cli, ["reindex", "--mapping-version", str(MAPPING_VERSION + 1)])
    assert again.exit_code != 0
    assert "exists already" in again.output
