"""docker-compose.yml agrees with the settings and with the containers the tests start."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices

from pipeline.admin import acls
from pipeline.credentials import IDENTITIES
from pipeline.dev.stack.containers import (
    Listener,
    compose_kafka_users,
    compose_password,
    elasticsearch_container_env,
    elasticsearch_image,
    kafka_container_env,
    kafka_image,
    password_variable,
    write_compose_secrets,
)
from pipeline.settings import Settings

COMPOSE = Path(__file__).resolve().parent.parent / "docker-compose.yml"


def _defaults() -> Settings:
    # Field defaults only: the machine's environment must not change the expected values.
    values = {
        name: field.default
        for name, field in Settings.model_fields.items()
        if field.default_factory is None
    }
    return Settings.model_construct(**values)


def _setting_names() -> set[str]:
    names = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        assert isinstance(alias, AliasChoices)
        names.update(str(choice) for choice in alias.choices if str(choice).isupper())
    return names


def unknown_setting_names(env: dict[str, Any]) -> set[str]:
    """Environment variable names in `env` that no Settings field reads."""
    return set(env) - _setting_names()


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load(COMPOSE.read_text())
    result: dict[str, Any] = compose["services"]
    return result


def test_services_and_health_checks(services: dict[str, Any]) -> None:
    assert set(services) == {"kafka", "elasticsearch", "setup", "worker", "api"}
    for name, service in services.items():
        if name != "setup":  # a one-shot: it exits, compose waits for its exit code
            assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"


def test_images_match_the_local_stack_versions(services: dict[str, Any]) -> None:
    defaults = _defaults()
    assert services["kafka"]["image"] == kafka_image(defaults) == "apache/kafka:4.1.1"
    assert services["elasticsearch"]["image"] == elasticsearch_image(defaults)
    assert services["elasticsearch"]["image"].endswith(":8.19.7")
    assert services["worker"]["build"] == services["api"]["build"] == "."
    assert services["setup"]["build"] == "."
    assert services["setup"]["image"] == services["worker"]["image"] == "ct-intake-pipeline:local"
    assert services["worker"]["command"] == ["worker"]
    assert services["api"]["command"] == ["api"]


def test_kafka_and_elasticsearch_environment_is_the_tested_one(services: dict[str, Any]) -> None:
    listeners = [
        Listener("INTERNAL", 29092, "kafka:29092"),
        Listener("EXTERNAL", 9092, "localhost:19092"),
    ]
    assert services["kafka"]["environment"] == {
        **kafka_container_env(listeners, compose_kafka_users()),
        "CT_ADMIN_PASSWORD": compose_password("admin"),  # its health check logs in
    }
    assert services["elasticsearch"]["environment"] == elasticsearch_container_env(
        _defaults().stack_es_heap, secure=True
    )


def test_security_is_on_in_compose(services: dict[str, Any]) -> None:
    kafka = services["kafka"]["environment"]
    assert "PLAINTEXT:" not in kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].replace("SASL_", "")
    assert services["elasticsearch"]["environment"]["xpack.security.enabled"] == "true"
    mounts = {volume.rsplit(":", 2)[1] for volume in services["elasticsearch"]["volumes"][1:]}
    config = "/usr/share/elasticsearch/config"
    assert mounts == {f"{config}/users", f"{config}/users_roles", f"{config}/roles.yml"}
    assert "401" in services["elasticsearch"]["healthcheck"]["test"][1]
    worker, api = services["worker"]["environment"], services["api"]["environment"]
    assert worker["KAFKA_SASL_USERNAME"] == worker["ELASTICSEARCH_USERNAME"] == "ct-worker"
    assert worker["ELASTICSEARCH_PASSWORD"] == compose_password("worker")
    assert api["ELASTICSEARCH_USERNAME"] == "ct-api-restricted"
    # the API's one use of Kafka: acknowledgements to the alerts topic
    assert api["KAFKA_SASL_USERNAME"] == "ct-api-restricted"
    assert api["KAFKA_SASL_PASSWORD"] == compose_password("api-restricted")
    # no literal secret anywhere: every password is an interpolation that fails when unset
    for name in ("setup", "worker", "api"):
        for key, value in services[name]["environment"].items():
            if "PASSWORD" in key:
                assert str(value).startswith("${CT_") and ":?" in str(value), key


def test_kafka_grants_nothing_without_an_acl_and_setup_grants_the_acls(
    services: dict[str, Any],
) -> None:
    kafka = services["kafka"]["environment"]
    assert kafka["KAFKA_AUTHORIZER_CLASS_NAME"] == (
        "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    )
    assert kafka["KAFKA_SUPER_USERS"] == "User:ct-admin"  # the only one
    assert kafka["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    setup = services["setup"]
    assert setup["command"] == ["topics", "ensure", "--grant-acls"]
    assert setup["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    assert setup.get("restart") == "no"
    env = setup["environment"]
    assert env["KAFKA_SASL_USERNAME"] == "ct-admin"
    assert env["KAFKA_SASL_PASSWORD"] == compose_password("admin")
    assert env["KAFKA_SASL_MECHANISM"] == "PLAIN"
    assert unknown_setting_names(env) == set()
    # the worker needs its ACLs before its first request
    assert services["worker"]["depends_on"]["setup"] == {
        "condition": "service_completed_successfully"
    }
    # the deployment setup grants for must be the worker's own
    for name in ("PIPELINE_TOPIC_PREFIX", "PIPELINE_CONSUMER_GROUP"):
        assert env.get(name) == services["worker"]["environment"].get(name), name


def test_every_kafka_identity_with_acls_has_a_compose_login(services: dict[str, Any]) -> None:
    jaas = services["kafka"]["environment"]["KAFKA_LISTENER_NAME_EXTERNAL_PLAIN_SASL_JAAS_CONFIG"]
    with_acls = {identity for identity, *_ in acls.grants(_defaults())}
    assert with_acls == {"worker", "operator", "api", "api-restricted"}
    for identity in {"admin", *with_acls}:
        user = IDENTITIES[identity]
        assert f'user_{user}="{compose_password(identity)}"' in jaas, identity
    # every password compose reads is one `stack compose-secrets` writes
    used = set(re.findall(r"\$\{(CT_[A-Z_]+_PASSWORD):\?", COMPOSE.read_text()))
    assert used == {
        password_variable(i) for i in ("admin", "worker", "operator", "api", "api-restricted")
    }
    assert used <= {password_variable(i) for i in IDENTITIES}


def test_compose_secrets_are_made_once_and_kept_private(tmp_path: Path) -> None:
    env_file = write_compose_secrets(tmp_path / "secrets")
    assert env_file.stat().st_mode & 0o777 == 0o600
    first = env_file.read_text()
    assert write_compose_secrets(tmp_path / "secrets").read_text() == first
    names = {line.split("=", 1)[0] for line in first.splitlines()}
    assert {"CT_ADMIN_PASSWORD", "CT_WORKER_PASSWORD", "CT_API_RESTRICTED_PASSWORD"} <= names
    users = (tmp_path / "secrets" / "elasticsearch" / "users").read_text()
    assert users.startswith("ct-admin:{PBKDF2}")
    assert first.split("=", 1)[1].strip() not in users  # hashes only


def test_ports_match_the_settings(services: dict[str, Any]) -> None:
    defaults = _defaults()
    assert services["kafka"]["ports"] == [f"127.0.0.1:{defaults.stack_kafka_port}:9092"]
    assert services["elasticsearch"]["ports"] == [f"127.0.0.1:{defaults.stack_es_port}:9200"]
    worker_port = int(services["worker"]["environment"]["PIPELINE_WORKER_PORT"])
    assert services["worker"]["ports"] == [f"127.0.0.1:{worker_port}:{worker_port}"]
    api_port = int(services["api"]["environment"]["PIPELINE_API_PORT"])
    assert services["api"]["ports"] == [f"127.0.0.1:{api_port}:{api_port}"]
    assert (worker_port, api_port) == (defaults.worker_port, defaults.api_port)


@pytest.mark.parametrize("name", ["worker", "api"])
def test_pipeline_environment_names_are_settings(services: dict[str, Any], name: str) -> None:
    env = services[name]["environment"]
    assert unknown_setting_names(env) == set()
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:29092"
    assert env["ELASTICSEARCH_URL"] == "http://elasticsearch:9200"
    plain = {key: value for key, value in env.items() if "${" not in str(value)}
    Settings(**plain)  # every literal value parses


def test_a_misspelt_name_is_caught() -> None:
    assert unknown_setting_names({"KAFKA_BOOTSTRAP_SERVER": "x", "ELASTICSEARCH_URL": "y"}) == {
        "KAFKA_BOOTSTRAP_SERVER"
    }
