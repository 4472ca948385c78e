"""Fixtures for the entity-extraction tests: the spaCy pipeline, loaded once per session."""

from __future__ import annotations

import pytest

from pipeline.enrich.extract import Enricher


@pytest.fixture(scope="session")
def enricher() -> Enricher:
    """The real NER model (about a second to load), shared by every test that needs it."""
    return Enricher.load()
