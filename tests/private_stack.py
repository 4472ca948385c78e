"""A second, private Kafka + Elasticsearch instance for tests that stop or kill services.

The shared session stack is never touched: this one has its own ports and state directory
(the download cache is shared, so nothing is fetched again).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.dev.stack import control, elasticsearch, kafka, process
from pipeline.settings import Settings
from tests.harness import free_ports


@contextmanager
def private_stack() -> Iterator[Settings]:
    """Settings for a private instance (not started: call `control.up`); torn down after."""
    # Not pytest's tmp_path: its parents are 0700, and as root Elasticsearch runs as a
    # user who must be able to enter the state directory.
    state = Path(tempfile.mkdtemp(prefix="ct-stack-"))
    state.chmod(0o755)
    kafka_port, controller_port, es_port = free_ports(3)
    settings = Settings(
        kafka_bootstrap_servers="",
        elasticsearch_url="",
        state_dir=state,
        stack_kafka_port=kafka_port,
        stack_kafka_controller_port=controller_port,
        stack_es_port=es_port,
        stack_kafka_heap="256m",
        stack_es_heap="512m",
    )
    try:
        yield settings
    finally:
        control.down(settings, echo=lambda _: None)
        shutil.rmtree(state, ignore_errors=True)


def stop_service(settings: Settings, service: str) -> None:
    """Stop one service of an instance (SIGTERM, SIGKILL after the grace period)."""
    marker = (
        kafka.KafkaPaths.of(settings).marker
        if service == "kafka"
        else elasticsearch.ElasticsearchPaths.of(settings).marker
    )
    pids = process.find_processes(marker)
    process.stop(pids, grace_s=30, markers=[marker])
