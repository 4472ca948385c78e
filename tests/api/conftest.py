"""Fixtures for the search API: an isolated alias with a small corpus, role keys, a client."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from api_support import KEYS_JSON, SAMPLES, Api, Corpus, index_samples, serve
from elasticsearch import Elasticsearch
from fastapi import FastAPI
from pydantic import SecretStr

from pipeline.api.app import create_app
from pipeline.settings import Settings


@pytest.fixture
def api_settings(settings: Settings, index_factory: Callable[[str], str]) -> Settings:
    """Settings with a unique alias (so a unique `<alias>-audit`) and the test keys."""
    return settings.model_copy(
        update={"index_alias": index_factory("api"), "api_keys": SecretStr(KEYS_JSON)}
    )


@pytest.fixture
def corpus(es: Elasticsearch, api_settings: Settings) -> Corpus:
    return Corpus(api_settings, index_samples(es, api_settings, SAMPLES))


@pytest.fixture
def app(es: Elasticsearch, corpus: Corpus) -> FastAPI:
    return create_app(corpus.settings, es)


@pytest.fixture
def api(app: FastAPI) -> Api:
    return Api(app)


@pytest.fixture
def base_url(app: FastAPI) -> Iterator[str]:
    """The app served over real HTTP on loopback (for the browser and the CLI)."""
    with serve(app) as url:
        yield url
