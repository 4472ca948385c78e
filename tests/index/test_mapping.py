"""The mapping (unit) and `ensure_index` against the real node (integration)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from elasticsearch import Elasticsearch

from pipeline.enrich.mentions import EntityType
from pipeline.index.mapping import (
    ADDED_FIELDS,
    MAPPING_VERSION,
    create_index,
    ensure_index,
    index_name,
    mappings,
    probe_text_analyzer,
    resolve_alias,
)
from pipeline.settings import Settings


def test_mapping_covers_every_entity_type_and_hides_personal_data() -> None:
    mapping = mappings("standard")
    assert mapping["dynamic"] == "strict"
    properties = mapping["properties"]
    assert set(properties["entities"]["properties"]) == {t.value for t in EntityType}
    assert properties["entity_mentions"]["type"] == "nested"
    assert properties["restricted"] == {"type": "object", "enabled": False}
    assert properties["extra"] == {"type": "object", "enabled": False}
    assert mapping["_meta"]["mapping_version"] == MAPPING_VERSION


def test_text_analyzer_is_configurable() -> None:
    assert mappings("english")["properties"]["text"]["analyzer"] == "english"


@pytest.fixture
def alias_settings(settings: Settings, index_factory: Callable[[str], str]) -> Settings:
    return settings.model_copy(update={"index_alias": index_factory("map")})


@pytest.mark.integration
def test_ensure_index_is_idempotent(es: Elasticsearch, alias_settings: Settings) -> None:
    alias = alias_settings.index_alias
    first = ensure_index(es, alias_settings)
    assert first == index_name(alias, MAPPING_VERSION)
    assert ensure_index(es, alias_settings) == first
    assert resolve_alias(es, alias) == [first]
    template = es.indices.get_index_template(name=alias)["index_templates"][0]
    assert template["index_template"]["index_patterns"] == [f"{alias}-v*"]


@pytest.mark.integration
def test_mapping_uses_the_analyzer_the_cluster_has(
    es: Elasticsearch, alias_settings: Settings
) -> None:
    index = ensure_index(es, alias_settings)
    mapping = es.indices.get_mapping(index=index)[index]["mappings"]
    analyzer = probe_text_analyzer(es)
    assert mapping["properties"]["text"]["analyzer"] == analyzer
    assert mapping["_meta"]["text_analyzer"] == analyzer
    nodes = es.nodes.info(metric="plugins")["nodes"]
    modules = {m["name"] for node in nodes.values() for m in node.get("modules", [])}
    assert analyzer == ("english" if "analysis-common" in modules else "standard")


@pytest.mark.integration
def test_existing_alias_is_never_moved(es: Elasticsearch, alias_settings: Settings) -> None:
    alias = alias_settings.index_alias
    ensure_index(es, alias_settings)
    newer = index_name(alias, MAPPING_VERSION + 1)
    create_index(es, alias_settings, newer, "standard")
    es.indices.update_aliases(
        actions=[
            {"remove": {"index": index_name(alias, MAPPING_VERSION), "alias": alias}},
            {"add": {"index": newer, "alias": alias, "is_write_index": True}},
        ]
    )
    assert ensure_index(es, alias_settings) == newer
    assert resolve_alias(es, alias) == [newer]


@pytest.mark.integration
def test_index_created_by_the_template_gets_the_mapping(
    es: Elasticsearch, alias_settings: Settings
) -> None:
    ensure_index(es, alias_settings)
    stray = index_name(alias_settings.index_alias, 99)
    es.indices.create(index=stray)
    mapping = es.indices.get_mapping(index=stray)[stray]["mappings"]
    assert mapping["dynamic"] == "strict"
    assert mapping["properties"]["entity_mentions"]["type"] == "nested"


@pytest.mark.integration
def test_an_existing_index_takes_the_added_fields_in_place(
    es: Elasticsearch, alias_settings: Settings
) -> None:
    """An index made before `text_stems` existed refuses no document once ensured again."""
    alias = alias_settings.index_alias
    name = index_name(alias, MAPPING_VERSION)
    older = mappings("standard")
    del older["properties"]["text_stems"]
    es.indices.create(index=name, mappings=older)
    es.indices.put_alias(index=name, name=alias, is_write_index=True)

    assert ensure_index(es, alias_settings) == name
    properties = es.indices.get_mapping(index=name)[name]["mappings"]["properties"]
    assert properties["text_stems"] == ADDED_FIELDS["text_stems"]
    es.index(index=alias, id="x", document={"text": "bags", "text_stems": "bag"}, refresh=True)
    found = es.search(index=alias, query={"match": {"text_stems": "bag"}})
    assert found["hits"]["total"]["value"] == 1
    assert ensure_index(es, alias_settings) == name  # idempotent
