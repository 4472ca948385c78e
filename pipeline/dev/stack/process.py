"""Detached service processes: spawn, PID files, find by marker, stop with a grace period."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import StackError

PROC = Path("/proc")

# A killed process is gone only once the kernel has torn it down. A thread blocked on disk I/O
# delays that, and on a busy machine it has taken more than 15 s (CI, 2026-12-02).
EXIT_WAIT_S = 60.0

# Services outlive the Popen objects that started them. Keeping the objects stops Popen's
# "still running" ResourceWarning on garbage collection and lets `reap()` collect exits, so a
# service killed while we run never lingers as a zombie child of ours.
_spawned: list[subprocess.Popen[bytes]] = []


@dataclass(frozen=True)
class RunAs:
    """The account a service runs as; `None` fields mean "the current user"."""

    name: str
    uid: int
    gid: int
    home: Path

    @classmethod
    def current(cls) -> RunAs:
        """The user running this process."""
        entry = pwd.getpwuid(os.geteuid())
        return cls(entry.pw_name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir))


def service_user(name: str) -> RunAs:
    """The account Elasticsearch runs as: ourselves, or (as root) an unprivileged system user.

    Elasticsearch refuses to run as root, so root gets a system user without a login shell,
    created on first use.
    """
    if os.geteuid() != 0:
        return RunAs.current()
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        result = subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            message = result.stderr.strip()
            raise StackError(f"cannot create system user {name!r}: {message}") from None
        entry = pwd.getpwnam(name)
    return RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir))


def chown_tree(root: Path, user: RunAs) -> None:
    """Give `user` everything under `root` (no-op when it already runs as us)."""
    if os.geteuid() != 0 or user.uid == 0:
        return
    for directory, dirnames, filenames in os.walk(root):
        os.chown(directory, user.uid, user.gid)
        for name in dirnames + filenames:
            os.chown(os.path.join(directory, name), user.uid, user.gid, follow_symlinks=False)


def untraversable_parent(path: Path, user: RunAs) -> Path | None:
    """The first ancestor of `path` that `user` cannot enter, if any (e.g. root's 0700 home)."""
    if user.uid == os.geteuid():
        return None
    for parent in reversed(path.resolve().parents):
        info = parent.stat()
        if info.st_uid == user.uid:
            allowed = info.st_mode & 0o100
        elif info.st_gid == user.gid:
            allowed = info.st_mode & 0o010
        else:
            allowed = info.st_mode & 0o001
        if not allowed:
            return parent
    return None


def spawn(
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str],
    cwd: Path,
    user: RunAs | None = None,
) -> subprocess.Popen[bytes]:
    """Start a process in its own session (it outlives us), output appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    switch = user is not None and user.uid != os.geteuid()
    with log_path.open("ab") as out:
        try:
            child = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=dict(env),
                start_new_session=True,
                user=user.uid if switch and user else None,
                group=user.gid if switch and user else None,
                extra_groups=[] if switch else None,
            )
        except OSError as exc:
            raise StackError(f"cannot start {argv[0]}: {exc}") from exc
    _spawned.append(child)
    return child


def reap() -> None:
    """Collect the exit status of services we started that have ended."""
    for child in list(_spawned):
        if child.poll() is not None:
            _spawned.remove(child)


def cmdline(pid: int) -> str:
    """The process's command line joined by spaces, or "" when it is gone."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace")


def find_processes(marker: str) -> list[int]:
    """PIDs of live processes whose command line contains `marker` (e.g. a config path)."""
    reap()
    pids = (int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit())
    return sorted(
        pid for pid in pids if pid != os.getpid() and marker in cmdline(pid) and _running(pid)
    )


def process_state(pid: int) -> str:
    """The state letter of /proc/PID/stat (R, S, D, Z, ...), or "" when the process is gone."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[0]


def _running(pid: int) -> bool:
    """Whether the process exists and is neither a zombie nor dead."""
    return process_state(pid) not in ("Z", "X", "")


def read_pid(path: Path) -> int | None:
    """The PID stored in `path`, or None when the file is missing or garbled."""
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def live_pid(path: Path, marker: str) -> int | None:
    """The PID in `path` if that process is alive and is ours (guards against PID reuse)."""
    reap()
    pid = read_pid(path)
    if pid is None or marker not in cmdline(pid) or not _running(pid):
        return None
    return pid


def write_pid(path: Path, pid: int) -> None:
    """Store a PID file atomically."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"{pid}\n")
    tmp.replace(path)


def write_private(path: Path, text: str) -> None:
    """Write a file that holds secrets: mode 0600 from the moment it exists."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def stop(pids: Sequence[int], *, grace_s: float, markers: Sequence[str]) -> None:
    """SIGTERM `pids`, wait up to `grace_s`, then SIGKILL whatever still carries a marker."""

    def survivors() -> list[int]:
        return sorted({pid for marker in markers for pid in find_processes(marker)})

    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    if not wait_for(lambda: not survivors(), timeout_s=grace_s):
        for pid in survivors():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if not wait_for(lambda: not survivors(), timeout_s=EXIT_WAIT_S):
            raise StackError(f"processes {survivors()} survived SIGKILL")
    # A stopped child of ours is a zombie until collected; collect it now.
    for child in list(_spawned):
        if child.pid in pids:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=1)
    reap()


def wait_for(predicate: Callable[[], bool], *, timeout_s: float, every_s: float = 0.25) -> bool:
    """Poll `predicate` until it holds or `timeout_s` passes; returns whether it held."""
    deadline = time.monotonic() + timeout_s
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(every_s)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock file so two `stack up`/`down` never race on one state dir."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def tail(path: Path, lines: int) -> list[str]:
    """The last `lines` lines of a text file (reads at most the last 1 MiB)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 1_048_576))
            data = handle.read().decode(errors="replace")
    except OSError:
        return []
    return data.splitlines()[-lines:] if lines > 0 else []
