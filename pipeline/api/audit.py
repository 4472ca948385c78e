"""The append-only audit trail: one record per search, view, export, audit read, refused
request (aggregated, see `refusals`), operator's look at dead letters, watchlist entry
created, listed, viewed, changed or deleted, alert read, streamed or acknowledged, erasure,
and reports listed as due for review or a review's decision.

Records go to `<alias>-audit` (or PIPELINE_AUDIT_INDEX) with `op_type=create` and ids that
Elasticsearch generates, so a write can never replace an earlier record; nothing in this
project updates or deletes them. Callers write the record *before* they return results.
"""

from __future__ import annotations

import getpass
import threading
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import elasticsearch

from pipeline.api.models import AuditEntry
from pipeline.clients import create_index_if_missing
from pipeline.errors import SearchUnavailable, map_es_errors
from pipeline.settings import Settings

if TYPE_CHECKING:
    from pipeline.api.auth import Principal

__all__ = ["Action", "AuditTrail", "AuditUnavailableError", "audit_index", "record_operator_view"]

AUDIT_MAPPING: dict[str, Any] = {
    # Unknown keys are kept in _source but never mapped: a record can never fail on a mapping.
    "dynamic": False,
    "properties": {
        "@timestamp": {"type": "date"},
        "user": {"type": "keyword"},
        "role": {"type": "keyword"},
        "action": {"type": "keyword"},
        "channel": {"type": "keyword"},
        "justification": {"type": "text"},
        "ids": {"type": "keyword"},
        "query": {"type": "object", "enabled": False},
    },
}


class AuditUnavailableError(SearchUnavailable):
    """The audit record could not be written, so the request must not be answered."""


class Action(StrEnum):
    """What an audited caller did."""

    SEARCH = "search"
    VIEW_REPORT = "view_report"
    VIEW_ENTITY = "view_entity"
    VIEW_INCIDENT = "view_incident"
    CORRECT_INCIDENT = "correct_incident"
    SIMILAR = "similar"
    EXPORT = "export"
    READ_AUDIT = "read_audit"
    REFUSED = "refused"
    DLQ_LIST = "dlq_list"
    DLQ_SHOW = "dlq_show"
    WATCH_CREATE = "watch_create"
    WATCH_LIST = "watch_list"
    WATCH_VIEW = "watch_view"
    WATCH_CHANGE = "watch_change"
    WATCH_DELETE = "watch_delete"
    ALERT_LIST = "alert_list"
    ALERT_VIEW = "alert_view"
    ALERT_ACK = "alert_ack"
    ALERT_STREAM = "alert_stream"
    # an erasure: who, why and which `source:id` keys, never the erased content
    ERASE = "erase"
    # `pipeline retention due`: the `source:id` keys listed as due for review
    REVIEW_DUE = "review_due"
    # a review's decision on one `source:id`, with its justification; `query.next_review` of
    # a retain is read back when due reviews are listed (pipeline.index.review.RetainDecisions)
    REVIEW_RETAIN = "review_retain"
    REVIEW_DELETE = "review_delete"


def audit_index(settings: Settings) -> str:
    """The audit index: PIPELINE_AUDIT_INDEX, else `<index alias>-audit`."""
    return settings.audit_index or f"{settings.index_alias}-audit"


class AuditTrail:
    """Writes and reads audit records in one index, creating it with its mapping on first use."""

    def __init__(self, es: elasticsearch.Elasticsearch, index: str) -> None:
        self.es = es
        self.index = index
        self._ready = False
        self._lock = threading.Lock()

    def _ensure(self) -> None:
        if self._ready:
            return
        with self._lock, map_es_errors("create the audit index"):
            if self._ready:
                return
            create_index_if_missing(self.es, self.index, mappings=AUDIT_MAPPING)
            self._ready = True

    def ensure(self) -> None:
        """Create the index with its mapping if missing: `index ensure` and `run` do, as admin.

        On a stack with security on the API's identity may only append (`create_doc`), so a
        deleted audit index makes its writes fail (503), never recreates it unnoticed.
        """
        self._ensure()

    def write(self, entry: AuditEntry) -> str:
        """Append one record and return its id; raises if it was not stored."""
        self._ensure()
        document = entry.model_dump(mode="json", exclude={"timestamp"})
        document["@timestamp"] = entry.timestamp.isoformat()
        try:
            with map_es_errors("write an audit record"):
                response = self.es.index(index=self.index, document=document, op_type="create")
        except elasticsearch.ApiError as exc:
            # Any refusal (a write block, a broken alias) means no record: no results either.
            raise AuditUnavailableError(f"audit write refused ({exc.meta.status})") from exc
        return str(response["_id"])

    def record(
        self,
        principal: Principal,
        action: Action,
        query: dict[str, Any] | None = None,
        ids: list[str] | None = None,
        *,
        justification: str,
        channel: str,
    ) -> str:
        """Append what `principal` did now (`write` of the entry made from it); its id."""
        return self.write(
            AuditEntry(
                timestamp=datetime.now(UTC),
                user=principal.user,
                role=principal.role.value,
                action=action.value,
                justification=justification,
                query=query or {},
                ids=ids or [],
                channel=channel,
            )
        )

    def list(
        self,
        *,
        user: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Records newest first, filtered by user, action and time."""
        with map_es_errors("read the audit trail"):
            if not self.es.indices.exists(index=self.index):
                return []
            filters: list[dict[str, Any]] = []
            if user:
                filters.append({"term": {"user": user}})
            if action:
                filters.append({"term": {"action": action}})
            if since or until:
                bounds = {}
                if since:
                    bounds["gte"] = since.isoformat()
                if until:
                    bounds["lte"] = until.isoformat()
                filters.append({"range": {"@timestamp": bounds}})
            response = self.es.search(
                index=self.index,
                query={"bool": {"filter": filters}},
                sort=[{"@timestamp": "desc"}],
                size=limit,
            )
        entries = []
        for hit in response["hits"]["hits"]:
            source = dict(hit["_source"])
            source["timestamp"] = source.pop("@timestamp")
            entries.append(AuditEntry.model_validate(source))
        return entries


def record_operator_view(
    settings: Settings, action: Action, query: dict[str, Any], positions: list[str]
) -> None:
    """Audit an operator's look at dead letters: who, when, what was asked and which positions
    were shown, never their content. Raises AuditUnavailableError (or SearchUnavailable) if the
    record was not stored: the caller then shows nothing."""
    from pipeline.clients import elasticsearch_client

    es = elasticsearch_client(settings)
    try:
        AuditTrail(es, audit_index(settings)).write(
            AuditEntry(
                timestamp=datetime.now(UTC),
                user=getpass.getuser(),
                role="operator",
                action=action.value,
                justification="",
                query=query,
                ids=positions,
                channel="cli",
            )
        )
    finally:
        es.close()
