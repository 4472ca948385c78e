"""First-run API keys: one per role, made once with mode 0600, reused, never for a cluster."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from pipeline.api.auth import Role, authenticate, load_keys
from pipeline.dev.first_run import keys_path, local_api_keys
from pipeline.dev.supervise import api_keys, children
from pipeline.errors import ConfigError
from pipeline.settings import Settings


def local(state_dir: Path, **fields: object) -> Settings:
    """The local stack's settings, whatever this shell's environment names."""
    return Settings(
        **{
            "state_dir": state_dir,
            "kafka_bootstrap_servers": "",
            "elasticsearch_url": "",
            "api_keys": None,
            **fields,
        }
    )


def test_the_first_run_makes_one_key_per_role_readable_by_its_owner_only(tmp_path: Path) -> None:
    keys = local_api_keys(local(tmp_path))
    assert keys is not None and keys.created
    assert keys.path == keys_path(tmp_path)
    assert stat.S_IMODE(keys.path.stat().st_mode) == 0o600
    assert set(keys.by_role) == set(Role)
    assert len(set(keys.by_role.values())) == len(Role)
    assert all(len(key) >= 32 for key in keys.by_role.values())
    # the file is what PIPELINE_API_KEYS holds, so the API reads it as it is
    granted = load_keys(Settings(api_keys=SecretStr(keys.path.read_text())))
    for role, key in keys.by_role.items():
        principal = authenticate(granted, key)
        assert principal is not None and principal.role is role
        assert principal.user == keys.user(role)


def test_later_runs_reuse_the_keys(tmp_path: Path) -> None:
    first = local_api_keys(local(tmp_path))
    again = local_api_keys(local(tmp_path))
    assert first is not None and again is not None and not again.created
    assert again.by_role == first.by_role


@pytest.mark.parametrize(
    "cluster",
    [
        {"kafka_bootstrap_servers": "kafka.example:9092"},
        {"elasticsearch_url": "https://es.example:9200"},
    ],
)
def test_no_keys_are_made_for_a_configured_cluster(
    tmp_path: Path, cluster: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    settings = local(tmp_path, **cluster)
    assert not settings.uses_local_stack
    assert local_api_keys(settings) is None
    assert api_keys(settings) is None
    assert not keys_path(tmp_path).exists()
    assert "PIPELINE_API_KEYS is empty" in caplog.text
    [api] = [c for c in children(settings, 1, True, None) if c.name == "api"]
    assert api.env is None  # today's behaviour: the API gets the environment as it is


def test_configured_keys_win_and_nothing_is_written(tmp_path: Path) -> None:
    configured = SecretStr('{"a-key-of-sixteen-chars": {"user": "alice", "role": "analyst"}}')
    assert local_api_keys(local(tmp_path, api_keys=configured)) is None
    assert not keys_path(tmp_path).exists()


def test_the_api_it_starts_is_given_the_local_keys(tmp_path: Path) -> None:
    settings = local(tmp_path)
    keys = local_api_keys(settings)
    assert keys is not None
    [api] = [c for c in children(settings, 2, True, keys) if c.name == "api"]
    assert api.env is not None
    assert json.loads(api.env["PIPELINE_API_KEYS"]) == json.loads(keys.path.read_text())
    workers = [c for c in children(settings, 2, True, keys) if c.name != "api"]
    assert all(c.env is None for c in workers)  # only the API holds the keys


def test_an_unreadable_keys_file_is_a_clear_error(tmp_path: Path) -> None:
    keys_path(tmp_path).write_text("not json")
    with pytest.raises(ConfigError, match="delete it"):
        local_api_keys(local(tmp_path))
