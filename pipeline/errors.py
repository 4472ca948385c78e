"""The project's error types: one root, translated once at the edge from library errors.

    PipelineError
    ├── ConfigError                  settings that cannot work (bad URL, missing key)
    ├── StackError                   the local Kafka/Elasticsearch stack failed to start or stop
    ├── RecordError                  one intake record cannot be processed: a dead-letter record
    │   └── ValidationFailed         JSON, schema, size or encoding problem (carries field errors)
    ├── KafkaUnavailable             the broker cannot be reached or refused an operation
    │   └── KafkaBackpressure        a topic the batch path needs cannot serve it: backpressure,
    │       │                        the batch is retried
    │       ├── AlertsUnavailable    (enrich/watch/publish) the alerts topic did not take its alerts
    │       └── ErasuresUnavailable  (enrich/erasure/ledger) the erasure ledger could not be read
    ├── SearchUnavailable            Elasticsearch cannot do what was asked: never the record's
    │   │                            fault, so the batch pauses and is retried (`reason` says why)
    │   ├── SinkBackpressure         429, unreachable, timed out, dedup lock busy: transient
    │   ├── SearchRefused            401/403 or a write block: an operator must act (auth, blocked)
    │   ├── SearchRequestRejected    a whole request refused with 4xx (bad_request)
    │   └── AuditUnavailableError    (api/audit) no audit record could be written: no results
    ├── UnknownReports               (enrich/erasure/purge) an erasure named reports no index
    │                                holds: nothing was erased
    ├── AccessDenied                 an API caller's role lacks the right asked for: 403
    ├── RequestRejected              an API request that cannot be served as asked: 400
    │   ├── BadCursorError           (api/queries) a cursor this API did not issue, or for
    │   │                            another search
    │   ├── QueryRejectedError       (api/service) Elasticsearch refused the query as malformed
    │   └── EntryRejectedError       (api/watch_models) a watch entry or alert request that
    │                                cannot be served: over the entry limit, a bad cursor
    └── ApiCallError                 (api/client) the CLI's call to the search API failed

Library exceptions (kafka-python, aiokafka, elasticsearch-py) are re-raised as these
types `from exc` by `map_kafka_errors()` / `map_es_errors()` so callers handle one tree.
A partition with too few in-sync replicas or without a leader for the moment (a broker lost
or restarting: `KAFKA_REPLICA_ERRORS`) is `KafkaBackpressure`, wherever it surfaces.
`map_es_errors` lets 404 and 409 through as elasticsearch-py's own errors (they are answers
about the document or index named, which callers handle), and any status the caller `expect`s.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any


class PipelineError(Exception):
    """Root of every error this project raises on purpose."""


class ConfigError(PipelineError):
    """A setting is missing or cannot work."""


class StackError(PipelineError):
    """The local Kafka/Elasticsearch stack failed; the message names the log file."""


class RecordError(PipelineError):
    """One intake record cannot be processed and must be dead-lettered.

    `stage` names the pipeline stage that failed (`ingest`, `enrich`, `index`).
    `details` is JSON-serialisable context, e.g. per-field validation errors.
    """

    def __init__(
        self, message: str, *, stage: str = "ingest", reason: str = "invalid", details: Any = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.stage = stage
        self.reason = reason
        self.details = details


class ValidationFailed(RecordError):
    """The record is not valid JSON, breaks the schema, a size limit or an encoding rule."""


class KafkaUnavailable(PipelineError):
    """The Kafka broker cannot be reached or refused an operation."""


class KafkaBackpressure(KafkaUnavailable):
    """A topic the batch path writes or reads (`stream` names it) cannot serve the batch now:
    backpressure, as `SearchUnavailable` is. About the broker, never the records: the batch
    pauses and is retried, nothing is dead-lettered."""

    stream: str = "Kafka"
    reason: Unavailability  # set below the enum; the class attributes read as SearchUnavailable's
    retry_after: float = 1.0


class Unavailability(StrEnum):
    """Why Elasticsearch cannot do what was asked: a closed set, used as a metric label."""

    AUTH = "auth"  # 401/403: credentials rotated or privileges removed
    BLOCKED = "blocked"  # an index or cluster block (index.blocks.write, flood stage)
    BAD_REQUEST = "bad_request"  # a whole request (or our own state document) refused
    UNREACHABLE = "unreachable"  # no connection, or the request timed out
    THROTTLED = "throttled"  # 429, rejected execution, circuit breaker
    SERVER_ERROR = "server_error"  # 5xx or an answer that cannot be understood
    INDEX_UNAVAILABLE = "index_unavailable"  # closed or missing index, shards not allocated
    LOCK_BUSY = "lock_busy"  # the dedup lease is held by another worker or expired


KafkaBackpressure.reason = Unavailability.UNREACHABLE


class SearchUnavailable(PipelineError):
    """Elasticsearch cannot do what was asked; `reason` says why, `retry_after` when to retry."""

    def __init__(
        self,
        message: str,
        *,
        reason: Unavailability = Unavailability.SERVER_ERROR,
        retry_after: float = 1.0,
    ) -> None:
        super().__init__(message)
        self.reason = Unavailability(reason)
        self.retry_after = retry_after


class SinkBackpressure(SearchUnavailable):
    """Elasticsearch cannot take writes now; pause consumption and retry after `retry_after` s."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float = 1.0,
        reason: Unavailability = Unavailability.THROTTLED,
    ) -> None:
        super().__init__(message, reason=reason, retry_after=retry_after)


class SearchRefused(SearchUnavailable):
    """Elasticsearch refused the credential or the index is blocked: waits for an operator."""


class SearchRequestRejected(SearchUnavailable):
    """Elasticsearch refused a whole request (4xx): a bug or a cluster/mapping mismatch."""


class AccessDenied(PipelineError):
    """The caller's role does not allow the request."""


class RequestRejected(PipelineError):
    """An API request cannot be served as asked; the message says why, never quoting input."""


# Broker answers that say a partition's replicas are moving (a broker died, restarts or its
# leadership moved): never the record's fault, gone once the cluster settles.
KAFKA_REPLICA_ERRORS = (
    "NotEnoughReplicasError",
    "NotEnoughReplicasAfterAppendError",
    "NotLeaderForPartitionError",
    "LeaderNotAvailableError",
)


def kafka_backpressure(exc: BaseException, action: str = "Kafka") -> KafkaBackpressure | None:
    """`KafkaBackpressure` for a kafka-python or aiokafka replica/leader error found in `exc`
    or its causes (faust wraps aiokafka's), else None."""
    import aiokafka.errors
    import kafka.errors

    seen: BaseException | None = exc
    while seen is not None:
        if (
            isinstance(seen, kafka.errors.KafkaError | aiokafka.errors.KafkaError)
            and type(seen).__name__ in KAFKA_REPLICA_ERRORS
        ):
            return KafkaBackpressure(f"{action}: {type(seen).__name__}: {seen}")
        seen = seen.__cause__ or seen.__context__
    return None


@contextmanager
def map_kafka_errors(action: str) -> Iterator[None]:
    """Re-raise kafka-python and aiokafka errors as `KafkaUnavailable` (replica and leader
    errors as its subclass `KafkaBackpressure`)."""
    import aiokafka.errors
    import kafka.errors

    try:
        yield
    except (kafka.errors.KafkaError, aiokafka.errors.KafkaError) as exc:
        backpressure = kafka_backpressure(exc, action)
        if backpressure is not None:
            raise backpressure from exc
        raise KafkaUnavailable(f"{action}: {type(exc).__name__}: {exc}") from exc


# Error types that say the index, not the request or the document, cannot serve it now.
_INDEX_UNAVAILABLE = frozenset(
    {
        "index_closed_exception",
        "index_not_found_exception",
        "no_shard_available_action_exception",
        "unavailable_shards_exception",
        "shard_not_found_exception",
    }
)
_THROTTLED = frozenset({"es_rejected_execution_exception", "circuit_breaking_exception"})
# An alias with no write index answers every write with illegal_argument_exception (400).
_NO_WRITE_INDEX = "no write index is defined"


def es_failure_reason(
    status: int | None, error_type: str | None, message: str | None = None
) -> Unavailability:
    """Why an Elasticsearch answer (a request's or one bulk item's) failed, as a closed code.

    `bad_request` for a 4xx only when nothing says the index or the cluster is at fault.
    """
    if error_type == "cluster_block_exception":
        return Unavailability.BLOCKED
    if status == 429 or error_type in _THROTTLED:
        return Unavailability.THROTTLED
    if error_type in _INDEX_UNAVAILABLE or _NO_WRITE_INDEX in (message or ""):
        return Unavailability.INDEX_UNAVAILABLE
    if status in (401, 403):
        return Unavailability.AUTH
    if status == 408:
        return Unavailability.UNREACHABLE
    if status is not None and 400 <= status < 500:
        return Unavailability.BAD_REQUEST
    return Unavailability.SERVER_ERROR


def unavailable(message: str, reason: Unavailability) -> SearchUnavailable:
    """The `SearchUnavailable` subclass that fits `reason`."""
    if reason in (Unavailability.AUTH, Unavailability.BLOCKED):
        return SearchRefused(message, reason=reason)
    if reason is Unavailability.BAD_REQUEST:
        return SearchRequestRejected(message, reason=reason)
    if reason in (Unavailability.THROTTLED, Unavailability.UNREACHABLE, Unavailability.LOCK_BUSY):
        return SinkBackpressure(message, reason=reason)
    return SearchUnavailable(message, reason=reason)


@contextmanager
def map_es_errors(action: str, *, expect: Collection[int] = ()) -> Iterator[None]:
    """Re-raise elasticsearch-py errors as `SearchUnavailable` subclasses with a `reason`.

    404, 409 and the statuses in `expect` (e.g. 400 where a refusal is an answer about the
    caller's own input) pass through unchanged for the caller to handle.
    """
    import elastic_transport
    import elasticsearch

    try:
        yield
    except elasticsearch.ApiError as exc:
        status = exc.meta.status
        if status in (404, 409) or status in expect:
            raise
        error = exc.body.get("error") if isinstance(exc.body, dict) else None
        error_type = error.get("type") if isinstance(error, dict) else None
        detail = error.get("reason") if isinstance(error, dict) else None
        reason = es_failure_reason(status, error_type, detail)
        # The reason code and status only: Elasticsearch's text can quote a document.
        raise unavailable(
            f"{action}: Elasticsearch answered {status} ({error_type or reason})", reason
        ) from exc
    except (elastic_transport.TransportError, elasticsearch.ConnectionError) as exc:
        raise SinkBackpressure(
            f"{action}: Elasticsearch unreachable: {exc}", reason=Unavailability.UNREACHABLE
        ) from exc
