"""What the fault tests (and `make soak`) run and break: a private Redis, a private PostgreSQL
cluster, two daphne processes behind HAProxy, a Celery worker, and typing sharedb clients.

Everything here listens on loopback only, is started in its own process group and is ended by
`close()`, so a failing test leaves nothing running. The shared PostgreSQL and Redis are never
stopped: a test that restarts one of them gets its own instance.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.conftest import ARTIFACTS, ROOT, Cluster, ServerProcess, free_port
from tests.haproxy import LoadBalancer
from tests.history import Verdict, client_errors, verify
from tests.server.sharedb_harness import Driver, servers_spec, setup_document, summary

# The sync tick heals a dropped last broadcast and expires cursors of dead processes
# (presence_ttl() = 3 ticks + 5 s); a short tick keeps the fault tests short.
SYNC_SECONDS = 2
FAULT_ENV = {"COLLAB_SYNC_INTERVAL_SECONDS": str(SYNC_SECONDS)}
# A cursor whose connection vanished must be gone from every other client within this bound.
CURSOR_BOUND_MS = int((3 * SYNC_SECONDS + 5 + 2 * SYNC_SECONDS + 4) * 1000)
FIGURES = ARTIFACTS / "faults.jsonl"


def end_group(process: subprocess.Popen[Any] | None, sig: int = signal.SIGKILL, timeout: float = 15) -> None:
    """Send `sig` to a process's group and wait for the process; SIGKILL if it lingers."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_port(port: int, process: subprocess.Popen[Any], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port}")


class OwnRedis:
    """A redis-server of our own on a free port, with nothing persisted: a restart loses every
    channel-layer group and queued broadcast, as a failed-over Redis does."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = Path(tempfile.mkdtemp(prefix="collab-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "OwnRedis":
        log = open(self.dir / "redis.log", "ab")
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ]
            + ["--dir", str(self.dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_port(self.port, self.process, "redis-server")
        return self

    def kill(self) -> None:
        end_group(self.process)

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def _as_postgres(*args: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


class OwnPostgres:
    """A PostgreSQL cluster of our own (initdb into a temporary directory, run as `postgres`) on a
    free port, so a test can stop and restart it without touching the shared one."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        self.dir = Path(tempfile.mkdtemp(prefix="collab-pg-"))
        self.data = self.dir / "data"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run(
            _as_postgres("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync"),
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> "OwnPostgres":
        options = f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200"
        subprocess.run(
            _as_postgres("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "pg.log"), "-w")
            + ["start"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return self

    def stop(self, mode: str = "fast") -> None:
        """`fast` rolls back open transactions and closes connections; `immediate` is a crash."""
        subprocess.run(
            _as_postgres("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop"),
            capture_output=True,
            timeout=60,
        )

    def close(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class Stack:
    """A migrated database, daphne processes behind HAProxy, and (optionally) a Celery worker.

    `spec()` lists the servers for the driver: index 0 is the balancer, 1.. the processes
    directly (for clients pinned to one process, e.g. a cursor that dies with it)."""

    def __init__(self, *, postgres_url: str | None = None, redis_url: str | None = None, processes: int = 2):
        urls = {k: v for k, v in (("postgres_url", postgres_url), ("redis_url", redis_url)) if v}
        self.cluster = Cluster(env=FAULT_ENV, **urls)
        self.balancer: LoadBalancer | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.servers: list[ServerProcess] = []
        try:
            lb_port = free_port()
            origin = f"http://127.0.0.1:{lb_port}"
            for i in range(processes):
                self.servers.append(
                    self.cluster.start_server(f"daphne-{chr(ord('a') + i)}", extra_origins=(origin,))
                )
            self.balancer = LoadBalancer([s.port for s in self.servers], port=lb_port)
            self.balancer.start()
        except BaseException:
            self.close()
            raise

    def spec(self) -> list[dict[str, str]]:
        assert self.balancer is not None
        return [{"url": self.balancer.ws_url, "origin": self.balancer.origin}, *servers_spec(*self.servers)]

    def kill(self, index: int) -> None:
        """kill -9 one daphne process (no disconnect handlers run, no cursor is cleared)."""
        self.servers[index].stop(kill=True)

    def terminate(self, index: int) -> None:
        """SIGTERM, as a platform restarting a dyno sends; daphne closes its sockets."""
        self.servers[index].stop()

    def restart(self, index: int) -> None:
        self.servers[index].start()

    def start_worker(self) -> subprocess.Popen[bytes]:
        """A real Celery worker (prefork, with beat) on the cluster's database and Redis."""
        log = open(ARTIFACTS / "celery-worker.log", "ab")
        schedule = Path(tempfile.mkdtemp(prefix="collab-beat-")) / "schedule"
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "collab", "worker", "--beat", "--schedule", str(schedule)]
            + ["--pool", "prefork", "--concurrency", "1", "--loglevel", "info"],
            cwd=ROOT,
            env={**os.environ, "DEBUG": "1", **self.cluster.env, "COLLAB_IDLE_SNAPSHOT_SECONDS": "2"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self.worker

    def close(self) -> None:
        end_group(self.worker)
        if self.balancer is not None:
            self.balancer.stop()
        self.cluster.close()


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """Samples the resident memory of the daphne processes twice a second, in a thread."""

    def __init__(self, servers: list[ServerProcess]) -> None:
        self.servers = servers
        self.samples: list[list[int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append([rss_kb(s.process.pid) if s.process else 0 for s in self.servers])
            self._stop.wait(0.5)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def growth_mb(self) -> list[float]:
        """Peak minus first sample, per process, in MB."""
        return [(max(col) - col[0]) / 1024 for col in zip(*self.samples)] if self.samples else []


USERS = {f"u{i}": f"Typist {i}" for i in range(6)}


def typing_document(cluster: Cluster, *, users: dict[str, str] = USERS) -> dict[str, Any]:
    """A document with every user an editor (the first the owner), and their sessions."""
    names = list(users)
    prefix = f"f{os.getpid()}x{time.monotonic_ns() % 10**8}"
    real = {f"{prefix}{n}": full for n, full in users.items()}
    setup = setup_document(
        cluster,
        users=real,
        owner=next(iter(real)),
        members={name: "editor" for name in list(real)[1:]},
        content=[{"insert": "Notes~~~~\n"}],
    )
    setup["cookies"] = [f"sessionid={setup['sessions'][f'{prefix}{n}']}" for n in names]
    return setup


def typists(setup: dict[str, Any], count: int, *, server: int = 0, prefix: str = "T") -> dict[str, Any]:
    """`count` clients (tabs spread over the users) that reconnect like the page when dropped."""
    cookies = setup["cookies"]
    return {
        f"{prefix}{i}": {
            "cookie": cookies[i % len(cookies)],
            "auto_reconnect": {"server": server, "delay_ms": [200, 700]},
        }
        for i in range(count)
    }


def connect_steps(clients: dict[str, Any], server: int = 0) -> list[dict[str, Any]]:
    return [{"do": "connect", "client": name, "server": server, "timeout_ms": 20000} for name in clients]


GHOST = "ghost-cursor"


def cursor_clients(setup: dict[str, Any], *, observer_server: int) -> dict[str, Any]:
    """G shows a cursor and then vanishes; O (on another process) must see it cleared."""
    return {
        "G": {"cookie": setup["cookies"][1]},
        "O": {"cookie": setup["cookies"][2], "auto_reconnect": {"server": observer_server}},
    }


def cursor_steps(*, ghost_server: int, observer_server: int) -> list[dict[str, Any]]:
    """Connect G and O (each pinned to one process) and wait until O sees G's cursor."""
    return [
        {"do": "connect", "client": "G", "server": ghost_server},
        {"do": "connect", "client": "O", "server": observer_server},
        {"do": "presenceSubscribe", "client": "O"},
        {"do": "presenceSubscribe", "client": "G"},
        {"do": "presenceSubmit", "client": "G", "id": GHOST, "value": {"index": 1, "length": 0}},
        {"do": "waitPresence", "client": "O", "id": GHOST, "value": {"index": 1}, "timeout_ms": 10000},
    ]


def cursor_gone_steps(kill_after_ms: int | None = None) -> list[dict[str, Any]]:
    """G vanishes (its process is killed under it, or with `kill_after_ms` its network drops);
    O must then see its cursor cleared within the bound, and the scenario marks "cursor-gone"
    (a failure is recorded instead of ending the scenario)."""
    if kill_after_ms is None:
        vanish = [{"do": "waitClosed", "client": "G", "timeout_ms": 90000, "optional": True}]
    else:
        vanish = [{"do": "sleep", "ms": kill_after_ms}, {"do": "kill", "client": "G"}]
    return [
        *vanish,
        {
            "do": "waitPresence",
            "client": "O",
            "id": GHOST,
            "value": None,
            "timeout_ms": CURSOR_BOUND_MS,
            "optional": True,
        },
        {"do": "mark", "name": "cursor-gone"},
    ]


def cursor_gone_ms(result: dict[str, Any]) -> int | str:
    """From G vanishing to O seeing its cursor cleared (or why it was not, within the bound)."""
    vanished = steps_named(result, "waitClosed", "G") or steps_named(result, "kill", "G")
    gone = steps_named(result, "waitPresence", "O")
    if not vanished or not gone or vanished[-1].get("error") or gone[-1].get("error"):
        observer = result["clients"].get("O", {})
        frames = [f for f in observer.get("presence_frames", []) if f["frame"]["id"] == GHOST]
        return (
            f"not cleared: {vanished[-1:]} {gone[-1:]}; O reconnected {len(observer.get('reconnects', []))} "
            f"times and ended at v{observer.get('version')}; held back by its sharedb client: "
            f"{observer.get('presence_held')}; O's frames about the cursor: {frames[-3:]}"
        )
    return int(gone[-1]["t"] - vanished[-1].get("closed_at", vanished[-1]["t"]))


def typing_step(seconds: float, *, seed: int, clients: list[str], interval_ms: tuple[int, int] = (150, 450)):
    """Random edits (tokens, filler, deletes, formatting) that go on while a client is offline."""
    return {
        "do": "random",
        "clients": clients,
        "duration_ms": int(seconds * 1000),
        "interval_ms": list(interval_ms),
        "seed": seed,
        "offline_typing": True,
        "p_token": 0.5,
        "p_filler": 0.2,
        "p_delete": 0.15,
        "p_emoji": 0.2,
    }


def settle_step(clients: list[str], timeout_ms: int = 60000) -> dict[str, Any]:
    return {"do": "settle", "clients": clients, "timeout_ms": timeout_ms, "fresh_server": 0}


def steps_named(result: dict[str, Any], do: str, client: str | None = None) -> list[dict[str, Any]]:
    """Every step result of that kind, in order, looking into parallel branches too."""
    found: list[dict[str, Any]] = []

    def walk(steps: list[dict[str, Any]]) -> None:
        for step in steps:
            if step.get("do") == do and (client is None or step.get("client") == client):
                found.append(step)
            for branch in step.get("branches") or []:
                walk(branch)

    walk(result.get("steps") or [])
    return found


def report(name: str, figures: dict[str, Any]) -> None:
    """Print a test's figures and keep them (artifacts/faults.jsonl) for docs/reliability.md."""
    line = json.dumps({"test": name, "at": time.strftime("%Y-%m-%d %H:%M:%S"), **figures})
    print("\n" + line)
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    with open(FIGURES, "a") as out:
        out.write(line + "\n")


def run_with_faults(
    stack: Stack,
    setup: dict[str, Any],
    clients: dict[str, Any],
    steps: list[dict[str, Any]],
    inject: Any,
    *,
    timeout: float,
    converge: list[str],
) -> tuple[dict[str, Any], Verdict, dict[str, Any]]:
    """Run the scenario in the background, let `inject(driver)` break things at its marks (it
    returns its own figures), then check the history whatever happened."""
    driver = Driver(
        {"doc": setup["doc"], "servers": stack.spec(), "clients": clients, "steps": steps}, timeout=timeout
    )
    try:
        figures = inject(driver) or {}
        result = driver.result()
    finally:
        driver.stop()
    return result, verify(stack.cluster, setup["doc"], result, converge), figures


def assert_nothing_lost(name: str, result: dict[str, Any], verdict: Verdict, figures: dict[str, Any]) -> None:
    """Report the figures, then: the scenario ran to the end, every history invariant holds, and
    no client saw an error or rolled back (no typed text thrown away)."""
    clients = result.get("clients") or {}
    figures = {
        "acked": verdict.acked_ops,
        "lost": len(verdict.lost),
        "duplicated": len(verdict.duplicated),
        "rejected": len(verdict.rejected),
        "reconnects": sum(len(c.get("reconnects", [])) for c in clients.values()),
        "summary": verdict.figures,
        **figures,
    }
    report(name, figures)
    assert result.get("ok"), f"driver failed: {result.get('error')}\n{summary(result)}"
    verdict.assert_holds()
    problems = client_errors(result)
    assert not problems, "\n".join(problems)
