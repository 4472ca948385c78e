"""Every setting the pipeline reads, from the environment, in one frozen object.

Each field's alias is the environment variable that sets it. `KAFKA_BOOTSTRAP_SERVERS` and
`ELASTICSEARCH_URL` left empty mean "use the local stack" (`pipeline stack up`).
Secrets are `SecretStr`: they never appear in a repr, a log line or an error.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "ct-pipeline"


def _default_state_dir() -> Path:
    return Path.home() / ".local" / "state" / "ct-pipeline"


class Settings(BaseSettings):
    """The pipeline's configuration; build with `get_settings()` or `Settings()` in tests."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    # --- Kafka -----------------------------------------------------------------------------
    kafka_bootstrap_servers: str = Field(
        "", validation_alias=_env("KAFKA_BOOTSTRAP_SERVERS"),
        description="Comma-separated host:port list; empty means the local stack.",
    )
    kafka_security_protocol: str = Field(
        "PLAINTEXT", validation_alias=_env("KAFKA_SECURITY_PROTOCOL"),
        description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.",
    )
    kafka_sasl_mechanism: str | None = Field(
        None, validation_alias=_env("KAFKA_SASL_MECHANISM"),
        description="PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 when SASL is used.",
    )
    kafka_sasl_username: str | None = Field(
        None, validation_alias=_env("KAFKA_SASL_USERNAME"), description="SASL user name."
    )
    kafka_sasl_password: SecretStr | None = Field(
        None, validation_alias=_env("KAFKA_SASL_PASSWORD"), description="SASL password (secret)."
    )
    kafka_ssl_cafile: Path | None = Field(
        None, validation_alias=_env("KAFKA_SSL_CAFILE"), description="CA bundle for broker TLS."
    )
    intake_partitions: int = Field(
        6, ge=1, validation_alias=_env("PIPELINE_INTAKE_PARTITIONS"),
        description="Partitions for each intake topic created by `pipeline topics ensure`.",
    )
    replication_factor: int = Field(
        1, ge=1, validation_alias=_env("PIPELINE_REPLICATION_FACTOR"),
        description="Replication factor for topics the pipeline creates.",
    )
    intake_retention_ms: int = Field(
        30 * 24 * 3600 * 1000, validation_alias=_env("PIPELINE_INTAKE_RETENTION_MS"),
        description="Retention of intake topics; -1 keeps records forever (Kafka is the source of truth).",
    )
    dlq_retention_ms: int = Field(
        90 * 24 * 3600 * 1000, validation_alias=_env("PIPELINE_DLQ_RETENTION_MS"),
        description="Retention of the dead-letter topic.",
    )
    consumer_group: str = Field(
        "ct-pipeline", validation_alias=_env("PIPELINE_CONSUMER_GROUP"),
        description="Consumer group (faust app id) of the stream workers.",
    )

    # --- Elasticsearch ---------------------------------------------------------------------
    elasticsearch_url: str = Field(
        "", validation_alias=_env("ELASTICSEARCH_URL"),
        description="Elasticsearch base URL; empty means the local stack.",
    )
    elasticsearch_username: str | None = Field(
        None, validation_alias=_env("ELASTICSEARCH_USERNAME"), description="Basic-auth user."
    )
    elasticsearch_password: SecretStr | None = Field(
        None, validation_alias=_env("ELASTICSEARCH_PASSWORD"), description="Basic-auth password (secret)."
    )
    elasticsearch_api_key: SecretStr | None = Field(
        None, validation_alias=_env("ELASTICSEARCH_API_KEY"), description="API key (secret)."
    )
    elasticsearch_ca_certs: Path | None = Field(
        None, validation_alias=_env("ELASTICSEARCH_CA_CERTS"), description="CA bundle for TLS."
    )
    index_alias: str = Field(
        "reports", validation_alias=_env("PIPELINE_INDEX_ALIAS"),
        description="Alias analysts search (contract §2).",
    )

    # --- Local stack -----------------------------------------------------------------------
    cache_dir: Path = Field(
        default_factory=_default_cache_dir, validation_alias=_env("PIPELINE_CACHE_DIR"),
        description="Where downloads (Kafka jars, Elasticsearch zip) are cached.",
    )
    state_dir: Path = Field(
        default_factory=_default_state_dir, validation_alias=_env("PIPELINE_STATE_DIR"),
        description="Data, logs and PID files of the local stack.",
    )
    kafka_version: str = Field(
        "4.1.1", validation_alias=_env("STACK_KAFKA_VERSION"), description="Apache Kafka version."
    )
    elasticsearch_version: str = Field(
        "8.19.7", validation_alias=_env("STACK_ES_VERSION"), description="Elasticsearch version."
    )
    stack_kafka_port: int = Field(
        19092, validation_alias=_env("STACK_KAFKA_PORT"), description="Local broker port."
    )
    stack_kafka_controller_port: int = Field(
        19093, validation_alias=_env("STACK_KAFKA_CONTROLLER_PORT"),
        description="Local KRaft controller port.",
    )
    stack_es_port: int = Field(
        19200, validation_alias=_env("STACK_ES_PORT"), description="Local Elasticsearch HTTP port."
    )
    stack_kafka_heap: str = Field(
        "768m", validation_alias=_env("STACK_KAFKA_HEAP"), description="Local broker JVM heap."
    )
    stack_es_heap: str = Field(
        "1g", validation_alias=_env("STACK_ES_HEAP"), description="Local Elasticsearch JVM heap."
    )
    stack_start_timeout_s: float = Field(
        180.0, validation_alias=_env("STACK_START_TIMEOUT_S"),
        description="How long `stack up` waits for both services to be healthy.",
    )
    stack_user: str = Field(
        "ctpipeline", validation_alias=_env("STACK_USER"),
        description="Unprivileged user Elasticsearch runs as when invoked as root.",
    )

    # --- Worker ----------------------------------------------------------------------------
    batch_size: int = Field(
        200, ge=1, validation_alias=_env("PIPELINE_BATCH_SIZE"),
        description="Records per processing batch (NER + bulk request).",
    )
    batch_timeout_s: float = Field(
        0.5, gt=0, validation_alias=_env("PIPELINE_BATCH_TIMEOUT_S"),
        description="Longest a partial batch waits before it is processed.",
    )
    worker_port: int = Field(
        6066, validation_alias=_env("PIPELINE_WORKER_PORT"),
        description="Worker HTTP port: /metrics, /healthz, /readyz.",
    )

    # --- Search API ------------------------------------------------------------------------
    api_host: str = Field(
        "127.0.0.1", validation_alias=_env("PIPELINE_API_HOST"), description="Search API bind host."
    )
    api_port: int = Field(
        8080, validation_alias=_env("PIPELINE_API_PORT"), description="Search API port."
    )
    api_keys: SecretStr | None = Field(
        None, validation_alias=_env("PIPELINE_API_KEYS"),
        description='Role per API key, JSON: {"<key>": {"user": "alice", "role": "analyst"}} (secret).',
    )

    # --- Logging ---------------------------------------------------------------------------
    log_level: str = Field(
        "INFO", validation_alias=_env("PIPELINE_LOG_LEVEL"), description="Log level."
    )
    log_format: str = Field(
        "json", validation_alias=_env("PIPELINE_LOG_FORMAT"), description="`json` or `text`."
    )

    @property
    def uses_local_stack(self) -> bool:
        """True when no external cluster is configured and the local stack serves both."""
        return not self.kafka_bootstrap_servers and not self.elasticsearch_url

    @property
    def kafka_servers(self) -> str:
        """The bootstrap servers to use, falling back to the local broker."""
        return self.kafka_bootstrap_servers or f"127.0.0.1:{self.stack_kafka_port}"

    @property
    def es_url(self) -> str:
        """The Elasticsearch URL to use, falling back to the local node."""
        return self.elasticsearch_url or f"http://127.0.0.1:{self.stack_es_port}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
