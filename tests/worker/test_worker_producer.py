"""The worker's own producer (dead letters) is idempotent with acks=all, as the intake producer
is: a send retried after a broker or leader loss is written once."""

from __future__ import annotations

from pipeline.worker.app import IdempotentProducer, WorkerApp


def test_the_worker_app_makes_an_idempotent_acks_all_producer() -> None:
    app = WorkerApp("producer-test", broker="kafka://127.0.0.1:1", web_enabled=False)
    producer = app.producer
    assert isinstance(producer, IdempotentProducer)
    extra = producer._settings_extra()
    assert extra["acks"] == "all" and extra["enable_idempotence"] is True
