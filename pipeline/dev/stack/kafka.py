"""The local KRaft nodes (one, or a cluster of combined broker+controller nodes): their files,
generated config, start and health probe."""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline import credentials
from pipeline.clients import new_kafka_client
from pipeline.dev.stack import artifacts, process
from pipeline.errors import StackError
from pipeline.settings import Settings

NODE_ID = 1
# Replicas of the internal topics and the broker-wide defaults on a cluster of three or more.
CLUSTER_REPLICAS = 3
CLUSTER_MIN_ISR = 2
SCRAM = "SCRAM-SHA-512"
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"


def node_ids(settings: Settings) -> list[int]:
    """The KRaft node ids of the local stack: 1 to STACK_KAFKA_BROKERS."""
    return list(range(NODE_ID, NODE_ID + settings.stack_kafka_brokers))


def broker_port(settings: Settings, node: int) -> int:
    """Client port of node `node` (1-based): STACK_KAFKA_PORT + 2(node - 1)."""
    return settings.stack_kafka_ports[node - NODE_ID]


def controller_port(settings: Settings, node: int) -> int:
    """Controller port of node `node`: STACK_KAFKA_CONTROLLER_PORT + 2(node - 1)."""
    return settings.stack_kafka_controller_port + 2 * (node - NODE_ID)


@dataclass(frozen=True)
class KafkaPaths:
    """Everything one node keeps under `<state_dir>/kafka` (a cluster: `<state_dir>/kafka-<n>`)."""

    root: Path

    @classmethod
    def of(cls, settings: Settings, node: int = NODE_ID) -> KafkaPaths:
        """Node `node`'s files for these settings."""
        if settings.stack_kafka_brokers == 1:
            return cls(settings.state_dir / "kafka")
        return cls(settings.state_dir / f"kafka-{node}")

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
        """The KRaft cluster id the storage was formatted with (shared by a cluster's nodes)."""
        if self.root.name == "kafka":
            return self.root / "cluster.id"
        return self.root.parent / "kafka-cluster.id"


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


def replication_properties(brokers: int) -> dict[str, str]:
    """Replication defaults: one replica on one node; on three or more, three replicas of
    every internal topic and a write needs two in sync (min.insync.replicas=2)."""
    replicas = str(min(brokers, CLUSTER_REPLICAS))
    isr = str(CLUSTER_MIN_ISR if brokers >= CLUSTER_REPLICAS else 1)
    return {
        "default.replication.factor": replicas,
        "min.insync.replicas": isr,
        "offsets.topic.replication.factor": replicas,
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": isr,
        "share.coordinator.state.topic.replication.factor": replicas,
        "share.coordinator.state.topic.min.isr": isr,
    }


def server_properties(
    settings: Settings,
    data_dir: Path,
    secrets: credentials.StackCredentials | None = None,
    node: int = NODE_ID,
) -> dict[str, str]:
    """server.properties for combined broker+controller node `node` on loopback, sized for a
    laptop; with SASL and ACLs when `secrets` are given (else a stack from before security)."""
    broker = f"127.0.0.1:{broker_port(settings, node)}"
    controller = f"127.0.0.1:{controller_port(settings, node)}"
    voters = ",".join(f"{n}@127.0.0.1:{controller_port(settings, n)}" for n in node_ids(settings))
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
        "node.id": str(node),
        "controller.quorum.voters": voters,
        **listeners,
        "log.dirs": str(data_dir),
        "num.partitions": "1",
        **replication_properties(settings.stack_kafka_brokers),
        "offsets.topic.num.partitions": "10",
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
    settings: Settings,
    classpath: str,
    secrets: credentials.StackCredentials | None,
    node: int = NODE_ID,
) -> KafkaPaths:
    """Write node `node`'s config and format its storage once, with the cluster id kept in
    the state dir (one id for every node of a cluster)."""
    paths = KafkaPaths.of(settings, node)
    for directory in (paths.data, paths.logs):
        directory.mkdir(parents=True, exist_ok=True)
    # it holds passwords
    process.write_private(
        paths.config, render_properties(server_properties(settings, paths.data, secrets, node))
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


def healthy(settings: Settings, node: int = NODE_ID) -> bool:
    """Whether node `node` answers a metadata request on its port and counts as a broker of
    the cluster."""
    port = broker_port(settings, node)
    if not process.port_open(port):
        return False
    from kafka.errors import KafkaError

    # kafka-python logs every failed connection attempt; a probe expects some to fail.
    kafka_log = logging.getLogger("kafka")
    level = kafka_log.level
    kafka_log.setLevel(logging.CRITICAL)
    try:
        admin = _probe_admin(settings, port)
        try:
            brokers = admin.describe_cluster()["brokers"]
        finally:
            admin.close()
    except (KafkaError, OSError):
        return False
    finally:
        kafka_log.setLevel(level)
    return any(b.get("broker_id") == node and not b.get("is_fenced") for b in brokers)


def _probe_admin(settings: Settings, port: int) -> Any:
    """An admin client of the one node on `port`, as the stack's admin, with short timeouts."""
    from kafka import KafkaAdminClient

    return new_kafka_client(
        KafkaAdminClient,
        bootstrap_servers=f"127.0.0.1:{port}",
        client_id="ct-pipeline-stack-probe",
        request_timeout_ms=5000,
        bootstrap_timeout_ms=5000,
        **credentials.admin_kafka_options(settings.state_dir),
    )


def _find_leader(value: object) -> int | None:
    if isinstance(value, dict):
        if isinstance(value.get("leader_id"), int):
            return int(value["leader_id"])
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            found = _find_leader(item)
            if found is not None:
                return found
    return None


def quorum_leader(settings: Settings) -> int | None:
    """The node id of the active KRaft controller (the metadata quorum's leader), or None
    when no node answers. Asks the nodes one at a time: one just killed may still hold its
    port for a moment, and a client bootstrapped at it alone would give up."""
    from kafka.errors import KafkaError

    kafka_log = logging.getLogger("kafka")
    level = kafka_log.level
    kafka_log.setLevel(logging.CRITICAL)
    try:
        for port in settings.stack_kafka_ports:
            if not process.port_open(port):
                continue
            try:
                admin = _probe_admin(settings, port)
                try:
                    leader = _find_leader(admin.describe_metadata_quorum())
                finally:
                    admin.close()
            except (KafkaError, OSError):
                continue
            if leader is not None and leader >= 0:
                return leader
        return None
    finally:
        kafka_log.setLevel(level)
