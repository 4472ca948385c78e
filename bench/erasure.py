"""The erasure ledger's cost per record, at 10k and 1M erasures (target: at most 0.1 ms).

Run: .venv/bin/python -m bench.erasure [--sizes 10000,1000000] [--records 200000] [--batch 200]
                                       [--kafka 10000]

1. Per record: the batch path's first step (`DropErased`, the worker's own code) over batches
   of `--batch` intake records, a tenth of them erased, against a ledger holding each count in
   `--sizes` keys. The ledger's `catch_up` is a no-op here (in a worker it is one end-offsets
   request per batch, timed in 2); what is timed is the key of each record and its set lookup.
   Also the memory the keys take (tracemalloc).
2. With `--kafka N`: N erasures published to a fresh compacted ledger topic on the stack, then
   a worker's start-up read of it (`ErasureLedger.catch_up`) and the per-batch catch-up when
   nothing is new, each timed; the topic is deleted after.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
import uuid

from pipeline.flow.item import Item
from pipeline.ingest.erasure import DropErased, erasure_key
from pipeline.ingest.records import RawRecord
from pipeline.settings import Settings

TOPIC = "intake.public-reports"


class Loaded:
    """A ledger already read: the keys, and nothing new at each catch-up."""

    def __init__(self, keys: set[str]) -> None:
        self.keys = keys

    def __contains__(self, key: object) -> bool:
        return key in self.keys

    def catch_up(self) -> set[str]:
        return set()


def _keys(count: int) -> set[str]:
    return {erasure_key("public_report", f"erased-{n}") for n in range(count)}


def per_record(size: int, records: int, batch: int) -> tuple[float, float]:
    """(median µs per record over the batches, MB the keys take)."""
    tracemalloc.start()
    keys = _keys(size)
    memory_mb = tracemalloc.get_traced_memory()[0] / 1e6
    tracemalloc.stop()
    step = DropErased(Loaded(keys))
    raw = [
        RawRecord(
            TOPIC,
            0,
            n,
            (f"erased-{n * 7 % size}" if n % 10 == 0 else f"kept-{n}").encode(),
            b"{}",
        )
        for n in range(records)
    ]
    timings = []
    for start in range(0, records, batch):
        items = [Item(r) for r in raw[start : start + batch]]
        began = time.perf_counter()
        step.run(items)
        timings.append((time.perf_counter() - began) / len(items))
        assert sum(item.erased for item in items) == (len(items) + 9) // 10
    return statistics.median(timings) * 1e6, memory_mb


def from_kafka(count: int) -> None:
    """Publish `count` erasures to a fresh ledger topic; time the start-up read and a no-op
    catch-up."""
    from kafka import KafkaAdminClient, KafkaProducer
    from kafka.admin import NewTopic

    from pipeline.admin.topics import ERASURES_CONFIGS
    from pipeline.clients import kafka_config
    from pipeline.enrich.erasure import ErasureLedger
    from pipeline.ingest.erasure import erasures_topic

    settings = Settings().model_copy(update={"topic_prefix": f"bench-er-{uuid.uuid4().hex[:8]}."})
    topic = erasures_topic(settings.topic_prefix)
    admin = KafkaAdminClient(**kafka_config(settings))
    admin.create_topics([NewTopic(topic, 1, 1, topic_configs=dict(ERASURES_CONFIGS))])
    try:
        producer = KafkaProducer(**kafka_config(settings, linger_ms=20, batch_size=1 << 20))
        for n in range(count):
            key = f"public_report:erased-{n}"
            producer.send(topic, key=key.encode(), value=b'{"schema_version": 1}')
        producer.flush()
        producer.close()
        ledger = ErasureLedger(settings)
        try:
            began = time.perf_counter()
            ledger.catch_up()
            loaded = time.perf_counter() - began
            idle = []
            for _ in range(20):
                began = time.perf_counter()
                ledger.catch_up()
                idle.append(time.perf_counter() - began)
        finally:
            ledger.close()
        print(
            f"kafka: {len(ledger)} erasures read at start in {loaded:.2f} s; "
            f"a catch-up with nothing new: median {statistics.median(idle) * 1e3:.2f} ms per batch"
        )
    finally:
        admin.delete_topics([topic])
        admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--kafka", type=int, default=0, help="erasures to publish and read back")
    args = parser.parse_args()
    print(f"{'erasures':>10} {'µs/record':>10} {'keys MB':>8}  target <= 100 µs")
    for size in (int(s) for s in args.sizes.split(",")):
        micros, memory = per_record(size, args.records, args.batch)
        verdict = "ok" if micros <= 100 else "OVER"
        print(f"{size:>10} {micros:>10.3f} {memory:>8.1f}  {verdict}")
    if args.kafka:
        from_kafka(args.kafka)


if __name__ == "__main__":
    main()
