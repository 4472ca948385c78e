"""Kafka and Elasticsearch clients built from the settings, with security applied once.

On the local stack each process logs in as its identity (`pipeline.credentials`):
the command's own, which the CLI front door sets with `use_identity`, else `admin` (tests,
benches and scripts run by the stack's owner, who holds every password anyway). Credentials
set in the settings (KAFKA_SASL_*, ELASTICSEARCH_*) always win; a configured cluster gets
only those.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from elasticsearch import BadRequestError, Elasticsearch
from pydantic import SecretStr

from pipeline import credentials
from pipeline.settings import Settings

T = TypeVar("T")

LOCAL_KAFKA_MECHANISM = "SCRAM-SHA-512"


class _Process:
    identity = "admin"
    quiet_scram = False


def _quiet_local_scram() -> None:
    # kafka-python warns on every SCRAM login without TLS, though SCRAM never sends the
    # password; on the loopback-only local broker that line would flood every log.
    if _Process.quiet_scram:
        return
    logging.getLogger("kafka.net.sasl.scram").addFilter(
        lambda record: "in the clear" not in record.getMessage()
    )
    _Process.quiet_scram = True


def use_identity(identity: str) -> None:
    """Log in to the local stack as `identity` from now on in this process."""
    if identity not in credentials.IDENTITIES:
        raise ValueError(f"unknown identity {identity!r}")
    _Process.identity = identity


def current_identity() -> str:
    """The identity this process logs in to the local stack with."""
    return _Process.identity


def with_local_credentials(settings: Settings, identity: str | None = None) -> Settings:
    """`settings` with the local stack's credentials for `identity` filled in where the
    settings name none and the local stack (with security on) is the cluster in use."""
    secrets = credentials.load(settings.state_dir)
    if secrets is None:
        return settings
    who = identity or _Process.identity
    username, password = secrets.username(who), SecretStr(secrets.password(who))
    update: dict[str, Any] = {}
    if not settings.kafka_bootstrap_servers and not settings.kafka_sasl_mechanism:
        update.update(
            kafka_security_protocol="SASL_PLAINTEXT",
            kafka_sasl_mechanism=LOCAL_KAFKA_MECHANISM,
            kafka_sasl_username=username,
            kafka_sasl_password=password,
        )
        _quiet_local_scram()
    explicit_es = settings.elasticsearch_username or settings.elasticsearch_api_key
    if not settings.elasticsearch_url and not explicit_es:
        update.update(elasticsearch_username=username, elasticsearch_password=password)
    return settings.model_copy(update=update) if update else settings


def local_identity_in_use(settings: Settings, identity: str) -> bool:
    """Whether this process logs in to Elasticsearch as the local stack's `identity`."""
    return (
        _Process.identity == identity
        and with_local_credentials(settings).elasticsearch_username
        == credentials.IDENTITIES[identity]
        and not settings.elasticsearch_username
    )


def identity_env(settings: Settings, identity: str) -> dict[str, str]:
    """Environment variables that give a child process `identity`'s credentials (empty when
    the local stack runs without security or the settings name credentials already)."""
    resolved = with_local_credentials(settings, identity)
    env: dict[str, str] = {}
    if resolved.kafka_sasl_password is not None and settings.kafka_sasl_password is None:
        env.update(
            KAFKA_SECURITY_PROTOCOL=resolved.kafka_security_protocol,
            KAFKA_SASL_MECHANISM=resolved.kafka_sasl_mechanism or "",
            KAFKA_SASL_USERNAME=resolved.kafka_sasl_username or "",
            KAFKA_SASL_PASSWORD=resolved.kafka_sasl_password.get_secret_value(),
        )
    if resolved.elasticsearch_password is not None and settings.elasticsearch_password is None:
        env.update(
            ELASTICSEARCH_USERNAME=resolved.elasticsearch_username or "",
            ELASTICSEARCH_PASSWORD=resolved.elasticsearch_password.get_secret_value(),
        )
    return env


def kafka_security_config(settings: Settings, identity: str | None = None) -> dict[str, Any]:
    """Security options shared by kafka-python and aiokafka (their names agree)."""
    settings = with_local_credentials(settings, identity)
    config: dict[str, Any] = {"security_protocol": settings.kafka_security_protocol}
    if (settings.kafka_sasl_mechanism or "").upper().startswith("SCRAM"):
        _quiet_local_scram()  # credentials passed in the environment, as to worker processes
    if settings.kafka_sasl_mechanism:
        config["sasl_mechanism"] = settings.kafka_sasl_mechanism
        config["sasl_plain_username"] = settings.kafka_sasl_username
        if settings.kafka_sasl_password is not None:
            config["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    if settings.kafka_ssl_cafile is not None:
        config["ssl_cafile"] = str(settings.kafka_ssl_cafile)
    return config


def new_kafka_client(cls: type[T], **config: Any) -> T:
    """Construct a kafka-python client; when the constructor fails, stop what it started.

    kafka-python 3.0 starts an IO thread and opens connections before it bootstraps, and keeps
    both when the bootstrap fails: build every kafka-python client through here.
    """
    client: Any = cls.__new__(cls)
    try:
        client.__init__(**config)
    except BaseException:
        _release(client)
        raise
    return client  # type: ignore[no-any-return]


def _release(client: Any) -> None:
    """Stop the network client and IO thread of a half-built kafka-python client."""
    inner = getattr(client, "_client", None)
    if inner is not None:
        inner.close()
    net = getattr(client, "_net", None)
    if net is not None:
        net.stop()


def kafka_config(
    settings: Settings, *, identity: str | None = None, **overrides: Any
) -> dict[str, Any]:
    """kafka-python keyword arguments: bootstrap servers, security, then overrides."""
    return {
        "bootstrap_servers": settings.kafka_servers.split(","),
        **kafka_security_config(settings, identity),
        **overrides,
    }


def elasticsearch_client(
    settings: Settings, *, identity: str | None = None, **overrides: Any
) -> Elasticsearch:
    """A synchronous Elasticsearch client for the configured cluster or the local stack, over
    every node it names (a request that fails on one node is retried on another)."""
    settings = with_local_credentials(settings, identity)
    options: dict[str, Any] = {"request_timeout": 30}
    if settings.elasticsearch_api_key is not None:
        options["api_key"] = settings.elasticsearch_api_key.get_secret_value()
    elif settings.elasticsearch_username and settings.elasticsearch_password is not None:
        options["basic_auth"] = (
            settings.elasticsearch_username,
            settings.elasticsearch_password.get_secret_value(),
        )
    if settings.elasticsearch_ca_certs is not None:
        options["ca_certs"] = str(settings.elasticsearch_ca_certs)
    options.update(overrides)
    return Elasticsearch(settings.es_urls, **options)


def create_index_if_missing(es: Elasticsearch, index: str, **body: Any) -> bool:
    """Create `index` (with `body`: settings, mappings) unless it exists; True if this call
    created it. Another process creating it between the check and the create is no error."""
    if es.indices.exists(index=index):
        return False
    try:
        es.indices.create(index=index, **body)
    except BadRequestError as exc:
        if exc.error != "resource_already_exists_exception":
            raise
        return False
    return True
