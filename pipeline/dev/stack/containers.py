"""Container images and environments for Kafka and Elasticsearch (compose, testcontainers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from pipeline import credentials
from pipeline.credentials import IDENTITIES
from pipeline.dev.stack import es_security, process
from pipeline.dev.stack.kafka import AUTHORIZER
from pipeline.settings import Settings

# The port the controller listens on inside the Kafka container; never published.
CONTROLLER_PORT = 9093
# The image's data volume, owned by its unprivileged user.
KAFKA_DATA_DIR = "/var/lib/kafka/data"
# A fixed KRaft cluster id (16 bytes, URL-safe base64) so a kept volume always matches.
KAFKA_CLUSTER_ID = "Y3QtcGlwZWxpbmUtbG9jYQ"


class Listener(NamedTuple):
    """One Kafka listener: its name, the port inside the container, what clients are told."""

    name: str
    port: int
    advertised: str


def kafka_image(settings: Settings) -> str:
    """The Apache Kafka image matching the local stack's version."""
    return f"apache/kafka:{settings.kafka_version}"


def elasticsearch_image(settings: Settings) -> str:
    """The official Elasticsearch image matching the local stack's version."""
    return f"docker.elastic.co/elasticsearch/elasticsearch:{settings.elasticsearch_version}"


def kafka_sasl_env(listeners: Sequence[Listener], users: Mapping[str, str]) -> dict[str, str]:
    """SASL/PLAIN on every listener, checked against `users` (name -> password), and
    StandardAuthorizer with no access without an ACL. The first user is the broker's own
    login and the only super user; compose's `setup` service grants the others' ACLs
    (`topics ensure --grant-acls`). PLAIN, not SCRAM: the image cannot create SCRAM users at
    format time (README, "Security")."""
    first, password = next(iter(users.items()))
    entries = "".join(f' user_{name}="{secret}"' for name, secret in users.items())
    jaas = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{first}" password="{password}"{entries};'
    )
    env = {
        "KAFKA_SASL_ENABLED_MECHANISMS": "PLAIN",
        "KAFKA_SASL_MECHANISM_INTER_BROKER_PROTOCOL": "PLAIN",
        "KAFKA_SASL_MECHANISM_CONTROLLER_PROTOCOL": "PLAIN",
        "KAFKA_AUTHORIZER_CLASS_NAME": AUTHORIZER,
        "KAFKA_SUPER_USERS": f"User:{first}",
        "KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND": "false",
    }
    for name in [*(listener.name for listener in listeners), "CONTROLLER"]:
        env[f"KAFKA_LISTENER_NAME_{name}_PLAIN_SASL_JAAS_CONFIG"] = jaas
    return env


def kafka_container_env(
    listeners: Sequence[Listener], users: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Environment for the apache/kafka image: one KRaft node, like `pipeline stack up`, with
    SASL/PLAIN logins for `users` when given (compose), open otherwise (testcontainers).

    The image ignores its built-in config as soon as any KAFKA_* variable is set, so every
    setting a single node needs is spelled out here.
    """
    names = [listener.name for listener in listeners]
    protocol = "SASL_PLAINTEXT" if users else "PLAINTEXT"
    protocols = [f"{name}:{protocol}" for name in [*names, "CONTROLLER"]]
    sasl = kafka_sasl_env(listeners, users) if users else {}
    return {
        "CLUSTER_ID": KAFKA_CLUSTER_ID,
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": f"1@localhost:{CONTROLLER_PORT}",
        "KAFKA_LISTENERS": ",".join(
            [
                *(f"{item.name}://:{item.port}" for item in listeners),
                f"CONTROLLER://:{CONTROLLER_PORT}",
            ]
        ),
        "KAFKA_ADVERTISED_LISTENERS": ",".join(
            f"{item.name}://{item.advertised}" for item in listeners
        ),
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": ",".join(protocols),
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_INTER_BROKER_LISTENER_NAME": names[0],
        "KAFKA_LOG_DIRS": KAFKA_DATA_DIR,
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "1",
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
        **sasl,
    }


def elasticsearch_container_env(heap: str, *, secure: bool = False) -> dict[str, str]:
    """Environment for the official Elasticsearch image: one node, with users and roles from
    mounted file-realm files and a trial licence (compose), or security explicitly off."""
    security = {
        "xpack.security.enabled": "true",
        "xpack.license.self_generated.type": "trial",
    }
    return {
        "discovery.type": "single-node",
        **(security if secure else {"xpack.security.enabled": "false"}),
        "xpack.security.enrollment.enabled": "false",
        "xpack.security.http.ssl.enabled": "false",
        "xpack.security.transport.ssl.enabled": "false",
        "cluster.routing.allocation.disk.threshold_enabled": "false",
        "action.destructive_requires_name": "false",
        "ES_JAVA_OPTS": f"-Xms{heap} -Xmx{heap}",
    }


# Compose reads each identity's password from its environment (`--env-file`, see
# `pipeline stack compose-secrets`); an unset one stops compose with this hint.
# the API publishes acknowledgements to the alerts topic
COMPOSE_KAFKA_USERS = ("admin", "worker", "operator", "api", "api-restricted")


def password_variable(identity: str) -> str:
    """`CT_<IDENTITY>_PASSWORD`: the compose variable holding one identity's password."""
    return f"CT_{identity.upper().replace('-', '_')}_PASSWORD"


def compose_password(identity: str) -> str:
    """The compose interpolation of one identity's password, failing when it is unset."""
    return f"${{{password_variable(identity)}:?run bin/pipeline stack compose-secrets}}"


def compose_kafka_users() -> dict[str, str]:
    """Kafka's PLAIN logins in docker-compose.yml: account name -> password interpolation."""
    return {IDENTITIES[i]: compose_password(i) for i in COMPOSE_KAFKA_USERS}


def write_compose_secrets(directory: Path) -> Path:
    """Passwords (`compose.env`, 0600) and Elasticsearch's file-realm files for compose.

    The realm files are world-readable so the image's own user can read them through the
    bind mount: they hold only PBKDF2 hashes of 192-bit random passwords. Returns the env file.
    """
    directory.mkdir(parents=True, exist_ok=True)
    secrets = credentials.create(directory)
    env_file = directory / "compose.env"
    lines = [f"{password_variable(i)}={secrets.password(i)}" for i in IDENTITIES]
    process.write_private(env_file, "\n".join(lines) + "\n")
    realm = directory / "elasticsearch"
    realm.mkdir(exist_ok=True)
    for name, text in (
        ("users", es_security.users_file(secrets)),
        ("users_roles", es_security.users_roles_file()),
        ("roles.yml", es_security.roles_file()),
    ):
        (realm / name).write_text(text)
        (realm / name).chmod(0o644)
    return env_file
