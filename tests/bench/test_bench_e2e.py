"""The end-to-end bench, run tiny against the real stack so it cannot rot.

Asserts what the run got right (every valid record searchable, every bad one dead-lettered,
nothing left behind), never how fast it was.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from kafka import KafkaAdminClient

from pipeline.clients import kafka_config
from pipeline.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BENCH = Path(__file__).resolve().parents[2] / "bench" / "e2e"
COUNT, STEADY_S, STEADY_RATE, NAIVE = 40, 3, 10, 5


def run_bench(settings: Settings, out: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if not settings.uses_local_stack:
        env.update(
            KAFKA_BOOTSTRAP_SERVERS=settings.kafka_servers, ELASTICSEARCH_URL=settings.es_hosts
        )
    argv = [str(BENCH), "--count", str(COUNT), "--steady-s", str(STEADY_S)]
    argv += ["--steady-rate", str(STEADY_RATE), "--naive-count", str(NAIVE)]
    argv += ["--partitions", "2", "--stall-s", "120", "--out", str(out)]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=1200, check=False)


def test_e2e_bench_runs_small_measures_every_phase_and_cleans_up(
    settings: Settings, es: Elasticsearch, tmp_path: Path
) -> None:
    out = tmp_path / "e2e.json"
    result = run_bench(settings, out)
    assert result.returncode == 0, result.stderr[-4000:]
    data = json.loads(out.read_text())

    # one table on stdout, the same rows as the JSON, none skipped
    for row in data["rows"]:
        assert row["measure"] in result.stdout
        assert row["value"] != "skipped", row
    assert {"PASS", "MISS"} >= {row["verdict"] for row in data["rows"] if row["target"]}

    records, valid = data["corpus"]["records"], data["corpus"]["valid"]
    assert records == COUNT and 0 < valid < COUNT  # the demo stream has bad records too
    for phase in ("e2e_1", "e2e_2"):
        assert data[phase]["searchable"] == valid
        assert data[phase]["dead_lettered"] == records - valid
    assert data["ceiling_1"]["texts"] == data["ceiling_2"]["texts"] == valid
    assert data["naive"]["records"] == data["naive"]["searchable"] == NAIVE
    assert data["latency"]["records"] == STEADY_S * STEADY_RATE
    assert data["latency"]["missing"] == 0
    assert data["catchup"]["backlog"] == COUNT
    assert data["worker_peak_rss_mb"] > 0

    # every deployment's topics, groups, indices and templates are gone
    names = data["deployments"]
    assert len(names) == 4
    admin = KafkaAdminClient(**kafka_config(settings))
    try:
        topics = admin.list_topics()
        groups = [str(g.get("group_id", "")) for g in admin.list_groups()]
    finally:
        admin.close()
    for name in names:
        assert not [t for t in topics if t.startswith(name)]
        assert not [g for g in groups if g.startswith(name)]
        assert not es.indices.get(index=f"{name}-*", expand_wildcards="all").body
        templates = es.options(ignore_status=404).indices.get_index_template(name=f"{name}-*")
        assert not templates.body.get("index_templates")
