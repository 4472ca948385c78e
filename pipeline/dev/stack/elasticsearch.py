"""The local Elasticsearch node or cluster of nodes: files, generated config, start and health."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipeline import credentials
from pipeline.dev.stack import artifacts, es_security, process
from pipeline.errors import StackError
from pipeline.settings import Settings

CLUSTER_NAME = "ct-pipeline-local"
NODE = 1
# A cluster's transport ports sit this far above its HTTP ports.
TRANSPORT_OFFSET = 100


def node_numbers(settings: Settings) -> list[int]:
    """The local nodes: 1 to STACK_ES_NODES."""
    return list(range(NODE, NODE + settings.stack_es_nodes))


def http_port(settings: Settings, node: int = NODE) -> int:
    """HTTP port of node `node` (1-based): STACK_ES_PORT + node - 1."""
    return settings.stack_es_port + node - NODE


def transport_port(settings: Settings, node: int) -> int:
    """Transport port of node `node` of a cluster: its HTTP port + 100."""
    return http_port(settings, node) + TRANSPORT_OFFSET


def node_name(settings: Settings, node: int) -> str:
    """`local` for the single node, `node-<n>` in a cluster."""
    return "local" if settings.stack_es_nodes == 1 else f"node-{node}"


@dataclass(frozen=True)
class ElasticsearchPaths:
    """Everything one node keeps under `<state_dir>/elasticsearch` (a cluster's node n:
    `<state_dir>/elasticsearch-<n>`), owned by the node's user."""

    root: Path

    @classmethod
    def of(cls, settings: Settings, node: int = NODE) -> ElasticsearchPaths:
        """Node `node`'s files for these settings."""
        if settings.stack_es_nodes == 1:
            return cls(settings.state_dir / "elasticsearch")
        return cls(settings.state_dir / f"elasticsearch-{node}")

    @property
    def home(self) -> Path:
        """The unpacked distribution (bin/, lib/, modules/)."""
        return self.root / "home"

    @property
    def config(self) -> Path:
        """ES_PATH_CONF: the generated elasticsearch.yml; its path marks the node's processes."""
        return self.root / "config"

    @property
    def data(self) -> Path:
        """`path.data`: indices and cluster state."""
        return self.root / "data"

    @property
    def logs(self) -> Path:
        """`path.logs`: the node's own log files."""
        return self.root / "logs"

    @property
    def tmp(self) -> Path:
        """ES_TMPDIR: the node's private temporary directory."""
        return self.root / "tmp"

    @property
    def console(self) -> Path:
        """The launcher's stdout and stderr (config errors before logging starts land here)."""
        return self.root / "elasticsearch.out"

    @property
    def server_log(self) -> Path:
        """The node's main log, the first place to look."""
        return self.logs / f"{CLUSTER_NAME}.log"

    @property
    def marker(self) -> str:
        """Text only this node's JVMs (launcher and server) carry on their command line."""
        return f"-Des.path.home={self.home}"

    @property
    def pid_file(self) -> Path:
        """The server JVM's PID, written by Elasticsearch itself (`-p`)."""
        return self.root / "elasticsearch.pid"


def discovery_settings(settings: Settings, node: int, *, bootstrap: bool) -> dict[str, Any]:
    """How a node finds the others: alone (`single-node`), or by every node's transport port,
    naming the first masters only when the cluster forms (ES warns if that stays set)."""
    if settings.stack_es_nodes == 1:
        return {"discovery.type": "single-node"}
    values: dict[str, Any] = {
        "transport.port": transport_port(settings, node),
        "discovery.seed_hosts": [
            f"127.0.0.1:{transport_port(settings, n)}" for n in node_numbers(settings)
        ],
        # Every node holds data and may be elected master: any one may fail.
        "node.roles": ["master", "data", "ingest"],
    }
    if bootstrap:
        values["cluster.initial_master_nodes"] = [
            node_name(settings, n) for n in node_numbers(settings)
        ]
    return values


def elasticsearch_yml(
    settings: Settings,
    paths: ElasticsearchPaths,
    *,
    secure: bool,
    node: int = NODE,
    bootstrap: bool = False,
) -> dict[str, Any]:
    """elasticsearch.yml for node `node` on loopback, with users and roles or (a stack from
    before security existed) security off and said so explicitly."""
    values: dict[str, Any] = {
        "cluster.name": CLUSTER_NAME,
        "node.name": node_name(settings, node),
        "path.data": str(paths.data),
        "path.logs": str(paths.logs),
        # Loopback keeps the node in development mode: bootstrap checks only warn.
        "network.host": "127.0.0.1",
        "http.port": http_port(settings, node),
        **discovery_settings(settings, node, bootstrap=bootstrap),
        # With x-pack security present, an 8.x node left to itself may switch TLS and
        # passwords on at first start; a local dev node wants neither.
        "xpack.security.enabled": False,
        "xpack.security.enrollment.enabled": False,
        "xpack.security.http.ssl.enabled": False,
        "xpack.security.transport.ssl.enabled": False,
        # Dev disks are shared and often nearly full; watermarks would make indices read-only.
        "cluster.routing.allocation.disk.threshold_enabled": False,
        # Tests clean up with wildcards (`DELETE idx-1234*`).
        "action.destructive_requires_name": False,
    }
    if secure:
        values.update(es_security.security_settings())
    return values


def render_yml(values: dict[str, Any]) -> str:
    """YAML text with a header saying who wrote it."""
    header = "# Generated by `pipeline stack up`; edits are overwritten on the next start.\n"
    return header + yaml.safe_dump(values, sort_keys=False)


def java_opts(settings: Settings) -> str:
    """ES_JAVA_OPTS: a fixed heap from the settings (Elasticsearch would size it from RAM)."""
    return f"-Xms{settings.stack_es_heap} -Xmx{settings.stack_es_heap}"


def prepare(
    settings: Settings,
    archive: Path,
    user: process.RunAs,
    secrets: credentials.StackCredentials | None,
    node: int = NODE,
) -> ElasticsearchPaths:
    """Unpack the distribution for node `node`, write its config (users and roles when
    `secrets` are given), and hand the tree to the node's user."""
    paths = ElasticsearchPaths.of(settings, node)
    paths.root.mkdir(parents=True, exist_ok=True)
    blocked = process.untraversable_parent(paths.root, user)
    if blocked is not None:
        raise StackError(
            f"Elasticsearch runs as user {user.name!r}, who cannot enter {blocked}; "
            "set PIPELINE_STATE_DIR to a directory outside it (e.g. /var/lib/ct-pipeline)"
        )
    artifacts.unpack_elasticsearch(archive, paths.home, settings.elasticsearch_version)
    for directory in (paths.config, paths.data, paths.logs, paths.tmp):
        directory.mkdir(parents=True, exist_ok=True)
    shipped = paths.home / "config"
    for item in shipped.iterdir():
        target = paths.config / item.name
        if item.is_dir():
            shutil.copytree(item, target, dirs_exist_ok=True)
        elif not target.exists():
            shutil.copy2(item, target)
    bootstrap = not any(paths.data.iterdir())
    yml = elasticsearch_yml(
        settings, paths, secure=secrets is not None, node=node, bootstrap=bootstrap
    )
    (paths.config / "elasticsearch.yml").write_text(render_yml(yml))
    if secrets is not None:
        process.write_private(paths.config / "users", es_security.users_file(secrets))
        process.write_private(paths.config / "users_roles", es_security.users_roles_file())
        (paths.config / "roles.yml").write_text(es_security.roles_file())
    process.chown_tree(paths.root, user)
    return paths


def start(
    settings: Settings, paths: ElasticsearchPaths, user: process.RunAs
) -> subprocess.Popen[bytes]:
    """Launch the node daemonised; the launcher exits once the server (which writes its own
    PID file) is up, non-zero when it failed."""
    paths.pid_file.unlink(missing_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(paths.root),
        "ES_JAVA_HOME": str(artifacts.java_home()),
        "ES_PATH_CONF": str(paths.config),
        "ES_TMPDIR": str(paths.tmp),
        "ES_JAVA_OPTS": java_opts(settings),
    }
    return process.spawn(
        [str(paths.home / "bin" / "elasticsearch"), "-d", "-p", str(paths.pid_file)],
        log_path=paths.console,
        env=env,
        cwd=paths.root,
        user=user,
    )


def request(
    settings: Settings, path: str, method: str = "GET", timeout_s: float = 5.0, node: int = NODE
) -> dict[str, Any] | None:
    """Call a JSON API of local node `node` as `ct-admin` (when secure), or None when it does
    not answer or refuses."""
    url = f"http://127.0.0.1:{http_port(settings, node)}{path}"
    call = urllib.request.Request(url, method=method)
    secrets = credentials.load(settings.state_dir)
    if secrets is not None:
        pair = f"{secrets.username('admin')}:{secrets.password('admin')}".encode()
        call.add_header("Authorization", "Basic " + base64.b64encode(pair).decode())
    try:
        # the URL is http://127.0.0.1:<port> built above, never a caller's scheme
        with urllib.request.urlopen(call, timeout=timeout_s) as response:  # noqa: S310
            body: dict[str, Any] = json.load(response)
            return body
    except (urllib.error.URLError, OSError, ValueError):
        return None


def get(
    settings: Settings, path: str, timeout_s: float = 5.0, node: int = NODE
) -> dict[str, Any] | None:
    """GET a JSON API of local node `node`, or None when it does not answer."""
    return request(settings, path, timeout_s=timeout_s, node=node)


def health(settings: Settings, node: int = NODE) -> str | None:
    """The cluster health colour (`green`, `yellow`, `red`) as node `node` sees it, or None
    when it is down."""
    body = get(settings, "/_cluster/health", node=node)
    return None if body is None else str(body.get("status"))


def formed(settings: Settings) -> bool:
    """Whether node 1 answers with a health that serves data and sees every local node."""
    body = get(settings, "/_cluster/health")
    return (
        body is not None
        and body.get("status") in ("green", "yellow")
        and int(body.get("number_of_nodes", 0)) >= settings.stack_es_nodes
    )


def node_role(settings: Settings, node: int = NODE) -> str:
    """Node `node`'s roles (`master,data,ingest`), marked when it is the elected master."""
    local = get(settings, "/_nodes/_local/settings", node=node) or {}
    nodes = local.get("nodes") or {}
    if not nodes:
        return ""
    node_id, info = next(iter(nodes.items()))
    roles = ",".join(str(role) for role in info.get("roles", []))
    state = get(settings, "/_cluster/state/master_node", node=node) or {}
    return roles + (" (elected master)" if state.get("master_node") == node_id else "")
