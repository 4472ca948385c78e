"""Sending one dead letter so that it always lands: whole, else truncated, else minimal.

A failed dead-letter send used to escape the agent, which restarted without acking: the
partition stalled. Now a broker error that a retry can fix (no leader, timeout, connection)
is retried with backoff for as long as it lasts, never turned into a skip; an error that no
retry fixes (the record is too large for the producer or the broker) moves on to a smaller
form of the same dead letter. Only if even the headers-only form is refused does it raise.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aiokafka.errors
import kafka.errors

from pipeline.backoff import backoff_delay
from pipeline.ingest.dlq import Message, minimal_dead_letter, record_size, truncated_dead_letter

__all__ = ["deliver_dead_letter", "is_transient"]

log = logging.getLogger(__name__)

Send = Callable[[Message], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]

_KAFKA_ERRORS = (aiokafka.errors.KafkaError, kafka.errors.KafkaError)


def is_transient(exc: BaseException) -> bool:
    """True when a Kafka client error (or one it caused, e.g. faust's ProducerSendError
    wrapping aiokafka's) says a retry may succeed: aiokafka's own `retriable` flag, or a
    timeout, which it does not flag."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, _KAFKA_ERRORS):
            timeout = isinstance(
                seen, aiokafka.errors.KafkaTimeoutError | kafka.errors.KafkaTimeoutError
            )
            return timeout or bool(getattr(seen, "retriable", False))
        if isinstance(seen, asyncio.TimeoutError | ConnectionError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def deliver_dead_letter(
    send: Send,
    message: Message,
    *,
    limit: int,
    max_backoff_s: float = 30.0,
    sleep: Sleep = asyncio.sleep,
) -> str:
    """Send `message`, or the largest form of it that the broker takes; returns which form
    went: `whole`, `truncated` or `minimal`. `limit` is the producer's max request size."""
    forms: list[tuple[str, Message]] = []
    if record_size(*message) <= limit:
        forms.append(("whole", message))
    truncated = truncated_dead_letter(message, limit)
    if truncated is not None:
        forms.append(("truncated", truncated))
    forms.append(("minimal", minimal_dead_letter(message)))
    for n, (form, candidate) in enumerate(forms):
        try:
            await _send_retrying(send, candidate, max_backoff_s, sleep)
        except Exception as exc:
            if n == len(forms) - 1:
                raise
            log.warning("dead letter refused %s (%s); sending it %s", form, exc, forms[n + 1][0])
            continue
        if form != "whole":
            log.warning("dead letter of %d bytes sent %s", len(message[1] or b""), form)
        return form
    raise AssertionError("unreachable: the last form raises or returns")


async def _send_retrying(send: Send, message: Message, max_backoff_s: float, sleep: Sleep) -> None:
    attempt = 0
    while True:
        try:
            await send(message)
            return
        except Exception as exc:
            if not is_transient(exc):
                raise
            attempt += 1
            delay = backoff_delay(attempt, base=0.1, cap=max_backoff_s)
            log.warning("dead-letter send failed (attempt %d), retrying: %s", attempt, exc)
            await sleep(delay)
