"""The systems under test, each reachable over WebSocket only: collab (production settings, 1 daphne
process or 2 behind HAProxy, PostgreSQL, Redis, a Celery worker) and ShareDB 7 (in memory, or on
sharedb-postgres + sharedb-redis-pubsub), all on one private PostgreSQL and Redis.

A target turns a workload's layout (documents, each with its clients' modes) into loadgen client
specs, names the processes whose CPU and memory count as "the server", and checks the final state
against its store.
"""

import json
import os
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from processes import Child, PrivatePostgres, PrivateRedis, free_port, wait_for_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MARK = "@@BENCH_JSON@@"
# Every document starts with the same text on every system (about 1,800 characters).
# tests/haproxy.py checks each server every second and takes it back after one success.
HEALTH_CHECK_SECONDS = 3
INITIAL = [{"insert": "Notes from the meeting, typed together. " * 45 + "\n"}]

POPULATION_CODE = """
import json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.crypto import get_random_string
from datetime import timedelta

User = get_user_model()
hashed = make_password(get_random_string(20))
users = User.objects.bulk_create(
    [User(username=f"bench{i}", email=f"bench{i}@example.com", password=hashed, first_name="Bench", last_name=str(i))
     for i in range(COUNT)]
)
store = SessionStore()
expires = timezone.now() + timedelta(days=1)
rows, keys = [], []
for user in users:
    key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
    data = {
        SESSION_KEY: str(user.pk),
        BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
        HASH_SESSION_KEY: user.get_session_auth_hash(),
    }
    rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expires))
    keys.append(key)
Session.objects.bulk_create(rows)
print(MARK + json.dumps(keys))
"""

DOCUMENTS_CODE = """
import json
from django.contrib.auth import get_user_model
from documents import services

spec = json.loads(SPEC)
User = get_user_model()
ids = []
for doc in spec["docs"]:
    owner = User.objects.get(username=doc["owner"])
    document = services.create_document(owner=owner, title="Benchmark", content=spec["content"])
    for name, role in doc["members"].items():
        services.add_member(actor=owner, document_id=document.pk, identifier=name, role=role)
    ids.append(str(document.pk))
print(MARK + json.dumps(ids))
"""

STATE_CODE = """
import json
from documents import selectors
from documents.models import Document

out = {}
for document in Document.objects.filter(pk__in=json.loads(IDS)):
    out[str(document.pk)] = {"version": document.version, "ops": selectors.snapshot_at(document=document).content}
print(MARK + json.dumps(out))
"""


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


class Target:
    """One system as the load generator sees it."""

    name: str
    ws_url: str
    origin: str | None = None
    create = False
    affinity = False  # each client's URL names its document (`?doc=`), for a by-document balancer

    def cpu_pids(self) -> list[int]:
        raise NotImplementedError

    def rss_pids(self) -> list[int]:
        raise NotImplementedError

    def prepare(self, layout: list[list[str]]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def stored_state_matches(self, docs: dict[str, Any]) -> bool:
        """Whether the clients' final state is what the store holds."""
        raise NotImplementedError

    def restart(self) -> None:
        raise NotImplementedError


def _procfile_ping() -> tuple[int, int]:
    web = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    words = web.split()
    return int(words[words.index("--ping-interval") + 1]), int(words[words.index("--ping-timeout") + 1])


PROCFILE_PING = _procfile_ping()


class Collab:
    """collab's processes on one private database: daphne A and B, HAProxy over both, a Celery worker."""

    def __init__(
        self, postgres: PrivatePostgres, redis: PrivateRedis, log_dir: Path, population: int
    ) -> None:
        os.environ["COLLAB_TEST_POSTGRES_URL"] = postgres.url
        os.environ["COLLAB_TEST_REDIS_URL"] = redis.url
        os.environ["COLLAB_TEST_ARTIFACTS"] = str(log_dir)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.settings")
        sys.path.insert(0, str(ROOT))
        from tests.conftest import Cluster, ServerProcess
        from tests.haproxy import LoadBalancer

        self.cluster = Cluster()
        # The shell that writes the sessions signs them with the servers' key.
        self.cluster.env["SECRET_KEY"] = secrets.token_urlsafe(50)
        self.balancer_port = free_port()
        self.doc_balancer_port = free_port()
        # Production settings: the Procfile's ping interval and timeout.
        self.servers = [
            ServerProcess(self.cluster.env, name="collab-a", ping=PROCFILE_PING),
            ServerProcess(self.cluster.env, name="collab-b", ping=PROCFILE_PING),
        ]
        origins = ",".join(
            f"http://127.0.0.1:{p}"
            for p in [*(s.port for s in self.servers), self.balancer_port, self.doc_balancer_port]
        )
        self.env = {
            **self.cluster.env,
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "EMAIL_URL": "console:",  # production refuses to start without mail settings
            "CSRF_TRUSTED_ORIGINS": origins,
            "WS_ALLOWED_ORIGINS": origins,
            # W1's clients are throughput probes, not typists: the per-connection op rate limit is
            # lifted so that it does not cap what the server can commit.
            "COLLAB_OP_RATE": "100000",
            "COLLAB_OP_BURST": "100000",
        }
        for server in self.servers:
            server.env.update(self.env)
            self.cluster.servers.append(server)  # stopped by cluster.close()
            server.start()
        self.balancer = LoadBalancer([s.port for s in self.servers], port=self.balancer_port).start()
        # The same two processes behind a balancer that sends each document's sockets to one of them.
        self.doc_balancer = LoadBalancer(
            [s.port for s in self.servers], port=self.doc_balancer_port, affinity=True
        ).start()
        self.beat_dir = Path(tempfile.mkdtemp(prefix="collab-bench-beat-"))
        schedule = self.beat_dir / "schedule"
        self.worker = Child(
            "celery",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "collab",
                "worker",
                "--beat",
                "--schedule",
                str(schedule),
                "--loglevel=warning",
                "--concurrency",
                "1",
            ],
            log_dir=log_dir,
            cwd=ROOT,
            env={**os.environ, **self.env},
        ).start()
        self.postgres, self.redis = postgres, redis
        self.sessions: list[str] = self._shell(POPULATION_CODE, COUNT=population)
        self.next_user = 0

    def _shell(self, code: str, **values: Any) -> Any:
        prelude = "".join(f"{name} = {value!r}\n" for name, value in values.items())
        out = self.cluster.shell(prelude + f"MARK = {MARK!r}\n" + code)
        line = next(line for line in out.splitlines() if line.startswith(MARK))
        return json.loads(line[len(MARK) :])

    def targets(self) -> list["CollabTarget"]:
        return [
            CollabTarget(
                self,
                "collab-1p",
                [self.servers[0]],
                f"ws://127.0.0.1:{self.servers[0].port}/ws/",
                f"http://127.0.0.1:{self.servers[0].port}",
            ),
            CollabTarget(self, "collab-2p", self.servers, self.balancer.ws_url, self.balancer.origin),
            CollabTarget(
                self,
                "collab-2p-doc",
                self.servers,
                self.doc_balancer.ws_url,
                self.doc_balancer.origin,
                balancer=self.doc_balancer,
            ),
        ]

    def create_documents(self, layout: list[list[str]]) -> tuple[list[str], list[list[int]]]:
        """Documents with one user per client (the first is the owner; idle readers are viewers)."""
        users: list[list[int]] = []
        docs = []
        for modes in layout:
            indexes = [(self.next_user + i) % len(self.sessions) for i in range(len(modes))]
            self.next_user += len(modes)
            users.append(indexes)
            docs.append(
                {
                    "owner": f"bench{indexes[0]}",
                    "members": {
                        f"bench{i}": ("viewer" if m == "idle" else "editor")
                        for i, m in zip(indexes[1:], modes[1:])
                    },
                }
            )
        ids = self._shell(DOCUMENTS_CODE, SPEC=json.dumps({"docs": docs, "content": INITIAL}))
        return ids, users

    def stored_state(self, ids: list[str]) -> dict[str, Any]:
        return self._shell(STATE_CODE, IDS=json.dumps(ids))

    def close(self) -> None:
        self.worker.stop()
        shutil.rmtree(self.beat_dir, ignore_errors=True)
        for balancer in (getattr(self, "balancer", None), getattr(self, "doc_balancer", None)):
            if balancer is not None:
                balancer.stop()
        self.cluster.close()  # stops the daphne processes and drops the database


class CollabTarget(Target):
    def __init__(
        self, collab: Collab, name: str, servers: list[Any], ws_url: str, origin: str, balancer: Any = None
    ) -> None:
        self.collab, self.name, self.servers, self.ws_url, self.origin = collab, name, servers, ws_url, origin
        self.balancer = balancer or (collab.balancer if len(servers) > 1 else None)
        self.affinity = self.balancer is not None and self.balancer.affinity

    def serving_pids(self) -> list[int]:
        return [s.process.pid for s in self.servers]

    def cpu_pids(self) -> list[int]:
        extra = [self.balancer.process.pid] if self.balancer is not None else []
        return [
            *self.serving_pids(),
            *extra,
            self.collab.worker.pid,
            self.collab.postgres.child.pid,
            self.collab.redis.child.pid,
        ]

    def rss_pids(self) -> list[int]:
        return self.serving_pids()

    def prepare(self, layout: list[list[str]]) -> list[dict[str, Any]]:
        ids, users = self.collab.create_documents(layout)
        specs = []
        for doc, modes, indexes in zip(ids, layout, users):
            for mode, index in zip(modes, indexes):
                specs.append({"doc": doc, "mode": mode, "cookie": f"sessionid={self.collab.sessions[index]}"})
        return specs

    def stored_state_matches(self, docs: dict[str, Any]) -> bool:
        stored = self.collab.stored_state(list(docs))
        return all(
            doc_id in stored
            and stored[doc_id]["version"] == doc["version"]
            and canonical(stored[doc_id]["ops"]) == canonical(doc["ops"])
            for doc_id, doc in docs.items()
        )

    def restart(self) -> None:
        for server in self.servers:
            server.stop()
            server.start()
        if len(self.servers) > 1:
            time.sleep(HEALTH_CHECK_SECONDS)  # until HAProxy's health checks see both servers up again


class ShareDBTarget(Target):
    """bench/realtime/server.js: ShareDB 7 with rich-text, in memory or durable."""

    create = True

    def __init__(
        self,
        name: str,
        log_dir: Path,
        postgres: PrivatePostgres | None = None,
        redis: PrivateRedis | None = None,
    ) -> None:
        self.name = name
        self.port = free_port()
        self.ws_url = f"ws://127.0.0.1:{self.port}/"
        self.postgres, self.redis = postgres, redis
        args = ["node", str(HERE / "server.js"), "--port", str(self.port)]
        if postgres and redis:
            import psycopg

            with psycopg.connect(postgres.url, autocommit=True) as conn:
                conn.execute("CREATE DATABASE sharedb")
            args += ["--postgres", postgres.database_url("sharedb"), "--redis", redis.url]
        self.child = Child(name, args, log_dir=log_dir, cwd=HERE)
        self.start()

    def start(self) -> None:
        self.child.start()
        wait_for_port(self.port, process=self.child.process, timeout=20, what=self.name)  # type: ignore[arg-type]

    def cpu_pids(self) -> list[int]:
        stores = [self.postgres.child.pid, self.redis.child.pid] if self.postgres and self.redis else []
        return [self.child.pid, *stores]

    def rss_pids(self) -> list[int]:
        return [self.child.pid]

    def prepare(self, layout: list[list[str]]) -> list[dict[str, Any]]:
        specs = []
        for modes in layout:
            doc = uuid.uuid4().hex
            specs += [{"doc": doc, "mode": mode} for mode in modes]
        return specs

    def stored_state_matches(self, docs: dict[str, Any]) -> bool:
        # The load generator compared every client with a fresh client's fetch from the server.
        return all(doc["fresh_version"] == doc["version"] for doc in docs.values())

    def restart(self) -> None:
        self.child.stop()
        self.start()

    def close(self) -> None:
        self.child.stop()
