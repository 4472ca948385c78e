"""Property-based: schemathesis drives every documented operation in process; none answers 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from api_support import KEYS, Corpus, audit_entries
from elasticsearch import Elasticsearch
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from pipeline.api.app import create_app

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HEADERS = {"X-API-Key": KEYS["analyst"], "X-Justification": "schemathesis"}


@pytest.fixture
def app(es: Elasticsearch, corpus: Corpus) -> FastAPI:
    # A fuzzer floods by design: its key gets a burst it never exhausts (limits have their test).
    return create_app(corpus.settings.model_copy(update={"api_rate_burst": 1_000_000}), es)


def test_no_operation_answers_a_server_error(
    app: FastAPI, es: Elasticsearch, corpus: Corpus
) -> None:
    # schemathesis' own pytest loader does not run under pytest 9, so the strategies are
    # driven by hypothesis here, operation by operation, over the same in-process app.
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/search", "/api/reports/{report_id}"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=30,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def run(case: schemathesis.Case) -> None:
            # A real analyst key: generated input reaches the search code, not only the 401.
            case.call_and_validate(headers=HEADERS, checks=[not_a_server_error])

        run()
    # The generated requests got past authentication into the audited search code.
    assert len(audit_entries(es, corpus.settings)) >= 30
