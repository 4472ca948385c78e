"""`pipeline lag` without a broker: a clear message and its own exit status."""

from __future__ import annotations

from click.testing import CliRunner

from pipeline.cli.lag import EXIT_UNREACHABLE, lag
from pipeline.settings import get_settings
from tests.harness import free_port


def test_unreachable_broker_exits_3_with_a_message() -> None:
    port = free_port()
    env = {"KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{port}", "PIPELINE_LAG_REQUEST_TIMEOUT_S": "1"}
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(lag, ["--samples", "1"], env=env)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == EXIT_UNREACHABLE, result.output
    assert "Kafka unreachable" in result.output


def test_help_explains_statuses_and_exit_codes() -> None:
    result = CliRunner().invoke(lag, ["--help"])
    assert result.exit_code == 0
    for word in ("STALL", "STOP", "REWIND", "WARN", "--watch", "--json", "Exit status"):
        assert word in result.output
