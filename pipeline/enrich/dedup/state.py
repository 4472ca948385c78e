"""The dedup state index in Elasticsearch: its template, key lookups, create-only writes, lease.

One index, `<alias>-dedup`, holds three kinds of small documents, each found by `_id` only:

    <key>        {"c": cluster, "r": report}       a claim: fp:…, u:…, b<band>:…
    r:<report>   {"c": cluster, "d": dup, "s": sig} a report's answer and MinHash signature
    lock         {"owner": …, "expires_ms": …}      the lease that serialises decisions

Nothing is searched, so nothing is indexed but `_id`; `_source` carries the values.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from pipeline.clients import create_index_if_missing
from pipeline.enrich.clusters import ClusterAssignment
from pipeline.enrich.dedup import minhash
from pipeline.enrich.dedup.ledger import Assigned, Claim
from pipeline.errors import (
    SearchUnavailable,
    SinkBackpressure,
    Unavailability,
    es_failure_reason,
    unavailable,
)

LOCK_ID = "lock"
_MGET_CHUNK = 2000


def state_index(alias: str) -> str:
    """The state index of the pipeline whose analysts' alias is `alias`."""
    return f"{alias}-dedup"


def template_body(index: str) -> dict[str, Any]:
    """Index template for the state index; its priority beats broad `<alias>-*` templates."""
    return state_template(index, owner="pipeline.enrich.dedup", layout=1)


def state_template(
    index: str, *, owner: str, layout: int, properties: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """An index template for one small shared state index (dedup, incidents): one shard, a
    replica where there is a second node, nothing mapped but `properties`, and a priority
    above broad `<alias>-*` templates."""
    return {
        "index_patterns": [index],
        "priority": 500,
        "template": {
            "settings": {"number_of_shards": 1, "auto_expand_replicas": "0-1"},
            "mappings": {"dynamic": False, "properties": dict(properties or {})},
        },
        "_meta": {"owner": owner, "layout": layout},
    }


def ensure_state(es: Elasticsearch, index: str) -> None:
    """Create or update the template, then the index; safe to call from every worker."""
    ensure_with_template(es, index, template_body(index))


def ensure_with_template(es: Elasticsearch, index: str, body: Mapping[str, Any]) -> None:
    """Put the index template `body` (`index_patterns`, `priority`, `template`, `_meta`), then
    create `index` if missing; another worker creating it at the same moment is no error."""
    es.indices.put_index_template(
        name=index,
        index_patterns=body["index_patterns"],
        priority=body["priority"],
        template=body["template"],
        meta=body["_meta"],
    )
    create_index_if_missing(es, index)


def fetch(es: Elasticsearch, index: str, ids: Iterable[str]) -> dict[str, Mapping[str, Any]]:
    """`_source` of every existing document among `ids` (realtime: sees unrefreshed writes).

    A document the node could not read (closed index, unavailable shard) raises
    `SearchUnavailable`: read as "not found" it would open a second cluster for a story.
    """
    wanted = sorted(set(ids))
    found: dict[str, Mapping[str, Any]] = {}
    for start in range(0, len(wanted), _MGET_CHUNK):
        response = es.mget(index=index, ids=wanted[start : start + _MGET_CHUNK], realtime=True)
        for doc in response["docs"]:
            if "error" in doc:
                raise state_failure(f"dedup state read of {index}", None, doc["error"])
            if doc.get("found"):
                found[doc["_id"]] = doc["_source"]
    return found


def state_failure(action: str, status: int | None, error: Any) -> SearchUnavailable:
    """The `SearchUnavailable` for one failed item of a state read or write (or one failed
    search of a batch's `msearch`, or one shard of a read)."""
    error_type = error.get("type") if isinstance(error, dict) else None
    message = error.get("reason") if isinstance(error, dict) else None
    reason = es_failure_reason(status, error_type, message)
    return unavailable(f"{action}: {status or 'item'} {error_type or reason}", reason)


def claim_doc(claim: Claim) -> dict[str, Any]:
    """State document of a claim."""
    return {"c": claim.cluster, "r": claim.report}


def report_doc(assigned: Assigned) -> dict[str, Any]:
    """State document of an assigned report."""
    doc: dict[str, Any] = {"c": assigned.assignment.cluster_id, "d": assigned.assignment.duplicate}
    if assigned.signature is not None:
        doc["s"] = minhash.encode(assigned.signature)
    return doc


def parse_claim(source: Mapping[str, Any]) -> Claim:
    """Inverse of `claim_doc`."""
    return Claim(cluster=source["c"], report=source["r"])


def parse_report(source: Mapping[str, Any]) -> Assigned:
    """Inverse of `report_doc`."""
    signature = minhash.decode(source["s"]) if "s" in source else None
    return Assigned(ClusterAssignment(cluster_id=source["c"], duplicate=source["d"]), signature)


def create_all(es: Elasticsearch, index: str, docs: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """Create every document that does not exist yet; return the ids that already existed.

    Create-only writes never overwrite a claim or an answer, so even two writers that both
    believe they hold the lease cannot change what someone else decided. Any item failure
    other than that 409 raises `SearchUnavailable`: the state is not what the batch decided.
    """
    conflicts: set[str] = set()
    items = list(docs.items())
    for start in range(0, len(items), 1000):
        operations: list[Mapping[str, Any]] = []
        for doc_id, doc in items[start : start + 1000]:
            operations += [{"create": {"_index": index, "_id": doc_id}}, doc]
        response = es.bulk(operations=operations, refresh=False)
        if not response["errors"]:
            continue
        for item in response["items"]:
            result = item["create"]
            if result["status"] == 409:
                conflicts.add(result["_id"])
            elif result["status"] >= 300:
                error = result.get("error")
                raise state_failure(f"dedup state write to {index}", result["status"], error)
    return conflicts


class Lease:
    """A held lock with a deadline; `expired()` is checked before writing."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def expired(self) -> bool:
        """True once the lease may have been broken by another worker."""
        return time.time() >= self.deadline


@contextmanager
def locked(es: Elasticsearch, index: str, ttl_s: float, wait_s: float) -> Iterator[Lease]:
    """Hold the state's lock: a `lock` document created only if absent, broken once expired.

    Breaking is a conditional delete on the expired document's sequence number, so two
    workers that both see it expired cannot both take it over.
    """
    owner = uuid.uuid4().hex
    give_up = time.monotonic() + wait_s
    pause = 0.002
    while True:
        expires = time.time() + ttl_s
        try:
            created = es.create(
                index=index,
                id=LOCK_ID,
                document={"owner": owner, "expires_ms": int(expires * 1000)},
            )
            break
        except ConflictError:
            _break_if_expired(es, index)
        if time.monotonic() >= give_up:
            raise SinkBackpressure(
                f"dedup lock on {index} busy for {wait_s}s",
                retry_after=1.0,
                reason=Unavailability.LOCK_BUSY,
            )
        time.sleep(pause * (1 + random.random()))
        pause = min(pause * 2, 0.05)
    try:
        yield Lease(deadline=expires)
    finally:
        # A conflict here means our lease expired and someone took the lock: theirs now.
        with suppress(ConflictError, NotFoundError):
            es.delete(
                index=index,
                id=LOCK_ID,
                if_seq_no=created["_seq_no"],
                if_primary_term=created["_primary_term"],
            )


def _break_if_expired(es: Elasticsearch, index: str) -> None:
    try:
        current = es.get(index=index, id=LOCK_ID)
    except NotFoundError:
        return
    if current["_source"]["expires_ms"] > time.time() * 1000:
        return
    with suppress(ConflictError, NotFoundError):  # another worker broke it first
        es.delete(
            index=index,
            id=LOCK_ID,
            if_seq_no=current["_seq_no"],
            if_primary_term=current["_primary_term"],
        )
