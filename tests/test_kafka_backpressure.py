"""A broker losing a replica or a partition leader is backpressure, never a dead letter
(issue 17): the batch pauses and is retried whole, whichever client raised the error."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import aiokafka.errors
import kafka.errors
import pytest

from pipeline.errors import KafkaBackpressure, KafkaUnavailable, map_kafka_errors
from pipeline.flow.batch import BatchProcessor
from pipeline.flow.item import Item, Rejection
from pipeline.ingest.records import RawRecord
from pipeline.worker.runtime import Runtime

REPLICA_ERRORS = [
    kafka.errors.NotEnoughReplicasError,
    kafka.errors.NotEnoughReplicasAfterAppendError,
    kafka.errors.NotLeaderForPartitionError,
    kafka.errors.LeaderNotAvailableError,
    aiokafka.errors.NotEnoughReplicasError,
    aiokafka.errors.NotEnoughReplicasAfterAppendError,
    aiokafka.errors.NotLeaderForPartitionError,
    aiokafka.errors.LeaderNotAvailableError,
]


@pytest.mark.parametrize("error", REPLICA_ERRORS)
def test_replica_and_leader_errors_map_to_backpressure(error: type[Exception]) -> None:
    with pytest.raises(KafkaBackpressure) as caught, map_kafka_errors("publishing alerts"):
        raise error("partition 0")
    assert isinstance(caught.value.__cause__, error)
    assert str(caught.value).startswith(f"publishing alerts: {error.__name__}")


def test_other_kafka_errors_stay_unavailable_not_backpressure() -> None:
    with pytest.raises(KafkaUnavailable) as caught, map_kafka_errors("ensuring topics"):
        raise kafka.errors.TopicAuthorizationFailedError("denied")
    assert not isinstance(caught.value, KafkaBackpressure)


@dataclass
class FlakyBroker:
    """A step that writes to Kafka: the first `failures` calls meet a broker in failover,
    with the raw client error (unmapped, as a library wrapping the client would let it out)."""

    error: type[Exception]
    failures: int
    name: str = "alerts"
    interruptible: bool = False
    calls: int = 0

    def run(self, items: Sequence[Item]) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error("the partition's leader moved")
        for item in items:
            item.erase()  # settled without indexing: enough to count the batch done


def records(n: int) -> list[RawRecord]:
    return [
        RawRecord(topic="intake.public-reports", partition=0, offset=i, key=b"k", value=b"{}")
        for i in range(n)
    ]


@pytest.mark.parametrize("error", REPLICA_ERRORS)
def test_isolated_rerun_raises_backpressure_instead_of_dead_lettering(
    error: type[Exception],
) -> None:
    processor = BatchProcessor([FlakyBroker(error, failures=1)])
    with pytest.raises(KafkaBackpressure):
        processor.process_isolated(records(3))


@pytest.mark.parametrize(
    "error", [kafka.errors.NotEnoughReplicasError, aiokafka.errors.NotLeaderForPartitionError]
)
def test_runtime_pauses_through_a_failover_and_dead_letters_nothing(
    error: type[Exception],
) -> None:
    step = FlakyBroker(error, failures=3)
    dead: list[Rejection] = []

    async def send(rejected: Rejection) -> None:
        dead.append(rejected)

    runtime = Runtime(BatchProcessor([step]), send_dead_letter=send, max_backoff_s=0.01)
    try:
        outcome = asyncio.run(runtime.handle("public-reports", records(5)))
    finally:
        runtime.close()
    assert dead == []
    assert outcome.rejected == []
    assert len(outcome.erased) == 5
    assert step.calls > 3  # retried until the cluster took it
    assert runtime.agent("public-reports").backpressure_since is None  # resumed
