"""Kafka and Elasticsearch clients built from the settings, with security applied once."""

from __future__ import annotations

from typing import Any, TypeVar

from elasticsearch import Elasticsearch

from pipeline.settings import Settings

T = TypeVar("T")


def kafka_security_config(settings: Settings) -> dict[str, Any]:
    """Security options shared by kafka-python and aiokafka (their names agree)."""
    config: dict[str, Any] = {"security_protocol": settings.kafka_security_protocol}
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


def kafka_config(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """kafka-python keyword arguments: bootstrap servers, security, then overrides."""
    return {
        "bootstrap_servers": settings.kafka_servers.split(","),
        **kafka_security_config(settings),
        **overrides,
    }


def elasticsearch_client(settings: Settings, **overrides: Any) -> Elasticsearch:
    """A synchronous Elasticsearch client for the configured cluster or the local node."""
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
    return Elasticsearch(settings.es_url, **options)
