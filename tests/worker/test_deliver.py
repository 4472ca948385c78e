"""Sending a dead letter: transient broker errors are retried, never skipped; a record too
large for the producer or the broker is sent truncated, else minimal."""

from __future__ import annotations

import asyncio
from typing import Any

import aiokafka.errors
import pytest
from faust.exceptions import ProducerSendError

from pipeline.ingest.dlq import Message, record_size
from pipeline.worker.deliver import deliver_dead_letter, is_transient
from tests.ingest.test_dlq_truncate import big_message


class Broker:
    """Fails the first sends with `errors`, then refuses records over `accepts` bytes."""

    def __init__(self, errors: list[BaseException], accepts: int = 10**9) -> None:
        self.errors, self.accepts, self.sent = errors, accepts, []  # type: list[Message]

    async def send(self, message: Message) -> None:
        if self.errors:
            raise self.errors.pop(0)
        if record_size(*message) > self.accepts:
            raise aiokafka.errors.RecordTooLargeError()
        self.sent.append(message)


def deliver(broker: Broker, message: Any, limit: int = 1_000_000) -> str:
    async def no_sleep(seconds: float) -> None:
        pass

    return asyncio.run(deliver_dead_letter(broker.send, message, limit=limit, sleep=no_sleep))


def test_transient_errors_are_retried_until_the_whole_dead_letter_is_sent() -> None:
    wrapped = ProducerSendError("send")
    wrapped.__cause__ = aiokafka.errors.NotLeaderForPartitionError()
    errors = [aiokafka.errors.KafkaTimeoutError(), wrapped, aiokafka.errors.KafkaConnectionError()]
    broker = Broker(errors)
    assert deliver(broker, big_message(100)) == "whole"
    [(key, value, headers)] = broker.sent
    assert (key, value) == (b"big-1", b"x" * 100)
    assert "pipeline.dlq.truncated" not in dict(headers)


def test_too_large_for_the_producer_is_sent_truncated_and_for_the_broker_minimal() -> None:
    broker = Broker([])
    assert deliver(broker, big_message(1_020_000)) == "truncated"
    assert broker.sent[0][1] is not None and 900_000 < len(broker.sent[0][1]) < 1_000_000
    small_broker = Broker([], accepts=50_000)
    assert deliver(small_broker, big_message(1_020_000)) == "minimal"
    assert small_broker.sent[0][1] is None


def test_a_non_transient_failure_of_the_minimal_form_raises() -> None:
    assert not is_transient(aiokafka.errors.RecordTooLargeError())
    assert not is_transient(RuntimeError("bug"))
    with pytest.raises(aiokafka.errors.RecordTooLargeError):
        deliver(Broker([], accepts=10), big_message(100))
