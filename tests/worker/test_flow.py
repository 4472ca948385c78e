"""The worker's faust app bounds what it holds in bytes and how long a rebalance waits."""

from __future__ import annotations

from pathlib import Path

from pipeline.settings import Settings
from pipeline.worker.app import FETCH_BYTES_PER_PARTITION, create_app, max_buffered_bytes
from tests.worker.test_process import Sink, processor


def test_buffers_and_rebalance_wait_follow_the_settings(tmp_path: Path) -> None:
    settings = Settings(
        PIPELINE_STATE_DIR=str(tmp_path), PIPELINE_BATCH_SIZE="40", PIPELINE_BATCH_BUDGET_S="7.5"
    )
    app, runtime = create_app(settings, processor(Sink()))
    try:
        conf = app.conf
    finally:
        runtime.close()
    assert conf.stream_buffer_maxsize == 40  # faust's default is 4096 events per agent
    assert conf.broker_max_poll_records == 40  # unbounded by default
    assert conf.consumer_max_fetch_size == FETCH_BYTES_PER_PARTITION
    assert conf.broker_rebalance_timeout == 7.5  # a rebalance waits one batch budget
    assert conf.stream_wait_empty is False  # ...and never for the batch in flight
    # 24 partitions (4 topics x 6), 4 agents each holding a buffer and a batch of 1 MiB records
    expected = 24 * FETCH_BYTES_PER_PARTITION + 4 * (40 + 40) * FETCH_BYTES_PER_PARTITION
    assert max_buffered_bytes(settings, partitions=24) == expected
