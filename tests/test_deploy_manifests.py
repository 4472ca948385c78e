"""deploy/ validates against the Kubernetes schemas and agrees with the pipeline's own code.

Core resources (Deployment, Service, ConfigMap, NetworkPolicy ...) are validated strictly
against the Kubernetes 1.31 JSON schemas that the `kubernetes-validate` package ships (a dev
dependency: no download at test time). The operators' custom resources (Strimzi, ECK, KEDA)
have no schemas from a package registry here, so they are checked structurally: the fields
each operator requires, the values it accepts, and that they match topics.py, acls.py and
es_security.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices

from pipeline.admin.acls import grants
from pipeline.admin.topics import wanted_topics
from pipeline.credentials import IDENTITIES
from pipeline.dev.stack.es_security import ROLES, USER_ROLES
from pipeline.settings import Settings

kv = pytest.importorskip(
    "kubernetes_validate", reason="kubernetes-validate is a dev dependency: pip install -e .[dev]"
)

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
KUBERNETES_VERSION = "1.31"
NAMESPACE = "ct-pipeline"
CORE_GROUPS = {"v1", "apps/v1", "batch/v1", "policy/v1", "networking.k8s.io/v1"}
STRIMZI = "kafka.strimzi.io/v1beta2"
ECK = "elasticsearch.k8s.elastic.co/v1"
KEDA = "keda.sh/v1alpha1"
CUSTOM_KINDS = {
    (STRIMZI, "Kafka"),
    (STRIMZI, "KafkaNodePool"),
    (STRIMZI, "KafkaTopic"),
    (STRIMZI, "KafkaUser"),
    (ECK, "Elasticsearch"),
    (KEDA, "ScaledObject"),
    (KEDA, "TriggerAuthentication"),
}
STRIMZI_ACL_OPERATIONS = {
    "Read",
    "Write",
    "Create",
    "Delete",
    "Alter",
    "Describe",
    "ClusterAction",
    "AlterConfigs",
    "DescribeConfigs",
    "IdempotentWrite",
    "All",
}
# Secrets the operators write: Strimzi one per KafkaUser and its cluster CA, ECK its HTTP CA
# and the `elastic` superuser.
OPERATOR_SECRETS = {
    "ct-kafka-cluster-ca-cert",
    "ct-es-es-http-certs-public",
    "ct-es-es-elastic-user",
}


def _defaults() -> Settings:
    # field defaults only, whatever the machine's environment holds
    values = {
        name: field.default
        for name, field in Settings.model_fields.items()
        if field.default_factory is None
    }
    return Settings.model_construct(**values)


def _manifests() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted(DEPLOY.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


MANIFESTS = _manifests()


def _of(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in MANIFESTS if doc["kind"] == kind]


def _one(kind: str, name: str) -> dict[str, Any]:
    (doc,) = [doc for doc in _of(kind) if doc["metadata"]["name"] == name]
    return doc


def _containers() -> Iterator[dict[str, Any]]:
    for kind in ("Deployment", "Job"):
        for doc in _of(kind):
            yield from doc["spec"]["template"]["spec"]["containers"]


def _env_aliases() -> set[str]:
    names = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        assert isinstance(alias, AliasChoices)
        names.add(str(alias.choices[0]))
    return names


def _id(item: tuple[str, dict[str, Any]]) -> str:
    return f"{item[0]}:{item[1]['kind']}/{item[1]['metadata']['name']}"


def test_every_manifest_is_applied_by_the_kustomization() -> None:
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    files = {p.name for p in DEPLOY.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(kustomization["resources"]) == sorted(files)


@pytest.mark.parametrize("item", MANIFESTS, ids=_id)
def test_manifest_is_a_known_resource_in_the_namespace(item: tuple[str, dict[str, Any]]) -> None:
    _, doc = item
    assert doc["apiVersion"] in CORE_GROUPS or (doc["apiVersion"], doc["kind"]) in CUSTOM_KINDS
    if doc["kind"] != "Namespace":
        assert doc["metadata"]["namespace"] == NAMESPACE


CORE = [item for item in MANIFESTS if item[1]["apiVersion"] in CORE_GROUPS]


@pytest.mark.parametrize("item", CORE, ids=_id)
def test_core_resource_validates_strictly(item: tuple[str, dict[str, Any]]) -> None:
    kv.validate(item[1], KUBERNETES_VERSION, strict=True)


def test_the_strict_validator_rejects_a_misspelt_field() -> None:
    broken = json.loads(json.dumps(_one("Deployment", "ct-worker")))
    broken["spec"]["template"]["spec"]["containers"][0]["envFrm"] = []
    with pytest.raises(kv.ValidationError):
        kv.validate(broken, KUBERNETES_VERSION, strict=True)


def test_topics_are_the_pipelines_with_three_replicas_and_two_in_sync() -> None:
    wanted = {
        spec.name: spec
        for spec in wanted_topics(_defaults().model_copy(update={"replication_factor": 3}))
    }
    topics = {doc["spec"]["topicName"]: doc for doc in _of("KafkaTopic")}
    assert topics.keys() == wanted.keys()
    for name, doc in topics.items():
        assert doc["metadata"]["labels"]["strimzi.io/cluster"] == "ct-kafka"
        spec = doc["spec"]
        assert (spec["partitions"], spec["replicas"]) == (wanted[name].partitions, 3)
        config = {key: str(value) for key, value in spec["config"].items()}
        assert config == {**wanted[name].configs, "min.insync.replicas": "2"}


def test_kafka_cluster_is_durable_and_authenticated() -> None:
    kafka = _one("Kafka", "ct-kafka")
    (pool,) = _of("KafkaNodePool")
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == "ct-kafka"
    assert pool["spec"]["replicas"] >= 3
    assert set(pool["spec"]["roles"]) <= {"controller", "broker"}
    assert pool["spec"]["storage"]["type"] in {"jbod", "persistent-claim", "ephemeral"}
    spec = kafka["spec"]["kafka"]
    assert kafka["metadata"]["annotations"]["strimzi.io/node-pools"] == "enabled"
    for listener in spec["listeners"]:
        assert {"name", "port", "type", "tls"} <= listener.keys()
        assert listener["tls"] is True
        assert listener["authentication"]["type"] == "scram-sha-512"
    assert spec["authorization"] == {"type": "simple", "superUsers": [IDENTITIES["admin"]]}
    assert spec["config"]["min.insync.replicas"] == 2
    assert spec["config"]["default.replication.factor"] == 3
    assert spec["config"]["auto.create.topics.enable"] is False
    assert {"topicOperator", "userOperator"} <= kafka["spec"]["entityOperator"].keys()


def test_kafka_users_carry_the_acls_of_acls_py() -> None:
    expected: dict[str, list[tuple[str, str, str, tuple[str, ...]]]] = {}
    for identity, kind, name, prefixed, operations in grants(_defaults()):
        row = (kind.lower(), name, "prefix" if prefixed else "literal", operations)
        expected.setdefault(IDENTITIES[identity], []).append(row)
    users = {doc["metadata"]["name"]: doc["spec"] for doc in _of("KafkaUser")}
    assert users.keys() == set(IDENTITIES.values())
    for user, spec in users.items():
        assert spec["authentication"]["type"] == "scram-sha-512"
        if user == IDENTITIES["admin"]:
            assert "authorization" not in spec  # a super user
            continue
        assert spec["authorization"]["type"] == "simple"
        got = []
        for acl in spec["authorization"]["acls"]:
            assert set(acl["operations"]) <= STRIMZI_ACL_OPERATIONS
            resource = acl["resource"]
            ops = tuple(op.upper() for op in acl["operations"])
            got.append((resource["type"], resource["name"], resource["patternType"], ops))
        assert got == expected[user]


def test_elasticsearch_has_the_stack_roles_and_one_user_per_identity() -> None:
    es = _one("Elasticsearch", "ct-es")
    assert es["spec"]["version"] == _defaults().elasticsearch_version
    assert sum(node_set["count"] for node_set in es["spec"]["nodeSets"]) >= 3
    for node_set in es["spec"]["nodeSets"]:
        assert {"name", "count"} <= node_set.keys()
    (roles_ref,) = es["spec"]["auth"]["roles"]
    roles = yaml.safe_load(_one("Secret", roles_ref["secretName"])["stringData"]["roles.yml"])
    assert roles == ROLES
    users = {}
    for ref in es["spec"]["auth"]["fileRealm"]:
        secret = _one("Secret", ref["secretName"])
        assert secret["type"] == "kubernetes.io/basic-auth"
        users[secret["stringData"]["username"]] = secret["stringData"]["roles"]
    expected = {IDENTITIES[i]: role for i, role in USER_ROLES.items() if i != "admin"}
    assert users == expected


def test_settings_are_real_variables_and_parse() -> None:
    aliases = _env_aliases()
    config = _one("ConfigMap", "ct-pipeline-settings")["data"]
    assert set(config) <= aliases
    settings = Settings(**config)
    assert settings.replication_factor == 3
    assert settings.index_replicas == 1
    assert settings.kafka_security_protocol == "SASL_SSL"
    assert settings.es_url.startswith("https://")
    for container in _containers():
        assert {env["name"] for env in container.get("env", [])} <= aliases


def test_every_secret_referenced_exists_or_is_written_by_an_operator() -> None:
    known = {doc["metadata"]["name"] for doc in _of("Secret")}
    known |= {doc["metadata"]["name"] for doc in _of("KafkaUser")} | OPERATOR_SECRETS
    refs = set()
    for kind in ("Deployment", "Job"):
        for doc in _of(kind):
            pod = doc["spec"]["template"]["spec"]
            refs |= {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
            for container in pod["containers"]:
                for env in container.get("env", []):
                    if "valueFrom" in env:
                        refs.add(env["valueFrom"]["secretKeyRef"]["name"])
                refs |= {
                    e["secretRef"]["name"] for e in container.get("envFrom", []) if "secretRef" in e
                }
    for auth in _of("TriggerAuthentication"):
        refs |= {ref["name"] for ref in auth["spec"]["secretTargetRef"]}
    assert refs <= known


def test_workers_scale_on_the_consumer_groups_lag() -> None:
    config = _one("ConfigMap", "ct-pipeline-settings")["data"]
    scaled = _one("ScaledObject", "ct-worker")["spec"]
    worker = _one("Deployment", "ct-worker")
    assert scaled["scaleTargetRef"]["name"] == worker["metadata"]["name"]
    assert 1 <= scaled["minReplicaCount"] <= scaled["maxReplicaCount"]
    # more consumers than a topic's partitions sit idle
    assert scaled["maxReplicaCount"] <= int(config["PIPELINE_INTAKE_PARTITIONS"])
    (trigger,) = scaled["triggers"]
    assert trigger["type"] == "kafka"
    metadata = trigger["metadata"]
    assert all(isinstance(value, str) for value in metadata.values())  # KEDA: map of strings
    assert metadata["bootstrapServers"] == config["KAFKA_BOOTSTRAP_SERVERS"]
    assert metadata["consumerGroup"] == config["PIPELINE_CONSUMER_GROUP"]
    assert int(metadata["lagThreshold"]) > 0
    auth = _one("TriggerAuthentication", trigger["authenticationRef"]["name"])
    parameters = {ref["parameter"] for ref in auth["spec"]["secretTargetRef"]}
    assert {"sasl", "username", "password", "tls", "ca"} <= parameters
    lag_auth = _one("Secret", "ct-kafka-lag-auth")["stringData"]
    assert (lag_auth["sasl"], lag_auth["tls"]) == ("scram_sha512", "enable")


def test_probes_and_ports_match_the_settings() -> None:
    config = _one("ConfigMap", "ct-pipeline-settings")["data"]
    for name, port_key in (("ct-worker", "PIPELINE_WORKER_PORT"), ("ct-api", "PIPELINE_API_PORT")):
        (container,) = _one("Deployment", name)["spec"]["template"]["spec"]["containers"]
        assert container["ports"][0]["containerPort"] == int(config[port_key])
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    (worker,) = _one("Deployment", "ct-worker")["spec"]["template"]["spec"]["containers"]
    assert worker["readinessProbe"]["httpGet"]["path"] == "/readyz"
    budgets = {doc["metadata"]["name"] for doc in _of("PodDisruptionBudget")}
    assert budgets == {"ct-worker", "ct-api"}
