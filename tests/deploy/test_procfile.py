"""The Procfile, run the way the platform runs it: release phase, then `web` and `worker` under honcho.

One production-like stack (DEBUG=0, PostgreSQL in a fresh database, Redis, collected static
files, SECURE_SSL_REDIRECT=0 because there is no TLS router in front) serves every test here;
the last test stops it and proves nothing is left running.
"""

import asyncio
import json
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import websockets
from celery import Celery
from honcho.environ import parse_procfile
from websockets.asyncio.client import connect

from tests.conftest import ARTIFACTS, POSTGRES_URL, REDIS_URL, free_port

from .conftest import ROOT, VENV_BIN, production_env, run

pytestmark = pytest.mark.integration

PROCFILE = parse_procfile((ROOT / "Procfile").read_text()).processes
# Plain urllib, never an environment proxy, for 127.0.0.1.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

CREATE_USER = """
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
user = get_user_model().objects.create_user(username="deploy-check", email="deploy@example.com")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.save()
print(settings.SESSION_COOKIE_NAME + "=" + session.session_key)
"""


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Stack:
    """The release command, collectstatic, then `honcho start web worker` on a free port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.origin = self.url
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws/"
        self.db_name = f"collab_deploy_{uuid.uuid4().hex[:10]}"
        self.database_url = f"{POSTGRES_URL.rsplit('/', 1)[0]}/{self.db_name}"
        # A Redis database of its own, away from the ones the other tests and CI use (0 and 1).
        self.redis_url = f"{REDIS_URL.rsplit('/', 1)[0]}/{random.randint(8, 15)}"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.log_path = ARTIFACTS / f"honcho-{self.port}.log"
        self.env = production_env(
            PORT=str(self.port),
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            CSRF_TRUSTED_ORIGINS=self.origin,
            WS_ALLOWED_ORIGINS=self.origin,
            SECURE_SSL_REDIRECT="0",
            CELERY_BEAT_SCHEDULE_FILE=str(ARTIFACTS / f"celerybeat-{self.port}"),
            # Its collectstatic writes a directory of its own: servers of other tests read the checkout's.
            COLLAB_STATIC_ROOT=tempfile.mkdtemp(prefix="collab-static-"),
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.started: set[int] = set()
        self.release_output = ""
        self._cookie = ""

    def start(self) -> "Stack":
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db_name}"')
        # The release phase, exactly as the Procfile states it (the platform runs it through a shell).
        release = subprocess.run(
            PROCFILE["release"],
            shell=True,
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.release_output = release.stdout + release.stderr
        assert release.returncode == 0, self.release_output[-3000:]
        # What the Python buildpack does after the Node build.
        collect = run(["python", "manage.py", "collectstatic", "--noinput", "-v", "0"], self.env, timeout=300)
        assert collect.returncode == 0, collect.stderr[-3000:]

        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [str(VENV_BIN / "honcho"), "start", "--no-colour", "-f", "Procfile", "web", "worker"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"honcho exited early:\n{self.log()[-4000:]}")
            self.started |= descendants(self.process.pid)
            try:
                if self.get("/healthz")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"web did not come up:\n{self.log()[-4000:]}")

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with OPENER.open(request, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def manage(self, *args: str) -> str:
        result = run(["python", "manage.py", *args], self.env)
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def session_cookie(self) -> str:
        """A signed-in session of a user created in the stack's database (made once)."""
        if not self._cookie:
            self._cookie = self.manage("shell", "-c", CREATE_USER).strip().splitlines()[-1]
        return self._cookie

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> set[int]:
        """SIGTERM honcho (as the platform does) and return whatever survived it."""
        survivors: set[int] = set()
        if self.process is not None and self.process.poll() is None:
            self.started |= descendants(self.process.pid)
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and any(alive(pid) for pid in self.started):
                time.sleep(0.1)
            survivors = {pid for pid in self.started if alive(pid)}
            for pid in survivors:  # Only processes this stack started, by id.
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        return survivors

    def close(self) -> None:
        self.stop()
        for leftover in ARTIFACTS.glob(f"celerybeat-{self.port}*"):
            leftover.unlink()
        shutil.rmtree(self.env["COLLAB_STATIC_ROOT"], ignore_errors=True)
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def stack(frontend_dist: Path) -> Iterator[Stack]:
    stack = Stack()
    try:
        yield stack.start()
    finally:
        stack.close()


def test_procfile_declares_the_three_process_types() -> None:
    assert PROCFILE["release"] == "python manage.py migrate --noinput"
    web = PROCFILE["web"].split()
    # Buffers of 128 kB and more are mmapped, so their memory goes back to the system when freed
    # (tests/server/test_slow_reader.py); glibc's moving threshold would keep it in the heap.
    assert web[0] == "MALLOC_MMAP_THRESHOLD_=131072"
    web = web[1:]
    assert web[0] == "daphne" and web[-1] == "collab.asgi:application"
    for flag, value in [
        ("--bind", "0.0.0.0"),
        ("--port", "$PORT"),
        ("--ping-interval", "15"),
        ("--ping-timeout", "30"),
    ]:
        assert web[web.index(flag) + 1] == value
    assert "--proxy-headers" in web
    worker = PROCFILE["worker"]
    # SIGTERM starts Celery's soft shutdown: tasks finish, or are requeued (test_celery_worker.py).
    assert worker.startswith("REMAP_SIGTERM=SIGQUIT celery -A collab worker --beat ")
    assert "--concurrency 2" in worker


def test_release_phase_migrated_the_fresh_database(stack: Stack) -> None:
    assert "Applying documents.0001_initial... OK" in stack.release_output
    with psycopg.connect(stack.database_url) as conn:
        tables = {
            row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
    assert {"documents_document", "documents_operation", "django_session"} <= tables
    assert "No migrations to apply." in stack.manage("migrate", "--noinput")


def test_site_answers_over_plain_http(stack: Stack) -> None:
    assert stack.get("/healthz") == (200, "ok")
    status, body = stack.get("/accounts/login/")
    assert status == 200, body[:2000]
    # A host outside ALLOWED_HOSTS is refused (DEBUG is off, so no technical page either).
    status, body = stack.get("/healthz", headers={"Host": "evil.example.com"})
    assert status == 400 and "Traceback" not in body


def test_static_files_are_served_from_the_manifest(stack: Stack) -> None:
    manifest = json.loads((Path(stack.env["COLLAB_STATIC_ROOT"]) / "staticfiles.json").read_text())
    hashed = manifest["paths"]["admin/css/base.css"]
    status, body = stack.get(f"/static/{hashed}")
    assert status == 200 and "body" in body


async def test_websocket_handshake_with_a_session(stack: Stack) -> None:
    async with connect(
        stack.ws_url,
        origin=stack.origin,
        additional_headers={"Cookie": stack.session_cookie()},
        proxy=None,
        open_timeout=10,
    ) as ws:  # type: ignore[arg-type]
        await ws.send(json.dumps({"a": "hs", "id": None, "protocol": 1, "protocolMinor": 2}))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert reply["a"] == "hs" and reply["protocol"] == 1
    assert isinstance(reply["id"], str) and reply["id"]


async def test_anonymous_websocket_is_closed_with_4401(stack: Stack) -> None:
    async with connect(stack.ws_url, origin=stack.origin, proxy=None, open_timeout=10) as ws:  # type: ignore[arg-type]
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example.com", "http://127.0.0.1.evil.example.com", "http://localhost:1", "null", None],
)
async def test_wrong_origin_is_refused_at_the_handshake(stack: Stack, origin: str | None) -> None:
    headers = {"Cookie": stack.session_cookie()}
    if origin is not None:
        headers["Origin"] = origin
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        async with connect(stack.ws_url, additional_headers=headers, proxy=None, open_timeout=10):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403


def test_celery_task_round_trips_through_the_worker(stack: Stack) -> None:
    app = Celery("deploy-probe", broker=stack.redis_url, backend=stack.redis_url)
    try:
        value = uuid.uuid4().hex
        result = app.send_task("documents.tasks.ping", args=[value])
        assert result.get(timeout=60) == f"pong:{value}"
    finally:
        app.close()
    assert re.search(r"worker\.1 .*celery@\S+ ready", stack.log()), stack.log()[-3000:]
    assert re.search(r"worker\.1 .*beat: Starting", stack.log()), stack.log()[-3000:]


def test_stopping_honcho_leaves_nothing_running(stack: Stack) -> None:
    """Runs last: SIGTERM to honcho must take daphne, celery and its pool down with it."""
    started = descendants(stack.process.pid) if stack.process else set()
    assert len(started) >= 4, "expected honcho's runners, daphne and the celery worker"
    survivors = stack.stop()
    assert stack.process is not None and stack.process.returncode is not None
    assert survivors == set(), f"still running after honcho stopped: {survivors}\n{stack.log()[-3000:]}"
    with pytest.raises(OSError):
        stack.get("/healthz")
