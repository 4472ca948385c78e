"""`stack up` and ports: a stranger's port is refused by name, one being released is awaited."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from pipeline.dev.stack import control
from pipeline.errors import StackError
from pipeline.settings import Settings


def listening() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_a_port_held_by_a_stranger_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(control, "PORT_RELEASE_S", 0.5)
    with listening() as stranger:
        port = stranger.getsockname()[1]
        settings = Settings(state_dir=tmp_path / "state", stack_kafka_port=port)
        said: list[str] = []
        with pytest.raises(StackError, match=f"port {port} needed by Kafka is taken"):
            control.up(settings, echo=said.append)
    assert f"port {port} needed by Kafka is in use; waiting up to 0.5s for it" in said


def test_a_port_released_within_the_grace_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "PORT_RELEASE_S", 10.0)
    dying = listening()
    port = dying.getsockname()[1]
    closer = threading.Timer(1.0, dying.close)  # a killed process's sockets close a moment later
    closer.start()
    try:
        control._refuse_busy(port, "Kafka", echo=lambda _: None)  # returns once it is free
    finally:
        closer.join()
