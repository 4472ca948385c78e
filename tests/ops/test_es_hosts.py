"""Which Elasticsearch nodes the clients use: every one configured, or every local node."""

from __future__ import annotations

import socket

import pytest
from elastic_transport import ConnectionError as TransportConnectionError

from pipeline.clients import elasticsearch_client
from pipeline.settings import Settings


def test_configured_urls_are_split_on_commas_and_trimmed() -> None:
    settings = Settings(elasticsearch_url=" https://es-1:9200, https://es-2:9200 ,,")
    assert settings.es_urls == ["https://es-1:9200", "https://es-2:9200"]
    assert settings.es_url == "https://es-1:9200"
    assert Settings(elasticsearch_url=settings.es_hosts).es_urls == settings.es_urls


def test_the_local_stack_gives_every_node_node_1_first() -> None:
    settings = Settings(elasticsearch_url="", stack_es_port=29200, stack_es_nodes=3)
    assert settings.es_urls == [f"http://127.0.0.1:{p}" for p in (29200, 29201, 29202)]
    one = Settings(elasticsearch_url="", stack_es_port=19200, stack_es_nodes=1)
    assert one.es_urls == ["http://127.0.0.1:19200"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_request_to_a_dead_node_is_retried_on_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client holds a node per URL and, when one refuses the connection, tries another:
    with every node dead it has tried each before it gives up."""
    ports = [_closed_port() for _ in range(3)]
    urls = ",".join(f"http://127.0.0.1:{p}" for p in ports)
    client = elasticsearch_client(Settings(elasticsearch_url=urls), max_retries=2)
    tried: list[str] = []
    pool = client.transport.node_pool
    original = pool.get

    def counting_get():  # type: ignore[no-untyped-def]
        node = original()
        tried.append(node.base_url)
        return node

    monkeypatch.setattr(pool, "get", counting_get)
    with pytest.raises(TransportConnectionError):
        client.info()
    assert sorted(set(tried)) == sorted(f"http://127.0.0.1:{p}" for p in ports)
