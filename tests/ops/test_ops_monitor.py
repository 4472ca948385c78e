"""LagMonitor: a refresh that cannot reach Kafka reports it and keeps the process going."""

from __future__ import annotations

import socket
import threading

from pipeline.ops.monitor import LagMonitor
from pipeline.settings import Settings


def test_refresh_against_a_closed_port_fails_cleanly() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    threads_before = set(threading.enumerate())
    monitor = LagMonitor(
        Settings(kafka_bootstrap_servers=f"127.0.0.1:{port}", lag_request_timeout_s=1.0)
    )
    assert monitor.refresh() is False
    assert monitor.refresh() is False
    assert monitor.rows() == []
    assert monitor.alarming() == []
    monitor.close()
    # kafka-python would leave an IO thread per failed client; we must not
    assert set(threading.enumerate()) <= threads_before
