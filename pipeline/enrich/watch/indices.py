"""The watch package's own small indices (entries, alerts): created once, safe to race."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pipeline.errors import SearchRefused, map_es_errors

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

log = logging.getLogger(__name__)


def ensure_small_index(es: Elasticsearch, index: str, mappings: dict[str, Any]) -> str:
    """Create `index` (one shard, a replica where the cluster has a second node) unless it
    exists; another worker creating it at the same moment is fine. An index created by older
    code gets the fields added since (a strict mapping refuses documents naming them).
    Returns its name."""
    import elasticsearch

    with map_es_errors(f"create {index}"):
        try:
            es.indices.create(
                index=index,
                mappings=mappings,
                settings={"number_of_shards": 1, "auto_expand_replicas": "0-1"},
            )
        except elasticsearch.BadRequestError as exc:
            if exc.error != "resource_already_exists_exception":
                raise
        else:
            return index
    try:
        with map_es_errors(f"add new fields to {index}"):
            # adding fields is idempotent; changing one that exists would be refused (400)
            es.indices.put_mapping(index=index, properties=mappings["properties"])
    except SearchRefused as exc:
        # A login that may create the index but not manage it (a worker only reads the
        # watchlist): the index is used as it is; `pipeline index ensure` (admin) adds fields.
        log.warning(
            "cannot add new fields to %s as this login (%s); run `pipeline index ensure`",
            index,
            exc,
        )
    return index
