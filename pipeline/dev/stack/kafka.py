"""The local single-node KRaft broker: its files, generated config, start and health probe."""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from pipeline import credentials
from pipeline.clients import new_kafka_client
from pipeline.dev.stack import artifacts, process
from pipeline.errors import StackError
from pipeline.settings import Settings

NODE_ID = 1
SCRAM = "SCRAM-SHA-512"
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"


@dataclass(frozen=True)
class KafkaPaths:
    """Everything the broker keeps under `<state_dir>/kafka`."""

    root: Path

    @classmethod
    def of(cls, settings: Settings) -> KafkaPaths:
        """The broker's files for these settings."""
        return cls(settings.state_dir / "kafka")

    @property
    def data(self) -> Path:
        """Log segments and KRaft metadata (`log.dirs`)."""
        return self.root / "data"

    @property
    def logs(self) -> Path:
        """log4j output: server.log, controller.log, state-change.log."""
        return self.root / "logs"

    @property
    def config(self) -> Path:
        """The generated server.properties; its path marks the broker's command line."""
        return self.root / "server.properties"

    @property
    def log4j(self) -> Path:
        """The generated log4j2 configuration."""
        return self.root / "log4j2.properties"

    @property
    def console(self) -> Path:
        """The JVM's stdout and stderr (startup failures land here)."""
        return self.root / "kafka.out"

    @property
    def server_log(self) -> Path:
        """The broker's main log, the first place to look."""
        return self.logs / "server.log"

    @property
    def pid_file(self) -> Path:
        """The broker JVM's PID."""
        return self.root / "kafka.pid"

    @property
    def marker(self) -> str:
        """Text only the broker's command line contains: main class and this config file."""
        return f"kafka.Kafka {self.config}"

    @property
    def cluster_id_file(self) -> Path:
        """The KRaft cluster id the storage was formatted with."""
        return self.root / "cluster.id"


def _jaas(module: str, **options: str) -> str:
    pairs = "".join(f' {key}="{value}"' for key, value in options.items())
    return f"org.apache.kafka.common.security.{module} required{pairs};"


def security_properties(
    broker: str, controller: str, secrets: credentials.StackCredentials
) -> dict[str, str]:
    """Listeners with SASL and an authorizer: every client must log in and hold an ACL.

    Clients use SCRAM-SHA-512. `ct-admin` may also log in with PLAIN, checked against this
    file, which is how `stack up` reaches a broker whose SCRAM users do not exist yet (they
    live in the metadata log) to create them; the broker uses it for itself too.
    """
    admin, admin_password = secrets.username("admin"), secrets.password("admin")
    controller_password = secrets.controller_password
    return {
        "listeners": f"CLIENT://{broker},CONTROLLER://{controller}",
        "advertised.listeners": f"CLIENT://{broker}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "CLIENT",
        "listener.security.protocol.map": "CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT",
        "sasl.mechanism.inter.broker.protocol": "PLAIN",
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.client.sasl.enabled.mechanisms": f"{SCRAM},PLAIN",
        f"listener.name.client.{SCRAM.lower()}.sasl.jaas.config": _jaas("scram.ScramLoginModule"),
        "listener.name.client.plain.sasl.jaas.config": _jaas(
            "plain.PlainLoginModule",
            username=admin,
            password=admin_password,
            **{f"user_{admin}": admin_password},
        ),
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": _jaas(
            "plain.PlainLoginModule",
            username=credentials.CONTROLLER_USER,
            password=controller_password,
            **{f"user_{credentials.CONTROLLER_USER}": controller_password},
        ),
        "authorizer.class.name": AUTHORIZER,
        "super.users": f"User:{admin};User:{credentials.CONTROLLER_USER}",
        "allow.everyone.if.no.acl.found": "false",
    }


def server_properties(
    settings: Settings, data_dir: Path, secrets: credentials.StackCredentials | None = None
) -> dict[str, str]:
    """server.properties for a combined broker+controller on loopback, sized for a laptop;
    with SASL and ACLs when `secrets` are given (else a stack from before security)."""
    broker = f"127.0.0.1:{settings.stack_kafka_port}"
    controller = f"127.0.0.1:{settings.stack_kafka_controller_port}"
    if secrets is not None:
        listeners = security_properties(broker, controller, secrets)
    else:
        listeners = {
            "listeners": f"PLAINTEXT://{broker},CONTROLLER://{controller}",
            "advertised.listeners": f"PLAINTEXT://{broker}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        }
    return {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        "controller.quorum.voters": f"{NODE_ID}@{controller}",
        **listeners,
        "log.dirs": str(data_dir),
        # One node: every internal topic must live with a single replica.
        "num.partitions": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # Tests join and leave groups constantly; the default 3 s delay would slow every one.
        "group.initial.rebalance.delay.ms": "0",
        # Same as a stock broker and the apache/kafka image, so behaviour matches compose.
        "auto.create.topics.enable": "true",
        "delete.topic.enable": "true",
        "num.network.threads": "2",
        "num.io.threads": "4",
        "num.recovery.threads.per.data.dir": "2",
        "log.retention.check.interval.ms": "60000",
    }


def render_properties(values: dict[str, str]) -> str:
    """Java properties text, one `key=value` a line, with a header saying who wrote it."""
    lines = ["# Generated by `pipeline stack up`; edits are overwritten on the next start."]
    lines += [f"{key}={value}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def log4j2_properties(logs_dir: Path) -> str:
    """log4j2 config: INFO to a size-rolled server.log in `logs_dir`, warnings to the console."""
    pattern = "[%d] %p %m (%c)%n"
    return "\n".join(
        [
            "status = warn",
            "appender.file.type = RollingFile",
            "appender.file.name = file",
            f"appender.file.fileName = {logs_dir / 'server.log'}",
            f"appender.file.filePattern = {logs_dir / 'server.log.%i'}",
            "appender.file.layout.type = PatternLayout",
            f"appender.file.layout.pattern = {pattern}",
            "appender.file.policies.type = Policies",
            "appender.file.policies.size.type = SizeBasedTriggeringPolicy",
            "appender.file.policies.size.size = 50MB",
            "appender.file.strategy.type = DefaultRolloverStrategy",
            "appender.file.strategy.max = 3",
            "appender.console.type = Console",
            "appender.console.name = console",
            "appender.console.layout.type = PatternLayout",
            f"appender.console.layout.pattern = {pattern}",
            "appender.console.filter.threshold.type = ThresholdFilter",
            "appender.console.filter.threshold.level = warn",
            "rootLogger.level = info",
            "rootLogger.appenderRef.file.ref = file",
            "rootLogger.appenderRef.console.ref = console",
            "",
        ]
    )


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (22 characters).

    Never one starting with "-", which command lines would read as an option (Kafka's own ids
    avoid it the same way).
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def _java_argv(classpath: str, paths: KafkaPaths, main: str, heap: str) -> list[str]:
    return [
        str(artifacts.java_home() / "bin" / "java"),
        f"-Xms{heap}",
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={paths.log4j}",
        f"-Dkafka.logs.dir={paths.logs}",
        "-cp",
        classpath,
        main,
    ]


def prepare(
    settings: Settings, classpath: str, secrets: credentials.StackCredentials | None
) -> KafkaPaths:
    """Write the config and format the storage once, keeping the cluster id in the state dir."""
    paths = KafkaPaths.of(settings)
    for directory in (paths.data, paths.logs):
        directory.mkdir(parents=True, exist_ok=True)
    # it holds passwords
    process.write_private(
        paths.config, render_properties(server_properties(settings, paths.data, secrets))
    )
    paths.log4j.write_text(log4j2_properties(paths.logs))
    if (paths.data / "meta.properties").exists():
        return paths
    if not paths.cluster_id_file.exists():
        paths.cluster_id_file.write_text(new_cluster_id() + "\n")
    cluster_id = paths.cluster_id_file.read_text().strip()
    # A short-lived tool needs no broker-sized heap.
    argv = _java_argv(classpath, paths, "kafka.tools.StorageTool", "256m")
    argv += [
        "format",
        f"--cluster-id={cluster_id}",  # one word: an id kept from before may start with "-"
        "--config",
        str(paths.config),
        "--ignore-formatted",
    ]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StackError(
            f"formatting Kafka storage in {paths.data} failed:\n{result.stdout}{result.stderr}"
        )
    return paths


def start(settings: Settings, classpath: str, paths: KafkaPaths) -> int:
    """Launch the broker detached; returns its PID (also written to the PID file)."""
    env = {**os.environ, "LOG_DIR": str(paths.logs)}
    child = process.spawn(
        [
            *_java_argv(classpath, paths, "kafka.Kafka", settings.stack_kafka_heap),
            str(paths.config),
        ],
        log_path=paths.console,
        env=env,
        cwd=paths.root,
    )
    process.write_pid(paths.pid_file, child.pid)
    return child.pid


def healthy(settings: Settings) -> bool:
    """Whether the broker answers a metadata request on the local port."""
    if not process.port_open(settings.stack_kafka_port):
        return False
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    # kafka-python logs every failed connection attempt; a probe expects some to fail.
    kafka_log = logging.getLogger("kafka")
    level = kafka_log.level
    kafka_log.setLevel(logging.CRITICAL)
    try:
        admin = new_kafka_client(
            KafkaAdminClient,
            bootstrap_servers=f"127.0.0.1:{settings.stack_kafka_port}",
            client_id="ct-pipeline-stack-probe",
            request_timeout_ms=5000,
            bootstrap_timeout_ms=5000,
            **credentials.admin_kafka_options(settings.state_dir),
        )
        try:
            admin.list_topics()
        finally:
            admin.close()
    except (KafkaError, OSError):
        return False
    finally:
        kafka_log.setLevel(level)
    return True
