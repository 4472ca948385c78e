"""The `alerts` topic (contract §4): alert and update records keyed by entry id, sent idempotently.

Values are JSON with `schema_version` 1 (schemas/alert.v1.json). `kind: alert` is one alert as
the alerts index stores it; `kind: update` is what became of it (acknowledged, outcome). A
record of a `restricted` entry says so and may carry a restricted value; no other can, because
no other alert holds one (pipeline/enrich/watch/matcher.py).

    publisher = AlertPublisher(settings)
    publisher.publish([alert_record(doc)])  # sent, flushed and acknowledged, or AlertsUnavailable
    publisher.close()
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from pipeline.clients import kafka_config, new_kafka_client
from pipeline.errors import KafkaBackpressure, KafkaUnavailable, map_kafka_errors
from pipeline.settings import Settings

__all__ = [
    "ALERTS_TOPIC",
    "SCHEMA_VERSION",
    "AlertPublisher",
    "AlertRecord",
    "AlertsUnavailable",
    "alert_record",
    "alerts_topic",
    "update_record",
]

ALERTS_TOPIC = "alerts"
SCHEMA_VERSION = 1
# The alert document's fields a record carries (not `kind`, `published`, `acknowledged` ...).
_ALERT_FIELDS = (
    "alert_id",
    "entry_id",
    "owner",
    "priority",
    "target",
    "search",
    "cluster_id",
    "report_id",
    "source",
    "mention",
    "highlight",
    "seen_at",
    "restricted",
)
# Bounds on one publish: waiting for metadata, for one request, and for delivery overall.
_MAX_BLOCK_MS = 10_000
_REQUEST_TIMEOUT_MS = 10_000
_DELIVERY_TIMEOUT_MS = 20_000


def alerts_topic(prefix: str = "") -> str:
    """The alerts topic name, with the deployment's topic prefix applied."""
    return f"{prefix}{ALERTS_TOPIC}"


class AlertsUnavailable(KafkaBackpressure):
    """The broker did not take the batch's alerts: the batch pauses and is retried."""

    stream = "the alerts topic"


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One record for the alerts topic: `key` the entry id, `value` the JSON object."""

    key: str
    value: dict[str, Any]

    def encoded(self) -> tuple[bytes, bytes]:
        """Key and value as sent: UTF-8 and JSON."""
        return self.key.encode(), orjson.dumps(self.value)


def _iso(moment: datetime | str) -> str:
    parsed = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if parsed.tzinfo is None:
        raise ValueError(f"{moment!r} has no offset")
    return parsed.isoformat()


def alert_record(doc: Mapping[str, Any]) -> AlertRecord:
    """The record of one alert, from its document in the alerts index (`kind: alert`)."""
    value: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "kind": "alert"}
    value |= {name: doc[name] for name in _ALERT_FIELDS if name in doc}
    value.setdefault("restricted", False)
    return AlertRecord(str(doc["entry_id"]), value)


def update_record(
    alert: Mapping[str, Any], acknowledged: Mapping[str, Any], *, at: datetime | None = None
) -> AlertRecord:
    """The record of an acknowledgement of `alert` (its document, or any mapping holding its
    `alert_id`, `entry_id`, `owner` and `restricted`).

    `acknowledged` is `{"by", "at", "outcome"}` and optionally `"note"`, as the alert document
    stores it; `at` (default now) is when the update was made. ValueError for a missing key
    or a time without an offset.
    """
    missing = [name for name in ("by", "at", "outcome") if acknowledged.get(name) is None]
    if missing:
        raise ValueError(f"acknowledged lacks {', '.join(missing)}")
    ack: dict[str, Any] = {
        "by": str(acknowledged["by"]),
        "at": _iso(acknowledged["at"]),
        "outcome": str(acknowledged["outcome"]),
    }
    if acknowledged.get("note") is not None:
        ack["note"] = str(acknowledged["note"])
    value: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": "update",
        "alert_id": str(alert["alert_id"]),
        "entry_id": str(alert["entry_id"]),
        "owner": str(alert["owner"]),
        "restricted": bool(alert.get("restricted", False)),
        "acknowledged": ack,
        "at": _iso(at or datetime.now(UTC)),
    }
    return AlertRecord(value["entry_id"], value)


@contextmanager
def _backpressure(action: str) -> Iterator[None]:
    try:
        with map_kafka_errors(action):
            yield
    except KafkaUnavailable as exc:
        raise AlertsUnavailable(str(exc)) from exc


class AlertPublisher:
    """Sends records to the alerts topic with an idempotent producer (`acks=all`), connected
    on first use and replaced after a failure, so one bad moment never poisons the next batch.
    """

    def __init__(self, settings: Settings, **overrides: Any) -> None:
        self.topic = alerts_topic(settings.topic_prefix)
        self._options = kafka_config(
            settings,
            client_id="ct-pipeline-alerts",
            enable_idempotence=True,
            acks="all",
            max_block_ms=_MAX_BLOCK_MS,
            request_timeout_ms=_REQUEST_TIMEOUT_MS,
            delivery_timeout_ms=_DELIVERY_TIMEOUT_MS,
            **overrides,
        )
        self._producer: Any = None

    def publish(self, records: Sequence[AlertRecord]) -> None:
        """Send `records`, in order, and return once the broker acknowledged every one;
        `AlertsUnavailable` if it did not (some may have been written: send them again)."""
        if not records:
            return
        try:
            with _backpressure(f"publishing alerts to {self.topic}"):
                producer = self._connected()
                futures = []
                for record in records:
                    key, value = record.encoded()
                    futures.append(producer.send(self.topic, key=key, value=value))
                producer.flush(timeout=_DELIVERY_TIMEOUT_MS / 1000)
                for future in futures:
                    future.get(timeout=_DELIVERY_TIMEOUT_MS / 1000)
        except AlertsUnavailable:
            self._discard()
            raise

    def close(self) -> None:
        """Flush what is pending and close the connection (a later publish reconnects)."""
        producer, self._producer = self._producer, None
        if producer is not None:
            with _backpressure("closing the alert publisher"):
                producer.close()

    def _connected(self) -> Any:
        if self._producer is None:
            from kafka import KafkaProducer

            self._producer = new_kafka_client(KafkaProducer, **self._options)
        return self._producer

    def _discard(self) -> None:
        import kafka.errors

        producer, self._producer = self._producer, None
        if producer is not None:
            # it failed already: what it still holds is sent again with the batch's retry
            with suppress(kafka.errors.KafkaError):
                producer.close(timeout=0)
