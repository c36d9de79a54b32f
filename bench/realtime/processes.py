"""Processes the benchmark starts and measures: a private PostgreSQL and Redis, generic child
processes in their own process groups, and CPU time / RSS read from /proc.

Every system in a run uses the same private PostgreSQL and Redis, so their CPU can be measured as
whole process trees without counting anyone else's load on shared servers.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, process: subprocess.Popen[bytes], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout} s")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))):
            tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def _tree_stats(pids: list[int]) -> list[list[str]]:
    """/proc stat fields of these processes and all their live descendants."""
    tree = _children()
    out = []
    seen: set[int] = set()
    stack = list(pids)
    while stack:
        pid = stack.pop()
        if pid in seen or not (fields := _stat(pid)):
            continue
        seen.add(pid)
        out.append(fields)
        stack.extend(tree.get(pid, []))
    return out


def tree_cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) used so far by these processes and all their descendants; children
    that already exited are in their parent's cutime/cstime once reaped."""
    ticks = sum(int(f[i]) for f in _tree_stats(pids) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return ticks / TICKS


def tree_rss_bytes(pids: list[int]) -> int:
    return sum(int(f[21]) * PAGE for f in _tree_stats(pids))


class Child:
    """A child process in its own process group, so stopping it stops everything it started."""

    def __init__(self, name: str, args: list[str], *, log_dir: Path, **popen: object) -> None:
        self.name = name
        self.args = args
        self.log_path = log_dir / f"{name}.log"
        self.popen = popen
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "Child":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            self.args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **self.popen
        )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if not self.process or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass


class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb into a temporary directory, run as user postgres),
    with the distribution's default durability settings."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="collab-bench-pg-"))
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        shutil.chown(self.dir, "postgres", "postgres")
        self.child = Child(
            "postgres",
            [
                "postgres",
                "-D",
                str(self.dir / "data"),
                "-p",
                str(self.port),
                "-k",
                str(self.dir),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "max_connections=300",
                *[a for o in os.environ.get("BENCH_PG_OPTS", "").split() for a in ("-c", o)],
            ],
            log_dir=log_dir,
            user="postgres",
            group="postgres",
        )

    def start(self) -> "PrivatePostgres":
        subprocess.run(
            ["initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres", "--no-sync"],
            check=True,
            capture_output=True,
            user="postgres",
            group="postgres",
        )
        self.child.start()
        wait_for_port(self.port, process=self.child.process, timeout=30, what="postgres")  # type: ignore[arg-type]
        return self

    def database_url(self, name: str) -> str:
        return self.url.rsplit("/", 1)[0] + "/" + name

    def stop(self) -> None:
        self.child.stop(signal.SIGINT)  # fast shutdown
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """A Redis server of our own, without snapshots (nothing in the benchmark needs them)."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="collab-bench-redis-"))
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.child = Child(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--dir",
                str(self.dir),
            ],
            log_dir=log_dir,
        )

    def start(self) -> "PrivateRedis":
        self.child.start()
        wait_for_port(self.port, process=self.child.process, timeout=10, what="redis")  # type: ignore[arg-type]
        return self

    def stop(self) -> None:
        self.child.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
