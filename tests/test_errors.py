"""`map_es_errors`: every Elasticsearch refusal about the cluster becomes one of our types."""

from __future__ import annotations

import re

import elastic_transport
import elasticsearch
import pytest

from pipeline.errors import (
    SearchRefused,
    SearchRequestRejected,
    SearchUnavailable,
    SinkBackpressure,
    map_es_errors,
)

NODE = elastic_transport.NodeConfig("http", "127.0.0.1", 9200)


def api_error(status: int, error_type: str, reason: str = "refused") -> elasticsearch.ApiError:
    """The exception elasticsearch-py raises for an HTTP error answer (no request is made)."""
    meta = elastic_transport.ApiResponseMeta(
        status, "1.1", elastic_transport.HttpHeaders(), 0, NODE
    )
    body = {"error": {"type": error_type, "reason": reason}, "status": status}
    return elasticsearch.ApiError(error_type, meta, body)


@pytest.mark.parametrize(
    ("status", "error_type", "kind", "reason"),
    [
        (401, "security_exception", SearchRefused, "auth"),
        (403, "security_exception", SearchRefused, "auth"),
        (403, "cluster_block_exception", SearchRefused, "blocked"),
        (429, "cluster_block_exception", SearchRefused, "blocked"),
        (400, "parsing_exception", SearchRequestRejected, "bad_request"),
        (400, "index_closed_exception", SearchUnavailable, "index_unavailable"),
        (405, "method_not_allowed", SearchRequestRejected, "bad_request"),
        (429, "es_rejected_execution_exception", SinkBackpressure, "throttled"),
        (408, "timeout", SinkBackpressure, "unreachable"),
        (500, "null_pointer_exception", SearchUnavailable, "server_error"),
        (503, "no_shard_available_action_exception", SearchUnavailable, "index_unavailable"),
    ],
)
def test_refusals_about_the_cluster_become_search_unavailable_with_a_reason(
    status: int, error_type: str, kind: type[SearchUnavailable], reason: str
) -> None:
    with pytest.raises(SearchUnavailable) as caught, map_es_errors("write"):
        raise api_error(status, error_type, reason="quoting a document: Jo Bloggs")
    assert type(caught.value) is kind
    assert caught.value.reason == reason
    assert isinstance(caught.value.__cause__, elasticsearch.ApiError)
    assert "Jo Bloggs" not in str(caught.value)


@pytest.mark.parametrize(("status", "expect"), [(404, ()), (409, ()), (400, (400,)), (413, (413,))])
def test_answers_the_caller_handles_pass_through(status: int, expect: tuple[int, ...]) -> None:
    with pytest.raises(elasticsearch.ApiError), map_es_errors("get", expect=expect):
        raise api_error(status, "some_exception")


def test_an_unreachable_node_is_backpressure() -> None:
    with pytest.raises(SinkBackpressure) as caught, map_es_errors("bulk"):
        raise elastic_transport.ConnectionError("refused")
    assert caught.value.reason == "unreachable"


def _project_exceptions() -> list[type[BaseException]]:
    import importlib
    import inspect
    import pkgutil

    import pipeline

    found = []
    for info in pkgutil.walk_packages(pipeline.__path__, "pipeline."):
        if info.name.endswith("__main__"):
            continue  # runs the command line on import
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == info.name:
                found.append(value)
    return found


def test_every_error_the_project_defines_is_in_the_tree_and_under_the_root() -> None:
    from pipeline import errors
    from pipeline.flow.budget import ProcessingTimeout

    tree = errors.__doc__ or ""
    found = _project_exceptions()
    assert len(found) > 10
    for error in found:
        if error is ProcessingTimeout:
            continue  # a BaseException on purpose: raised asynchronously, never swallowed
        if error.__name__.startswith("_"):
            continue  # private to one module, never leaves it
        assert issubclass(error, errors.PipelineError), error
        named = re.search(rf"(^|[─ ]){error.__name__}( |$)", tree, re.MULTILINE)
        assert named, f"{error.__name__} is missing from the tree"
