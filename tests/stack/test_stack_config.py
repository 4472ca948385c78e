"""Generated configuration of the local stack, checked as plain data (no JVM started)."""

from __future__ import annotations

import base64
import shutil
import tempfile
import zipfile
from pathlib import Path

import yaml

from pipeline.dev.stack import artifacts, elasticsearch, kafka
from pipeline.dev.stack.process import RunAs, untraversable_parent
from pipeline.settings import Settings


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(state_dir=tmp_path / "state", cache_dir=tmp_path / "cache", **overrides)


def _parse_properties(text: str) -> dict[str, str]:
    pairs = [line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#")]
    return {key: value for key, value in pairs}


def test_server_properties_single_kraft_node_on_loopback(tmp_path: Path) -> None:
    settings = _settings(tmp_path, stack_kafka_port=29092, stack_kafka_controller_port=29093)
    props = _parse_properties(
        kafka.render_properties(kafka.server_properties(settings, tmp_path / "data"))
    )
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:29093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:29092"
    assert props["log.dirs"] == str(tmp_path / "data")
    assert props["group.initial.rebalance.delay.ms"] == "0"
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "default.replication.factor",
    ):
        assert props[key] == "1", key


def test_log4j_config_writes_server_log_into_the_logs_dir(tmp_path: Path) -> None:
    text = kafka.log4j2_properties(tmp_path / "logs")
    assert f"appender.file.fileName = {tmp_path / 'logs' / 'server.log'}" in text.splitlines()


def test_cluster_id_is_22_url_safe_characters_of_16_bytes() -> None:
    cluster_id = kafka.new_cluster_id()
    assert len(cluster_id) == 22
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
    assert cluster_id != kafka.new_cluster_id()


def test_cluster_ids_never_start_with_a_dash() -> None:
    # One in 64 random ids would: 2,000 of them all passing by chance is a 1e-14 event.
    assert [i for i in (kafka.new_cluster_id() for _ in range(2000)) if i.startswith("-")] == []


def test_storage_formats_with_a_kept_id_that_starts_with_a_dash(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path / "state")  # the shared cache: no download again
    paths = kafka.KafkaPaths.of(settings)
    paths.root.mkdir(parents=True)
    kept = "-" + kafka.new_cluster_id()[1:]
    paths.cluster_id_file.write_text(kept + "\n")
    kafka.prepare(settings, artifacts.kafka_classpath(settings, echo=lambda _: None), None)
    meta = (paths.data / "meta.properties").read_text()
    assert f"cluster.id={kept}" in meta.splitlines()


def test_elasticsearch_yml_of_a_stack_from_before_security_says_it_is_off(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path, stack_es_port=29200)
    paths = elasticsearch.ElasticsearchPaths.of(settings)
    config = yaml.safe_load(
        elasticsearch.render_yml(elasticsearch.elasticsearch_yml(settings, paths, secure=False))
    )
    assert config["http.port"] == 29200
    assert config["network.host"] == "127.0.0.1"
    assert config["discovery.type"] == "single-node"
    assert config["path.data"] == str(tmp_path / "state" / "elasticsearch" / "data")
    assert config["path.logs"] == str(tmp_path / "state" / "elasticsearch" / "logs")
    for key in (
        "xpack.security.enabled",
        "xpack.security.http.ssl.enabled",
        "xpack.security.transport.ssl.enabled",
        "cluster.routing.allocation.disk.threshold_enabled",
        "action.destructive_requires_name",
    ):
        assert config[key] is False, key


def test_heap_comes_from_settings(tmp_path: Path) -> None:
    assert elasticsearch.java_opts(_settings(tmp_path, stack_es_heap="640m")) == "-Xms640m -Xmx640m"


def test_state_lives_under_the_state_dir(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert kafka.KafkaPaths.of(settings).data == tmp_path / "state" / "kafka" / "data"
    assert elasticsearch.ElasticsearchPaths.of(settings).server_log.parent == (
        tmp_path / "state" / "elasticsearch" / "logs"
    )
    assert artifacts.maven_repo(settings) == tmp_path / "cache" / "m2"


def test_unpack_strips_the_top_directory_and_keeps_exec_bits(tmp_path: Path) -> None:
    archive = tmp_path / "es.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        script = zipfile.ZipInfo("elasticsearch-9.9.9/bin/elasticsearch")
        script.external_attr = 0o755 << 16
        bundle.writestr(script, "#!/bin/sh\n")
        bundle.writestr("elasticsearch-9.9.9/config/jvm.options", "-Xss1m\n")
    home = tmp_path / "home"
    artifacts.unpack_elasticsearch(archive, home, "9.9.9")
    assert (home / "bin" / "elasticsearch").stat().st_mode & 0o111
    assert (home / "config" / "jvm.options").read_text() == "-Xss1m\n"
    artifacts.unpack_elasticsearch(archive, home, "9.9.9")  # a second call is a no-op
    assert (home / ".unpacked").read_text() == "9.9.9"


def test_untraversable_parent_finds_a_private_directory() -> None:
    # Not tmp_path: its own parents are private, which is the very thing under test.
    base = Path(tempfile.mkdtemp(prefix="ct-traverse-"))
    try:
        base.chmod(0o755)
        private = base / "private"
        (private / "state").mkdir(parents=True)
        stranger = RunAs("stranger", uid=65_000, gid=65_000, home=Path("/nonexistent"))
        private.chmod(0o700)
        assert untraversable_parent(private / "state", stranger) == private
        private.chmod(0o711)
        assert untraversable_parent(private / "state", stranger) is None
    finally:
        shutil.rmtree(base)
