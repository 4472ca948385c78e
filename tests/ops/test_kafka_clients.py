"""A kafka-python client whose bootstrap fails leaves no socket and no IO thread behind.

kafka-python 3.0's constructors start an IO thread and open connections before they bootstrap,
and keep both when the bootstrap fails. The peer here accepts every connection and closes it at
once, as a broker that is still starting may: the bootstrap times out after connecting.
"""

from __future__ import annotations

import gc
import os
import socket
import threading
import warnings
from collections.abc import Callable, Iterator

import pytest
from kafka import KafkaAdminClient

from pipeline.clients import new_kafka_client
from pipeline.dev.stack import kafka
from pipeline.errors import KafkaUnavailable
from pipeline.ops.kafka_clients import build_client
from pipeline.settings import Settings


@pytest.fixture
def hangs_up() -> Iterator[int]:
    """A port that accepts connections and closes them straight away."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        done.set()
        thread.join()
        server.close()


def _leaves_nothing(attempt: Callable[[], object]) -> None:
    threads, fds = set(threading.enumerate()), set(os.listdir("/proc/self/fd"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        attempt()
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert [t.name for t in set(threading.enumerate()) - threads] == []
    assert set(os.listdir("/proc/self/fd")) - fds == set()


def test_new_kafka_client_releases_a_client_whose_bootstrap_fails(hangs_up: int) -> None:
    def attempt() -> None:
        with pytest.raises(Exception, match="Unable to bootstrap"):
            new_kafka_client(
                KafkaAdminClient,
                bootstrap_servers=f"127.0.0.1:{hangs_up}",
                request_timeout_ms=1000,
                bootstrap_timeout_ms=1000,
            )

    _leaves_nothing(attempt)


def test_build_client_says_kafka_is_unavailable_and_leaves_nothing(hangs_up: int) -> None:
    settings = Settings(kafka_bootstrap_servers=f"127.0.0.1:{hangs_up}")

    def attempt() -> None:
        with pytest.raises(KafkaUnavailable, match="failed to start"):
            build_client(KafkaAdminClient, settings, 1.0)

    _leaves_nothing(attempt)


def test_the_stack_probe_of_a_broker_not_answering_yet_leaves_nothing(hangs_up: int) -> None:
    settings = Settings(stack_kafka_port=hangs_up)

    def attempt() -> None:
        assert kafka.healthy(settings) is False

    _leaves_nothing(attempt)
