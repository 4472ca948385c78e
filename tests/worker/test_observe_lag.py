"""The worker's lag refresh: one that cannot reach Kafka raises and leaves nothing running."""

from __future__ import annotations

import threading

import pytest

from pipeline.errors import KafkaUnavailable
from pipeline.settings import Settings
from pipeline.worker.observe import WorkerObserver
from tests.harness import free_port


def test_refresh_against_a_closed_port_fails_cleanly() -> None:
    port = free_port()
    threads_before = set(threading.enumerate())
    settings = Settings(kafka_bootstrap_servers=f"127.0.0.1:{port}", lag_request_timeout_s=1.0)
    observer = WorkerObserver(settings, {})
    for _ in range(2):  # the app's timer logs the failure and tries again next time
        with pytest.raises(KafkaUnavailable):
            observer.refresh_lag()
    assert observer.tracker.rows() == []
    assert observer.tracker.alarming() == []
    # kafka-python would leave an IO thread per failed client; we must not
    assert set(threading.enumerate()) <= threads_before
