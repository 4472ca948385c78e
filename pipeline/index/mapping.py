"""The `reports` index: its explicit mapping, the versioned index behind the alias, its template."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pipeline.enrich.mentions import EntityType
from pipeline.errors import map_es_errors

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from pipeline.settings import Settings

__all__ = [
    "ADDED_FIELDS",
    "MAPPING_VERSION",
    "ensure_index",
    "index_body",
    "index_name",
    "mappings",
    "probe_text_analyzer",
    "resolve_alias",
]

log = logging.getLogger(__name__)

# Bump when the mapping changes in a way existing indices cannot take (then `pipeline reindex`).
# 2: restricted values in the narrative are masked in `text` and `entities.*` (the original
# under `restricted.text`); a version-1 index still shows them to analysts until reindexed.
# 3: `entities_truncated` (contract v2). The root is strict, so an older index refuses a
# document that has it (only a narrative longer than NER reads: such a record was dead-lettered
# as too_long before) until `pipeline reindex` builds version 3.
MAPPING_VERSION = 3

# Fields added since MAPPING_VERSION 3 that an existing index takes in place (`ensure_index`
# puts them into its mapping), so no reindex is needed for new documents to be written.
# `text_stems`: the Snowball stems of the masked `text` (`pipeline.enrich.stems`), so searches
# find word forms without the node's language analyzers; older documents gain it when
# reindexed from Kafka (`pipeline reindex --from kafka` builds every document anew).
# `entities.proscribed_org` (contract v2): `mappings()` has it from EntityType like every
# entity type; listed here so an existing index takes it too (its later `entities` wins there).
# `review_date` (contract v2) and `review`, the last review's decision (`pipeline retention`):
# older documents have no `review_date` until reindexed; `pipeline retention due` computes
# theirs from `@timestamp` meanwhile. `incident_id` (contract v2): older documents have none
# until reindexed from Kafka (their incidents are decided then).
# `priority` and `priority_reasons` (`pipeline.enrich.priority`): the queues sort on them;
# older documents have none until `pipeline reindex --from kafka` and sort as priority 0.
ADDED_FIELDS: dict[str, Any] = {
    "text_stems": {"type": "text", "analyzer": "standard"},
    "incident_id": {"type": "keyword"},  # contract v2 (pipeline.enrich.incidents)
    "priority": {"type": "byte"},
    "priority_reasons": {"type": "keyword"},
    "review_date": {"type": "date", "format": "strict_date"},
    "review": {
        "properties": {
            "outcome": {"type": "keyword"},
            "by": {"type": "keyword"},
            "at": {"type": "date"},
            "justification": {"type": "text", "index": False},
            "next_review": {"type": "date", "format": "strict_date"},
        }
    },
    "entities": {
        "properties": {EntityType.PROSCRIBED_ORG.value: {"type": "keyword", "ignore_above": 1024}}
    },
}

# Entity types whose values are names: also searchable word by word, not only as exact values.
_NAME_ENTITIES = frozenset({EntityType.PERSON, EntityType.ORG, EntityType.LOCATION})

# Keyword terms above this many characters are kept in _source but not indexed: Lucene refuses
# terms over 32 KB and a giant value would otherwise fail the whole document.
_IGNORE_ABOVE = 1024


def _keyword(ignore_above: int = _IGNORE_ABOVE) -> dict[str, Any]:
    return {"type": "keyword", "ignore_above": ignore_above}


def mappings(text_analyzer: str = "standard") -> dict[str, Any]:
    """The explicit mapping; `text_analyzer` is `english` where the cluster has it."""
    entities: dict[str, Any] = {}
    for entity_type in EntityType:
        field = _keyword()
        if entity_type in _NAME_ENTITIES:
            field["fields"] = {"text": {"type": "text", "analyzer": "standard"}}
        entities[entity_type.value] = field
    return {
        # strict: a field nobody mapped is a bug upstream of the index, and must not silently
        # grow the mapping; unknown upstream fields live under `extra`, which is not indexed.
        "dynamic": "strict",
        "_meta": {"mapping_version": MAPPING_VERSION, "text_analyzer": text_analyzer},
        "properties": {
            "source": {"type": "keyword"},
            "source_id": {"type": "keyword"},
            "@timestamp": {"type": "date"},
            "schema_version": {"type": "integer"},
            "text": {"type": "text", "analyzer": text_analyzer},
            **ADDED_FIELDS,
            "url": _keyword(4096),
            "location": {
                "properties": {
                    "text": {"type": "text", "fields": {"keyword": _keyword(256)}},
                    "postcode": {"type": "keyword"},
                    # a bad coordinate loses the map pin, not the whole report
                    "geo": {"type": "geo_point", "ignore_malformed": True},
                }
            },
            "entities": {"properties": entities},
            "entity_mentions": {
                "type": "nested",
                "properties": {
                    "type": {"type": "keyword"},
                    "text": _keyword(),
                    "value": _keyword(),
                    "start": {"type": "integer"},
                    "end": {"type": "integer"},
                },
            },
            "cluster_id": {"type": "keyword"},
            "duplicate": {"type": "boolean"},
            "region": {"type": "keyword"},
            # true when the narrative was too long for NER to read whole (absent otherwise)
            "entities_truncated": {"type": "boolean"},
            # per-source attributes: the known ones are mapped, a new one is kept in _source
            # without widening the mapping (dynamic false, not strict: it is not a record fault)
            "attributes": {
                "dynamic": False,
                "properties": {
                    "channel": {"type": "keyword"},
                    "platform": {"type": "keyword"},
                    "referrer_type": {"type": "keyword"},
                    "handler_id": {"type": "keyword"},
                    "duration_s": {"type": "float"},
                },
            },
            # personal data: stored and returned to the restricted role, never searchable. Besides
            # reporter, caller and subject it holds the narrative as written (`text`) and the
            # mentions masked out of `text` (`entities`, `entity_mentions`); `enabled: false`
            # keeps all of it out of the inverted index, the doc values and the mapping.
            "restricted": {"type": "object", "enabled": False},
            "extra": {"type": "object", "enabled": False},
            "kafka": {
                "properties": {
                    "topic": {"type": "keyword"},
                    "partition": {"type": "integer"},
                    "offset": {"type": "long"},
                }
            },
            "event": {
                "properties": {
                    "created": {"type": "date"},
                    "ingested": {"type": "date"},
                }
            },
        },
    }


def index_body(text_analyzer: str, *, replicas: int) -> dict[str, Any]:
    """Settings and mappings for a new versioned index (and for the template)."""
    return {
        "settings": {"index": {"number_of_shards": 1, "number_of_replicas": replicas}},
        "mappings": mappings(text_analyzer),
    }


def index_name(alias: str, version: int) -> str:
    """`<alias>-v<version>`: the concrete index behind the alias."""
    return f"{alias}-v{version}"


def probe_text_analyzer(es: Elasticsearch) -> str:
    """`english` when the cluster has it (analysis-common), else `standard` (integ-test node)."""
    import elasticsearch

    try:
        with map_es_errors("probe analyzers", expect=(400,)):
            es.indices.analyze(analyzer="english", text="probing")
    except elasticsearch.BadRequestError:
        return "standard"
    return "english"


def resolve_alias(es: Elasticsearch, alias: str) -> list[str]:
    """The indices the alias points to now; empty when the alias does not exist."""
    with map_es_errors(f"resolve alias {alias}"):
        if not es.indices.exists_alias(name=alias):
            return []
        return sorted(es.indices.get_alias(name=alias).body)


def _replicas(settings: Settings) -> int:
    if settings.index_replicas is not None:
        return settings.index_replicas
    # a single local node cannot hold a replica; a local cluster (STACK_ES_NODES) can
    return 0 if settings.uses_local_stack and settings.stack_es_nodes == 1 else 1


def ensure_template(es: Elasticsearch, settings: Settings, text_analyzer: str) -> None:
    """Index template for `<alias>-v*`, so any index of the family gets the mapping."""
    alias = settings.index_alias
    with map_es_errors(f"put index template {alias}"):
        es.indices.put_index_template(
            name=alias,
            index_patterns=[f"{alias}-v*"],
            # above the built-in templates (100) so a pattern overlap never picks theirs
            priority=200,
            template=index_body(text_analyzer, replicas=_replicas(settings)),
            meta={"managed_by": "ct-intake-pipeline", "mapping_version": MAPPING_VERSION},
        )


def create_index(es: Elasticsearch, settings: Settings, name: str, text_analyzer: str) -> None:
    """Create a versioned index with the current mapping; an existing one is left alone."""
    import elasticsearch

    body = index_body(text_analyzer, replicas=_replicas(settings))
    try:
        with map_es_errors(f"create index {name}", expect=(400,)):
            es.indices.create(index=name, settings=body["settings"], mappings=body["mappings"])
    except elasticsearch.BadRequestError as exc:
        if exc.error != "resource_already_exists_exception":
            raise


def ensure_index(es: Elasticsearch, settings: Settings) -> str:
    """Make the template, versioned index and alias exist; return the index the alias names.

    Idempotent and safe to run from every worker at start: an alias that already exists is
    never moved (after a reindex it points to a newer version, and that is the one to use).
    """
    alias = settings.index_alias
    analyzer = probe_text_analyzer(es)
    ensure_template(es, settings, analyzer)
    current = resolve_alias(es, alias)
    if current:
        with map_es_errors(f"add new fields to {current[0]}"):
            es.indices.put_mapping(index=current[0], properties=ADDED_FIELDS)
        _warn_if_outdated(es, current[0])
        return current[0]
    name = index_name(alias, MAPPING_VERSION)
    create_index(es, settings, name, analyzer)
    with map_es_errors(f"add alias {alias}"):
        # one call: two workers starting together both land on the same single target
        es.indices.update_aliases(
            actions=[{"add": {"index": name, "alias": alias, "is_write_index": True}}]
        )
    return resolve_alias(es, alias)[0]


def _warn_if_outdated(es: Elasticsearch, index: str) -> None:
    with map_es_errors(f"get mapping {index}"):
        body = es.indices.get_mapping(index=index).body
    meta = body.get(index, {}).get("mappings", {}).get("_meta", {})
    if int(meta.get("mapping_version", 0)) < MAPPING_VERSION:
        log.warning(
            "index %s has mapping version %s < %s: run `pipeline reindex`",
            index,
            meta.get("mapping_version"),
            MAPPING_VERSION,
        )
