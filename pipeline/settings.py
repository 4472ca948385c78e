"""Every setting the pipeline reads, from the environment, in one frozen object.

Each field's alias is the environment variable that sets it. `KAFKA_BOOTSTRAP_SERVERS` and
`ELASTICSEARCH_URL` left empty mean "use the local stack" (`pipeline stack up`).
Secrets are `SecretStr`: they never appear in a repr, a log line or an error.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# A selector whose reports fall in this many distinct clusters is common (README, "Common
# selectors"); the search API's default when it is built without settings.
COMMON_SELECTOR_CLUSTERS = 50


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "ct-pipeline"


def _default_state_dir() -> Path:
    # As root, Elasticsearch runs as an unprivileged user who cannot enter /root.
    if os.geteuid() == 0:
        return Path("/var/lib/ct-pipeline")
    return Path.home() / ".local" / "state" / "ct-pipeline"


class Settings(BaseSettings):
    """The pipeline's configuration; build with `get_settings()` or `Settings()` in tests."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    # --- Kafka -----------------------------------------------------------------------------
    kafka_bootstrap_servers: str = Field(
        "",
        validation_alias=_env("KAFKA_BOOTSTRAP_SERVERS"),
        description="Comma-separated host:port list; empty means the local stack.",
    )
    kafka_security_protocol: str = Field(
        "PLAINTEXT",
        validation_alias=_env("KAFKA_SECURITY_PROTOCOL"),
        description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.",
    )
    kafka_sasl_mechanism: str | None = Field(
        None,
        validation_alias=_env("KAFKA_SASL_MECHANISM"),
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
        6,
        ge=1,
        validation_alias=_env("PIPELINE_INTAKE_PARTITIONS"),
        description="Partitions for each intake topic created by `pipeline topics ensure`.",
    )
    replication_factor: int = Field(
        1,
        ge=1,
        validation_alias=_env("PIPELINE_REPLICATION_FACTOR"),
        description="Replication factor for topics the pipeline creates.",
    )
    intake_retention_ms: int = Field(
        30 * 24 * 3600 * 1000,
        validation_alias=_env("PIPELINE_INTAKE_RETENTION_MS"),
        description="Intake topic retention; -1 keeps forever (Kafka is the source of truth).",
    )
    dlq_retention_ms: int = Field(
        90 * 24 * 3600 * 1000,
        validation_alias=_env("PIPELINE_DLQ_RETENTION_MS"),
        description="Retention of the dead-letter topic.",
    )
    topic_prefix: str = Field(
        "",
        validation_alias=_env("PIPELINE_TOPIC_PREFIX"),
        description="Prefix for every topic name (empty in production; tests isolate with it).",
    )
    consumer_group: str = Field(
        "ct-pipeline",
        validation_alias=_env("PIPELINE_CONSUMER_GROUP"),
        description="Consumer group (faust app id) of the stream workers.",
    )

    # --- Elasticsearch ---------------------------------------------------------------------
    elasticsearch_url: str = Field(
        "",
        validation_alias=_env("ELASTICSEARCH_URL"),
        description=(
            "Elasticsearch base URL, or several comma-separated (the clients spread requests "
            "over them and retry another when one fails); empty means the local stack."
        ),
    )
    elasticsearch_username: str | None = Field(
        None, validation_alias=_env("ELASTICSEARCH_USERNAME"), description="Basic-auth user."
    )
    elasticsearch_password: SecretStr | None = Field(
        None,
        validation_alias=_env("ELASTICSEARCH_PASSWORD"),
        description="Basic-auth password (secret).",
    )
    elasticsearch_api_key: SecretStr | None = Field(
        None, validation_alias=_env("ELASTICSEARCH_API_KEY"), description="API key (secret)."
    )
    elasticsearch_ca_certs: Path | None = Field(
        None, validation_alias=_env("ELASTICSEARCH_CA_CERTS"), description="CA bundle for TLS."
    )
    index_alias: str = Field(
        "reports",
        validation_alias=_env("PIPELINE_INDEX_ALIAS"),
        description="Alias analysts search (contract §2).",
    )
    index_replicas: int | None = Field(
        None,
        ge=0,
        validation_alias=_env("PIPELINE_INDEX_REPLICAS"),
        description="Replicas of new indices; unset means 0 on the local stack, 1 elsewhere.",
    )
    bulk_max_actions: int = Field(
        500,
        ge=1,
        validation_alias=_env("PIPELINE_BULK_MAX_ACTIONS"),
        description="Most documents in one bulk request.",
    )
    bulk_max_bytes: int = Field(
        5_000_000,
        ge=1,
        validation_alias=_env("PIPELINE_BULK_MAX_BYTES"),
        description="Largest bulk request body in bytes (one bigger document goes alone).",
    )
    bulk_max_retries: int = Field(
        5,
        ge=0,
        validation_alias=_env("PIPELINE_BULK_MAX_RETRIES"),
        description=(
            "Retries of items failing for the cluster's sake (429, 5xx, a block) "
            "before backpressure."
        ),
    )
    bulk_backoff_base_s: float = Field(
        0.2,
        gt=0,
        validation_alias=_env("PIPELINE_BULK_BACKOFF_BASE_S"),
        description="First retry backoff ceiling; doubles each retry (full jitter).",
    )
    bulk_backoff_max_s: float = Field(
        10.0,
        gt=0,
        validation_alias=_env("PIPELINE_BULK_BACKOFF_MAX_S"),
        description="Largest single retry backoff.",
    )

    # --- Local stack -----------------------------------------------------------------------
    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        validation_alias=_env("PIPELINE_CACHE_DIR"),
        description="Where downloads (Kafka jars, Elasticsearch zip) are cached.",
    )
    state_dir: Path = Field(
        default_factory=_default_state_dir,
        validation_alias=_env("PIPELINE_STATE_DIR"),
        description="Data, logs and PID files of the local stack (as root: /var/lib/ct-pipeline).",
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
        19093,
        validation_alias=_env("STACK_KAFKA_CONTROLLER_PORT"),
        description="Local KRaft controller port.",
    )
    stack_es_port: int = Field(
        19200, validation_alias=_env("STACK_ES_PORT"), description="Local Elasticsearch HTTP port."
    )
    stack_kafka_brokers: int = Field(
        1,
        ge=1,
        validation_alias=_env("STACK_KAFKA_BROKERS"),
        description=(
            "Local KRaft nodes (broker and controller each); node n listens on "
            "STACK_KAFKA_PORT + 2(n-1), its controller on STACK_KAFKA_CONTROLLER_PORT + 2(n-1)."
        ),
    )
    stack_es_nodes: int = Field(
        1,
        ge=1,
        validation_alias=_env("STACK_ES_NODES"),
        description=(
            "Local Elasticsearch nodes; node n serves HTTP on STACK_ES_PORT + n-1 and "
            "transport on STACK_ES_PORT + 100 + n-1."
        ),
    )
    stack_kafka_heap: str = Field(
        "768m", validation_alias=_env("STACK_KAFKA_HEAP"), description="Local broker JVM heap."
    )
    stack_es_heap: str = Field(
        "1g", validation_alias=_env("STACK_ES_HEAP"), description="Local Elasticsearch JVM heap."
    )
    stack_start_timeout_s: float = Field(
        180.0,
        validation_alias=_env("STACK_START_TIMEOUT_S"),
        description="How long `stack up` waits for both services to be healthy.",
    )
    stack_user: str = Field(
        "ctpipeline",
        validation_alias=_env("STACK_USER"),
        description="Unprivileged user Elasticsearch runs as when invoked as root.",
    )

    # --- Worker ----------------------------------------------------------------------------
    batch_size: int = Field(
        200,
        ge=1,
        validation_alias=_env("PIPELINE_BATCH_SIZE"),
        description="Records per processing batch (NER + bulk request).",
    )
    batch_timeout_s: float = Field(
        0.5,
        gt=0,
        validation_alias=_env("PIPELINE_BATCH_TIMEOUT_S"),
        description="Longest a partial batch waits before it is processed.",
    )
    record_budget_s: float = Field(
        10.0,
        gt=0,
        validation_alias=_env("PIPELINE_RECORD_BUDGET_S"),
        description="Longest one record may spend in validate+enrich (then: processing_timeout).",
    )
    batch_budget_s: float = Field(
        120.0,
        gt=0,
        validation_alias=_env("PIPELINE_BATCH_BUDGET_S"),
        description="Longest a batch may spend in validate+enrich before a record-by-record rerun.",
    )
    watch_refresh_s: float = Field(
        2.0,
        gt=0,
        validation_alias=_env("PIPELINE_WATCH_REFRESH_S"),
        description="How often a worker reads watchlist changes (a new entry matches after this).",
    )
    erasure_refresh_s: float = Field(
        5.0,
        gt=0,
        validation_alias=_env("PIPELINE_ERASURE_REFRESH_S"),
        description="How often an idle worker reads the erasure ledger and purges new erasures.",
    )
    worker_host: str = Field(
        "127.0.0.1",
        validation_alias=_env("PIPELINE_WORKER_HOST"),
        description="Worker HTTP bind address.",
    )
    worker_port: int = Field(
        6066,
        validation_alias=_env("PIPELINE_WORKER_PORT"),
        description="Worker HTTP port: /metrics, /healthz, /readyz.",
    )

    # --- Dedup -----------------------------------------------------------------------------
    dedup_threshold: float = Field(
        0.5,
        gt=0,
        le=1,
        validation_alias=_env("PIPELINE_DEDUP_THRESHOLD"),
        description="Estimated shingle Jaccard similarity from which reports are near duplicates.",
    )
    dedup_shingle_size: int = Field(
        3,
        ge=1,
        validation_alias=_env("PIPELINE_DEDUP_SHINGLE_SIZE"),
        description="Words per shingle (changing it changes the dedup state's keys).",
    )
    dedup_num_perm: int = Field(
        128,
        ge=8,
        validation_alias=_env("PIPELINE_DEDUP_NUM_PERM"),
        description="MinHash permutations per signature (changing it changes the state's keys).",
    )
    dedup_bands: int = Field(
        16,
        ge=1,
        validation_alias=_env("PIPELINE_DEDUP_BANDS"),
        description="LSH bands; each band is one state key per report (bands x rows <= num_perm).",
    )
    dedup_rows: int = Field(
        4,
        ge=1,
        validation_alias=_env("PIPELINE_DEDUP_ROWS"),
        description="Signature rows per LSH band; fewer rows find more candidates.",
    )
    dedup_lock_ttl_s: float = Field(
        30.0,
        gt=0,
        validation_alias=_env("PIPELINE_DEDUP_LOCK_TTL_S"),
        description="Lease of the dedup lock; a crashed holder's lock is broken after this.",
    )
    dedup_lock_wait_s: float = Field(
        60.0,
        gt=0,
        validation_alias=_env("PIPELINE_DEDUP_LOCK_WAIT_S"),
        description="Longest a batch waits for the dedup lock before raising SinkBackpressure.",
    )

    # --- Incidents (README, "Incidents") ------------------------------------------------------
    incident_window_h: float = Field(
        72.0,
        gt=0,
        validation_alias=_env("PIPELINE_INCIDENT_WINDOW_H"),
        description="Reports further apart than this in time never join one incident.",
    )

    # --- Retention (README, "Retention and review") ----------------------------------------
    retention_public_report_years: int = Field(
        6,
        ge=1,
        validation_alias=_env("PIPELINE_RETENTION_PUBLIC_REPORT_YEARS"),
        description="Years from receipt (or a decision to retain) to a public report's review.",
    )
    retention_hotline_call_years: int = Field(
        6,
        ge=1,
        validation_alias=_env("PIPELINE_RETENTION_HOTLINE_CALL_YEARS"),
        description="Years from receipt (or a decision to retain) to a hotline call's review.",
    )
    retention_online_referral_years: int = Field(
        6,
        ge=1,
        validation_alias=_env("PIPELINE_RETENTION_ONLINE_REFERRAL_YEARS"),
        description="Years from receipt (or a decision to retain) to an online referral's review.",
    )
    retention_radicalisation_referral_years: int = Field(
        6,
        ge=1,
        validation_alias=_env("PIPELINE_RETENTION_RADICALISATION_REFERRAL_YEARS"),
        description="Years from receipt (or a decision to retain) to a radicalisation "
        "referral's review.",
    )
    retention_relevant_alert_years: int = Field(
        10,
        ge=1,
        validation_alias=_env("PIPELINE_RETENTION_RELEVANT_ALERT_YEARS"),
        description="Years from an alert's acknowledgement as relevant to its reports' review.",
    )

    # --- Search API ------------------------------------------------------------------------
    api_host: str = Field(
        "127.0.0.1", validation_alias=_env("PIPELINE_API_HOST"), description="Search API bind host."
    )
    api_port: int = Field(
        8080, validation_alias=_env("PIPELINE_API_PORT"), description="Search API port."
    )
    api_keys: SecretStr | None = Field(
        None,
        validation_alias=_env("PIPELINE_API_KEYS"),
        description='Role per API key (secret): {"<key>": {"user": "alice", "role": "analyst"}}',
    )
    audit_index: str | None = Field(
        None,
        validation_alias=_env("PIPELINE_AUDIT_INDEX"),
        description="Append-only audit index; empty means `<index alias>-audit`.",
    )
    api_key: SecretStr | None = Field(
        None,
        validation_alias=_env("PIPELINE_API_KEY"),
        description="API key `pipeline search` and `pipeline audit` send to the API (secret).",
    )
    api_url: str = Field(
        "",
        validation_alias=_env("PIPELINE_API_URL"),
        description="Search API base URL for the CLI; empty means http://127.0.0.1:PIPELINE_API_PORT.",
    )
    api_max_body_bytes: int = Field(
        65_536,
        ge=1,
        validation_alias=_env("PIPELINE_API_MAX_BODY_BYTES"),
        description="Largest API request body; a bigger one is a 413, never read whole.",
    )
    api_rate_per_s: float = Field(
        10.0,
        gt=0,
        validation_alias=_env("PIPELINE_API_RATE_PER_S"),
        description="Requests per second each API key (or keyless client address) may sustain.",
    )
    api_rate_burst: int = Field(
        60,
        ge=1,
        validation_alias=_env("PIPELINE_API_RATE_BURST"),
        description="Requests a key or client may make at once before the rate applies (429).",
    )
    common_selector_clusters: int = Field(
        COMMON_SELECTOR_CLUSTERS,
        ge=2,
        validation_alias=_env("PIPELINE_COMMON_SELECTOR_CLUSTERS"),
        description="Distinct clusters from which a selector is common: marked so, it links no "
        "reports.",
    )

    # --- Logging ---------------------------------------------------------------------------
    log_level: str = Field(
        "INFO", validation_alias=_env("PIPELINE_LOG_LEVEL"), description="Log level."
    )
    log_format: str = Field(
        "json", validation_alias=_env("PIPELINE_LOG_FORMAT"), description="`json` or `text`."
    )

    # --- Operations ------------------------------------------------------------------------
    lag_window_samples: int = Field(
        3,
        ge=1,
        validation_alias=_env("PIPELINE_LAG_WINDOW_SAMPLES"),
        description="Lag samples one status is judged on (`pipeline lag`, worker lag metrics).",
    )
    lag_sample_interval_s: float = Field(
        3.0,
        gt=0,
        validation_alias=_env("PIPELINE_LAG_SAMPLE_INTERVAL_S"),
        description="Seconds between lag samples (window x interval > commit interval).",
    )
    lag_refresh_interval_s: float = Field(
        15.0,
        gt=0,
        validation_alias=_env("PIPELINE_LAG_REFRESH_INTERVAL_S"),
        description="How often a worker refreshes its lag gauges and stuck-partition check.",
    )
    lag_request_timeout_s: float = Field(
        10.0,
        gt=0,
        validation_alias=_env("PIPELINE_LAG_REQUEST_TIMEOUT_S"),
        description="Timeout of each Kafka request made while reading lag.",
    )
    health_timeout_s: float = Field(
        2.0,
        gt=0,
        validation_alias=_env("PIPELINE_HEALTH_TIMEOUT_S"),
        description="Timeout of the Elasticsearch and Kafka readiness checks.",
    )

    @property
    def uses_local_stack(self) -> bool:
        """True when no external cluster is configured and the local stack serves both."""
        return not self.kafka_bootstrap_servers and not self.elasticsearch_url

    @property
    def kafka_servers(self) -> str:
        """The bootstrap servers to use, falling back to the local broker."""
        if self.kafka_bootstrap_servers:
            return self.kafka_bootstrap_servers
        return ",".join(f"127.0.0.1:{port}" for port in self.stack_kafka_ports)

    @property
    def stack_kafka_ports(self) -> list[int]:
        """The client port of every local broker, node 1 first."""
        return [self.stack_kafka_port + 2 * n for n in range(self.stack_kafka_brokers)]

    @property
    def es_urls(self) -> list[str]:
        """Every Elasticsearch URL the clients use: the configured ones, else each local node's
        (node 1 first)."""
        if self.elasticsearch_url:
            return [url.strip() for url in self.elasticsearch_url.split(",") if url.strip()]
        return [f"http://127.0.0.1:{self.stack_es_port + n}" for n in range(self.stack_es_nodes)]

    @property
    def es_url(self) -> str:
        """The first Elasticsearch URL (what a one-line summary names)."""
        return self.es_urls[0]

    @property
    def es_hosts(self) -> str:
        """`es_urls` as `PIPELINE_ELASTICSEARCH_URL` takes them, for a child process."""
        return ",".join(self.es_urls)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
