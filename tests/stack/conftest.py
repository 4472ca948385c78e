"""A private stack with security on, shared by the modules that test security itself.

The session's stack may predate security (a state dir kept from before it existed runs as it
was, `control.up`), so tests of users, roles and ACLs never rely on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from elasticsearch import Elasticsearch

from pipeline import credentials
from pipeline.clients import elasticsearch_client
from pipeline.dev.stack import control
from pipeline.settings import Settings
from tests.private_stack import private_stack


@pytest.fixture(scope="session")
def secure_stack() -> Iterator[Settings]:
    """A new private stack, started (so with security on); torn down after the session."""
    with private_stack() as settings:
        control.up(settings, echo=lambda _: None)
        assert credentials.load(settings.state_dir) is not None
        yield settings


@pytest.fixture
def as_identity(stack: Settings) -> Iterator[Callable[[str], Elasticsearch]]:
    """`as_identity("api")`: an Elasticsearch client of the module's `stack`, logged in as that
    identity (closed after the test)."""
    made: list[Elasticsearch] = []

    def make(identity: str) -> Elasticsearch:
        client = elasticsearch_client(stack, identity=identity, max_retries=0)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
