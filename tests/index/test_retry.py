"""Unit tests for the bulk sink's retry policy and request splitting."""

from __future__ import annotations

from typing import Any, cast

import pytest

from pipeline.errors import es_failure_reason
from pipeline.index.retry import classify_item
from pipeline.index.sink import BulkSink

NO_WRITE_INDEX = (
    "no write index is defined for alias [reports]. The write index may be explicitly "
    "disabled using is_write_index=false or the alias points to multiple indices without "
    "one being designated as a write index"
)


@pytest.mark.parametrize(
    ("status", "error_type", "message", "verdict", "reason"),
    [
        (200, None, None, "indexed", None),
        (201, None, None, "indexed", None),
        (409, "version_conflict_engine_exception", None, "stale", None),
        # only a 400 about the document itself is the record's fault
        (400, "mapper_parsing_exception", None, "rejected", "bad_request"),
        (400, "document_parsing_exception", None, "rejected", "bad_request"),
        (400, "strict_dynamic_mapping_exception", None, "rejected", "bad_request"),
        (400, "illegal_argument_exception", "field [x] of type [long]", "rejected", "bad_request"),
        (413, None, None, "rejected", "bad_request"),
        # everything else is about the cluster: retried, never dead-lettered
        (429, "es_rejected_execution_exception", None, "retry", "throttled"),
        (429, "cluster_block_exception", None, "retry", "blocked"),
        (403, "cluster_block_exception", None, "retry", "blocked"),
        (403, "security_exception", None, "retry", "auth"),
        (401, "security_exception", None, "retry", "auth"),
        (500, "null_pointer_exception", None, "retry", "server_error"),
        (503, "unavailable_shards_exception", None, "retry", "index_unavailable"),
        (400, "index_closed_exception", None, "retry", "index_unavailable"),
        (404, "index_not_found_exception", None, "retry", "index_unavailable"),
        (400, "illegal_argument_exception", NO_WRITE_INDEX, "retry", "index_unavailable"),
        (408, None, None, "retry", "unreachable"),
        (409, "some_other_conflict", None, "retry", "bad_request"),
    ],
)
def test_classify_item(
    status: int, error_type: str | None, message: str | None, verdict: str, reason: str | None
) -> None:
    assert classify_item(status, error_type, message) == verdict
    if reason is not None:
        assert es_failure_reason(status, error_type, message) == reason


def _chunks(sink: BulkSink, sizes: list[int]) -> list[list[int]]:
    encoded = [b"x" * size for size in sizes]
    return list(sink._chunks(list(range(len(sizes))), encoded))


def test_chunks_split_by_count() -> None:
    sink = BulkSink(cast(Any, None), max_actions=3, max_bytes=10_000)
    assert _chunks(sink, [10] * 7) == [[0, 1, 2], [3, 4, 5], [6]]


def test_chunks_split_by_bytes_and_oversized_document_goes_alone() -> None:
    sink = BulkSink(cast(Any, None), max_actions=100, max_bytes=100)
    assert _chunks(sink, [40, 40, 40, 250, 10, 90]) == [[0, 1], [2], [3], [4, 5]]
