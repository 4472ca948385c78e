"""The bulk sink: idempotent, externally versioned bulk writes that account for every item."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, cast

import orjson

from pipeline.backoff import backoff_ceiling, backoff_delay
from pipeline.errors import (
    SearchUnavailable,
    SinkBackpressure,
    Unavailability,
    es_failure_reason,
    map_es_errors,
)
from pipeline.index.retry import classify_item

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from pipeline.settings import Settings

__all__ = ["BulkSink", "IndexAction", "ItemOutcome", "Status"]

log = logging.getLogger(__name__)

Status = Literal["indexed", "stale", "rejected"]

# Only what the sink reads comes back: parsing a full bulk response costs more than sending it.
_FILTER_PATH = "errors,items.*.status,items.*.error"


class IndexAction(NamedTuple):
    """One document to write (outcomes come back in the order of the actions)."""

    doc_id: str
    version: int
    document: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """What became of one action. `error` is Elasticsearch's error object when rejected."""

    action: IndexAction
    status: Status
    http_status: int
    error: dict[str, Any] | None = None


class _Retry(NamedTuple):
    position: int
    reason: Unavailability


# Request-level failures worth retrying in place; any other (a refused credential, a whole
# request rejected) will not clear within a few backoffs: it goes up at once.
_TRANSIENT = frozenset(
    {Unavailability.THROTTLED, Unavailability.UNREACHABLE, Unavailability.SERVER_ERROR}
)


class BulkSink:
    """Writes actions with `version_type=external_gte` and reports an outcome for each.

    Redelivered records rewrite their own document (equal version), stale replays come back
    as `stale` (409), documents Elasticsearch refuses for good (a 400 about the document)
    come back `rejected` with its error. Every other item failure (429, 5xx, a blocked or
    closed index, a refused credential) is retried item by item with exponential backoff and
    full jitter; when it outlasts `max_retries` the sink raises `SinkBackpressure` with the
    commonest reason and the caller retries the whole batch later. A refused request (401,
    403, a 4xx for the whole bulk) raises its `SearchUnavailable` subclass at once.
    """

    def __init__(
        self,
        es: Elasticsearch,
        *,
        max_actions: int = 500,
        max_bytes: int = 5_000_000,
        max_retries: int = 5,
        backoff_base: float = 0.2,
        backoff_max: float = 10.0,
        on_retry: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._es = es
        self.max_actions = max_actions
        self.max_bytes = max_bytes
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._on_retry = on_retry
        self._sleep = sleep

    @classmethod
    def from_settings(
        cls, es: Elasticsearch, settings: Settings, *, on_retry: Callable[[str], None] | None = None
    ) -> BulkSink:
        """A sink with the `PIPELINE_BULK_*` limits and retry policy."""
        return cls(
            es,
            max_actions=settings.bulk_max_actions,
            max_bytes=settings.bulk_max_bytes,
            max_retries=settings.bulk_max_retries,
            backoff_base=settings.bulk_backoff_base_s,
            backoff_max=settings.bulk_backoff_max_s,
            on_retry=on_retry,
        )

    def write(self, actions: Sequence[IndexAction], *, index: str) -> list[ItemOutcome]:
        """Write `actions` to `index` (an alias is fine); one outcome per action, same order."""
        outcomes: list[ItemOutcome | None] = [None] * len(actions)
        encoded: list[bytes] = [b""] * len(actions)
        pending: list[int] = []
        for position, action in enumerate(actions):
            try:
                encoded[position] = _encode(action, index)
                pending.append(position)
            except (TypeError, ValueError) as exc:
                # a document that cannot be serialised is the record's fault, not the index's
                error = {"type": "serialization_error", "reason": str(exc)}
                outcomes[position] = ItemOutcome(action, "rejected", 400, error)

        attempt = 0
        while pending:
            retries: list[_Retry] = []
            for chunk in self._chunks(pending, encoded):
                retries += self._send(chunk, actions, encoded, outcomes)
            if not retries:
                break
            attempt += 1
            reasons = sorted({retry.reason for retry in retries})
            if attempt > self.max_retries:
                retry_after = backoff_ceiling(attempt, base=self.backoff_base, cap=self.backoff_max)
                commonest = Counter(retry.reason for retry in retries).most_common(1)[0][0]
                raise SinkBackpressure(
                    f"bulk to {index}: {len(retries)} of {len(actions)} documents still failing "
                    f"after {self.max_retries} retries ({', '.join(reasons)})",
                    retry_after=retry_after,
                    reason=commonest,
                )
            if self._on_retry is not None:
                for retry in retries:
                    self._on_retry(retry.reason)
            delay = backoff_delay(attempt, base=self.backoff_base, cap=self.backoff_max)
            log.warning(
                "bulk to %s: retrying %d documents in %.2fs (attempt %d/%d: %s)",
                index,
                len(retries),
                delay,
                attempt,
                self.max_retries,
                ", ".join(reasons),
            )
            self._sleep(delay)
            pending = [retry.position for retry in retries]
        return [outcome for outcome in outcomes if outcome is not None]

    def _chunks(self, positions: list[int], encoded: list[bytes]) -> Iterator[list[int]]:
        chunk: list[int] = []
        size = 0
        for position in positions:
            item_size = len(encoded[position])
            # a document bigger than max_bytes still goes, alone: splitting cannot shrink it
            if chunk and (len(chunk) >= self.max_actions or size + item_size > self.max_bytes):
                yield chunk
                chunk, size = [], 0
            chunk.append(position)
            size += item_size
        if chunk:
            yield chunk

    def _send(
        self,
        chunk: list[int],
        actions: Sequence[IndexAction],
        encoded: list[bytes],
        outcomes: list[ItemOutcome | None],
    ) -> list[_Retry]:
        import elasticsearch

        body = b"".join(encoded[position] for position in chunk)
        try:
            with map_es_errors("bulk", expect=(413,)):
                # bytes pass through the client's NDJSON serializer untouched
                response = self._es.bulk(operations=cast(Any, body), filter_path=_FILTER_PATH)
        except SearchUnavailable as exc:
            if exc.reason not in _TRANSIENT:
                raise
            return [_Retry(position, exc.reason) for position in chunk]
        except elasticsearch.ApiError as exc:
            if exc.meta.status != 413:
                # a 404 or 409 for a whole bulk request answers nothing about the documents
                raise SearchUnavailable(f"bulk answered {exc.meta.status}") from exc
            # the body exceeds http.max_content_length: halve until it fits or one document
            # alone is too big, which no retry can fix
            if len(chunk) == 1:
                error = {"type": "request_entity_too_large", "reason": str(exc)}
                outcomes[chunk[0]] = ItemOutcome(actions[chunk[0]], "rejected", 413, error)
                return []
            half = len(chunk) // 2
            return self._send(chunk[:half], actions, encoded, outcomes) + self._send(
                chunk[half:], actions, encoded, outcomes
            )

        items = response.body.get("items", [])
        if len(items) != len(chunk):
            raise SearchUnavailable(
                f"bulk answered {len(items)} items for {len(chunk)} actions; cannot match them"
            )
        retries: list[_Retry] = []
        for position, item in zip(chunk, items, strict=True):
            result = next(iter(item.values()))
            http_status = int(result.get("status", 500))
            error = result.get("error")
            error_type = error.get("type") if isinstance(error, dict) else None
            message = error.get("reason") if isinstance(error, dict) else None
            verdict = classify_item(http_status, error_type, message)
            if verdict == "retry":
                reason = es_failure_reason(http_status, error_type, message)
                retries.append(_Retry(position, reason))
            elif verdict == "rejected":
                outcomes[position] = ItemOutcome(actions[position], "rejected", http_status, error)
            else:
                outcomes[position] = ItemOutcome(actions[position], verdict, http_status)
        return retries


def _encode(action: IndexAction, index: str) -> bytes:
    """The two NDJSON lines of one action."""
    if not 0 <= action.version < 2**63:
        raise ValueError(f"external version {action.version} is outside 0..2^63-1")
    meta = {
        "index": {
            "_index": index,
            "_id": action.doc_id,
            "version": action.version,
            "version_type": "external_gte",
        }
    }
    return orjson.dumps(meta) + b"\n" + orjson.dumps(action.document) + b"\n"
