"""Snapshot tasks on a real Celery worker, over the real Redis broker and result backend.

The worker runs in a thread of this process (celery.contrib.testing), so it sees the test
database; `transactional_db` makes the rows it reads committed. The Celery app is one made for
this test (Django's CELERY_* settings, then a real Redis broker/backend and a private queue), so
the rest of the suite keeps the configured app untouched, eager or not.
"""

import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from celery import Celery, current_app
from celery.backends.redis import RedisBackend
from celery.contrib.testing.worker import start_worker
from celery.result import AsyncResult, EagerResult
from django.conf import settings
from django.contrib.auth import get_user_model
from honcho.environ import parse_procfile

import documents.tasks  # noqa: F401  (registers the shared tasks with every app)
from documents import services
from documents.models import Snapshot
from tests.conftest import POSTGRES_URL, REDIS_URL

from .conftest import ROOT, VENV_BIN, production_env

pytestmark = pytest.mark.integration

FIRST = [{"insert": "Draft ✍️\n"}]
SECOND = [{"insert": "Final", "attributes": {"bold": True}}, {"insert": " 🎉\n"}]


@pytest.fixture
def redis_worker(transactional_db: Any) -> Iterator[Celery]:
    redis_url = settings.REDIS_URL or REDIS_URL
    previous = current_app._get_current_object()
    app = Celery("collab-worker-test")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(
        broker_url=redis_url,
        result_backend=redis_url,
        task_always_eager=False,
        # A queue nobody else consumes, so a worker started elsewhere cannot take these tasks.
        task_default_queue=f"collab-test-{uuid.uuid4().hex}",
    )
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, shutdown_timeout=20, loglevel="WARNING"
        ):
            yield app
    finally:
        # start_worker makes its app the process default; give the suite its own back.
        previous.set_current()
        previous.set_default()
        app.close()


def test_take_snapshot_on_a_real_worker(redis_worker: Celery) -> None:
    owner = get_user_model().objects.create_user(username="snapper", password=None)
    document = services.create_document(owner=owner, title="Snap", content=FIRST)
    services.replace_content(user=owner, document_id=document.pk, content=SECOND)
    document.refresh_from_db()
    assert document.version == 2
    assert not Snapshot.objects.filter(document=document).exists()

    result = redis_worker.send_task("documents.tasks.take_snapshot", args=[str(document.pk)])
    assert isinstance(result, AsyncResult) and not isinstance(result, EagerResult)
    assert isinstance(result.backend, RedisBackend)
    assert result.get(timeout=30) == 2
    snapshot = Snapshot.objects.get(document=document)
    assert (snapshot.version, snapshot.type, snapshot.content) == (
        2,
        "http://sharejs.org/types/rich-text/v1",
        SECOND,
    )

    # Idempotent: a second run (a redelivery under acks_late) adds nothing.
    assert (
        redis_worker.send_task("documents.tasks.take_snapshot", args=[str(document.pk)]).get(timeout=30) == 2
    )
    assert Snapshot.objects.filter(document=document).count() == 1

    # An explicit older version, and a document that is gone, are handled too.
    assert (
        redis_worker.send_task("documents.tasks.take_snapshot", args=[str(document.pk), 1]).get(timeout=30)
        == 1
    )
    assert Snapshot.objects.get(document=document, version=1).content == FIRST
    assert (
        redis_worker.send_task("documents.tasks.take_snapshot", args=[str(uuid.uuid4())]).get(timeout=30)
        is None
    )


def test_snapshot_idle_documents_fans_out_on_the_worker(redis_worker: Celery) -> None:
    owner = get_user_model().objects.create_user(username="idler", password=None)
    documents = [services.create_document(owner=owner, title=f"Doc {i}", content=FIRST) for i in range(3)]
    services.take_snapshot(document_id=documents[0].pk)

    queued = redis_worker.send_task("documents.tasks.snapshot_idle_documents").get(timeout=30)
    assert queued == 2
    # The fanned-out take_snapshot tasks run on the same worker; wait for their rows.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and Snapshot.objects.count() < 3:
        time.sleep(0.1)
    assert sorted(Snapshot.objects.values_list("document__title", "version")) == [
        ("Doc 0", 1),
        ("Doc 1", 1),
        ("Doc 2", 1),
    ]


def test_the_trash_purge_and_the_search_index_on_a_real_worker(redis_worker: Celery) -> None:
    """The beat tasks of the workspace: an expired trashed document is purged, a stale search
    row is brought up to date by the snapshot the idle task fans out."""
    from datetime import timedelta

    from django.utils import timezone

    from documents import search
    from documents.models import Document, SearchText

    owner = get_user_model().objects.create_user(username="trasher", password=None)
    expired, kept = (services.create_document(owner=owner, title=t, content=FIRST) for t in ("Old", "New"))
    for document in (expired, kept):
        services.delete_document(user=owner, document_id=document.pk)
    Document.objects.filter(pk=expired.pk).update(deleted_at=timezone.now() - timedelta(days=31))
    assert redis_worker.send_task("documents.tasks.purge_expired_trash").get(timeout=30) == 1
    assert not Document.objects.filter(pk=expired.pk).exists()
    assert Document.objects.get(pk=kept.pk).is_deleted

    live = services.create_document(owner=owner, title="Live", content=FIRST)
    services.take_snapshot(document_id=live.pk)
    services.replace_content(user=owner, document_id=live.pk, content=[{"insert": "Narwhal census\n"}])
    assert redis_worker.send_task("documents.tasks.snapshot_idle_documents").get(timeout=30) >= 1
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and SearchText.objects.get(document=live).version < 2:
        time.sleep(0.1)
    assert [hit.title for hit in search.search_documents(user=owner, query="narwhal")] == ["Live"]


def test_ping_on_a_real_worker(redis_worker: Celery) -> None:
    assert redis_worker.send_task("documents.tasks.ping", args=["x"]).get(timeout=30) == "pong:x"


def test_a_task_whose_worker_dies_is_delivered_again(transactional_db: Any) -> None:
    """A worker killed outright cannot requeue its task: the visibility timeout brings it back.

    The workers run with COLLAB_CELERY_VISIBILITY_TIMEOUT=3 (production: 360 s, above the task
    time limit) and look for such tasks every second (production: 10 s); with Redis' default of an
    hour, or kombu's default of looking only every 100 s, the second worker would not see the task
    within the 30 s allowed here.
    """
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > settings.CELERY_TASK_TIME_LIMIT
    redis_url = settings.REDIS_URL or REDIS_URL
    queue = f"collab-test-{uuid.uuid4().hex}"
    key = f"collab-test-delivery-{uuid.uuid4().hex}"
    env = production_env(
        DATABASE_URL=POSTGRES_URL,
        REDIS_URL=redis_url,
        COLLAB_CELERY_VISIBILITY_TIMEOUT="3",
        COLLAB_CELERY_RESTORE_SECONDS="1",
    )
    command = [
        str(VENV_BIN / "celery"), "-A", "collab", "worker", "-P", "solo", "-Q", queue,
        "-I", "tests.deploy.slow_tasks", "--without-mingle", "--without-gossip", "--loglevel=WARNING",
    ]  # fmt: skip
    app = Celery("collab-redelivery-test", broker=redis_url, backend=redis_url)
    app.conf.broker_transport_options = {"visibility_timeout": 3}
    store = redis.Redis.from_url(redis_url)
    workers: list[subprocess.Popen[bytes]] = []

    def start_worker_process() -> subprocess.Popen[bytes]:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
        workers.append(worker)
        return worker

    try:
        first = start_worker_process()
        result = app.send_task("tests.deploy.slow_tasks.hang_on_first_delivery", args=[key], queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and store.get(key) is None:
            time.sleep(0.2)
        assert store.get(key) == b"1", "the first worker never started the task"
        os.killpg(first.pid, signal.SIGKILL)  # the whole worker, as when a host is lost
        first.wait(timeout=30)
        start_worker_process()
        assert result.get(timeout=30) == "delivery 2"
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=30)
        store.delete(key)
        app.close()


def test_sigterm_lets_a_short_task_finish_and_requeues_a_long_one(transactional_db: Any) -> None:
    """The Procfile's worker on SIGTERM, as a platform restarting it sends: Celery's soft shutdown
    lets the running short task finish (acked once), cancels the long one and requeues it (acks
    late), and exits well inside the platform's grace; a new worker then runs the requeued task
    at once, long before the visibility timeout (360 s) would have brought it back."""
    redis_url = settings.REDIS_URL or REDIS_URL
    queue, key = f"collab-test-{uuid.uuid4().hex}", f"collab-test-sigterm-{uuid.uuid4().hex}"
    worker_line = parse_procfile((ROOT / "Procfile").read_text()).processes["worker"]
    # The Procfile's command on a private queue, with the test tasks and without the beat schedule.
    command = re.sub(r" --beat --schedule \S+", "", worker_line)
    command += f" -Q {queue} -I tests.deploy.slow_tasks --without-mingle --without-gossip"
    env = production_env(
        DATABASE_URL=POSTGRES_URL, REDIS_URL=redis_url, COLLAB_CELERY_SOFT_SHUTDOWN_SECONDS="4"
    )
    app = Celery("collab-sigterm-test", broker=redis_url, backend=redis_url)
    store = redis.Redis.from_url(redis_url)
    workers: list[subprocess.Popen[bytes]] = []

    def start_worker_process() -> subprocess.Popen[bytes]:
        workers.append(subprocess.Popen(["bash", "-c", command], cwd=ROOT, env=env, start_new_session=True))
        return workers[-1]

    try:
        first = start_worker_process()
        short = app.send_task(
            "tests.deploy.slow_tasks.sleep_and_count", args=[f"{key}-short", 2], queue=queue
        )
        long = app.send_task(
            "tests.deploy.slow_tasks.hang_on_first_delivery", args=[f"{key}-long"], queue=queue
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (store.get(f"{key}-short") and store.get(f"{key}-long")):
            time.sleep(0.1)
        assert store.get(f"{key}-short") == b"1" and store.get(f"{key}-long") == b"1", "tasks never started"
        terminated = time.monotonic()
        os.killpg(first.pid, signal.SIGTERM)
        first.wait(timeout=30)  # Heroku's grace before SIGKILL
        exited_after = time.monotonic() - terminated
        assert short.get(timeout=5) == "delivery 1"  # finished during the shutdown, and only once
        start_worker_process()
        assert long.get(timeout=60) == "delivery 2"  # requeued, not waiting for the visibility timeout
        redelivered_after = time.monotonic() - terminated
        assert exited_after < 20 and redelivered_after < 60, (exited_after, redelivered_after)
        assert store.get(f"{key}-short") == b"1"
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=30)
        store.delete(f"{key}-short", f"{key}-long")
        app.close()
