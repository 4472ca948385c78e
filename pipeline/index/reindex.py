"""Build `<alias>-v<N+1>` beside the live index, swap the alias atomically, then catch up.

Works on the integration-test node and a full cluster alike: the copy is a client-side scan
(point-in-time + `search_after`) fed to the bulk sink, not the `_reindex` API. Documents keep
their external versions, so a live worker writing the same document meanwhile never loses to
the copy: whichever carries the newer record wins, in either order.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pipeline.enrich.priority import report_priority
from pipeline.enrich.stems import stems_text
from pipeline.errors import ConfigError, map_es_errors
from pipeline.index.mapping import (
    MAPPING_VERSION,
    create_index,
    ensure_template,
    index_name,
    probe_text_analyzer,
    resolve_alias,
)
from pipeline.index.protected import protect_source
from pipeline.index.sink import BulkSink, IndexAction

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from pipeline.settings import Settings

__all__ = [
    "Progress",
    "ReindexResult",
    "copy_documents",
    "plan",
    "reindex_from_index",
    "swap_alias",
]

log = logging.getLogger(__name__)

# phase ("copy", "catch-up", "replay" ...), done so far, total when known
Progress = Callable[[str, int, int | None], None]

# Documents built this long before the scan began may still be in flight to the old index
# (enrichment, bulk retries with backoff); the catch-up pass re-copies them, harmlessly.
CATCH_UP_MARGIN = timedelta(minutes=5)


def _no_progress(phase: str, done: int, total: int | None) -> None:
    """Default progress hook: report nothing."""


@dataclass(frozen=True, slots=True)
class ReindexResult:
    """What a reindex did. `old_index` is None when the alias did not exist before."""

    old_index: str | None
    new_index: str
    copied: int
    caught_up: int
    rejected: int
    old_index_deleted: bool


def _generation(alias: str, index: str) -> int:
    match = re.fullmatch(rf"{re.escape(alias)}-v(\d+)", index)
    return int(match.group(1)) if match else 0


def plan(es: Elasticsearch, settings: Settings, version: int | None) -> tuple[str | None, str]:
    """(index the alias names now or None, the new index to build); the new one must not exist."""
    alias = settings.index_alias
    current = resolve_alias(es, alias)
    if len(current) > 1:
        raise ConfigError(f"alias {alias} points to {len(current)} indices: {current}; fix by hand")
    old = current[0] if current else None
    if version is None:
        with map_es_errors(f"list {alias}-v*"):
            existing = es.indices.get(index=f"{alias}-v*", expand_wildcards="all").body
        version = max([MAPPING_VERSION - 1, *(_generation(alias, name) for name in existing)]) + 1
    new = index_name(alias, version)
    with map_es_errors(f"check {new}"):
        exists = bool(es.indices.exists(index=new))
    if new == old or exists:
        raise ConfigError(f"{new} exists already; pick another --mapping-version or delete it")
    return old, new


def prepare(es: Elasticsearch, settings: Settings, new: str) -> None:
    """Refresh the template to this code's mapping and create the new index from it."""
    analyzer = probe_text_analyzer(es)
    ensure_template(es, settings, analyzer)
    create_index(es, settings, new, analyzer)


def swap_alias(es: Elasticsearch, alias: str, old: str | None, new: str) -> None:
    """Point the alias at `new` in one `_aliases` call: searches never see no index or two.

    `new` is refreshed first, so searches right after the swap already see all it holds.
    """
    with map_es_errors(f"refresh {new}"):
        es.indices.refresh(index=new)
    actions: list[dict[str, Any]] = []
    if old is not None:
        actions.append({"remove": {"index": old, "alias": alias}})
    actions.append({"add": {"index": new, "alias": alias, "is_write_index": True}})
    with map_es_errors(f"swap alias {alias} to {new}"):
        es.indices.update_aliases(actions=actions)


def finish(es: Elasticsearch, old: str | None, *, delete_old: bool) -> bool:
    """Delete the old index when asked; it is kept by default as the way back."""
    if old is None or not delete_old:
        return False
    with map_es_errors(f"delete {old}"):
        es.indices.delete(index=old)
    return True


def _scan(
    es: Elasticsearch, index: str, query: dict[str, Any], page: int
) -> Iterator[list[dict[str, Any]]]:
    """Pages of hits (with `_version`) from a point-in-time, in `_shard_doc` order."""
    with map_es_errors(f"open point in time on {index}"):
        pit = es.open_point_in_time(index=index, keep_alive="2m").body["id"]
    try:
        after: list[Any] | None = None
        while True:
            with map_es_errors(f"scan {index}"):
                body = es.search(
                    pit={"id": pit, "keep_alive": "2m"},
                    query=query,
                    sort=[{"_shard_doc": "asc"}],
                    size=page,
                    search_after=after,
                    version=True,
                    track_total_hits=False,
                ).body
            pit = body.get("pit_id", pit)
            hits: list[dict[str, Any]] = body["hits"]["hits"]
            if not hits:
                return
            yield hits
            after = hits[-1]["sort"]
    finally:
        with map_es_errors(f"close point in time on {index}"):
            es.close_point_in_time(id=pit)


def _upgraded(source: dict[str, Any]) -> dict[str, Any]:
    """A stored document brought up to what the pipeline writes now: restricted values masked
    (documents from before masking), the word stems of its `text` (from before stems) and its
    derived priority (from before priorities; its incident only a reindex from Kafka gives)."""
    document = protect_source(source)
    text = document.get("text")
    if "text_stems" not in document and isinstance(text, str):
        document = {**document, "text_stems": stems_text(text)}
    if "priority" not in document and "source" in document:
        priority = report_priority(str(document["source"]), document.get("entities") or {})
        document = {**document, "priority": priority.score}
        if priority.reasons:
            document["priority_reasons"] = list(priority.reasons)
    return document


def copy_documents(
    es: Elasticsearch,
    sink: BulkSink,
    source: str,
    target: str,
    *,
    since: datetime | None = None,
    page: int = 1000,
    phase: str = "copy",
    progress: Progress = _no_progress,
) -> tuple[int, int]:
    """Copy every document (or those ingested at or after `since`) with its version.

    Returns (copied, rejected). A document the new mapping rejects is logged and counted,
    not fatal: the old index still holds it and the operator decides.
    """
    query: dict[str, Any] = {"match_all": {}}
    if since is not None:
        query = {"range": {"event.ingested": {"gte": since.isoformat()}}}
    with map_es_errors(f"count {source}"):
        total = int(es.count(index=source, query=query)["count"])
    copied = rejected = 0
    for hits in _scan(es, source, query, page):
        actions = [
            IndexAction(hit["_id"], hit["_version"], _upgraded(hit["_source"])) for hit in hits
        ]
        for outcome in sink.write(actions, index=target):
            if outcome.status == "rejected":
                rejected += 1
                log.error(
                    "%s: %s rejected by %s: %s", phase, outcome.action.doc_id, target, outcome.error
                )
            else:
                copied += 1
        progress(phase, copied + rejected, total)
    return copied, rejected


def reindex_from_index(
    es: Elasticsearch,
    settings: Settings,
    *,
    version: int | None = None,
    delete_old: bool = False,
    progress: Progress = _no_progress,
    sink: BulkSink | None = None,
    page: int = 1000,
    catch_up_margin: timedelta = CATCH_UP_MARGIN,
) -> ReindexResult:
    """Copy the alias's index into a new version, swap the alias, then copy what came meanwhile."""
    old, new = plan(es, settings, version)
    if old is None:
        raise ConfigError(f"alias {settings.index_alias} does not exist: nothing to copy from")
    sink = sink or BulkSink.from_settings(es, settings)
    prepare(es, settings, new)
    started = datetime.now(UTC)
    copied, rejected = copy_documents(es, sink, old, new, page=page, progress=progress)
    swap_alias(es, settings.index_alias, old, new)
    # writes that resolved the alias before the swap must be visible to the catch-up scan
    with map_es_errors(f"refresh {old}"):
        es.indices.refresh(index=old)
    since = started - catch_up_margin
    caught_up, late_rejected = copy_documents(
        es, sink, old, new, since=since, page=page, phase="catch-up", progress=progress
    )
    deleted = finish(es, old, delete_old=delete_old)
    return ReindexResult(old, new, copied, caught_up, rejected + late_rejected, deleted)
