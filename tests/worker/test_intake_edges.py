"""Every bad-input kind and every hostile-but-valid input, through a real worker process.

Records come from a plain kafka-python producer (an independent client, not the project's
`IntakeProducer`), one producer per compression codec, so this also shows that a record sent
with gzip, snappy, lz4 or zstd reaches the processor and is indexed.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from pipeline.ingest.validate import MAX_DEPTH
from tests.harness import Deployment, wait_for
from tests.worker.support import produce
from tests.worker.test_stream_path import count, read_dlq

pytestmark = pytest.mark.integration

WHEN = "2026-11-20T10:15:00+00:00"
CODECS = ("gzip", "snappy", "lz4", "zstd")


def public(record_id: str, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"id": record_id, "received_at": WHEN, "description": "A van."}
    record.update(fields)
    return {k: v for k, v in record.items() if v is not ...}


def encoded(record: Any) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode()


def bad_inputs(run: str) -> dict[str, tuple[bytes, bytes | None, str]]:
    """name -> (key, value, the reason the dead-letter record must carry)."""

    def keyed(name: str, reason: str, **fields: Any) -> tuple[bytes, bytes | None, str]:
        record_id = f"{run}-{name}"
        return record_id.encode(), encoded(public(record_id, **fields)), reason

    deep: Any = "bottom"
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    return {
        "not-json": (b"not-json", b"{this is not json", "not_json"),
        "not-object": (b"not-object", b'["an", "array"]', "not_object"),
        "missing": keyed("missing", "missing_field", description=...),
        "wrong-type": keyed("wrong-type", "wrong_type", description=12),
        "not-rfc3339": keyed("not-rfc3339", "bad_timestamp", received_at="20/11/2026 10:15"),
        "no-offset": keyed("no-offset", "bad_timestamp", received_at="2026-11-20T10:15:00"),
        "bad-utf8": (b"bad-utf8", b'{"id": "bad\xff", "received_at": "x"}', "invalid_utf8"),
        "empty-id": (b"", encoded(public("   ")), "empty_id"),
        "version": keyed("version", "unknown_schema_version", schema_version=99),
        "deep": keyed("deep", "too_deep", nested=deep),
        # a narrative has no length limit (tests/worker/test_long_record.py); an id does
        "long": (b"long", encoded(public("x" * 300)), "too_long"),
        "tombstone": (b"tombstone", None, "tombstone"),
    }


def hostile_inputs(run: str) -> dict[str, dict[str, Any]]:
    """Valid records an attacker or an unusual reporter might send: all must be indexed."""
    texts = {
        "script": '<script>alert("x")</script> left a bag at the station',
        "lucene": 'name:"x" AND (title:* OR text:[a TO z]) && !a ~2 ^3 \\ / {',
        "emoji": "Man with 🚐 van 🔥 outside the mosque 😡",
        "arabic": "رجل يحمل حقيبة كبيرة قرب المحطة",
        "welsh": "Gwelais ddyn yn cario bag mawr ger yr orsaf yng Nghaerdydd",
    }
    records = {name: public(f"{run}-{name}", description=text) for name, text in texts.items()}
    records["extra"] = public(f"{run}-extra", upstream_flag=True, case={"ref": "CAD 123"})
    records["nul"] = public(f"{run}-nul", description="A van\u0000 parked", **{"k\u0000": "v"})
    return records


def source_of(es: Elasticsearch, alias: str, source_id: str) -> dict[str, Any]:
    hits = es.search(index=alias, query={"term": {"source_id": source_id}})["hits"]["hits"]
    assert len(hits) == 1, (source_id, hits)
    return dict(hits[0]["_source"])


def test_every_bad_kind_is_dead_lettered_and_hostile_input_indexed_whatever_the_codec(
    deployment: Deployment, es: Elasticsearch
) -> None:
    run = uuid.uuid4().hex[:8]
    topic = deployment.topic("public-reports")
    bad, hostile = bad_inputs(run), hostile_inputs(run)
    worker = deployment.start_worker()

    for codec in CODECS:
        ids = [f"{run}-{codec}-{n}" for n in range(5)]
        records = [(i.encode(), encoded(public(i, description=f"Seen via {i}"))) for i in ids]
        produce(deployment, topic, records, codec)
    produce(deployment, topic, [(key, value) for key, value, _ in bad.values()], "gzip")
    produce(deployment, topic, [(r["id"].encode(), encoded(r)) for r in hostile.values()])

    alias = deployment.settings.index_alias
    valid = len(CODECS) * 5 + len(hostile)
    wait_for(lambda: count(es, alias) >= valid, 180, f"{valid} indexed documents", worker.log)
    dead = read_dlq(deployment, expected=len(bad))

    assert count(es, alias) == valid
    reasons = {d["_key"]: d["pipeline.dlq.reason"] for d in dead}
    assert reasons == {key.decode(): reason for key, _, reason in bad.values()}
    for headers in dead:
        assert headers["__connect.errors.topic"] == topic
        assert headers["__connect.errors.stage"] == "ingest"
        assert headers["__connect.errors.exception.message"]
    assert worker.alive(), worker.log()
    assert "RecursionError" not in worker.log()

    for codec in CODECS:
        assert source_of(es, alias, f"{run}-{codec}-4")["text"] == f"Seen via {run}-{codec}-4"
    for name in ("script", "lucene", "emoji", "arabic", "welsh"):
        record = hostile[name]
        assert source_of(es, alias, record["id"])["text"] == record["description"], name
    extra = source_of(es, alias, f"{run}-extra")
    assert extra["extra"] == {"upstream_flag": True, "case": {"ref": "CAD 123"}}
    nul = source_of(es, alias, f"{run}-nul")
    assert nul["text"] == "A van parked"
    assert "\u0000" not in json.dumps(nul, ensure_ascii=False)
