"""/healthz and /readyz on a real daphne: what each says when the database or Redis is away."""

import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import POSTGRES_URL, REDIS_URL, Cluster, ServerProcess, free_port

pytestmark = pytest.mark.integration


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung Redis)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


def test_ready_when_database_and_redis_answer(cluster: Cluster) -> None:
    server = cluster.start_server()
    assert get(server.url + "/healthz") == (200, "ok")
    assert get(server.url + "/readyz") == (200, "ok")


def test_database_unreachable_is_unready_but_alive() -> None:
    base = POSTGRES_URL.rsplit("@", 1)[0]
    server = ServerProcess(
        {"DATABASE_URL": f"{base}@127.0.0.1:{free_port()}/nothing", "REDIS_URL": REDIS_URL}, name="no-db"
    ).start()
    try:
        # /healthz does no I/O, so it answers although the database is away.
        assert get(server.url + "/healthz") == (200, "ok")
        assert get(server.url + "/readyz") == (503, "unavailable")
        assert "not ready: database" in server.log()
    finally:
        server.stop()


def test_hung_redis_is_unready_within_the_bound(cluster: Cluster, silent_port: int) -> None:
    server = ServerProcess(
        {
            "DATABASE_URL": cluster.database_url,
            "REDIS_URL": f"redis://127.0.0.1:{silent_port}/0",
            "COLLAB_READY_TIMEOUT_SECONDS": "1",
        },
        name="hung-redis",
    ).start()
    try:
        assert get(server.url + "/readyz") == (503, "unavailable")  # not the client's 15 s timeout
        assert "not ready: redis" in server.log()
        assert get(server.url + "/healthz") == (200, "ok")
    finally:
        server.stop()


def test_unmigrated_database_is_unready(cluster: Cluster) -> None:
    name = cluster.name + "_empty"
    with psycopg.connect(cluster.admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    server = ServerProcess(
        {"DATABASE_URL": cluster.database_url.rsplit("/", 1)[0] + "/" + name, "REDIS_URL": REDIS_URL},
        name="unmigrated",
    ).start()
    try:
        assert get(server.url + "/readyz") == (503, "unavailable")
        assert "migrations are not applied" in server.log()
    finally:
        server.stop()
        with psycopg.connect(cluster.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
