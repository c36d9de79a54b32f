"""Shared fixtures: real daphne server processes, and a clean PostgreSQL + Redis cluster.

`live_server_url` runs one daphne against the test database pytest-django made (SQLite file or
PostgreSQL, with Redis as the channel layer when REDIS_URL is set). `cluster` always uses the
real PostgreSQL and Redis, with a database of its own, so multi-process tests run the same way in
every configuration.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests import fast_flush

fast_flush.install()

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("COLLAB_TEST_ARTIFACTS", ROOT / "artifacts"))
POSTGRES_URL = os.environ.get("COLLAB_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("COLLAB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(autouse=True, scope="session")
def _media_root(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Uploaded images go to a directory of the run's own, in this process and in the servers it starts."""
    root = tmp_path_factory.mktemp("media")
    os.environ["COLLAB_MEDIA_ROOT"] = str(root)
    settings.MEDIA_ROOT = str(root)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """A daphne process serving collab.asgi on a free local port (`start()` again restarts it on
    the same port, as a platform restarts a dyno; `extra_origins` adds e.g. a balancer's)."""

    def __init__(
        self,
        env: dict[str, str],
        name: str = "daphne",
        *,
        extra_origins: tuple[str, ...] = (),
        ping: tuple[int, int] = (5, 10),
    ) -> None:
        self.port = free_port()
        self.ping = ping  # daphne's ping interval and timeout: short here, the Procfile's in benchmarks
        self.url = f"http://127.0.0.1:{self.port}"
        self.name = name
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.log_path = ARTIFACTS / f"{name}-{self.port}.log"
        self.log_path.unlink(missing_ok=True)
        origins = ",".join([f"http://127.0.0.1:{self.port}", f"http://localhost:{self.port}", *extra_origins])
        self.env = {
            **os.environ,
            "DEBUG": "1",
            "PYTHONUNBUFFERED": "1",
            "CSRF_TRUSTED_ORIGINS": origins,
            "WS_ALLOWED_ORIGINS": origins,
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "ServerProcess":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--ping-interval",
                str(self.ping[0]),
                "--ping-timeout",
                str(self.ping[1]),
                "collab.asgi:application",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_path.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1).read()
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start: {self.log_path.read_text()[-3000:]}")

    def stop(self, kill: bool = False) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill() if kill else self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def database_url_for_test_db() -> dict[str, str]:
    """Environment that points a child process at the database the tests are using."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return {"SQLITE_PATH": str(db["NAME"]), "DATABASE_URL": ""}
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return {
        "DATABASE_URL": f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    }


@pytest.fixture
def live_server_url(transactional_db: Any) -> Iterator[str]:
    """One real daphne sharing the test database (and Redis, when configured)."""
    server = ServerProcess({**database_url_for_test_db(), "REDIS_URL": settings.REDIS_URL}).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


class Cluster:
    """A private PostgreSQL database, migrated, plus the real Redis; starts daphne processes."""

    def __init__(
        self,
        *,
        postgres_url: str = POSTGRES_URL,
        redis_url: str = REDIS_URL,
        env: dict[str, str] | None = None,
    ) -> None:
        import psycopg

        self.name = f"collab_it_{uuid.uuid4().hex[:10]}"
        base = postgres_url.rsplit("/", 1)[0]
        self.database_url = f"{base}/{self.name}"
        self.admin_url = postgres_url
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.redis_url = redis_url
        self.env = {"DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url, **(env or {})}
        self.servers: list[ServerProcess] = []
        self.manage("migrate", "--noinput", "-v", "0")

    def manage(self, *args: str, input_text: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**os.environ, "DEBUG": "1", **self.env},
            input=input_text,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed: {result.stderr[-3000:]}")
        return result.stdout

    def shell(self, code: str) -> str:
        return self.manage("shell", "-c", code)

    def start_server(self, name: str = "daphne", *, extra_origins: tuple[str, ...] = ()) -> ServerProcess:
        server = ServerProcess(self.env, name=name, extra_origins=extra_origins).start()
        self.servers.append(server)
        return server

    def close(self) -> None:
        import psycopg

        for server in self.servers:
            server.stop()
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    cluster = Cluster()
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="session", autouse=True)
def _end_stray_database_sessions(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """Let the test database be dropped: pooled consumer threads keep connections open."""
    yield
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


# Fixtures that bring their own PostgreSQL and Redis (a `Cluster`, or private servers): tests using
# them run the same whatever DATABASE_URL and REDIS_URL say, so CI runs them in one pass only.
OWN_SERVICES = {
    "cluster",
    "two_servers",
    "stack",
    "redis_stack",
    "postgres_stack",
    "own_redis",
    "own_postgres",
}


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    for item in items:
        module = getattr(item, "module", None)
        path = str(getattr(item, "path", ""))
        if (
            OWN_SERVICES & set(getattr(item, "fixturenames", ()))
            or (module is not None and "Cluster" in vars(module))
            or "/tests/faults/" in path
            or "/tests/bench/" in path
        ):
            item.add_marker(pytest.mark.cluster)
        if "browser" in getattr(item, "fixturenames", ()) or "/tests/browser/" in path:
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Run Celery tasks in the test's process (as the embedded configuration does), so what they
    send lands in Django's test outbox even when REDIS_URL names a real broker."""
    from collab.celery import app

    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = before
