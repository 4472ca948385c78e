"""Security of the local stack as plain data: passwords, generated config, identities, ACLs."""

from __future__ import annotations

import base64
import hashlib
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from pipeline import credentials
from pipeline.admin import acls
from pipeline.cli import main as cli
from pipeline.clients import (
    current_identity,
    elasticsearch_client,
    identity_env,
    kafka_security_config,
    local_identity_in_use,
    use_identity,
    with_local_credentials,
)
from pipeline.dev.stack import control, elasticsearch, es_security, kafka, licence
from pipeline.errors import StackError
from pipeline.settings import Settings


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def secure(state: Path) -> credentials.StackCredentials:
    state.mkdir()
    return credentials.create(state)


@pytest.fixture
def local(state: Path) -> Settings:
    return Settings(kafka_bootstrap_servers="", elasticsearch_url="", state_dir=state)


@pytest.fixture(autouse=True)
def _identity_restored() -> Iterator[None]:
    before = current_identity()
    yield
    use_identity(before)


def test_passwords_are_random_private_and_made_once(
    state: Path, secure: credentials.StackCredentials
) -> None:
    path = credentials.credentials_path(state)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert credentials.create(state) == secure == credentials.load(state)
    users = {*credentials.IDENTITIES.values(), credentials.CONTROLLER_USER}
    assert set(secure.passwords) == users
    assert len(set(secure.passwords.values())) == len(users)
    assert all(len(password) >= 32 for password in secure.passwords.values())


def test_no_credentials_file_means_no_security(local: Settings) -> None:
    assert credentials.load(local.state_dir) is None
    assert with_local_credentials(local) == local
    assert identity_env(local, "worker") == {}
    assert kafka_security_config(local) == {"security_protocol": "PLAINTEXT"}


def test_each_identity_logs_in_with_its_own_account(
    local: Settings, secure: credentials.StackCredentials
) -> None:
    assert current_identity() == "admin"  # tests and scripts: the stack's owner
    worker = kafka_security_config(local, identity="worker")
    assert worker == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "ct-worker",
        "sasl_plain_password": secure.password("worker"),
    }
    use_identity("api")
    resolved = with_local_credentials(local)
    assert resolved.elasticsearch_username == "ct-api"
    assert resolved.elasticsearch_password is not None
    assert resolved.elasticsearch_password.get_secret_value() == secure.password("api")
    client = elasticsearch_client(local)
    try:
        header = client._headers["authorization"]
    finally:
        client.close()
    token = base64.b64encode(f"ct-api:{secure.password('api')}".encode()).decode()
    assert header == f"Basic {token}"
    with pytest.raises(ValueError, match="unknown identity"):
        use_identity("root")


def test_configured_credentials_and_clusters_win(
    local: Settings, secure: credentials.StackCredentials
) -> None:
    explicit = local.model_copy(
        update={"kafka_sasl_mechanism": "PLAIN", "elasticsearch_username": "someone"}
    )
    assert with_local_credentials(explicit) == explicit
    remote = local.model_copy(
        update={"kafka_bootstrap_servers": "kafka:9092", "elasticsearch_url": "http://es:9200"}
    )
    assert with_local_credentials(remote) == remote


def test_a_child_process_gets_the_identity_it_is_given(
    local: Settings, secure: credentials.StackCredentials
) -> None:
    env = identity_env(local, "worker")
    assert env["KAFKA_SASL_USERNAME"] == env["ELASTICSEARCH_USERNAME"] == "ct-worker"
    assert env["KAFKA_SASL_PASSWORD"] == env["ELASTICSEARCH_PASSWORD"] == secure.password("worker")
    # what the child reads back, with the URLs given explicitly, is that identity
    child = Settings(
        **{key.lower(): value for key, value in env.items()},
        kafka_bootstrap_servers=local.kafka_servers,
        elasticsearch_url=local.es_url,
        state_dir=local.state_dir,
    )
    assert kafka_security_config(child)["sasl_plain_username"] == "ct-worker"


def test_every_command_named_in_the_identity_table_exists() -> None:
    assert set(cli.IDENTITIES) <= set(cli.cli.commands)
    assert set(cli.IDENTITIES.values()) <= set(credentials.IDENTITIES)
    assert cli.IDENTITIES["worker"] == "worker"
    # the API switches analysts' requests to `api` itself
    assert cli.IDENTITIES["api"] == "api-restricted"
    assert {cli.IDENTITIES[c] for c in ("dlq", "lag")} == {"operator"}
    assert not {"topics", "index", "reindex", "stack", "run"} & set(cli.IDENTITIES)


def test_acls_give_each_identity_the_least_it_needs() -> None:
    settings = Settings(topic_prefix="p.", consumer_group="g")
    rows = acls.grants(settings)
    by = {
        identity: {
            (kind, name, prefixed, op)
            for i, kind, name, prefixed, ops in rows
            for op in ops
            if i == identity
        }
        for identity in credentials.IDENTITIES
    }
    assert by["admin"] == set()
    # the API publishes acknowledgements to the alerts topic and does nothing else on Kafka
    alerts = {("TOPIC", "p.alerts", False, "WRITE"), ("TOPIC", "p.alerts", False, "DESCRIBE")}
    assert by["api"] == alerts
    # the restricted role erases (README, "Erasure"): it may add to the ledger, never read it
    erasures = {"WRITE", "DESCRIBE"}
    ledger = {(op) for kind, name, _, op in by["api-restricted"] if name == "p.intake.erasures"}
    assert ledger == erasures
    assert by["api-restricted"] - alerts == {
        ("TOPIC", "p.intake.erasures", False, op) for op in erasures
    }
    assert ("TOPIC", "p.intake.erasures", False, "READ") in by["worker"]
    assert ("TOPIC", "p.intake.erasures", False, "WRITE") not in by["worker"]
    assert ("TOPIC", "p.intake.erasures", False, "WRITE") in by["operator"]
    assert ("TOPIC", "p.alerts", False, "WRITE") in by["worker"]
    assert ("TOPIC", "p.alerts", False, "READ") in by["operator"]
    assert ("TOPIC", "p.alerts", False, "WRITE") not in by["operator"]
    assert ("TOPIC", "p.intake.public-reports", False, "READ") in by["worker"]
    assert ("TOPIC", "p.intake.dlq", False, "WRITE") in by["worker"]
    assert ("GROUP", "g", True, "READ") in by["worker"]  # its group and its reindex groups
    assert ("TOPIC", "g-", True, "CREATE") in by["worker"]  # faust's own topics
    assert not any(
        op in {"WRITE", "DELETE", "ALTER"} and name.endswith("public-reports")
        for _, name, _, op in by["worker"]
    )
    assert ("TOPIC", "p.intake.public-reports", False, "WRITE") in by["operator"]
    assert ("TOPIC", "p.intake.dlq", False, "READ") in by["operator"]
    assert not any(op in {"DELETE", "ALTER", "CREATE"} for *_, op in by["operator"])
    assert all(kind != "CLUSTER" for identity in by for kind, *_ in by[identity])


def test_broker_config_has_no_open_listener(
    state: Path, secure: credentials.StackCredentials
) -> None:
    settings = Settings(state_dir=state, stack_kafka_port=29092, stack_kafka_controller_port=29093)
    props = kafka.server_properties(settings, state / "data", secure)
    assert props["listener.security.protocol.map"] == (
        "CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT"
    )
    assert "PLAINTEXT://" not in props["listeners"]
    assert props["authorizer.class.name"].endswith("StandardAuthorizer")
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == "User:ct-admin;User:ct-controller"
    # PLAIN is checked against this file and knows the admin alone
    plain = props["listener.name.client.plain.sasl.jaas.config"]
    assert plain.count("user_") == 1
    assert f'user_ct-admin="{secure.password("admin")}"' in plain


def test_elasticsearch_config_has_users_roles_and_a_trial(
    state: Path, secure: credentials.StackCredentials
) -> None:
    settings = Settings(state_dir=state)
    yml = elasticsearch.elasticsearch_yml(
        settings, elasticsearch.ElasticsearchPaths.of(settings), secure=True
    )
    assert yml["xpack.security.enabled"] is True
    assert yml["xpack.license.self_generated.type"] == "trial"
    users = dict(line.split(":", 1) for line in es_security.users_file(secure).splitlines())
    assert set(users) == set(credentials.IDENTITIES.values())
    roles = yaml.safe_load(es_security.roles_file())
    api_reports, api_audit = roles["ct_api"]["indices"]
    assert api_reports["field_security"]["except"] == ["restricted.*"]
    assert api_audit["privileges"] == ["create_doc", "view_index_metadata"]
    assert es_security.users_roles_file().splitlines()[0] == "superuser:ct-admin"


def test_password_hashes_are_pbkdf2_as_elasticsearch_reads_them() -> None:
    salt = bytes(range(32))
    text = es_security.pbkdf2_hash("secret", salt)
    prefix, encoded_salt, encoded_key = text.split("$")
    assert prefix == f"{{PBKDF2}}{es_security.PBKDF2_ITERATIONS}"
    assert base64.b64decode(encoded_salt) == salt
    expected = hashlib.pbkdf2_hmac("sha512", b"secret", salt, es_security.PBKDF2_ITERATIONS, 32)
    assert base64.b64decode(encoded_key) == expected


def test_a_stack_from_before_security_runs_as_it_was_with_a_warning(state: Path) -> None:
    settings = Settings(state_dir=state)
    meta = kafka.KafkaPaths.of(settings).data / "meta.properties"
    meta.parent.mkdir(parents=True)
    meta.write_text("cluster.id=x\n")
    said: list[str] = []
    assert control._credentials(settings, secure=False, running=True, echo=said.append) is None
    assert "predates security" in said[0] and "stack up --secure" in said[0]
    with pytest.raises(StackError, match="only while the stack is stopped"):
        control._credentials(settings, secure=True, running=True, echo=said.append)
    made = control._credentials(settings, secure=True, running=False, echo=said.append)
    assert made is not None and made == credentials.load(state)


def test_a_new_stack_is_secure(state: Path) -> None:
    state.mkdir()
    made = control._credentials(Settings(state_dir=state), False, False, lambda _: None)
    assert made is not None


def test_licence_with_field_security_only_while_active() -> None:
    def body(kind: str, status: str) -> dict[str, object]:
        return {"license": {"type": kind, "status": status, "expiry_date_in_millis": 0}}

    assert licence.enforces_field_security(body("trial", "active"))
    assert not licence.enforces_field_security(body("trial", "expired"))
    assert not licence.enforces_field_security(body("basic", "active"))
    assert licence.describe(body("trial", "expired")) == "trial (expired, until 1970-01-01)"


def test_the_api_splits_analysts_onto_ct_api_only_on_a_secure_local_stack(
    local: Settings, state: Path
) -> None:
    use_identity("api-restricted")
    assert not local_identity_in_use(local, "api-restricted")  # no credentials file yet
    state.mkdir()
    credentials.create(state)
    assert local_identity_in_use(local, "api-restricted")
    explicit = local.model_copy(update={"elasticsearch_username": "someone"})
    assert not local_identity_in_use(explicit, "api-restricted")
    use_identity("admin")
    assert not local_identity_in_use(local, "api-restricted")
